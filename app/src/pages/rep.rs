use leptos::prelude::*;
use leptos_meta::Title;

use super::failure;
use super::guard::guarded;
use super::layout::SignOut;
use crate::access::Area;
use crate::conversation::chat::Chat;
use crate::conversation::media::{CallPanel, MediaState};
use crate::desk::{
    open_desk, transfer_targets, AcceptOffer, AddColleague, ChannelSeat, CustomerCard, DeclineOffer, Desk, EndSession, Handover, Hold,
    LeaveConversation, FinishWarmTransfer, NextCustomer, OfferCard, PastConversation, Resume, SetChannel, SetState, TransferCustomer, WrapUp, DISPOSITIONS,
    NOT_READY_REASONS,
};
use crate::error::AppError;
use crate::live::now_ms;
use crate::model::Me;
use crate::queue::{Channel, RoutingMode};
use crate::conversation::roles::Role;
use crate::states::{AgentState, HelpSessionId, HelpStatus};

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
    let notice = RwSignal::new(None::<String>);
    Effect::new(move |_| match controls.next.value().get() {
        Some(Ok(None)) => notice.set(Some("Nobody is waiting right now.".into())),
        Some(Ok(Some(_))) => notice.set(None),
        Some(Err(failure)) => controls.error.set(Some(failure.to_string())),
        None => {}
    });

    view! {
        <section class="card desk-head">
            <div>
                <h1>"Your desk"</h1>
                <p class="muted">
                    <span data-testid="desk-name">{me.display_name.clone()}</span>
                    " · "
                    <span data-testid="desk-role">{me.role.label()}</span>
                    " · "
                    {me.email.clone()}
                </p>
            </div>
            <SignOut/>
        </section>
        {move || controls.error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
        <Suspense fallback=|| view! { <p class="muted">"Opening your desk…"</p> }>
            {move || Suspend::new(async move {
                match initial.await {
                    Ok(desk) => {
                        if controls.desk.get_untracked().is_none() {
                            controls.desk.set(Some(desk));
                            controls.received.set(now_ms());
                        }
                        view! { <DeskBody controls notice/> }.into_any()
                    }
                    Err(error) => failure(error),
                }
            })}
        </Suspense>
    }
}

#[component]
fn DeskBody(controls: Controls, notice: RwSignal<Option<String>>) -> impl IntoView {
    let desk = move || controls.desk.get();
    let state = move || desk().map_or(AgentState::LoggedOut, |d| d.state);
    let (reason, set_reason) = signal(NOT_READY_REASONS[0].to_owned());
    view! {
        <section class="card">
            <h2>"State"</h2>
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
            <div class="seats">
                {move || desk().map(|d| d.channels).unwrap_or_default().into_iter().map(|seat| view! { <Seat seat controls/> }).collect_view()}
            </div>
        </section>

        <section class="card">
            <h2>"Offers"</h2>
            {move || {
                let offers = desk().map(|d| d.offers).unwrap_or_default();
                if offers.is_empty() {
                    view! { <p class="muted">"No offers right now."</p> }.into_any()
                } else {
                    offers.into_iter().map(|offer| view! { <Offer offer controls/> }).collect_view().into_any()
                }
            }}
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
            <h2>"My customers"</h2>
            <Show when=move || desk().is_some_and(|d| d.customers.is_empty())>
                <p class="muted">"Nobody yet."</p>
            </Show>
            // Keyed by help session, so a change of status (hold, resume,
            // wrap-up) updates a card and never restarts its call.
            <For
                each=move || desk().map(|d| d.customers).unwrap_or_default()
                key=|customer| customer.help_session_id
                let:customer
            >
                <Customer customer controls/>
            </For>
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
    }
}

