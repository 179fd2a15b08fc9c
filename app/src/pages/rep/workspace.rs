//! The workspace: offers, my conversations, queues and recent conversations
//! on the side; every conversation of the desk beside them, the chosen one
//! open.

use std::collections::HashMap;

use leptos::prelude::*;
use leptos_meta::Title;

use super::bar::DeskBar;
use super::controls::{Controls, Workspace};
use super::conversation::Customer;
use super::offers::{answer_by_keyboard, ringing, AnswerKeys, AnswerKeysSetting, Offer};
use crate::alert::{self as ring, Permission};
use crate::desk::{CustomerCard, NextCustomer, PastConversation};
use crate::live::now_ms;
use crate::model::Me;
use crate::pages::{clock_text, every};
use crate::queue::RoutingMode;
use crate::states::HelpSessionId;

#[component]
pub(super) fn DeskBody(me: Me, controls: Controls, notice: RwSignal<Option<String>>) -> impl IntoView {
    let desk = move || controls.desk.get();
    let chosen = RwSignal::new(None::<HelpSessionId>);
    let open = Memo::new(move |_| {
        controls.desk.with(|d| {
            let customers = d.as_ref().map_or(&[][..], |d| &d.customers[..]);
            chosen
                .get()
                .filter(|id| customers.iter().any(|c| c.help_session_id == *id))
                .or_else(|| customers.first().map(|c| c.help_session_id))
        })
    });
    let (clock, set_clock) = signal(now_ms());
    every(std::time::Duration::from_secs(1), move || set_clock.set(now_ms()));
    let workspace = Workspace { chosen, open, unread: RwSignal::new(HashMap::new()), clock };
    // The conversation just taken is the one opened.
    Effect::new(move |_| {
        if let Some(Ok(Some(taken))) = controls.next.value().get() {
            chosen.set(Some(taken));
        }
    });
    let offers = Memo::new(move |_| controls.desk.with(|d| d.as_ref().map(|d| d.offers.clone()).unwrap_or_default()));
    ringing(offers);
    let keys = RwSignal::new(AnswerKeys::Single);
    answer_by_keyboard(controls, offers, chosen, keys);
    let title = move || match offers.with(Vec::len) {
        0 => "Desk".to_owned(),
        1 => "(1) Offer waiting · Desk".to_owned(),
        n => format!("({n}) Offers waiting · Desk"),
    };
    view! {
        <Title text=title/>
        <DeskBar me controls/>
        <div class="workspace">
            <aside class="desk-side">
                <section class="card">
                    <h2>"Offers"</h2>
                    <NotificationSetting/>
                    <AnswerKeysSetting keys/>
                    {move || {
                        let offers = offers.get();
                        if offers.is_empty() {
                            view! { <p class="muted">"No offers right now."</p> }.into_any()
                        } else {
                            offers.into_iter().enumerate().map(|(at, offer)| view! { <Offer offer first=at == 0 controls chosen keys/> }).collect_view().into_any()
                        }
                    }}
                </section>

                <section class="card">
                    <h2>"My conversations"</h2>
                    <Show when=move || desk().is_some_and(|d| d.customers.is_empty())>
                        <p class="muted">"Nobody yet."</p>
                    </Show>
                    <ul class="conversations" data-testid="conversations">
                        <For
                            each=move || desk().map(|d| d.customers).unwrap_or_default()
                            key=|customer| (customer.help_session_id, customer.status, customer.status_seconds)
                            let:customer
                        >
                            <ConversationItem customer controls workspace/>
                        </For>
                    </ul>
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
            </aside>

            <div class="desk-open">
                <Show when=move || desk().is_some_and(|d| d.customers.is_empty())>
                    <section class="card empty-open">
                        <h2>"No conversation open"</h2>
                        <p class="muted">"Customers you accept appear here, with their call, chat and history. Offers ring on the left."</p>
                    </section>
                </Show>
                // Every conversation stays mounted, the others hidden, so
                // switching keeps each call and chat alive. Keyed by help
                // session: a change of status updates a conversation and
                // never restarts its call.
                <For
                    each=move || desk().map(|d| d.customers).unwrap_or_default()
                    key=|customer| customer.help_session_id
                    let:customer
                >
                    <Customer customer controls workspace/>
                </For>
            </div>
        </div>
    }
}

/// Whether offers also come as desktop notifications, and the control to
/// allow them (the browser asks once).
#[component]
fn NotificationSetting() -> impl IntoView {
    let permission = RwSignal::new(Permission::Unsupported);
    Effect::new(move |_| permission.set(ring::permission()));
    move || match permission.get() {
        Permission::Ask => view! {
            <p class="row">
                <button type="button" class="secondary" data-testid="allow-notifications"
                    on:click=move |_| ring::ask_permission(move |answer| permission.set(answer))>
                    "Notify me of offers on the desktop"
                </button>
            </p>
        }
        .into_any(),
        Permission::Denied => view! {
            <p class="muted">"Desktop notifications are blocked for this site; offers still ring and show in the tab's title."</p>
        }
        .into_any(),
        Permission::Granted | Permission::Unsupported => ().into_any(),
    }
}

/// One conversation in the workspace's list: customer, channel, status,
/// time in status, unread messages; a click opens it.
#[component]
fn ConversationItem(customer: CustomerCard, controls: Controls, workspace: Workspace) -> impl IntoView {
    let id = customer.help_session_id;
    let since = controls.received.get_untracked();
    let base = customer.status_seconds;
    let in_status = move || clock_text(base + ((workspace.clock.get() - since) / 1000.0) as i64);
    let unread = move || workspace.unread.with(|u| u.get(&id).copied().unwrap_or(0));
    let current = move || workspace.open.get() == Some(id);
    view! {
        <li>
            <button
                type="button"
                class="conversation-item"
                class:current=current
                aria-current=move || current().then_some("true")
                data-testid="conversation-item"
                data-session=id.to_string()
                on:click=move |_| workspace.chosen.set(Some(id))
            >
                <span class="who">
                    <strong>{customer.customer_name.clone()}</strong>
                    {move || (unread() > 0).then(|| view! {
                        <span class="badge" data-testid="unread" aria-label=format!("{} unread", unread())>{unread}</span>
                    })}
                </span>
                <span class="muted">
                    {format!("{} · ", customer.channel.label())}
                    <span data-testid="item-status">{customer.status.label()}</span>
                    " · "
                    <span data-testid="in-status">{in_status}</span>
                </span>
            </button>
        </li>
    }
}

#[component]
fn Past(past: PastConversation) -> impl IntoView {
    view! {
        <li data-testid="recent">
            <strong>{past.customer_name.clone()}</strong>
            {format!(" · {} · ended {} · {}", past.channel.label(), past.ended_at, past.disposition.clone().unwrap_or_else(|| "no disposition".into()))}
            {past.note.clone().map(|note| view! { <p class="muted">{note}</p> })}
            {past.calls.map(|calls| view! {
                <p class="muted" data-testid="recent-calls">{if calls == 1 { "1 call".to_owned() } else { format!("{calls} calls") }}</p>
            })}
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
