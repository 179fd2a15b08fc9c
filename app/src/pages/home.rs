use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

use super::embedded::{home_page, Embedded};
use super::{failure, focus_first, load_page, local_text, FormError, LocalTime};
use crate::i18n::t;
use crate::states::HelpSessionId;

use crate::conversation::chat::Chat;
use crate::conversation::media::{CallPanel, MediaState};
use crate::conversation::{EndConversation, RateConversation};
use crate::customer::{
    callback_windows, email_offered, help_queues, my_help, Back, CallbackStatus, CustomerView, ForgetHelp, LeaveQueue, Place,
    QueueChoice, RequestHelp, SwitchHelp,
};
use crate::queue::Channel;
use crate::widget::bridge::{self, Status};

/// The customers' start page: ask for help, then wait with a live position.
/// A reload keeps the place: the page finds the customer's help session from
/// their cookie and shows where they stand.
#[component]
pub fn HomePage() -> impl IntoView {
    // Both loaded before the page is sent (the form works before any
    // script runs), and both made here, outside the Suspense that reads
    // them: a resource made inside it can leave the page's render hanging.
    let mine = Resource::new_blocking(|| (), |_| my_help());
    let queues = Resource::new_blocking(|| (), |_| help_queues());
    view! {
        <Title text=t("page-title")/>
        <Suspense fallback=|| view! { <p class="muted">{t("loading")}</p> }>
            {move || Suspend::new(async move {
                match mine.await {
                    Ok(Some(view)) => waiting_part().await(view),
                    Ok(None) => match queues.await {
                        Ok(queues) => view! { <Welcome queues/> }.into_any(),
                        Err(error) => failure(error),
                    },
                    Err(error) => failure(error),
                }
            })}
        </Suspense>
    }
}

/// The waiting line and the conversation: a part of the bundle of its own
/// (`#[lazy]`, cut out by scripts/build), loaded once the customer has asked,
/// so that the first visit loads only the form.
#[lazy]
pub fn waiting_part() -> fn(CustomerView) -> AnyView {
    |initial| view! { <Waiting initial/> }.into_any()
}

/// Loads the parts of the bundle the page the server sent shows, before
/// it is hydrated: hydration needs their code at once, it cannot wait.
#[cfg(feature = "hydrate")]
pub async fn load_shown_parts() {
    let shown = |selector| {
        web_sys::window()
            .and_then(|window| window.document())
            .is_some_and(|document| document.query_selector(selector).ok().flatten().is_some())
    };
    if shown("[data-part=waiting]") {
        waiting_part().await;
    }
}

#[component]
fn Welcome(queues: Vec<QueueChoice>) -> impl IntoView {
    view! {
        <section class="hero">
            <h1>{t("welcome-title")}</h1>
            <p class="lead">{t("welcome-lead")}</p>
        </section>
        <RequestForm queues/>
    }
}

