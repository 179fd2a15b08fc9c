//! Beside the conversation: who the customer is, how they came, who handed
//! them over, and their earlier help sessions.

use leptos::prelude::*;

use crate::desk::{earlier_sessions, CustomerCard, EarlierSession, Handover};
use crate::pages::{clock_text, failure};

/// Beside the conversation: who the customer is, how they came, and their
/// earlier help sessions.
#[component]
pub(super) fn Details(customer: CustomerCard, card: Memo<Option<CustomerCard>>) -> impl IntoView {
    let id = customer.help_session_id;
    let has_phone = customer.phone.is_some();
    let earlier = Resource::new(
        || (),
        move |_| async move {
            if has_phone {
                earlier_sessions(id).await
            } else {
                Ok(Vec::new())
            }
        },
    );
    view! {
        <aside class="conversation-details" aria-label="Customer details">
            <h3>"Customer"</h3>
            <dl class="facts">
                <dt>"Name"</dt>
                <dd>
                    {customer.customer_name.clone()}
                    {customer.identified.then(|| view! { " " <span class="badge verified" data-testid="identified">"verified by the website"</span> })}
                </dd>
                {customer.verified_email.clone().map(|email| view! {
                    <dt>"Email"</dt><dd data-testid="verified-email"><a href=format!("mailto:{email}")>{email.clone()}</a></dd>
                })}
                <dt>"Reason"</dt><dd data-testid="detail-reason">{customer.reason.clone()}</dd>
                <dt>"Phone"</dt>
                <dd>{match customer.phone.clone() {
                    Some(phone) => view! { <a href=format!("tel:{phone}")>{phone.clone()}</a> }.into_any(),
                    None => view! { <span class="muted">"not given"</span> }.into_any(),
                }}</dd>
                {customer.language.map(|language| view! {
                    <dt>"Language"</dt><dd data-testid="detail-language" lang=language.as_str()>{language.name()}</dd>
                })}
                <dt>"Channel"</dt><dd>{customer.channel.label()}</dd>
                <dt>"Queue"</dt><dd>{customer.queue.clone()}</dd>
                <dt>"Waited"</dt><dd>{clock_text(customer.waited_seconds)}</dd>
            </dl>
            {customer.transferred.clone().map(|handover| view! { <HandoverNote handover/> })}
            {move || {
                let others = card.with(|c| c.as_ref().map(|c| c.others.clone()).unwrap_or_default());
                (!others.is_empty()).then(|| view! { <p class="muted" data-testid="others">{format!("With {}", others.join(", "))}</p> })
            }}
            <h3>"Earlier help sessions"</h3>
            {if has_phone {
                view! {
                    <Suspense fallback=|| view! { <p class="muted">"Looking…"</p> }>
                        {move || Suspend::new(async move {
                            match earlier.await {
                                Ok(sessions) if sessions.is_empty() => view! { <p class="muted">"None with this phone number."</p> }.into_any(),
                                Ok(sessions) => view! {
                                    <ul class="earlier" data-testid="earlier">
                                        {sessions.into_iter().map(|past| view! { <Earlier past/> }).collect_view()}
                                    </ul>
                                }.into_any(),
                                Err(error) => failure(error),
                            }
                        })}
                    </Suspense>
                }.into_any()
            } else {
                view! { <p class="muted">"Found by phone number; this customer gave none."</p> }.into_any()
            }}
        </aside>
    }
}

#[component]
fn Earlier(past: EarlierSession) -> impl IntoView {
    let with =
        if past.representatives.is_empty() { String::new() } else { format!(" · with {}", past.representatives.join(", ")) };
    view! {
        <li data-testid="earlier-session">
            <strong>{past.asked_at.clone()}</strong>
            {format!(" · {} · {} · {}{with}", past.channel.label(), past.queue, past.status.label())}
            <p class="muted">{past.reason.clone()}</p>
            {past.disposition.clone().map(|d| view! { <p>{d}{past.note.clone().map(|n| format!(": {n}"))}</p> })}
            {past.rating.map(|stars| view! { <p class="muted">{format!("Rated {stars}/5")}</p> })}
        </li>
    }
}

/// Who transferred the customer here, and their note.
#[component]
pub(super) fn HandoverNote(handover: Handover) -> impl IntoView {
    let how = if handover.by_name { "Transferred to you by" } else { "Transferred by" };
    view! {
        <p class="notice" data-testid="handover">
            {format!("{how} {}", handover.by)}
            {handover.note.map(|note| view! { <br/> <span data-testid="handover-note">{format!("“{note}”")}</span> })}
        </p>
    }
}
