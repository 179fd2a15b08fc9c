use std::collections::{HashMap, HashSet};

use leptos::prelude::*;
use leptos_meta::Title;

use super::{clock_text, every, failure};
use super::guard::guarded;
use crate::access::Area;
use crate::conversation::chat::Chat;
use crate::conversation::media::{CallPanel, MediaState};
use crate::alert::{self as ring, Permission};
use crate::desk::{
    earlier_sessions, open_desk, CallbackCall, RecordCallback, transfer_targets, EarlierSession, JoinRequest, AcceptOffer, AddColleague, ChannelSeat, CustomerCard, DeclineOffer, Desk, EndSession, Handover, Hold,
    LeaveConversation, FinishWarmTransfer, NextCustomer, OfferCard, PastConversation, Resume, SetChannel, SetState, TransferCustomer, WrapUp, DISPOSITIONS,
    NOT_READY_REASONS,
};
use crate::error::AppError;
use crate::live::now_ms;
use crate::model::Me;
use crate::queue::{Channel, RoutingMode};
use crate::conversation::roles::Role;
use crate::states::{AgentState, CallbackOutcome, HelpSessionId, HelpStatus};

/// The representative's desk.
#[component]
pub fn RepPage() -> impl IntoView {
    view! {
        <Title text="Desk"/>
        {guarded(Area::Rep, |me| view! { <DeskView me/> })}
    }
}

/// Every action the desk can take, and the latest desk any of them (or the
/// WebSocket) returned.
#[derive(Clone, Copy)]
struct Controls {
    desk: RwSignal<Option<Desk>>,
    /// When `desk` arrived (page clock, ms), for countdowns.
    received: RwSignal<f64>,
    error: RwSignal<Option<String>>,
    set_state: ServerAction<SetState>,
    set_channel: ServerAction<SetChannel>,
    accept: ServerAction<AcceptOffer>,
    decline: ServerAction<DeclineOffer>,
    next: ServerAction<NextCustomer>,
    end: ServerAction<EndSession>,
    wrap_up: ServerAction<WrapUp>,
    hold: ServerAction<Hold>,
    resume: ServerAction<Resume>,
    transfer: ServerAction<TransferCustomer>,
    add_colleague: ServerAction<AddColleague>,
    leave: ServerAction<LeaveConversation>,
    finish_warm: ServerAction<FinishWarmTransfer>,
    record_callback: ServerAction<RecordCallback>,
}

/// Shows what an action answered: the new desk, or its error.
fn take<A>(action: ServerAction<A>, controls_desk: RwSignal<Option<Desk>>, received: RwSignal<f64>, error: RwSignal<Option<String>>)
where
    A: leptos::server_fn::ServerFn<Output = Desk, Error = AppError> + Clone + Send + Sync + 'static,
{
    Effect::new(move |_| match action.value().get() {
        Some(Ok(desk)) => {
            controls_desk.set(Some(desk));
            received.set(now_ms());
            error.set(None);
        }
        Some(Err(failure)) => error.set(Some(failure.to_string())),
        None => {}
    });
}

#[component]
fn DeskView(me: Me) -> impl IntoView {
    let initial = Resource::new(|| (), |_| open_desk());
    let controls = Controls {
        desk: RwSignal::new(None),
        received: RwSignal::new(0.0),
        error: RwSignal::new(None),
        set_state: ServerAction::new(),
        set_channel: ServerAction::new(),
        accept: ServerAction::new(),
        decline: ServerAction::new(),
        next: ServerAction::new(),
        end: ServerAction::new(),
        wrap_up: ServerAction::new(),
        hold: ServerAction::new(),
        resume: ServerAction::new(),
        transfer: ServerAction::new(),
        add_colleague: ServerAction::new(),
        leave: ServerAction::new(),
        finish_warm: ServerAction::new(),
        record_callback: ServerAction::new(),
    };
    let (pushed, set_pushed) = signal(None::<Desk>);
    crate::live::follow("/ws/rep", set_pushed);
    Effect::new(move |_| {
        if let Some(desk) = pushed.get() {
            controls.desk.set(Some(desk));
            controls.received.set(now_ms());
        }
    });
    take(controls.set_state, controls.desk, controls.received, controls.error);
    take(controls.set_channel, controls.desk, controls.received, controls.error);
    take(controls.accept, controls.desk, controls.received, controls.error);
    take(controls.decline, controls.desk, controls.received, controls.error);
    take(controls.end, controls.desk, controls.received, controls.error);
    take(controls.wrap_up, controls.desk, controls.received, controls.error);
    take(controls.hold, controls.desk, controls.received, controls.error);
    take(controls.resume, controls.desk, controls.received, controls.error);
    take(controls.transfer, controls.desk, controls.received, controls.error);
    take(controls.add_colleague, controls.desk, controls.received, controls.error);
    take(controls.leave, controls.desk, controls.received, controls.error);
    take(controls.finish_warm, controls.desk, controls.received, controls.error);
    take(controls.record_callback, controls.desk, controls.received, controls.error);
    let notice = RwSignal::new(None::<String>);
    Effect::new(move |_| match controls.next.value().get() {
        Some(Ok(None)) => notice.set(Some("Nobody is waiting right now.".into())),
        Some(Ok(Some(_))) => notice.set(None),
        Some(Err(failure)) => controls.error.set(Some(failure.to_string())),
        None => {}
    });

    let me = StoredValue::new(me);
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Opening your desk…"</p> }>
            {move || Suspend::new(async move {
                match initial.await {
                    Ok(desk) => {
                        if controls.desk.get_untracked().is_none() {
                            controls.desk.set(Some(desk));
                            controls.received.set(now_ms());
                        }
                        view! { <DeskBody me=me.get_value() controls notice/> }.into_any()
                    }
                    Err(error) => failure(error),
                }
            })}
        </Suspense>
    }
}