/// The request form with the queues to choose from (the page's, or in a
/// widget its key's), and the name the site vouched for when it identified
/// the customer.
#[component]
pub fn RequestForm(queues: Vec<QueueChoice>) -> impl IntoView {
    let embedded = use_context::<Embedded>();
    let identity = embedded.as_ref().map(|embedded| embedded.identity);
    let widget_key = embedded.map(|embedded| embedded.key);
    let known = move || identity.and_then(|identity| identity.get());
    let request = ServerAction::<RequestHelp>::new();
    let (queue, set_queue) = signal(String::new());
    let (channel, set_channel) = signal(Channel::Video);
    Effect::new(move |_| {
        if let Some(Ok(_)) = request.value().get() {
            // The token is in the cookie now; the page shows the line.
            load_page(&home_page());
        }
    });
    let error = move || request.value().get().and_then(Result::err).map(|error| error.to_string());

    view! {
        <section class="card">
            <h2>{t("form-title")}</h2>
            {
                    if queue.get_untracked().is_empty() {
                        if let Some(first) = queues.first() {
                            set_queue.set(first.id.to_string());
                        }
                    }
                    let several = queues.len() > 1;
                    let chosen = {
                        let queues = queues.clone();
                        move || queues.iter().find(|q| q.id.to_string() == queue.get()).or(queues.first()).cloned()
                    };
                    let offered = {
                        let chosen = chosen.clone();
                        move || chosen().map(|q| q.channels).unwrap_or_default()
                    };
                    // Closed now: only a callback is taken.
                    let opens_at = {
                        let chosen = chosen.clone();
                        Memo::new(move |_| chosen().and_then(|q| q.opens_at))
                    };
                    Effect::new(move |_| {
                        if opens_at.get().is_some() {
                            set_channel.set(Channel::Callback);
                        }
                    });
                    view! {
                        <ActionForm action=request>
                            <div class="stack">
                                {widget_key.clone().map(|key| view! {
                                    <input type="hidden" name="widget" value=key/>
                                    <input type="hidden" name="identity" prop:value=move || known().map(|(token, _)| token).unwrap_or_default()/>
                                })}
                                {move || known().map(|(_, who)| view! {
                                    <p class="notice" role="status" data-testid="identified-as">
                                        {format!("{} {}", t("form-signed-in-as"), who.name)}
                                        {who.email.map(|email| format!(" ({email})"))}
                                    </p>
                                })}
                                <label>
                                    {t("form-name")}
                                    // The name the site vouched for is not the customer's to change.
                                    {move || match known() {
                                        Some((_, who)) => view! { <input type="text" name="name" readonly value=who.name/> }.into_any(),
                                        None => view! { <input type="text" name="name" maxlength="80" autocomplete="name" required/> }.into_any(),
                                    }}
                                </label>
                                <label>
                                    {t("form-reason")}
                                    <textarea name="reason" maxlength="500" rows="3" required></textarea>
                                </label>
                                {if several {
                                    view! {
                                        <label>
                                            {t("form-topic")}
                                            <select name="queue" on:change=move |ev| set_queue.set(event_target_value(&ev))>
                                                {queues.iter().map(|q| view! {
                                                    <option value=q.id.to_string()>{q.name.clone()}</option>
                                                }).collect_view()}
                                            </select>
                                        </label>
                                    }.into_any()
                                } else {
                                    view! { <input type="hidden" name="queue" value=move || queue.get()/> }.into_any()
                                }}
                                {move || opens_at.get().map(|at| view! {
                                    <p class="notice" role="status" data-testid="queue-closed">
                                        {t("form-closed-now")} " " <LocalTime at/> ". " {t("form-closed-callback")}
                                    </p>
                                })}
                                <fieldset class="channels">
                                    <legend>{t("form-channels")}</legend>
                                    {move || offered().into_iter().map(|option| view! {
                                        <label class="choice">
                                            <input
                                                type="radio"
                                                name="channel"
                                                value=option.as_str()
                                                // The attribute for the page as sent, the
                                                // property once the customer chose.
                                                checked=move || channel.get() == option
                                                prop:checked=move || channel.get() == option
                                                disabled=move || opens_at.get().is_some() && option != Channel::Callback
                                                on:change=move |_| set_channel.set(option)
                                            />
                                            {channel_text(option)}
                                        </label>
                                    }).collect_view()}
                                </fieldset>
                                <Show when=move || matches!(channel.get(), Channel::Video | Channel::Audio)>
                                    <p class="muted" data-testid="chat-beside-call">
                                        {t("form-chat-beside-call")}
                                    </p>
                                </Show>
                                <Show when=move || channel.get() == Channel::Callback>
                                    <label>
                                        {t("form-phone")}
                                        <input type="tel" name="phone" placeholder="+44 20 7946 0958" autocomplete="tel" required/>
                                    </label>
                                    <WindowChoice queue=Signal::derive(move || uuid::Uuid::parse_str(&queue.get()).ok())/>
                                </Show>
                                {move || error().map(|message| view! { <FormError message/> })}
                                <button type="submit" disabled=move || request.pending().get()>{t("form-submit")}</button>
                            </div>
                        </ActionForm>
                    }.into_any()
            }
        </section>
    }
}

/// A channel as the customer's form names it.
fn channel_text(channel: Channel) -> String {
    t(match channel {
        Channel::Video => "channel-video",
        Channel::Audio => "channel-audio",
        Channel::Chat => "channel-chat",
        Channel::Callback => "channel-callback",
    })
}

/// What the customer's page is showing; a change of phase builds a new
/// view, anything else updates the one shown (so a call is not torn down
/// by a position update).
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant, reason = "one per page")]
enum Phase {
    Line,
    Talking { help_session: HelpSessionId, channel: Channel },
    Done(CustomerView),
}

