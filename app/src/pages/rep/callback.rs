//! A callback on the desk: the number to dial, the calls made so far, and
//! how this one went.

use leptos::prelude::*;

use super::controls::Controls;
use crate::desk::{CallbackCall, DeskCommand};
use crate::states::{CallbackOutcome, HelpSessionId};

/// "First call", "2nd call of 3".
pub(super) fn attempts_text(call: &CallbackCall) -> String {
    match call.attempts {
        0 => format!("first call (of {})", call.max_attempts),
        made => format!("call {} of {} ({made} made before)", made + 1, call.max_attempts),
    }
}

/// A callback on the desk: the number to dial (a `tel:` link), the calls
/// made so far, and how this one went; once reached, the conversation goes
/// on by phone until End.
#[component]
pub(super) fn CallbackDesk(help_session: HelpSessionId, call: CallbackCall, controls: Controls) -> impl IntoView {
    let record = move |outcome: CallbackOutcome| {
        controls.send(DeskCommand::RecordCallback { help_session, outcome });
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
