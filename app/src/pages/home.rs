use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

use super::{failure, load_page};
use crate::states::HelpSessionId;

use crate::conversation::chat::Chat;
use crate::conversation::media::{CallPanel, MediaState};
use crate::conversation::{EndConversation, RateConversation};
use crate::customer::{help_queues, my_help, Back, CustomerView, ForgetHelp, LeaveQueue, RequestHelp};
use crate::queue::Channel;

/// The customers' start page: ask for help, then wait with a live position.
/// A reload keeps the place: the page finds the customer's help session from
/// their cookie and shows where they stand.
#[component]
pub fn HomePage() -> impl IntoView {
    let mine = Resource::new_blocking(|| (), |_| my_help());
    view! {
        <Title text="Get help"/>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match mine.await {
                    Ok(Some(view)) => view! { <Waiting initial=view/> }.into_any(),
                    Ok(None) => view! { <Welcome/> }.into_any(),
                    Err(error) => failure(error),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Welcome() -> impl IntoView {
    view! {
        <section class="hero">
            <h1>"Talk to a real person"</h1>
            <p class="lead">
                "Our team helps you by video, voice, chat or a call back. "
                "You always see where you are in the line and about how long the wait is."
            </p>
        </section>
        <RequestForm/>
    }
}

#[component]
fn RequestForm() -> impl IntoView {
    let queues = Resource::new(|| (), |_| help_queues());
    let request = ServerAction::<RequestHelp>::new();
    let (queue, set_queue) = signal(String::new());
    let (channel, set_channel) = signal(Channel::Video);
    Effect::new(move |_| {
        if let Some(Ok(_)) = request.value().get() {
            // The token is in the cookie now; the page shows the line.
            load_page("/");
        }
    });
    let error = move || request.value().get().and_then(Result::err).map(|error| error.to_string());

    view! {
        <section class="card">
            <h2>"Talk to a representative"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let queues = match queues.await {
                        Ok(queues) => queues,
                        Err(error) => return failure(error),
                    };
                    if queue.get_untracked().is_empty() {
                        if let Some(first) = queues.first() {
                            set_queue.set(first.id.to_string());
                        }
                    }
                    let several = queues.len() > 1;
                    let offered = {
                        let queues = queues.clone();
                        move || {
                            queues
                                .iter()
                                .find(|q| q.id.to_string() == queue.get())
                                .or(queues.first())
                                .map(|q| q.channels.clone())
                                .unwrap_or_default()
                        }
                    };
                    view! {
                        <ActionForm action=request>
                            <div class="stack">
                                <label>
                                    "Your name"
                                    <input type="text" name="name" maxlength="80" autocomplete="name" required/>
                                </label>
                                <label>
                                    "What do you need help with?"
                                    <textarea name="reason" maxlength="500" rows="3" required></textarea>
                                </label>
                                {if several {
                                    view! {
                                        <label>
                                            "Topic"
                                            <select name="queue" on:change=move |ev| set_queue.set(event_target_value(&ev))>
                                                {queues.iter().map(|q| view! {
                                                    <option value=q.id.to_string()>{q.name.clone()}</option>
                                                }).collect_view()}
                                            </select>
                                        </label>
                                    }.into_any()
                                } else {
                                    view! { <input type="hidden" name="queue" prop:value=move || queue.get()/> }.into_any()
                                }}
                                <fieldset class="channels">
                                    <legend>"How would you like to talk?"</legend>
                                    {move || offered().into_iter().map(|option| view! {
                                        <label class="choice">
                                            <input
                                                type="radio"
                                                name="channel"
                                                value=option.as_str()
                                                prop:checked=move || channel.get() == option
                                                on:change=move |_| set_channel.set(option)
                                            />
                                            {option.label()}
                                        </label>
                                    }).collect_view()}
                                </fieldset>
                                <Show when=move || channel.get() == Channel::Callback>
                                    <label>
                                        "Phone number (with country code)"
                                        <input type="tel" name="phone" placeholder="+44 20 7946 0958" autocomplete="tel" required/>
                                    </label>
                                </Show>
                                {move || error().map(|message| view! { <p class="error" role="alert">{message}</p> })}
                                <button type="submit" disabled=move || request.pending().get()>"Talk to a representative"</button>
                            </div>
                        </ActionForm>
                    }.into_any()
                })}
            </Suspense>
        </section>
    }
}

