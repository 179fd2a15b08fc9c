use leptos::prelude::*;
use leptos_meta::Title;

use super::admin::{human, shown_percent};
use super::guard::guarded;
use super::{clock_text, every, failure};
use crate::access::Area;
use crate::live::now_ms;
use crate::states::AgentState;
use crate::supervision::{open_wallboard, WallQueue, WallRepresentative, Wallboard};

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
                            view! { <Board board elapsed=Signal::derive(elapsed)/> }.into_any()
                        }
                        Err(error) => failure(error),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Board(board: RwSignal<Option<Wallboard>>, elapsed: Signal<f64>) -> impl IntoView {
    let queues = move || board.get().map(|b| b.queues).unwrap_or_default();
    let people = move || board.get().map(|b| b.representatives).unwrap_or_default();
    view! {
        <section class="card">
            <h2>"Queues"</h2>
            {move || queues().is_empty().then(|| view! {
                <p class="muted" data-testid="no-queues">"You supervise no queue yet: an admin chooses supervisors on the Queues page."</p>
            })}
            <div class="scroll">
                <table>
                    <thead><tr>
                        <th>"Queue"</th><th>"Waiting"</th><th>"Longest wait"</th><th>"Offered today"</th>
                        <th>"Answered"</th><th>"Abandoned"</th><th>"Service level"</th><th>"Ready"</th>
                    </tr></thead>
                    <tbody>
                        {move || queues().into_iter().map(|queue| view! { <QueueRow queue elapsed/> }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
        <section class="card">
            <h2>"Representatives"</h2>
            <div class="scroll">
                <table>
                    <thead><tr><th>"Name"</th><th>"State"</th><th>"For"</th><th>"Customers"</th><th>"Missed today"</th></tr></thead>
                    <tbody>
                        {move || people().into_iter().map(|person| view! { <PersonRow person elapsed/> }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
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
            </td>
            <td>{queue.today.offered}</td>
            <td>{queue.today.answered}</td>
            <td>{queue.today.abandoned}</td>
            <td data-testid="wall-level" class=format!("figure-cell {}", thresholds.level(level).class())>{shown_percent(level)}</td>
            <td data-testid="wall-ready">{queue.ready}</td>
        </tr>
    }
}

#[component]
fn PersonRow(person: WallRepresentative, elapsed: Signal<f64>) -> impl IntoView {
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
                        view! {
                            <li data-testid="wall-customer">
                                {format!("{} · {} · {} · ", customer.customer_name, customer.channel.label(), customer.queue)}
                                <span data-testid="wall-customer-status">{customer.status.label()}</span>
                                {move || format!(" · {}", clock_text(base + elapsed.get() as i64))}
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </td>
            <td data-testid="wall-missed">{person.missed_today}</td>
        </tr>
    }
}