/// Where the customer stands, kept live over the WebSocket.
#[component]
fn Waiting(initial: CustomerView) -> impl IntoView {
    let (live, set_live) = signal(None::<CustomerView>);
    crate::live::follow("/ws/customer", set_live);
    let current = Memo::new(move |_| live.get().unwrap_or_else(|| initial.clone()));
    let phase = Memo::new(move |_| match current.get() {
        CustomerView::Matched { help_session, channel, .. } => Phase::Talking { help_session, channel },
        CustomerView::Waiting { .. } => Phase::Line,
        view => Phase::Done(view),
    });
    let on_hold = Signal::derive(move || matches!(current.get(), CustomerView::Matched { on_hold: true, .. }));
    let representatives = Signal::derive(move || match current.get() {
        CustomerView::Matched { representatives, .. } => representatives,
        _ => Vec::new(),
    });
    let supervisor = Signal::derive(move || match current.get() {
        CustomerView::Matched { supervisor, .. } => supervisor,
        _ => None,
    });
    // In a widget, the host page hears where the customer stands.
    if use_context::<Embedded>().is_some() {
        Effect::new(move |_| {
            bridge::tell(match current.get() {
                CustomerView::Waiting { position, .. } => Status::Waiting(position),
                CustomerView::Matched { .. } => Status::Talking,
                _ => Status::Ended,
            })
        });
    }
    let leave = ServerAction::<LeaveQueue>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = leave.value().get() {
            load_page(&home_page());
        }
    });
    // A new phase (matched, ended, closed) puts the focus on its heading.
    let section = NodeRef::<leptos::html::Section>::new();
    Effect::new(move |shown: Option<std::mem::Discriminant<Phase>>| {
        let now = std::mem::discriminant(&phase.get());
        if shown.is_some_and(|shown| shown != now) {
            focus_first(section, "h1");
        }
        now
    });
    // What a screen reader says, politely, when it changes: a new place or
    // range in the line (not every tick), a representative joining, on
    // hold, ended.
    let announcement = Memo::new(move |_| announce(&current.get()));

    view! {
        <section class="card narrow waiting" class:talking=move || matches!(phase.get(), Phase::Talking { .. }) data-testid="customer-status" data-part="waiting" node_ref=section>
            <p class="visually-hidden" role="status" data-testid="announcement">{announcement}</p>
            {move || match phase.get() {
                Phase::Line => view! { <Line current leave/> }.into_any(),
                Phase::Talking { help_session, channel } => view! {
                    <Conversation help_session representatives supervisor channel on_hold/>
                }.into_any(),
                Phase::Done(CustomerView::Finished { can_rate: true }) => view! { <Rate/> }.into_any(),
                // In wrap-up and no longer to rate: rated already.
                Phase::Done(CustomerView::Finished { can_rate: false }) => view! {
                    <h1 data-testid="ended">{t("ended-title")}</h1>
                    <p data-testid="rated">{t("rate-thanks")}</p>
                    <AskAgain/>
                }.into_any(),
                Phase::Done(CustomerView::NotQueued { queue, channel }) => view! {
                    <h1 data-testid="not-queued">{t("not-queued-title")}</h1>
                    <p class="muted">{format!("{queue} · {}", channel.label())}</p>
                    <p>{t("not-queued-text")}</p>
                }.into_any(),
                Phase::Done(CustomerView::Closed { reason }) => view! {
                    <h1>{t("closed-title")}</h1>
                    <p data-testid="closed">{reason}</p>
                    <AskAgain/>
                }.into_any(),
                _ => view! {
                    <h1 data-testid="ended">{t("ended-title")}</h1>
                    <p>{t("ended-thanks")}</p>
                    <AskAgain/>
                }.into_any(),
            }}
        </section>
    }
}

/// The sentence a screen reader announces for what the customer sees now.
fn announce(view: &CustomerView) -> String {
    match view {
        CustomerView::Waiting { position, estimate, place, .. } if place.callback.is_some() => {
            format!("We will call you back. You are number {position} in line. Estimated wait: {estimate}.")
        }
        CustomerView::Waiting { position, estimate, .. } => {
            format!("You are number {position} in line. Estimated wait: {estimate}.")
        }
        CustomerView::Matched { on_hold: true, .. } => "You are on hold.".to_owned(),
        CustomerView::Matched { representatives, .. } => {
            format!("A representative is joining: you're talking with {}.", names_text(representatives.clone()))
        }
        CustomerView::Finished { .. } => "Your conversation has ended.".to_owned(),
        CustomerView::Closed { reason } => format!("You are no longer in line. {reason}"),
        CustomerView::NotQueued { .. } => "You have not entered the line yet.".to_owned(),
    }
}