#[component]
fn Past(past: PastConversation) -> impl IntoView {
    view! {
        <li data-testid="recent">
            <strong>{past.customer_name.clone()}</strong>
            {format!(" · {} · ended {} · {}", past.channel.label(), past.ended_at, past.disposition.clone().unwrap_or_else(|| "no disposition".into()))}
            {past.note.clone().map(|note| view! { <p class="muted">{note}</p> })}
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
fn Offer(offer: OfferCard, controls: Controls) -> impl IntoView {
    let id: HelpSessionId = offer.help_session_id;
    // A one-second clock for the countdown.
    let (tick, set_tick) = signal(0u32);
    if let Ok(handle) = set_interval_with_handle(move || set_tick.update(|t| *t += 1), std::time::Duration::from_millis(500)) {
        on_cleanup(move || handle.clear());
    }
    let expires_in = offer.expires_in_ms as f64;
    let left = move || {
        tick.get();
        let elapsed = now_ms() - controls.received.get_untracked();
        ((expires_in - elapsed) / 1000.0).ceil().max(0.0) as i64
    };
    view! {
        <article class="offer" data-testid="offer">
            <h3>{offer.customer_name.clone()}</h3>
            <p>{offer.reason.clone()}</p>
            <p class="muted">
                {format!("{} · {} · waited {} s", offer.channel.label(), offer.queue, offer.waited_seconds)}
            </p>
            {offer.transferred.clone().map(|handover| view! { <HandoverNote handover/> })}
            {offer.join_with.clone().map(|asker| view! {
                <p class="notice" data-testid="join-request">{format!("{asker} asks you to join this conversation.")}</p>
            })}
            <p>"Accept within " <strong data-testid="countdown">{left}</strong> " s"</p>
            <div class="row">
                <button type="button" on:click=move |_| { controls.accept.dispatch(AcceptOffer { help_session: id }); }>"Accept"</button>
                <button type="button" class="secondary" on:click=move |_| { controls.decline.dispatch(DeclineOffer { help_session: id }); }>"Decline"</button>
            </div>
        </article>
    }
}

#[component]
fn Customer(customer: CustomerCard, controls: Controls) -> impl IntoView {
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
    let with_others = move || card.with(|c| c.as_ref().is_some_and(|c| !c.others.is_empty()));
    let held = Signal::derive(move || status.get() == HelpStatus::OnHold);
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
        <article class="customer" data-testid="my-customer" data-session=id.to_string()>
            <h3>{customer.customer_name.clone()}</h3>
            <p>{customer.reason.clone()}</p>
            <p class="muted">
                {format!("{} · {} · ", channel.label(), customer.queue)}
                <span data-testid="customer-status">{move || match status.get() {
                    HelpStatus::Active => "talking",
                    HelpStatus::OnHold => "on hold",
                    _ => "wrap-up",
                }}</span>
            </p>
            {customer.phone.clone().map(|phone| view! { <p>"Phone: " <a href=format!("tel:{phone}")>{phone.clone()}</a></p> })}
            {customer.transferred.clone().map(|handover| view! { <HandoverNote handover/> })}
            // Type-erased parts keep the page's view type shallow enough
            // for release builds.
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
                {move || {
                    let others = card.with(|c| c.as_ref().map(|c| c.others.clone()).unwrap_or_default());
                    (!others.is_empty()).then(|| view! { <p class="muted" data-testid="others">{format!("With {}", others.join(", "))}</p> })
                }}
                {move || card.with(|c| c.as_ref().and_then(|c| c.outcome.clone())).map(|outcome| view! {
                    <p class="notice" role="status" data-testid="outcome">{outcome}</p>
                })}
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
                    {view! { <TransferPanel help_session=id controls mode=Handing::Cold/> }.into_any()}
                    {view! { <TransferPanel help_session=id controls mode=Handing::Warm/> }.into_any()}
                    {view! { <TransferPanel help_session=id controls mode=Handing::Conference/> }.into_any()}
                </Show>
                {view! { <Chat help_session=id mine_from_agent=true/> }.into_any()}
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
        </article>
    }
    .into_any()
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
