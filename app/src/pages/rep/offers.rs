//! Offers on the desk: each with its countdown, Accept and Decline (also A
//! and D on the keyboard, or Alt+A and Alt+D, or no keys: the
//! representative's choice), ringing and desktop notifications while any
//! waits.

use std::collections::HashSet;

use leptos::prelude::*;

use super::callback::attempts_text;
use super::controls::Controls;
use super::details::HandoverNote;
use crate::alert as ring;
use crate::desk::{DeskCommand, JoinRequest, OfferCard};
use crate::live::now_ms;
use crate::pages::every;
use crate::states::HelpSessionId;

#[component]
pub(super) fn Offer(
    offer: OfferCard,
    first: bool,
    controls: Controls,
    chosen: RwSignal<Option<HelpSessionId>>,
    keys: RwSignal<AnswerKeys>,
) -> impl IntoView {
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
                {offer.language.map(|language| view! { " · " <span data-testid="offer-language" lang=language.as_str()>{language.name()}</span> })}
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
                <button type="button" aria-keyshortcuts=move || first.then(|| keys.get().names().map(|(accept, _)| accept)).flatten()
                    on:click=move |_| { chosen.set(Some(id)); controls.send(DeskCommand::Accept { help_session: id }); }>"Accept"</button>
                <button type="button" class="secondary" aria-keyshortcuts=move || first.then(|| keys.get().names().map(|(_, decline)| decline)).flatten()
                    on:click=move |_| { controls.send(DeskCommand::Decline { help_session: id }); }>"Decline"</button>
                {move || first.then(|| keys.get().names()).flatten().map(|(accept, decline)| view! {
                    <span class="muted keys" data-testid="answer-keys-hint">"keys " <kbd>{accept}</kbd> " " <kbd>{decline}</kbd></span>
                })}
            </div>
        </article>
    }
}

/// Rings while an offer waits and notifies of each new one; the ringing
/// stops when the desk closes.
pub(super) fn ringing(offers: Memo<Vec<OfferCard>>) {
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

/// How offers are answered from the keyboard (WCAG 2.1.4: a single-key
/// shortcut can be turned off or given a modifier). Kept in the browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AnswerKeys {
    /// A accepts, D declines, when not typing.
    Single,
    /// Alt+A and Alt+D, also while typing.
    WithAlt,
    /// No keys: the buttons only.
    Off,
}

/// An answer to the oldest offer.
enum Answer {
    Accept,
    Decline,
}

impl AnswerKeys {
    const ALL: [AnswerKeys; 3] = [AnswerKeys::Single, AnswerKeys::WithAlt, AnswerKeys::Off];
    /// The browser's local storage keeps the choice under this name.
    #[cfg(feature = "hydrate")]
    const STORED: &'static str = "switchboard.answer-keys";

    fn as_str(self) -> &'static str {
        match self {
            AnswerKeys::Single => "single",
            AnswerKeys::WithAlt => "alt",
            AnswerKeys::Off => "off",
        }
    }

    fn label(self) -> &'static str {
        match self {
            AnswerKeys::Single => "A and D",
            AnswerKeys::WithAlt => "Alt+A and Alt+D",
            AnswerKeys::Off => "Off",
        }
    }

    /// The keys' names for Accept and Decline (`aria-keyshortcuts`).
    fn names(self) -> Option<(&'static str, &'static str)> {
        match self {
            AnswerKeys::Single => Some(("A", "D")),
            AnswerKeys::WithAlt => Some(("Alt+A", "Alt+D")),
            AnswerKeys::Off => None,
        }
    }

    /// The answer a key press gives, if any.
    fn answer(self, ev: &leptos::ev::KeyboardEvent) -> Option<Answer> {
        if ev.ctrl_key() || ev.meta_key() || ev.repeat() {
            return None;
        }
        let letter = match self {
            AnswerKeys::Single if !ev.alt_key() && !typing(ev) => ev.key().to_ascii_lowercase(),
            // The key's place, not its character: Alt+A writes "å" on a Mac.
            AnswerKeys::WithAlt if ev.alt_key() => ev.code().trim_start_matches("Key").to_ascii_lowercase(),
            _ => return None,
        };
        match letter.as_str() {
            "a" => Some(Answer::Accept),
            "d" => Some(Answer::Decline),
            _ => None,
        }
    }

    /// The representative's choice in this browser (A and D until chosen).
    pub(super) fn stored() -> Self {
        #[cfg(feature = "hydrate")]
        if let Some(Ok(Some(value))) =
            web_sys::window().and_then(|w| w.local_storage().ok().flatten()).map(|s| s.get_item(Self::STORED))
        {
            return Self::ALL.into_iter().find(|keys| keys.as_str() == value).unwrap_or(AnswerKeys::Single);
        }
        AnswerKeys::Single
    }

    fn store(self) {
        #[cfg(feature = "hydrate")]
        if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
            let _ = storage.set_item(Self::STORED, self.as_str());
        }
    }
}

/// The choice of keys, in the offers' card.
#[component]
pub(super) fn AnswerKeysSetting(keys: RwSignal<AnswerKeys>) -> impl IntoView {
    view! {
        <label class="inline">
            "Keys to answer offers"
            <select data-testid="answer-keys" on:change=move |ev| {
                let chosen = event_target_value(&ev);
                if let Some(choice) = AnswerKeys::ALL.into_iter().find(|keys| keys.as_str() == chosen) {
                    choice.store();
                    keys.set(choice);
                }
            }>
                {AnswerKeys::ALL.map(|choice| view! {
                    <option value=choice.as_str() selected=move || keys.get() == choice>{choice.label()}</option>
                })}
            </select>
        </label>
    }
}

/// The chosen keys answer the oldest offer.
pub(super) fn answer_by_keyboard(
    controls: Controls,
    offers: Memo<Vec<OfferCard>>,
    chosen: RwSignal<Option<HelpSessionId>>,
    keys: RwSignal<AnswerKeys>,
) {
    // In the browser only (effects never run on the server).
    Effect::new(move |_| {
        keys.set(AnswerKeys::stored());
        let handle = window_event_listener(leptos::ev::keydown, move |ev| {
            let Some(answer) = keys.get_untracked().answer(&ev) else { return };
            let Some(first) = offers.with_untracked(|o| o.first().map(|o| o.help_session_id)) else { return };
            ev.prevent_default();
            match answer {
                Answer::Accept => {
                    chosen.set(Some(first));
                    controls.send(DeskCommand::Accept { help_session: first });
                }
                Answer::Decline => controls.send(DeskCommand::Decline { help_session: first }),
            }
        });
        on_cleanup(move || handle.remove());
    });
}

/// Whether a key went to a field the representative types in.
fn typing(ev: &leptos::ev::KeyboardEvent) -> bool {
    use wasm_bindgen::JsCast;
    ev.target().and_then(|target| target.dyn_into::<web_sys::HtmlElement>().ok()).is_some_and(|element| {
        matches!(element.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT") || element.is_content_editable()
    })
}
