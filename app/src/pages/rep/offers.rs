//! Offers on the desk: each with its countdown, Accept and Decline (also A
//! and D on the keyboard), ringing and desktop notifications while any
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
pub(super) fn Offer(offer: OfferCard, first: bool, controls: Controls, chosen: RwSignal<Option<HelpSessionId>>) -> impl IntoView {
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
                    on:click=move |_| { chosen.set(Some(id)); controls.send(DeskCommand::Accept { help_session: id }); }>"Accept"</button>
                <button type="button" class="secondary" aria-keyshortcuts=first.then_some("D")
                    on:click=move |_| { controls.send(DeskCommand::Decline { help_session: id }); }>"Decline"</button>
                {first.then(|| view! { <span class="muted keys" title="Keys: A accepts, D declines (when not typing)">"keys " <kbd>"A"</kbd> " " <kbd>"D"</kbd></span> })}
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

/// A (Accept) and D (Decline) answer the oldest offer, unless the
/// representative is typing.
pub(super) fn answer_by_keyboard(controls: Controls, offers: Memo<Vec<OfferCard>>, chosen: RwSignal<Option<HelpSessionId>>) {
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
                    controls.send(DeskCommand::Accept { help_session: first });
                }
                "d" | "D" => {
                    ev.prevent_default();
                    controls.send(DeskCommand::Decline { help_session: first });
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
    ev.target().and_then(|target| target.dyn_into::<web_sys::HtmlElement>().ok()).is_some_and(|element| {
        matches!(element.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT") || element.is_content_editable()
    })
}