/// The bar over the workspace: who is at the desk, their state with the
/// controls to change it, and their channels.
#[component]
fn DeskBar(me: Me, controls: Controls) -> impl IntoView {
    let desk = move || controls.desk.get();
    let state = move || desk().map_or(AgentState::LoggedOut, |d| d.state);
    let (reason, set_reason) = signal(NOT_READY_REASONS[0].to_owned());
    view! {
        <section class="card desk-head">
            <div class="desk-who">
                <h1>"Your desk"</h1>
                <p class="muted">
                    <span data-testid="desk-name">{me.display_name.clone()}</span>
                    " · "
                    <span data-testid="desk-role">{me.role.label()}</span>
                    " · "
                    {me.email.clone()}
                </p>
            </div>
            <div class="desk-state">
                <p>
                    "You are "
                    <strong data-testid="agent-state">
                        {move || match state() {
                            AgentState::Ready => "Ready".to_owned(),
                            AgentState::NotReady => format!("Not ready ({})", desk().and_then(|d| d.reason).unwrap_or_default()),
                            AgentState::LoggedOut => "Logged out".to_owned(),
                        }}
                    </strong>
                </p>
                <div class="row">
                    <button
                        type="button"
                        disabled=move || state() == AgentState::Ready
                        on:click=move |_| { controls.set_state.dispatch(SetState { state: AgentState::Ready, reason: String::new() }); }
                    >"Ready"</button>
                    <select aria-label="Not ready reason" on:change=move |ev| set_reason.set(event_target_value(&ev))>
                        {NOT_READY_REASONS.map(|r| view! { <option value=r>{r}</option> })}
                    </select>
                    <button
                        type="button"
                        class="secondary"
                        on:click=move |_| { controls.set_state.dispatch(SetState { state: AgentState::NotReady, reason: reason.get() }); }
                    >"Not ready"</button>
                    <button
                        type="button"
                        class="secondary"
                        on:click=move |_| { controls.set_state.dispatch(SetState { state: AgentState::LoggedOut, reason: String::new() }); }
                    >"Log out of queues"</button>
                </div>
            </div>
            <div class="seats" aria-label="Channels">
                {move || desk().map(|d| d.channels).unwrap_or_default().into_iter().map(|seat| view! { <Seat seat controls/> }).collect_view()}
            </div>
        </section>
        {move || controls.error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
    }
}

/// What the workspace shares between the list of conversations and the
/// open one.
#[derive(Clone, Copy)]
struct Workspace {
    /// The conversation the representative chose to open.
    chosen: RwSignal<Option<HelpSessionId>>,
    /// The one open: the chosen one while it is on the desk, else the first.
    open: Memo<Option<HelpSessionId>>,
    /// Messages from others not seen yet, by conversation.
    unread: RwSignal<HashMap<HelpSessionId, usize>>,
    /// The page clock (ms), each second: for times in status.
    clock: ReadSignal<f64>,
}

#[component]
fn DeskBody(me: Me, controls: Controls, notice: RwSignal<Option<String>>) -> impl IntoView {
    let desk = move || controls.desk.get();
    let chosen = RwSignal::new(None::<HelpSessionId>);
    let open = Memo::new(move |_| {
        controls.desk.with(|d| {
            let customers = d.as_ref().map_or(&[][..], |d| &d.customers[..]);
            chosen
                .get()
                .filter(|id| customers.iter().any(|c| c.help_session_id == *id))
                .or_else(|| customers.first().map(|c| c.help_session_id))
        })
    });
    let (clock, set_clock) = signal(now_ms());
    every(std::time::Duration::from_secs(1), move || set_clock.set(now_ms()));
    let workspace = Workspace { chosen, open, unread: RwSignal::new(HashMap::new()), clock };
    // The conversation just taken is the one opened.
    Effect::new(move |_| {
        if let Some(Ok(Some(taken))) = controls.next.value().get() {
            chosen.set(Some(taken));
        }
    });
    let offers = Memo::new(move |_| controls.desk.with(|d| d.as_ref().map(|d| d.offers.clone()).unwrap_or_default()));
    ringing(offers);
    answer_by_keyboard(controls, offers, chosen);
    let title = move || match offers.with(Vec::len) {
        0 => "Desk".to_owned(),
        1 => "(1) Offer waiting · Desk".to_owned(),
        n => format!("({n}) Offers waiting · Desk"),
    };
    view! {
        <Title text=title/>
        <DeskBar me controls/>
        <div class="workspace">
            <aside class="desk-side">
                <section class="card">
                    <h2>"Offers"</h2>
                    <NotificationSetting/>
                    {move || {
                        let offers = offers.get();
                        if offers.is_empty() {
                            view! { <p class="muted">"No offers right now."</p> }.into_any()
                        } else {
                            offers.into_iter().enumerate().map(|(at, offer)| view! { <Offer offer first=at == 0 controls chosen/> }).collect_view().into_any()
                        }
                    }}
                </section>

                <section class="card">
                    <h2>"My conversations"</h2>
                    <Show when=move || desk().is_some_and(|d| d.customers.is_empty())>
                        <p class="muted">"Nobody yet."</p>
                    </Show>
                    <ul class="conversations" data-testid="conversations">
                        <For
                            each=move || desk().map(|d| d.customers).unwrap_or_default()
                            key=|customer| (customer.help_session_id, customer.status, customer.status_seconds)
                            let:customer
                        >
                            <ConversationItem customer controls workspace/>
                        </For>
                    </ul>
                </section>

                <section class="card">
                    <h2>"Queues"</h2>
                    <ul class="queues">
                        {move || desk().map(|d| d.queues).unwrap_or_default().into_iter().map(|q| view! {
                            <li>
                                <strong>{q.name.clone()}</strong>
                                {format!(" · {} waiting · {}", q.waiting, match q.routing_mode { RoutingMode::Push => "offers come to you", RoutingMode::Pull => "take with Next customer" })}
                            </li>
                        }).collect_view()}
                    </ul>
                    <Show when=move || desk().is_some_and(|d| d.queues.iter().any(|q| q.routing_mode == RoutingMode::Pull))>
                        <button type="button" on:click=move |_| { notice.set(None); controls.next.dispatch(NextCustomer {}); }>"Next customer"</button>
                    </Show>
                    {move || notice.get().map(|message| view! { <p class="muted" role="status">{message}</p> })}
                </section>

                <section class="card">
                    <h2>"Recent conversations"</h2>
                    {move || {
                        let recent = desk().map(|d| d.recent).unwrap_or_default();
                        if recent.is_empty() {
                            view! { <p class="muted">"None yet."</p> }.into_any()
                        } else {
                            view! {
                                <ul class="recent">
                                    {recent.into_iter().map(|past| view! { <Past past/> }).collect_view()}
                                </ul>
                            }.into_any()
                        }
                    }}
                </section>
            </aside>

            <div class="desk-open">
                <Show when=move || desk().is_some_and(|d| d.customers.is_empty())>
                    <section class="card empty-open">
                        <h2>"No conversation open"</h2>
                        <p class="muted">"Customers you accept appear here, with their call, chat and history. Offers ring on the left."</p>
                    </section>
                </Show>
                // Every conversation stays mounted, the others hidden, so
                // switching keeps each call and chat alive. Keyed by help
                // session: a change of status updates a conversation and
                // never restarts its call.
                <For
                    each=move || desk().map(|d| d.customers).unwrap_or_default()
                    key=|customer| customer.help_session_id
                    let:customer
                >
                    <Customer customer controls workspace/>
                </For>
            </div>
        </div>
    }
}

/// Rings while an offer waits and notifies of each new one; the ringing
/// stops when the desk closes.
fn ringing(offers: Memo<Vec<OfferCard>>) {
    let known = StoredValue::new(HashSet::<HelpSessionId>::new());
    Effect::new(move |_| {
        let offers = offers.get();
        ring::ringing(!offers.is_empty());
        for offer in &offers {
            if known.with_value(|known| !known.contains(&offer.help_session_id)) {
                let what = match &offer.join_with {
                    Some(JoinRequest { warm: true, .. }) => "Asked to take over",
                    Some(JoinRequest { warm: false, .. }) => "Asked to join",
                    None => "Offer",
                };
                ring::notify_offer(
                    &format!("{what}: {}", offer.customer_name),
                    &format!("{} · {} · {}", offer.channel.label(), offer.queue, offer.reason),
                    &offer.help_session_id.to_string(),
                );
            }
        }
        known.set_value(offers.iter().map(|o| o.help_session_id).collect());
    });
    on_cleanup(|| ring::ringing(false));
}

/// A (Accept) and D (Decline) answer the oldest offer, unless the
/// representative is typing.
fn answer_by_keyboard(controls: Controls, offers: Memo<Vec<OfferCard>>, chosen: RwSignal<Option<HelpSessionId>>) {
    // In the browser only (effects never run on the server).
    Effect::new(move |_| {
        let handle = window_event_listener(leptos::ev::keydown, move |ev| {
            if ev.ctrl_key() || ev.alt_key() || ev.meta_key() || ev.repeat() || typing(&ev) {
                return;
            }
            let Some(first) = offers.with_untracked(|o| o.first().map(|o| o.help_session_id)) else { return };
            match ev.key().as_str() {
                "a" | "A" => {
                    ev.prevent_default();
                    chosen.set(Some(first));
                    controls.accept.dispatch(AcceptOffer { help_session: first });
                }
                "d" | "D" => {
                    ev.prevent_default();
                    controls.decline.dispatch(DeclineOffer { help_session: first });
                }
                _ => {}
            }
        });
        on_cleanup(move || handle.remove());
    });
}

/// Whether a key went to a field the representative types in.
fn typing(ev: &leptos::ev::KeyboardEvent) -> bool {
    use wasm_bindgen::JsCast;
    ev.target()
        .and_then(|target| target.dyn_into::<web_sys::HtmlElement>().ok())
        .is_some_and(|element| {
            matches!(element.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT") || element.is_content_editable()
        })
}

/// Whether offers also come as desktop notifications, and the control to
/// allow them (the browser asks once).
#[component]
fn NotificationSetting() -> impl IntoView {
    let permission = RwSignal::new(Permission::Unsupported);
    Effect::new(move |_| permission.set(ring::permission()));
    move || match permission.get() {
        Permission::Ask => view! {
            <p class="row">
                <button type="button" class="secondary" data-testid="allow-notifications"
                    on:click=move |_| ring::ask_permission(move |answer| permission.set(answer))>
                    "Notify me of offers on the desktop"
                </button>
            </p>
        }.into_any(),
        Permission::Denied => view! {
            <p class="muted">"Desktop notifications are blocked for this site; offers still ring and show in the tab's title."</p>
        }.into_any(),
        Permission::Granted | Permission::Unsupported => ().into_any(),
    }
}

/// One conversation in the workspace's list: customer, channel, status,
/// time in status, unread messages; a click opens it.
#[component]
fn ConversationItem(customer: CustomerCard, controls: Controls, workspace: Workspace) -> impl IntoView {
    let id = customer.help_session_id;
    let since = controls.received.get_untracked();
    let base = customer.status_seconds;
    let in_status = move || clock_text(base + ((workspace.clock.get() - since) / 1000.0) as i64);
    let unread = move || workspace.unread.with(|u| u.get(&id).copied().unwrap_or(0));
    let current = move || workspace.open.get() == Some(id);
    view! {
        <li>
            <button
                type="button"
                class="conversation-item"
                class:current=current
                aria-current=move || current().then_some("true")
                data-testid="conversation-item"
                data-session=id.to_string()
                on:click=move |_| workspace.chosen.set(Some(id))
            >
                <span class="who">
                    <strong>{customer.customer_name.clone()}</strong>
                    {move || (unread() > 0).then(|| view! {
                        <span class="badge" data-testid="unread" aria-label=format!("{} unread", unread())>{unread}</span>
                    })}
                </span>
                <span class="muted">
                    {format!("{} · ", customer.channel.label())}
                    <span data-testid="item-status">{customer.status.label()}</span>
                    " · "
                    <span data-testid="in-status">{in_status}</span>
                </span>
            </button>
        </li>
    }
}

#[component]
fn Past(past: PastConversation) -> impl IntoView {
    view! {
        <li data-testid="recent">
            <strong>{past.customer_name.clone()}</strong>
            {format!(" · {} · ended {} · {}", past.channel.label(), past.ended_at, past.disposition.clone().unwrap_or_else(|| "no disposition".into()))}
            {past.note.clone().map(|note| view! { <p class="muted">{note}</p> })}
            {past.calls.map(|calls| view! {
                <p class="muted" data-testid="recent-calls">{if calls == 1 { "1 call".to_owned() } else { format!("{calls} calls") }}</p>
            })}
            {(past.representatives.len() > 1).then(|| view! {
                <p class="muted" data-testid="recent-representatives">{format!("With {}", past.representatives.join(", "))}</p>
            })}
            <p data-testid="recent-rating">
                {match past.rating {
                    Some(stars) => format!("Rated {stars}/5 {}", "★".repeat(stars.clamp(0, 5) as usize)),
                    None => "Not rated".to_owned(),
                }}
                {past.rating_comment.clone().map(|comment| format!(" · “{comment}”"))}
            </p>
        </li>
    }
}

#[component]
fn Seat(seat: ChannelSeat, controls: Controls) -> impl IntoView {
    let channel = seat.channel;
    let ready = seat.ready;
    view! {
        <label class="seat">
            <input
                type="checkbox"
                prop:checked=ready
                on:change=move |ev| {
                    controls.set_channel.dispatch(SetChannel { channel: channel.as_str().into(), ready: event_target_checked(&ev) });
                }
            />
            <span>{channel.label()}</span>
            <span class="muted">{format!("{}/{} live · {}/{} in all", seat.live, seat.max_live, seat.sessions, seat.max_sessions)}</span>
        </label>
    }
}

#[component]
fn Offer(offer: OfferCard, first: bool, controls: Controls, chosen: RwSignal<Option<HelpSessionId>>) -> impl IntoView {
    let id: HelpSessionId = offer.help_session_id;
    // A one-second clock for the countdown.
    let (tick, set_tick) = signal(0u32);
    every(std::time::Duration::from_millis(500), move || set_tick.update(|t| *t += 1));
    let expires_in = offer.expires_in_ms as f64;
    let left = move || {
        tick.get();
        let elapsed = now_ms() - controls.received.get_untracked();
        ((expires_in - elapsed) / 1000.0).ceil().max(0.0) as i64
    };
    view! {
        <article class="offer" data-testid="offer">
            <div class="offer-top">
                <h3>{offer.customer_name.clone()}</h3>
                <span class="muted">"Accept within " <strong data-testid="countdown">{left}</strong> " s"</span>
            </div>
            <p class="muted">
                {format!("{} · {} · waited {} s", offer.channel.label(), offer.queue, offer.waited_seconds)}
            </p>
            <p class="reason">{offer.reason.clone()}</p>
            {offer.callback.clone().map(|call| view! {
                <p data-testid="callback-number">
                    {format!("Call back {} · {}", call.phone, attempts_text(&call))}
                </p>
            })}
            {offer.transferred.clone().map(|handover| view! { <HandoverNote handover/> })}
            {offer.join_with.clone().map(|JoinRequest { asker, warm }| view! {
                <p class="notice" data-testid="join-request">
                    {if warm {
                        format!("{asker} asks you to take this customer over: you talk first while the customer waits on hold.")
                    } else {
                        format!("{asker} asks you to join this conversation.")
                    }}
                </p>
            })}
            <div class="row">
                <button type="button" aria-keyshortcuts=first.then_some("A")
                    on:click=move |_| { chosen.set(Some(id)); controls.accept.dispatch(AcceptOffer { help_session: id }); }>"Accept"</button>
                <button type="button" class="secondary" aria-keyshortcuts=first.then_some("D")
                    on:click=move |_| { controls.decline.dispatch(DeclineOffer { help_session: id }); }>"Decline"</button>
                {first.then(|| view! { <span class="muted keys" title="Keys: A accepts, D declines (when not typing)">"keys " <kbd>"A"</kbd> " " <kbd>"D"</kbd></span> })}
            </div>
        </article>
    }
}

#[component]
fn Customer(customer: CustomerCard, controls: Controls, workspace: Workspace) -> impl IntoView {
    let id = customer.help_session_id;
    let channel = customer.channel;
    // This card as the desk has it now, kept live.
    let card = Memo::new(move |_| {
        controls.desk.with(|d| d.as_ref().and_then(|d| d.customers.iter().find(|c| c.help_session_id == id).cloned()))
    });
    // A card gone from the desk is done with.
    let status = Memo::new(move |_| card.with(|c| c.as_ref().map_or(HelpStatus::Completed, |c| c.status)));
    let wrap_up_left = move || card.with(|c| c.as_ref().and_then(|c| c.wrap_up_left_seconds));
    let talking = move || status.get().talking();
    let owner = move || card.with(|c| c.as_ref().is_some_and(|c| c.role == Role::Agent));
    // Someone goes on with the customer if this representative leaves: a
    // colleague, or a supervisor who barged in (asked to take over).
    let with_others = move || {
        card.with(|c| {
            c.as_ref().is_some_and(|c| !c.others.is_empty() || matches!(c.supervisor, Some((_, Role::Barge))))
        })
    };
    let held = Signal::derive(move || status.get() == HelpStatus::OnHold);
    let open = move || workspace.open.get() == Some(id);
    // Messages from others since the chat loaded, and how many of them the
    // representative has had open in front of them.
    let arrived = RwSignal::new(0usize);
    let seen = RwSignal::new(0usize);
    Effect::new(move |_| {
        if open() {
            seen.set(arrived.get());
        }
    });
    Effect::new(move |_| {
        let unread = arrived.get().saturating_sub(seen.get());
        workspace.unread.update(|all| {
            all.insert(id, unread);
        });
    });
    on_cleanup(move || workspace.unread.update(|all| {
        all.remove(&id);
    }));
    let has_call = matches!(channel, Channel::Video | Channel::Audio);
    let media = RwSignal::new(MediaState::Connecting);
    let problem = RwSignal::new(None::<String>);
    let retries = RwSignal::new(0u32);
    let (disposition, set_disposition) = signal(DISPOSITIONS[0].to_owned());
    let (note, set_note) = signal(String::new());
    let what = match channel {
        Channel::Video => "video",
        _ => "audio",
    };
    view! {
        <article class="card conversation" hidden=move || !open() data-testid="my-customer" data-session=id.to_string()>
            <header class="conversation-head">
                <div>
                    <h2>{customer.customer_name.clone()}</h2>
                    <p class="muted">
                        {format!("{} · {} · ", channel.label(), customer.queue)}
                        <span data-testid="customer-status">{move || status.get().label()}</span>
                    </p>
                </div>
                <Show when=talking>
                    <div class="row">
                        <Show when=owner>
                            {move || if held.get() {
                                view! {
                                    <button type="button" on:click=move |_| { controls.resume.dispatch(Resume { help_session: id }); }>
                                        {if has_call { "Resume (switch to this customer)" } else { "Resume" }}
                                    </button>
                                }.into_any()
                            } else {
                                view! {
                                    <button type="button" class="secondary" on:click=move |_| { controls.hold.dispatch(Hold { help_session: id }); }>"Hold"</button>
                                }.into_any()
                            }}
                            <button type="button" class="secondary" on:click=move |_| { controls.end.dispatch(EndSession { help_session: id }); }>"End"</button>
                        </Show>
                        <Show when=move || !owner() || with_others()>
                            <button type="button" class="secondary" on:click=move |_| { controls.leave.dispatch(LeaveConversation { help_session: id }); }>"Leave"</button>
                        </Show>
                    </div>
                </Show>
            </header>
            <div class="conversation-body">
                <div class="conversation-main">
                    // Type-erased parts keep the page's view type shallow
                    // enough for release builds.
                    <Show when=talking>
                        {has_call.then(|| view! {
                            <CallPanel help_session=id side="agent" video=channel == Channel::Video held media problem retries/>
                            <Show when=move || media.get() == MediaState::Missing && !held.get()>
                                <div class="notice" role="alert" data-testid="media-missing">
                                    <p>{format!("The customer's {what} has not arrived.")}</p>
                                    <div class="row">
                                        <button type="button" on:click=move |_| retries.update(|r| *r += 1)>"Retry"</button>
                                        <button type="button" class="secondary" on:click=move |_| { controls.end.dispatch(EndSession { help_session: id }); }>"End"</button>
                                    </div>
                                </div>
                            </Show>
                        }.into_any())}
                        {move || problem.get().map(|message| view! { <p class="notice" role="alert">{message}</p> })}
                        {move || card.with(|c| c.as_ref().and_then(|c| c.outcome.clone())).map(|outcome| view! {
                            <p class="notice" role="status" data-testid="outcome">{outcome}</p>
                        })}
                        {move || card.with(|c| c.as_ref().and_then(|c| c.callback.clone())).map(|call| view! {
                            <CallbackDesk help_session=id call controls/>
                        })}
                        {move || card.with(|c| c.as_ref().and_then(supervised)).map(|text| view! {
                            <p class="notice supervised" role="status" data-testid="supervised">{text}</p>
                        })}
                        {move || card.with(|c| c.as_ref().and_then(|c| c.warm_transfer.clone())).map(|warm| view! {
                            <div class="row" data-testid="warm-transfer">
                                <button type="button" disabled=!warm.joined
                                    on:click=move |_| { controls.finish_warm.dispatch(FinishWarmTransfer { help_session: id, complete: true }); }>
                                    {format!("Complete transfer to {}", warm.colleague)}
                                </button>
                                <button type="button" class="secondary"
                                    on:click=move |_| { controls.finish_warm.dispatch(FinishWarmTransfer { help_session: id, complete: false }); }>
                                    "Cancel transfer"
                                </button>
                            </div>
                        })}
                        <Show when=move || owner() && card.with(|c| c.as_ref().is_some_and(|c| c.warm_transfer.is_none()))>
                            <div class="row handing">
                                {view! { <TransferPanel help_session=id controls mode=Handing::Cold/> }.into_any()}
                                {view! { <TransferPanel help_session=id controls mode=Handing::Warm/> }.into_any()}
                                {view! { <TransferPanel help_session=id controls mode=Handing::Conference/> }.into_any()}
                            </div>
                        </Show>
                        {view! { <Chat help_session=id arrivals=arrived/> }.into_any()}
                    </Show>
                    <Show when=move || status.get() == HelpStatus::WrapUp>
                        <div class="stack">
                            {move || card.with(|c| c.as_ref().and_then(|c| c.outcome.clone())).map(|outcome| view! {
                                <p class="notice" role="status" data-testid="outcome">{outcome}</p>
                            })}
                            <p class="muted">{move || format!("Wrap-up: {} s left", wrap_up_left().unwrap_or(0))}</p>
                            <label>
                                "Disposition"
                                <select on:change=move |ev| set_disposition.set(event_target_value(&ev))>
                                    {DISPOSITIONS.map(|d| view! { <option value=d>{d}</option> })}
                                </select>
                            </label>
                            <label>
                                "Note"
                                <textarea maxlength="2000" rows="2" on:input=move |ev| set_note.set(event_target_value(&ev))></textarea>
                            </label>
                            <button type="button" on:click=move |_| {
                                controls.wrap_up.dispatch(WrapUp { help_session: id, disposition: disposition.get(), note: note.get() });
                            }>"Done"</button>
                        </div>
                    </Show>
                </div>
                {view! { <Details customer card/> }.into_any()}
            </div>
        </article>
    }
    .into_any()
}

/// Beside the conversation: who the customer is, how they came, and their
/// earlier help sessions.
#[component]
fn Details(customer: CustomerCard, card: Memo<Option<CustomerCard>>) -> impl IntoView {
    let id = customer.help_session_id;
    let has_phone = customer.phone.is_some();
    let earlier = Resource::new(|| (), move |_| async move {
        if has_phone { earlier_sessions(id).await } else { Ok(Vec::new()) }
    });
    view! {
        <aside class="conversation-details" aria-label="Customer details">
            <h3>"Customer"</h3>
            <dl class="facts">
                <dt>"Name"</dt>
                <dd>
                    {customer.customer_name.clone()}
                    {customer.identified.then(|| view! { " " <span class="badge verified" data-testid="identified">"verified by the website"</span> })}
                </dd>
                {customer.verified_email.clone().map(|email| view! {
                    <dt>"Email"</dt><dd data-testid="verified-email"><a href=format!("mailto:{email}")>{email.clone()}</a></dd>
                })}
                <dt>"Reason"</dt><dd data-testid="detail-reason">{customer.reason.clone()}</dd>
                <dt>"Phone"</dt>
                <dd>{match customer.phone.clone() {
                    Some(phone) => view! { <a href=format!("tel:{phone}")>{phone.clone()}</a> }.into_any(),
                    None => view! { <span class="muted">"not given"</span> }.into_any(),
                }}</dd>
                <dt>"Channel"</dt><dd>{customer.channel.label()}</dd>
                <dt>"Queue"</dt><dd>{customer.queue.clone()}</dd>
                <dt>"Waited"</dt><dd>{clock_text(customer.waited_seconds)}</dd>
            </dl>
            {customer.transferred.clone().map(|handover| view! { <HandoverNote handover/> })}
            {move || {
                let others = card.with(|c| c.as_ref().map(|c| c.others.clone()).unwrap_or_default());
                (!others.is_empty()).then(|| view! { <p class="muted" data-testid="others">{format!("With {}", others.join(", "))}</p> })
            }}
            <h3>"Earlier help sessions"</h3>
            {if has_phone {
                view! {
                    <Suspense fallback=|| view! { <p class="muted">"Looking…"</p> }>
                        {move || Suspend::new(async move {
                            match earlier.await {
                                Ok(sessions) if sessions.is_empty() => view! { <p class="muted">"None with this phone number."</p> }.into_any(),
                                Ok(sessions) => view! {
                                    <ul class="earlier" data-testid="earlier">
                                        {sessions.into_iter().map(|past| view! { <Earlier past/> }).collect_view()}
                                    </ul>
                                }.into_any(),
                                Err(error) => failure(error),
                            }
                        })}
                    </Suspense>
                }.into_any()
            } else {
                view! { <p class="muted">"Found by phone number; this customer gave none."</p> }.into_any()
            }}
        </aside>
    }
}

#[component]
fn Earlier(past: EarlierSession) -> impl IntoView {
    let with = if past.representatives.is_empty() { String::new() } else { format!(" · with {}", past.representatives.join(", ")) };
    view! {
        <li data-testid="earlier-session">
            <strong>{past.asked_at.clone()}</strong>
            {format!(" · {} · {} · {}{with}", past.channel.label(), past.queue, past.status.label())}
            <p class="muted">{past.reason.clone()}</p>
            {past.disposition.clone().map(|d| view! { <p>{d}{past.note.clone().map(|n| format!(": {n}"))}</p> })}
            {past.rating.map(|stars| view! { <p class="muted">{format!("Rated {stars}/5")}</p> })}
        </li>
    }
}

/// Who transferred the customer here, and their note.
#[component]
fn HandoverNote(handover: Handover) -> impl IntoView {
    let how = if handover.by_name { "Transferred to you by" } else { "Transferred by" };
    view! {
        <p class="notice" data-testid="handover">
            {format!("{how} {}", handover.by)}
            {handover.note.map(|note| view! { <br/> <span data-testid="handover-note">{format!("“{note}”")}</span> })}
        </p>
    }
}

/// How a customer is handed on from the desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Handing {
    /// The customer goes to the queue or colleague chosen; this
    /// representative's part ends.
    Cold,
    /// The colleague (or the queue's next available member) joins to talk
    /// first while the customer waits on hold; then Complete or Cancel.
    Warm,
    /// The colleague joins as a full participant.
    Conference,
}

/// "Transfer", "Warm transfer" and "Add a colleague": choose a queue (its
/// line, who is READY, its estimate) or a colleague (their state); a cold
/// transfer takes a note for the next representative.
#[component]
fn TransferPanel(help_session: HelpSessionId, controls: Controls, mode: Handing) -> impl IntoView {
    let (opener, title, verb, test) = match mode {
        Handing::Cold => ("Transfer…", "Transfer to", "Transfer", "transfer"),
        Handing::Warm => ("Warm transfer…", "Talk first with", "Consult", "warm"),
        Handing::Conference => ("Add a colleague…", "Ask to join", "Ask", "conference"),
    };
    let conference = mode != Handing::Cold;
    let open = RwSignal::new(false);
    let targets = Resource::new(move || open.get(), move |open| async move {
        if open { transfer_targets(help_session).await.map(Some) } else { Ok(None) }
    });
    let (target, set_target) = signal(String::new());
    let (note, set_note) = signal(String::new());
    let send = move |_| {
        let chosen = target.get();
        let (to_queue, to_agent) = match chosen.split_once(':') {
            Some(("queue", id)) => (id.parse().ok(), None),
            Some(("agent", id)) => (None, id.parse().ok()),
            _ => (None, None),
        };
        if conference {
            controls.add_colleague.dispatch(AddColleague { help_session, to_queue, to_agent, warm: mode == Handing::Warm });
        } else {
            controls.transfer.dispatch(TransferCustomer { help_session, to_queue, to_agent, note: note.get() });
        }
        open.set(false);
    };
    view! {
        <Show
            when=move || open.get()
            fallback=move || view! {
                <button type="button" class="secondary" data-testid=format!("{test}-open") on:click=move |_| open.set(true)>{opener}</button>
            }
        >
            <div class="stack transfer" data-testid=test>
                <Suspense fallback=|| view! { <p class="muted">"Loading queues and colleagues…"</p> }>
                    {move || Suspend::new(async move {
                        match targets.await {
                            Ok(Some(targets)) => {
                                if let Some(first) = targets.queues.first() {
                                    if target.get_untracked().is_empty() {
                                        set_target.set(format!("queue:{}", first.id));
                                    }
                                }
                                view! {
                                    <label>
                                        {title}
                                        <select data-testid=format!("{test}-target") on:change=move |ev| set_target.set(event_target_value(&ev))>
                                            <optgroup label="Queues">
                                                {targets.queues.into_iter().map(|q| view! {
                                                    <option value=format!("queue:{}", q.id)>
                                                        {format!("{} · {} waiting · {} ready · {}", q.name, q.waiting, q.ready, q.estimate)}
                                                    </option>
                                                }).collect_view()}
                                            </optgroup>
                                            <optgroup label="Colleagues">
                                                {targets.colleagues.into_iter().map(|c| view! {
                                                    <option value=format!("agent:{}", c.id)>
                                                        {match c.state {
                                                            AgentState::Ready => format!("{} · Ready", c.name),
                                                            AgentState::NotReady => format!("{} · Not ready ({})", c.name, c.reason.unwrap_or_default()),
                                                            AgentState::LoggedOut => format!("{} · Logged out", c.name),
                                                        }}
                                                    </option>
                                                }).collect_view()}
                                            </optgroup>
                                        </select>
                                    </label>
                                }.into_any()
                            }
                            Ok(None) => ().into_any(),
                            Err(error) => failure(error),
                        }
                    })}
                </Suspense>
                {(!conference).then(|| view! {
                    <label>
                        "Note for the next representative (optional)"
                        <textarea maxlength="500" rows="2" data-testid="transfer-note" on:input=move |ev| set_note.set(event_target_value(&ev))></textarea>
                    </label>
                })}
                <div class="row">
                    <button type="button" data-testid=format!("{test}-send") on:click=send>{verb}</button>
                    <button type="button" class="secondary" on:click=move |_| open.set(false)>"Cancel"</button>
                </div>
            </div>
        </Show>
    }
}

/// What the desk says about supervisors in the conversation: a whisper or a
/// barge-in by name, a silent monitor as "Supervisor is listening" (unless
/// the queue hides it).
fn supervised(card: &CustomerCard) -> Option<String> {
    match &card.supervisor {
        Some((name, Role::Whisper)) => Some(format!("{name} (supervisor) is coaching you: the customer can't hear or read them.")),
        Some((name, _)) => Some(format!("{name} (supervisor) has joined the conversation.")),
        None => card.monitored.then(|| "Supervisor is listening".to_owned()),
    }
}

/// "First call", "2nd call of 3".
fn attempts_text(call: &CallbackCall) -> String {
    match call.attempts {
        0 => format!("first call (of {})", call.max_attempts),
        made => format!("call {} of {} ({made} made before)", made + 1, call.max_attempts),
    }
}

/// A callback on the desk: the number to dial (a `tel:` link), the calls
/// made so far, and how this one went; once reached, the conversation goes
/// on by phone until End.
#[component]
fn CallbackDesk(help_session: HelpSessionId, call: CallbackCall, controls: Controls) -> impl IntoView {
    let record = move |outcome: CallbackOutcome| {
        controls.record_callback.dispatch(RecordCallback { help_session, outcome });
    };
    view! {
        <div class="callback-call stack" data-testid="callback-call">
            <p>
                <a class="button" href=format!("tel:{}", call.phone) data-testid="dial">{format!("Call {}", call.phone)}</a>
                " "
                <span class="muted" data-testid="callback-attempts">{attempts_text(&call)}</span>
            </p>
            {if call.reached {
                view! { <p class="notice" data-testid="callback-reached">"On the phone with the customer: End when you are done."</p> }.into_any()
            } else {
                view! {
                    <div class="row" role="group" aria-label="How the call went">
                        {[CallbackOutcome::Reached, CallbackOutcome::NoAnswer, CallbackOutcome::Busy, CallbackOutcome::WrongNumber]
                            .into_iter()
                            .map(|outcome| view! {
                                <button type="button" class=if outcome == CallbackOutcome::Reached { "" } else { "secondary" }
                                    on:click=move |_| record(outcome)>{outcome.label()}</button>
                            })
                            .collect_view()}
                    </div>
                }.into_any()
            }}
        </div>
    }
}
