use leptos::prelude::*;
use leptos_meta::Title;

use super::admin::{human, shown_percent};
use super::guard::guarded;
use super::{clock_text, every, failure, load_page, Scrolling};
use crate::access::Area;
use crate::conversation::chat::Chat;
use crate::conversation::media::{CallPanel, MediaState};
use crate::conversation::roles::Role;
use crate::live::now_ms;
use crate::queue::{Alert, Channel};
use crate::states::{AgentState, HelpSessionId, HelpStatus};
use crate::supervision::{
    open_wallboard, Joined, ReturnCustomer, StopSupervising, SuperviseConversation, TakeCustomerOver, WallQueue,
    WallRepresentative, Wallboard,
};

/// The three ways to join a conversation, as the buttons name them.
const MODES: [(Role, &str); 3] = [(Role::Monitor, "Monitor"), (Role::Whisper, "Whisper"), (Role::Barge, "Barge in")];

/// `/supervisor`: the wallboard of the queues this person supervises, live.
#[component]
pub fn SupervisorPage() -> impl IntoView {
    view! {
        <Title text="Wallboard"/>
        {guarded(Area::Supervisor, |_| view! { <WallboardView/> })}
    }
}

#[component]
fn WallboardView() -> impl IntoView {
    let initial = Resource::new(|| (), |_| open_wallboard());
    let board = RwSignal::new(None::<Wallboard>);
    let received = RwSignal::new(0.0);
    let (pushed, set_pushed) = signal(None::<Wallboard>);
    crate::live::follow("/ws/supervisor", set_pushed);
    Effect::new(move |_| {
        if let Some(live) = pushed.get() {
            board.set(Some(live));
            received.set(now_ms());
        }
    });
    // Waits and times in state grow between pushes: a one-second clock.
    let (clock, set_clock) = signal(now_ms());
    every(std::time::Duration::from_secs(1), move || set_clock.set(now_ms()));
    let elapsed = move || ((clock.get() - received.get()) / 1000.0).max(0.0);
    let large = RwSignal::new(false);
    view! {
        <section class="wallboard" class:large=move || large.get()>
            <div class="card table-head">
                <h1>"Wallboard"</h1>
                <label class="choice">
                    <input type="checkbox" data-testid="large-type" on:change=move |ev| large.set(event_target_checked(&ev))/>
                    "Large type (wall screen)"
                </label>
            </div>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match initial.await {
                        Ok(first) => {
                            if board.get_untracked().is_none() {
                                board.set(Some(first));
                                received.set(now_ms());
                            }
                            view! {
                                <Joining board/>
                                <Board board elapsed=Signal::derive(elapsed)/>
                            }.into_any()
                        }
                        Err(error) => failure(error),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The conversations this supervisor is in, one panel each.
#[component]
fn Joining(board: RwSignal<Option<Wallboard>>) -> impl IntoView {
    let joined = move || board.get().map(|b| b.joined).unwrap_or_default();
    view! {
        <For each=joined key=|joined| joined.help_session_id let:joined>
            <Supervising first=joined board/>
        </For>
    }
}

/// One conversation this supervisor is in: its call and chat, the mode
/// (switched without reconnecting: only what the page sends changes), and
/// Leave. When the last representative leaves a supervisor barged in, the
/// choice to take the customer over or return them to the line.
#[component]
fn Supervising(first: Joined, board: RwSignal<Option<Wallboard>>) -> impl IntoView {
    let id = first.help_session_id;
    let current = Memo::new(move |_| {
        board
            .with(|b| b.as_ref().and_then(|b| b.joined.iter().find(|j| j.help_session_id == id).cloned()))
            .unwrap_or_else(|| first.clone())
    });
    let mode = Signal::derive(move || current.get().mode);
    let held = Signal::derive(move || current.get().on_hold);
    let channel = current.get_untracked().channel;
    let has_call = matches!(channel, Channel::Video | Channel::Audio);
    let switch = ServerAction::<SuperviseConversation>::new();
    let leave = ServerAction::<StopSupervising>::new();
    let take = ServerAction::<TakeCustomerOver>::new();
    let give = ServerAction::<ReturnCustomer>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = take.value().get() {
            load_page("/rep");
        }
    });
    let error = move || {
        [switch.value().get(), leave.value().get(), take.value().get(), give.value().get()]
            .into_iter()
            .flatten()
            .find_map(Result::err)
            .map(|error| error.to_string())
    };
    let media = RwSignal::new(MediaState::Connecting);
    let problem = RwSignal::new(None::<String>);
    view! {
        <article class="card conversation supervising" data-testid="supervising" data-session=id.to_string()>
            <header class="conversation-head">
                <div>
                    <h2>{move || current.get().customer_name}</h2>
                    <p class="muted">
                        {move || {
                            let joined = current.get();
                            let with = if joined.representatives.is_empty() { "nobody".to_owned() } else { joined.representatives.join(", ") };
                            format!("{} · {} · with {with} · ", joined.channel.label(), joined.queue)
                        }}
                        <span data-testid="supervising-status">{move || if held.get() { "On hold" } else { "Talking" }}</span>
                    </p>
                </div>
                <div class="row" role="group" aria-label="How you take part">
                    {MODES.into_iter().map(|(choice, label)| view! {
                        <button type="button" class="secondary" aria-pressed=move || (mode.get() == choice).to_string()
                            data-testid=format!("mode-{choice}")
                            on:click=move |_| { switch.dispatch(SuperviseConversation { help_session: id, mode: choice }); }>
                            {label}
                        </button>
                    }).collect_view()}
                    <button type="button" class="secondary" data-testid="stop-supervising"
                        on:click=move |_| { leave.dispatch(StopSupervising { help_session: id }); }>"Leave"</button>
                </div>
            </header>
            <p class="muted" data-testid="mode-help">{move || match mode.get() {
                Role::Monitor => "Monitoring: you hear and see everyone; nobody hears you, and the customer is not told.",
                Role::Whisper => "Whispering: the representative hears you and reads what you write; the customer doesn't.",
                _ => "Barged in: everyone hears you, and the customer sees that a supervisor joined.",
            }}</p>
            <Show when=move || current.get().asked>
                <div class="notice" role="alert" data-testid="asked-to-take-over">
                    <p>"The representative left. Take the customer over, or return them to the front of the line."</p>
                    <div class="row">
                        <button type="button" on:click=move |_| { take.dispatch(TakeCustomerOver { help_session: id }); }>"Take the customer over"</button>
                        <button type="button" class="secondary" on:click=move |_| { give.dispatch(ReturnCustomer { help_session: id }); }>
                            "Return them to the line"
                        </button>
                    </div>
                </div>
            </Show>
            {move || error().map(|message| view! { <p class="error" role="alert">{message}</p> })}
            {has_call.then(|| view! {
                <CallPanel help_session=id side="agent" video=channel == Channel::Video held media problem retries=RwSignal::new(0)/>
            }.into_any())}
            {move || problem.get().map(|message| view! { <p class="notice" role="alert">{message}</p> })}
            {view! { <Chat help_session=id silent=Signal::derive(move || mode.get() == Role::Monitor)/> }.into_any()}
        </article>
    }
}

#[component]
fn Board(board: RwSignal<Option<Wallboard>>, elapsed: Signal<f64>) -> impl IntoView {
    let queues = move || board.get().map(|b| b.queues).unwrap_or_default();
    let people = move || board.get().map(|b| b.representatives).unwrap_or_default();
    let join = ServerAction::<SuperviseConversation>::new();
    let joined = Signal::derive(move || {
        board.with(|b| b.as_ref().map(|b| b.joined.iter().map(|j| j.help_session_id).collect::<Vec<_>>()).unwrap_or_default())
    });
    let error = move || join.value().get().and_then(Result::err).map(|error| error.to_string());
    view! {
        {move || error().map(|message| view! { <p class="error" role="alert" data-testid="join-error">{message}</p> })}
        <section class="card">
            <h2>"Queues"</h2>
            {move || queues().is_empty().then(|| view! {
                <p class="muted" data-testid="no-queues">"You supervise no queue yet: an admin chooses supervisors on the Queues page."</p>
            })}
            <Scrolling label="Queues">
                <table>
                    <thead><tr>
                        <th>"Queue"</th><th>"Waiting"</th><th>"Longest wait"</th><th>"Offered today"</th>
                        <th>"Answered"</th><th>"Abandoned"</th><th>"Service level"</th><th>"Ready"</th>
                    </tr></thead>
                    <tbody>
                        {move || queues().into_iter().map(|queue| view! { <QueueRow queue elapsed/> }).collect_view()}
                    </tbody>
                </table>
            </Scrolling>
        </section>
        <section class="card">
            <h2>"Representatives"</h2>
            <Scrolling label="Representatives">
                <table>
                    <thead><tr><th>"Name"</th><th>"State"</th><th>"For"</th><th>"Customers"</th><th>"Missed today"</th></tr></thead>
                    <tbody>
                        {move || people().into_iter().map(|person| view! { <PersonRow person elapsed join joined/> }).collect_view()}
                    </tbody>
                </table>
            </Scrolling>
        </section>
    }
}

/// A figure's alert in words beside its colour.
fn alert_words(alert: Alert) -> Option<impl IntoView> {
    alert.words().map(|words| view! { <span class="alert-words">{words}</span> })
}

#[component]
fn QueueRow(queue: WallQueue, elapsed: Signal<f64>) -> impl IntoView {
    let thresholds = queue.thresholds;
    let waiting = queue.waiting;
    let longest = move || queue.longest_wait_seconds.filter(|_| waiting > 0).map(|seconds| seconds + elapsed.get());
    let level = queue.today.service_level();
    view! {
        <tr data-testid="wall-queue">
            <td>{queue.name.clone()}</td>
            <td data-testid="wall-waiting">{waiting}</td>
            <td data-testid="wall-longest" class=move || format!("figure-cell {}", thresholds.wait(longest()).class())>
                {move || if waiting > 0 { human(longest()) } else { "–".into() }}
                {move || alert_words(thresholds.wait(longest()))}
            </td>
            <td>{queue.today.offered}</td>
            <td>{queue.today.answered}</td>
            <td>{queue.today.abandoned}</td>
            <td data-testid="wall-level" class=format!("figure-cell {}", thresholds.level(level).class())>
                {shown_percent(level)}
                {alert_words(thresholds.level(level))}
            </td>
            <td data-testid="wall-ready">{queue.ready}</td>
        </tr>
    }
}

#[component]
fn PersonRow(
    person: WallRepresentative,
    elapsed: Signal<f64>,
    join: ServerAction<SuperviseConversation>,
    joined: Signal<Vec<HelpSessionId>>,
) -> impl IntoView {
    let state = match person.state {
        AgentState::Ready => "Ready".to_owned(),
        AgentState::NotReady => format!("Not ready ({})", person.reason.clone().unwrap_or_default()),
        AgentState::LoggedOut => "Logged out".to_owned(),
    };
    let since = person.state_seconds;
    let customers = person.customers.clone();
    view! {
        <tr data-testid="wall-person" class:logged-out=person.state == AgentState::LoggedOut>
            <td>{person.name.clone()}</td>
            <td data-testid="wall-state">{state}</td>
            <td>{move || clock_text(since + elapsed.get() as i64)}</td>
            <td>
                <ul class="wall-customers">
                    {customers.into_iter().map(|customer| {
                        let base = customer.status_seconds;
                        let id = customer.help_session_id;
                        let live = matches!(customer.status, HelpStatus::Active | HelpStatus::OnHold);
                        view! {
                            <li data-testid="wall-customer">
                                {format!("{} · {} · {} · ", customer.customer_name, customer.channel.label(), customer.queue)}
                                <span data-testid="wall-customer-status">{customer.status.label()}</span>
                                {move || format!(" · {}", clock_text(base + elapsed.get() as i64))}
                                <Show when=move || live && !joined.get().contains(&id)>
                                    <span class="row join">
                                        {MODES.into_iter().map(|(mode, label)| view! {
                                            <button type="button" class="link" data-testid=format!("join-{mode}")
                                                on:click=move |_| { join.dispatch(SuperviseConversation { help_session: id, mode }); }>
                                                {label}
                                            </button>
                                        }).collect_view()}
                                    </span>
                                </Show>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </td>
            <td data-testid="wall-missed">{person.missed_today}</td>
        </tr>
    }
}