/// "Cora", "Cora and Tess", "Cora, Tess and Ali"; "your representative"
/// before anyone's name is known.
fn names_text(mut names: Vec<String>) -> String {
    match names.len() {
        0 => "your representative".to_owned(),
        1 => names.remove(0),
        _ => {
            let last = names.pop().unwrap_or_default();
            format!("{} and {last}", names.join(", "))
        }
    }
}

/// A waiting customer's place: updated in place as the line moves (a form
/// being filled in stays as it is), with what they may switch to.
#[component]
fn Line(current: Memo<CustomerView>, leave: ServerAction<LeaveQueue>) -> impl IntoView {
    let waiting = move || match current.get() {
        CustomerView::Waiting { queue, channel, position, estimate, nobody, back, opens_at, place, near, .. } => {
            Some((queue, channel, position, estimate, nobody, back, opens_at, place, near))
        }
        _ => None,
    };
    let place = Memo::new(move |_| waiting().map(|w| w.7).unwrap_or_default());
    let near = Memo::new(move |_| waiting().is_some_and(|w| w.8));
    // Told once each time the turn comes near.
    Effect::new(move |told: Option<bool>| {
        let now = near.get();
        if now && told != Some(true) {
            crate::alert::turn_near("It's nearly your turn", "Come back to the page: a representative will be with you shortly.");
        }
        now
    });
    view! {
        <Title text=move || if near.get() { "Your turn is near · Get help".to_owned() } else { "Get help".to_owned() }/>
        <h1>{move || if place.get().callback.is_some() { "We will call you back" } else { "You're in line" }}</h1>
        {move || waiting().and_then(|w| w.5).map(|back| match back {
            Back::Reconnecting => view! {
                <p class="notice" role="status" data-testid="reconnecting">
                    {t("line-reconnecting")}
                </p>
            }.into_any(),
            Back::Transferred { to } => view! {
                <p class="notice" role="status" data-testid="transferred">
                    {format!("You are being transferred to {to}.")}
                </p>
            }.into_any(),
        })}
        <Show when=move || near.get()>
            <p class="notice" role="alert" data-testid="turn-near">{t("line-turn-near")}</p>
        </Show>
        <p class="big">
            "You are number " <strong data-testid="position">{move || waiting().map(|w| w.2)}</strong> " in line"
        </p>
        <p>"Estimated wait: " <strong data-testid="estimate">{move || waiting().map(|w| w.3)}</strong></p>
        <p class="muted">{move || waiting().map(|w| format!("{} · {}", w.0, w.1.label()))}</p>
        {move || waiting().and_then(|w| w.6).map(|at| view! {
            <p class="notice" role="status" data-testid="closed-now">
                "We are closed now and open " <LocalTime at/> ". You keep your place."
            </p>
        })}
        {move || waiting().and_then(|w| w.4).map(|message| view! { <p class="notice" role="status" data-testid="nobody">{message}</p> })}
        {move || place.get().callback.map(|callback| view! { <CallbackState callback/> })}
        {move || place.get().keep_place.map(|kept| view! {
            <p data-testid="keeping-place">
                "We keep your place with this page closed. When your turn is near we tell you here"
                {kept.email.map(|email| format!(" and by email to {email}"))}
                "."
            </p>
        })}
        {move || (place.get().callback.is_none() && place.get().keep_place.is_none()).then(|| view! {
            <p class="muted">{t("line-keep-open")}</p>
        })}
        <Switches place queue=Signal::derive(move || waiting().map(|w| w.0).unwrap_or_default())/>
        <ActionForm action=leave>
            <button type="submit" class="secondary">
                {move || if place.get().callback.is_some() { "Cancel my callback" } else { "Leave queue" }}
            </button>
        </ActionForm>
    }
}