/// What the customer's page is showing; a change of phase builds a new
/// view, anything else updates the one shown (so a call is not torn down
/// by a position update).
#[derive(Debug, Clone, PartialEq)]
enum Phase {
    Line(CustomerView),
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
        view @ CustomerView::Waiting { .. } => Phase::Line(view),
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
    let leave = ServerAction::<LeaveQueue>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = leave.value().get() {
            load_page("/");
        }
    });

    view! {
        <section class="card narrow waiting" class:talking=move || matches!(phase.get(), Phase::Talking { .. }) data-testid="customer-status">
            {move || match phase.get() {
                Phase::Line(CustomerView::Waiting { queue, channel, position, estimate, nobody, back }) => view! {
                    <h1>"You're in line"</h1>
                    {back.map(|back| match back {
                        Back::Reconnecting => view! {
                            <p class="notice" role="status" data-testid="reconnecting">
                                "Your representative lost their connection. We are reconnecting you: you are back at the front of the line."
                            </p>
                        }.into_any(),
                        Back::Transferred { to } => view! {
                            <p class="notice" role="status" data-testid="transferred">
                                {format!("You are being transferred to {to}.")}
                            </p>
                        }.into_any(),
                    })}
                    <p class="big">
                        "You are number " <strong data-testid="position">{position}</strong> " in line"
                    </p>
                    <p>"Estimated wait: " <strong data-testid="estimate">{estimate}</strong></p>
                    <p class="muted">{format!("{queue} · {}", channel.label())}</p>
                    {nobody.map(|message| view! { <p class="notice" role="status" data-testid="nobody">{message}</p> })}
                    <p class="muted">"Keep this page open: you keep your place even if you reload it."</p>
                    <ActionForm action=leave>
                        <button type="submit" class="secondary">"Leave queue"</button>
                    </ActionForm>
                }.into_any(),
                Phase::Talking { help_session, channel } => view! {
                    <Conversation help_session representatives supervisor channel on_hold/>
                }.into_any(),
                Phase::Done(CustomerView::Finished { can_rate: true }) => view! { <Rate/> }.into_any(),
                // In wrap-up and no longer to rate: rated already.
                Phase::Done(CustomerView::Finished { can_rate: false }) => view! {
                    <h1 data-testid="ended">"Your conversation has ended"</h1>
                    <p data-testid="rated">"Thank you for your rating!"</p>
                    <AskAgain/>
                }.into_any(),
                Phase::Done(CustomerView::NotQueued { queue, channel }) => view! {
                    <h1 data-testid="not-queued">"You have not entered the line yet"</h1>
                    <p class="muted">{format!("{queue} · {}", channel.label())}</p>
                    <p>"Your request is ready: you will see your place here as soon as it enters the line."</p>
                }.into_any(),
                Phase::Done(CustomerView::Closed { reason }) => view! {
                    <h1>"You are no longer in line"</h1>
                    <p data-testid="closed">{reason}</p>
                    <AskAgain/>
                }.into_any(),
                _ => view! {
                    <h1 data-testid="ended">"Your conversation has ended"</h1>
                    <p>"Thank you for reaching out."</p>
                    <AskAgain/>
                }.into_any(),
            }}
        </section>
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
    let names = move || {
        let mut names = representatives.get();
        match names.len() {
            0 => "your representative".to_owned(),
            1 => names.remove(0),
            _ => {
                let last = names.pop().unwrap_or_default();
                format!("{} and {last}", names.join(", "))
            }
        }
    };
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
                <p class="muted" role="status">"Connecting the call…"</p>
            </Show>
        })}
        {move || problem.get().map(|message| view! { <p class="notice" role="alert" data-testid="media-problem">{message}</p> })}
        <Chat help_session/>
        {move || error().map(|message| view! { <p class="error" role="alert">{message}</p> })}
        <button type="button" class="secondary" on:click=move |_| { end.dispatch(EndConversation {}); }>"End conversation"</button>
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
        <h1 data-testid="ended">"Your conversation has ended"</h1>
        {move || if matches!(rate.value().get(), Some(Ok(()))) {
            view! { <p data-testid="rated">"Thank you for your rating!"</p> }.into_any()
        } else {
            view! {
                <form class="stack" on:submit=move |ev| {
                    ev.prevent_default();
                    rate.dispatch(RateConversation { stars: stars.get(), comment: comment.get() });
                }>
                    <fieldset class="stars">
                        <legend>"How did we do? (1 = poor, 5 = excellent)"</legend>
                        {(1..=5i16).map(|n| view! {
                            <label class="choice">
                                <input type="radio" name="stars" value=n.to_string() on:change=move |_| set_stars.set(n)/>
                                {format!("{n} {}", if n == 1 { "star" } else { "stars" })}
                            </label>
                        }).collect_view()}
                    </fieldset>
                    <label>
                        "Comment (optional)"
                        <textarea rows="3" on:input=move |ev| set_comment.set(event_target_value(&ev))></textarea>
                    </label>
                    {move || error().map(|message| view! { <p class="error" role="alert">{message}</p> })}
                    <button type="submit" disabled=move || rate.pending().get()>"Send rating"</button>
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
            load_page("/");
        }
    });
    view! {
        <button type="button" class="secondary" on:click=move |_| { forget.dispatch(ForgetHelp {}); }>"Ask for help again"</button>
    }
}
