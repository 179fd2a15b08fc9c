//! Handing a customer on from the desk: transfer, warm transfer and adding
//! a colleague, each choosing a queue or a colleague.

use leptos::prelude::*;

use super::controls::Controls;
use crate::desk::{transfer_targets, DeskCommand};
use crate::pages::failure;
use crate::states::{AgentState, HelpSessionId};

/// How a customer is handed on from the desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Handing {
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
pub(super) fn TransferPanel(help_session: HelpSessionId, controls: Controls, mode: Handing) -> impl IntoView {
    let (opener, title, verb, test) = match mode {
        Handing::Cold => ("Transfer…", "Transfer to", "Transfer", "transfer"),
        Handing::Warm => ("Warm transfer…", "Talk first with", "Consult", "warm"),
        Handing::Conference => ("Add a colleague…", "Ask to join", "Ask", "conference"),
    };
    let conference = mode != Handing::Cold;
    let open = RwSignal::new(false);
    let targets = Resource::new(
        move || open.get(),
        move |open| async move {
            if open {
                transfer_targets(help_session).await.map(Some)
            } else {
                Ok(None)
            }
        },
    );
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
            controls.send(DeskCommand::AddColleague { help_session, to_queue, to_agent, warm: mode == Handing::Warm });
        } else {
            controls.send(DeskCommand::Transfer { help_session, to_queue, to_agent, note: note.get() });
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