/// A callback as its customer sees it: the number, the window, each call
/// made and when the next comes.
#[component]
fn CallbackState(callback: CallbackStatus) -> impl IntoView {
    view! {
        <div class="stack" data-testid="callback">
            <p>
                "We will call you at " <strong data-testid="callback-phone">{callback.phone.clone()}</strong>
                {callback.window.clone().map(|(from, until)| view! { " between " <LocalTime at=from/> " and " <LocalTime at=until/> })}
                ". You may close this page: your place is kept."
            </p>
            <ul class="attempts">
                {callback.attempts.iter().map(|(at, outcome)| view! {
                    <li data-testid="callback-attempt">
                        "We tried to call you at " <LocalTime at=at.clone()/> {format!(": {}.", outcome.label().to_lowercase())}
                    </li>
                }).collect_view()}
            </ul>
            {callback.next_try.clone().map(|at| view! {
                <p data-testid="callback-next">"We will call " {if callback.attempts.is_empty() { "" } else { "again " }} "at about " <LocalTime at/> "."</p>
            })}
        </div>
    }
}

/// What a waiting customer may switch to, keeping their place: a callback,
/// keeping their place with the page closed, or talking after all.
#[component]
fn Switches(place: Memo<Place>, queue: Signal<String>) -> impl IntoView {
    let switch = ServerAction::<SwitchHelp>::new();
    let open = RwSignal::new(None::<&'static str>);
    let queues = Resource::new(|| (), |_| help_queues());
    let email_offered = Resource::new(|| (), |_| email_offered());
    let error = move || switch.value().get().and_then(Result::err).map(|error| error.to_string());
    Effect::new(move |_| {
        if let Some(Ok(())) = switch.value().get() {
            open.set(None);
        }
    });
    let talking = move || place.with(|p| p.callback.is_none());
    let kept = move || place.with(|p| p.keep_place.is_some());
    // The channels of this customer's queue.
    let offered = move || {
        queues
            .get()
            .and_then(Result::ok)
            .and_then(|queues| queues.into_iter().find(|q| q.name == queue.get()))
            .map(|q| q.channels)
            .unwrap_or_default()
    };
    view! {
        <div class="switches stack" data-testid="switches">
            <Transition fallback=|| ()>
            <div class="row">
                <Show when=move || talking() && offered().contains(&Channel::Callback)>
                    <button type="button" class="secondary" on:click=move |_| open.set(Some("callback"))>{t("switch-callback")}</button>
                </Show>
                <Show when=move || talking() && !kept()>
                    <button type="button" class="secondary" on:click=move |_| {
                        crate::alert::ask_permission(|_| {});
                        open.set(Some("keep"));
                    }>{t("switch-keep")}</button>
                </Show>
                {move || (kept() || !talking()).then(|| {
                        let offered = offered();
                        [Channel::Video, Channel::Audio, Channel::Chat]
                            .into_iter()
                            .filter(|c| offered.contains(c))
                            .map(|c| view! {
                                <ActionForm action=switch>
                                    <input type="hidden" name="to" value=c.as_str()/>
                                    <button type="submit" class="secondary">{format!("Talk by {} instead", c.label().to_lowercase())}</button>
                                </ActionForm>
                            })
                            .collect_view()
                    })}
            </div>
            </Transition>
            <Show when=move || open.get() == Some("callback")>
                <ActionForm action=switch attr:data-testid="switch-callback">
                    <div class="stack">
                        <input type="hidden" name="to" value="callback"/>
                        <label>{t("form-phone")}<input type="tel" name="phone" placeholder="+44 20 7946 0958" autocomplete="tel" required/></label>
                        <WindowChoice queue=Signal::derive(|| None)/>
                        <button type="submit">{t("switch-callback-submit")}</button>
                    </div>
                </ActionForm>
            </Show>
            <Show when=move || open.get() == Some("keep")>
                <ActionForm action=switch attr:data-testid="switch-keep">
                    <div class="stack">
                        <input type="hidden" name="to" value="keep"/>
                        <Suspense fallback=|| ()>
                            {move || Suspend::new(async move {
                                email_offered.await.unwrap_or(false).then(|| view! {
                                    <label>{t("switch-email")}<input type="email" name="email" autocomplete="email"/></label>
                                })
                            })}
                        </Suspense>
                        <p class="muted">{t("switch-allow-notifications")}</p>
                        <button type="submit">{t("switch-keep-submit")}</button>
                    </div>
                </ActionForm>
            </Show>
            {move || error().map(|message| view! { <FormError message/> })}
        </div>
    }
}

/// "When should we call?": as soon as possible, or an hour the queue is
/// open in the next seven days, in the customer's own time zone (`queue`:
/// the queue chosen; none: the waiting customer's own).
#[component]
fn WindowChoice(queue: Signal<Option<uuid::Uuid>>) -> impl IntoView {
    let windows = LocalResource::new(move || callback_windows(queue.get()));
    view! {
        <label>
            {t("window-label")}
            <select name="window" data-testid="callback-window">
                <option value="">{t("window-soon")}</option>
                {move || windows.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|window| {
                    let label = format!("{} – {}", local_text(&window.from), local_text(&window.until));
                    view! { <option value=format!("{}/{}", window.from, window.until)>{label}</option> }
                }).collect_view()}
            </select>
        </label>
    }
}

