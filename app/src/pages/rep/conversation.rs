//! One conversation open on the desk: its head (customer, status, hold,
//! end, leave), what happens while talking (the call, notices, a callback's
//! number, handing on, the chat), the wrap-up form, and the details beside
//! it, each a component of its own.

use leptos::prelude::*;

use super::callback::CallbackDesk;
use super::controls::{Controls, Workspace};
use super::details::Details;
use super::transfer::{Handing, TransferPanel};
use crate::conversation::chat::Chat;
use crate::conversation::media::{CallPanel, MediaState};
use crate::conversation::roles::Role;
use crate::desk::{CustomerCard, DeskCommand, DISPOSITIONS};
use crate::queue::Channel;
use crate::states::{HelpSessionId, HelpStatus};

/// One conversation as the desk has it now, shared by the parts of its
/// panel.
#[derive(Clone, Copy)]
struct Conversation {
    id: HelpSessionId,
    controls: Controls,
    /// Its card as the desk has it now, kept live (`None` once it is gone
    /// from the desk).
    card: Memo<Option<CustomerCard>>,
    /// A card gone from the desk is done with.
    status: Memo<HelpStatus>,
}

impl Conversation {
    fn new(id: HelpSessionId, controls: Controls) -> Self {
        let card = Memo::new(move |_| {
            controls.desk.with(|d| d.as_ref().and_then(|d| d.customers.iter().find(|c| c.help_session_id == id).cloned()))
        });
        let status = Memo::new(move |_| card.with(|c| c.as_ref().map_or(HelpStatus::Completed, |c| c.status)));
        Self { id, controls, card, status }
    }

    fn talking(self) -> bool {
        self.status.get().talking()
    }

    fn held(self) -> bool {
        self.status.get() == HelpStatus::OnHold
    }

    /// Whether this representative leads the conversation (not a colleague
    /// asked in).
    fn owner(self) -> bool {
        self.card.with(|c| c.as_ref().is_some_and(|c| c.role == Role::Agent))
    }

    /// Whether someone goes on with the customer if this representative
    /// leaves: a colleague, or a supervisor who barged in (asked to take
    /// over).
    fn with_others(self) -> bool {
        self.card.with(|c| c.as_ref().is_some_and(|c| !c.others.is_empty() || matches!(c.supervisor, Some((_, Role::Barge)))))
    }

    /// A part of the card, kept live.
    fn read<T>(self, part: impl Fn(&CustomerCard) -> Option<T>) -> Option<T> {
        self.card.with(|c| c.as_ref().and_then(part))
    }
}

#[component]
pub(super) fn Customer(customer: CustomerCard, controls: Controls, workspace: Workspace) -> impl IntoView {
    let id = customer.help_session_id;
    let conversation = Conversation::new(id, controls);
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
    on_cleanup(move || {
        workspace.unread.update(|all| {
            all.remove(&id);
        })
    });
    let channel = customer.channel;
    view! {
        <article class="card conversation" hidden=move || !open() data-testid="my-customer" data-session=id.to_string()>
            <Head conversation customer=customer.clone()/>
            <div class="conversation-body">
                <div class="conversation-main">
                    <Talking conversation channel arrived/>
                    <WrapUpForm conversation/>
                </div>
                <Details customer card=conversation.card/>
            </div>
        </article>
    }
}

/// The conversation's head: who, how and in what status; hold, resume, end
/// and leave.
#[component]
fn Head(conversation: Conversation, customer: CustomerCard) -> impl IntoView {
    let Conversation { id, controls, status, .. } = conversation;
    let has_call = matches!(customer.channel, Channel::Video | Channel::Audio);
    view! {
        <header class="conversation-head">
            <div>
                <h2>{customer.customer_name.clone()}</h2>
                <p class="muted">
                    {format!("{} · {} · ", customer.channel.label(), customer.queue)}
                    <span data-testid="customer-status">{move || status.get().label()}</span>
                </p>
            </div>
            <Show when=move || conversation.talking()>
                <div class="row">
                    <Show when=move || conversation.owner()>
                        // One button for both, so the keyboard's focus stays on it.
                        <button type="button" class:secondary=move || !conversation.held() on:click=move |_| {
                            controls.send(if conversation.held() { DeskCommand::Resume { help_session: id } } else { DeskCommand::Hold { help_session: id } });
                        }>
                            {move || match (conversation.held(), has_call) {
                                (false, _) => "Hold",
                                (true, true) => "Resume (switch to this customer)",
                                (true, false) => "Resume",
                            }}
                        </button>
                        <button type="button" class="secondary" on:click=move |_| { controls.send(DeskCommand::End { help_session: id }); }>"End"</button>
                    </Show>
                    <Show when=move || !conversation.owner() || conversation.with_others()>
                        <button type="button" class="secondary" on:click=move |_| { controls.send(DeskCommand::Leave { help_session: id }); }>"Leave"</button>
                    </Show>
                </div>
            </Show>
        </header>
    }
}

