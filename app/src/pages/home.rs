use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

use super::{failure, load_page};
use crate::customer::{help_queues, my_help, CustomerView, LeaveQueue, RequestHelp};
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

/// Where the customer stands, kept live over the WebSocket.
#[component]
fn Waiting(initial: CustomerView) -> impl IntoView {
    let (live, set_live) = signal(None::<CustomerView>);
    crate::live::follow("/ws/customer", set_live);
    let current = move || live.get().unwrap_or_else(|| initial.clone());
    let leave = ServerAction::<LeaveQueue>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = leave.value().get() {
            load_page("/");
        }
    });

    view! {
        <section class="card narrow waiting" data-testid="customer-status">
            {move || match current() {
                CustomerView::Waiting { queue, channel, position, estimate, nobody } => view! {
                    <h1>"You're in line"</h1>
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
                CustomerView::Matched { agent, channel } => view! {
                    <h1 data-testid="matched">{format!("{agent} is joining you")}</h1>
                    <p>{format!("Your representative {agent} has taken your request ({}).", channel.label().to_lowercase())}</p>
                }.into_any(),
                CustomerView::Finished => view! {
                    <h1>"Your conversation has ended"</h1>
                    <p>"Thank you for reaching out."</p>
                    <a class="button" href="/" rel="external">"Ask for help again"</a>
                }.into_any(),
                CustomerView::Closed { reason } => view! {
                    <h1>"You are no longer in line"</h1>
                    <p data-testid="closed">{reason}</p>
                    <a class="button" href="/" rel="external">"Ask for help again"</a>
                }.into_any(),
            }}
        </section>
    }
}