/// The customer's side of the conversation: the call (video or audio), the
/// hold notice, the chat, and End. A colleague joining or leaving changes
/// the names only, never the call.
#[component]
fn Conversation(
    help_session: HelpSessionId,
    representatives: Signal<Vec<String>>,
    supervisor: Signal<Option<String>>,
    channel: Channel,
    on_hold: Signal<bool>,
) -> impl IntoView {
    let end = ServerAction::<EndConversation>::new();
    let media = RwSignal::new(MediaState::Connecting);
    let problem = RwSignal::new(None::<String>);
    let has_call = matches!(channel, Channel::Video | Channel::Audio);
    let error = move || end.value().get().and_then(Result::err).map(|error| error.to_string());
    let names = move || names_text(representatives.get());
    view! {
        <h1 data-testid="matched">{move || format!("You're talking with {}", names())}</h1>
        {move || supervisor.get().map(|name| view! {
            <p class="notice" role="status" data-testid="supervisor-joined">{format!("A supervisor has joined: {name}")}</p>
        })}
        <Show when=move || on_hold.get()>
            <p class="notice" role="status" data-testid="on-hold">
                {move || format!("You are on hold. {} will be back with you shortly.", names())}
            </p>
        </Show>
        {has_call.then(|| view! {
            <CallPanel help_session side="customer" video=channel == Channel::Video held=on_hold media problem retries=RwSignal::new(0)/>
            <Show when=move || media.get() == MediaState::Connecting && !on_hold.get()>
                <p class="muted" role="status">{t("call-connecting")}</p>
            </Show>
        })}
        {move || problem.get().map(|message| view! { <p class="notice" role="alert" data-testid="media-problem">{message}</p> })}
        <Chat help_session/>
        {move || error().map(|message| view! { <FormError message/> })}
        <button type="button" class="secondary" on:click=move |_| { end.dispatch(EndConversation {}); }>{t("call-end")}</button>
    }
}

/// After the conversation: 1–5 stars and an optional comment.
#[component]
fn Rate() -> impl IntoView {
    let rate = ServerAction::<RateConversation>::new();
    let (stars, set_stars) = signal(0i16);
    let (comment, set_comment) = signal(String::new());
    let error = move || rate.value().get().and_then(Result::err).map(|error| error.to_string());
    view! {
        <h1 data-testid="ended">{t("ended-title")}</h1>
        {move || if matches!(rate.value().get(), Some(Ok(()))) {
            view! { <p data-testid="rated">{t("rate-thanks")}</p> }.into_any()
        } else {
            view! {
                <form class="stack" on:submit=move |ev| {
                    ev.prevent_default();
                    rate.dispatch(RateConversation { stars: stars.get(), comment: comment.get() });
                }>
                    <fieldset class="stars">
                        <legend>{t("rate-legend")}</legend>
                        {(1..=5i16).map(|n| view! {
                            <label class="choice">
                                <input type="radio" name="stars" value=n.to_string() on:change=move |_| set_stars.set(n)/>
                                {format!("{n} {}", if n == 1 { "star" } else { "stars" })}
                            </label>
                        }).collect_view()}
                    </fieldset>
                    <label>
                        {t("rate-comment")}
                        <textarea rows="3" on:input=move |ev| set_comment.set(event_target_value(&ev))></textarea>
                    </label>
                    {move || error().map(|message| view! { <FormError message/> })}
                    <button type="submit" disabled=move || rate.pending().get()>{t("rate-submit")}</button>
                </form>
            }.into_any()
        }}
        <AskAgain/>
    }
}

/// Starts over: this browser forgets its finished request.
#[component]
fn AskAgain() -> impl IntoView {
    let forget = ServerAction::<ForgetHelp>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = forget.value().get() {
            load_page(&home_page());
        }
    });
    view! {
        <button type="button" class="secondary" on:click=move |_| { forget.dispatch(ForgetHelp {}); }>{t("ask-again")}</button>
    }
}