/// While talking: the call (with what to do when the customer's media
/// never arrives), notices, a callback's number and outcomes, handing on,
/// and the chat.
#[component]
fn Talking(conversation: Conversation, channel: Channel, arrived: RwSignal<usize>) -> impl IntoView {
    let Conversation { id, controls, .. } = conversation;
    let has_call = matches!(channel, Channel::Video | Channel::Audio);
    let video = channel == Channel::Video;
    let media = RwSignal::new(MediaState::Connecting);
    let problem = RwSignal::new(None::<String>);
    let retries = RwSignal::new(0u32);
    view! {
        <Show when=move || conversation.talking()>
            {has_call.then(|| view! { <Call conversation video media problem retries/> })}
            {move || problem.get().map(|message| view! { <p class="notice" role="alert">{message}</p> })}
            {move || conversation.read(|c| c.outcome.clone()).map(|outcome| view! {
                <p class="notice" role="status" data-testid="outcome">{outcome}</p>
            })}
            {move || conversation.read(|c| c.callback.clone()).map(|call| view! {
                <CallbackDesk help_session=id call controls/>
            })}
            {move || conversation.read(supervised).map(|text| view! {
                <p class="notice supervised" role="status" data-testid="supervised">{text}</p>
            })}
            <HandingOn conversation/>
            <Chat help_session=id arrivals=arrived/>
        </Show>
    }
}

/// The call panel, and a retry or end when the customer's media has not
/// arrived.
#[component]
fn Call(
    conversation: Conversation,
    video: bool,
    media: RwSignal<MediaState>,
    problem: RwSignal<Option<String>>,
    retries: RwSignal<u32>,
) -> impl IntoView {
    let Conversation { id, controls, .. } = conversation;
    let held = Signal::derive(move || conversation.held());
    let what = if video { "video" } else { "audio" };
    view! {
        <CallPanel help_session=id side="agent" video held media problem retries/>
        <Show when=move || media.get() == MediaState::Missing && !held.get()>
            <div class="notice" role="alert" data-testid="media-missing">
                <p>{format!("The customer's {what} has not arrived.")}</p>
                <div class="row">
                    <button type="button" on:click=move |_| retries.update(|r| *r += 1)>"Retry"</button>
                    <button type="button" class="secondary" on:click=move |_| { controls.send(DeskCommand::End { help_session: id }); }>"End"</button>
                </div>
            </div>
        </Show>
    }
}

/// Handing the customer on: during a warm transfer, Complete or Cancel;
/// otherwise (for the owner) transfer, warm transfer and add a colleague.
#[component]
fn HandingOn(conversation: Conversation) -> impl IntoView {
    let Conversation { id, controls, .. } = conversation;
    view! {
        {move || conversation.read(|c| c.warm_transfer.clone()).map(|warm| view! {
            <div class="row" data-testid="warm-transfer">
                <button type="button" disabled=!warm.joined
                    on:click=move |_| { controls.send(DeskCommand::FinishWarmTransfer { help_session: id, complete: true }); }>
                    {format!("Complete transfer to {}", warm.colleague)}
                </button>
                <button type="button" class="secondary"
                    on:click=move |_| { controls.send(DeskCommand::FinishWarmTransfer { help_session: id, complete: false }); }>
                    "Cancel transfer"
                </button>
            </div>
        })}
        <Show when=move || conversation.owner() && conversation.card.with(|c| c.as_ref().is_some_and(|c| c.warm_transfer.is_none()))>
            <div class="row handing">
                <TransferPanel help_session=id controls mode=Handing::Cold/>
                <TransferPanel help_session=id controls mode=Handing::Warm/>
                <TransferPanel help_session=id controls mode=Handing::Conference/>
            </div>
        </Show>
    }
}

/// After the conversation: how it went (disposition), a note, and Done
/// before the wrap-up time runs out.
#[component]
fn WrapUpForm(conversation: Conversation) -> impl IntoView {
    let Conversation { id, controls, status, .. } = conversation;
    let (disposition, set_disposition) = signal(DISPOSITIONS[0].to_owned());
    let (note, set_note) = signal(String::new());
    let left = move || conversation.read(|c| c.wrap_up_left_seconds).unwrap_or(0);
    view! {
        <Show when=move || status.get() == HelpStatus::WrapUp>
            <div class="stack">
                {move || conversation.read(|c| c.outcome.clone()).map(|outcome| view! {
                    <p class="notice" role="status" data-testid="outcome">{outcome}</p>
                })}
                <p class="muted">{move || format!("Wrap-up: {} s left", left())}</p>
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
                    controls.send(DeskCommand::WrapUp { help_session: id, disposition: disposition.get(), note: note.get() });
                }>"Done"</button>
            </div>
        </Show>
    }
}
/// What the desk says about supervisors in the conversation: a whisper or a
/// barge-in by name, a silent monitor as "Supervisor is listening" (unless
/// the queue hides it).
fn supervised(card: &CustomerCard) -> Option<String> {
    match &card.supervisor {
        Some((name, Role::Whisper)) => {
            Some(format!("{name} (supervisor) is coaching you: the customer can't hear or read them."))
        }
        Some((name, _)) => Some(format!("{name} (supervisor) has joined the conversation.")),
        None => card.monitored.then(|| "Supervisor is listening".to_owned()),
    }
}
