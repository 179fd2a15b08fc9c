use leptos::prelude::*;
use leptos_meta::Title;
use uuid::Uuid;

use super::guard::guarded;
use super::{failure, LocalTime};
use crate::access::Area;
use crate::integrations::{
    list_webhooks, webhook_deliveries, AddWebhook, DeleteWebhook, Delivery, ResendWebhooks, SetWebhookEnabled,
    SetWebhooksPrivate, WebhookEndpoint, WebhookType, WithWebhookSecret,
};

/// `/admin/webhooks`: where events are sent, what each receiver gets, how
/// every delivery went, and sending again.
#[component]
pub fn WebhooksPage() -> impl IntoView {
    view! {
        <Title text="Webhooks"/>
        {guarded(Area::Admin, |_| view! { <Webhooks/> })}
    }
}

#[derive(Clone, Copy)]
struct Actions {
    enabled: ServerAction<SetWebhookEnabled>,
    delete: ServerAction<DeleteWebhook>,
    resend: ServerAction<ResendWebhooks>,
}

#[component]
fn Webhooks() -> impl IntoView {
    let add = ServerAction::<AddWebhook>::new();
    let private = ServerAction::<SetWebhooksPrivate>::new();
    let actions = Actions { enabled: ServerAction::new(), delete: ServerAction::new(), resend: ServerAction::new() };
    let page = Resource::new(
        move || {
            (
                add.version().get(),
                private.version().get(),
                actions.enabled.version().get(),
                actions.delete.version().get(),
                actions.resend.version().get(),
            )
        },
        |_| list_webhooks(),
    );
    // The form, emptied once a receiver is added (kept when refused).
    let url = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let chosen = RwSignal::new(Vec::<WebhookType>::new());
    let secret = RwSignal::new(None::<WithWebhookSecret>);
    let notice = RwSignal::new(None::<Result<String, String>>);
    Effect::new(move |_| match add.value().get() {
        Some(Ok(made)) => {
            secret.set(Some(made));
            notice.set(None);
            url.set(String::new());
            description.set(String::new());
            chosen.set(Vec::new());
        }
        Some(Err(error)) => notice.set(Some(Err(error.to_string()))),
        None => {}
    });
    Effect::new(move |_| match actions.resend.value().get() {
        Some(Ok(count)) => {
            let deliveries = if count == 1 { "delivery" } else { "deliveries" };
            notice.set(Some(Ok(format!("{count} {deliveries} will be sent again."))));
        }
        Some(Err(error)) => notice.set(Some(Err(error.to_string()))),
        None => {}
    });
    Effect::new(move |_| {
        let failed = [
            actions.enabled.value().get().and_then(Result::err),
            actions.delete.value().get().and_then(Result::err),
            private.value().get().and_then(Result::err),
        ];
        if let Some(error) = failed.into_iter().flatten().next() {
            notice.set(Some(Err(error.to_string())));
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        add.dispatch(AddWebhook { url: url.get(), description: description.get(), event_types: chosen.get() });
    };

    view! {
        <section class="card">
            <h1>"Webhooks"</h1>
            <p class="muted">
                "Events are sent to your systems as they happen, signed per the Standard Webhooks specification "
                "(webhook-id, webhook-timestamp, webhook-signature), and retried for about three days until the receiver "
                "answers 2xx. A receiver answering 410 is disabled."
            </p>
            {move || notice.get().map(|notice| match notice {
                Ok(message) => view! { <p class="notice" role="status">{message}</p> }.into_any(),
                Err(message) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
            })}
            {move || secret.get().map(|made| view! {
                <div class="notice" role="status" data-testid="new-webhook-secret">
                    <p>{format!("The signing secret of {} — copy it now, it is not shown again:", made.endpoint.url)}</p>
                    <p><code>{made.secret}</code></p>
                </div>
            })}
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(page) => {
                            let allow = page.allow_private;
                            let endpoints = page.endpoints;
                            view! {
                                <label class="row">
                                    <input type="checkbox" prop:checked=allow on:change=move |ev| {
                                        private.dispatch(SetWebhooksPrivate { allow: event_target_checked(&ev) });
                                    }/>
                                    "Allow receivers on private addresses (10.x, 172.16–31.x, 192.168.x, this machine). "
                                    "Link-local and cloud metadata addresses are never allowed."
                                </label>
                                {if endpoints.is_empty() {
                                    view! { <p class="muted">"No webhook endpoints yet."</p> }.into_any()
                                } else {
                                    view! {
                                        <table data-testid="webhooks">
                                            <thead><tr><th>"Receiver"</th><th>"Events"</th><th>"Status"</th><th>"Waiting / failed"</th><th>"Actions"</th></tr></thead>
                                            <tbody>{endpoints.into_iter().map(|endpoint| view! { <EndpointRow endpoint actions/> }).collect_view()}</tbody>
                                        </table>
                                    }.into_any()
                                }}
                            }.into_any()
                        }
                        Err(error) => failure(error),
                    }
                })}
            </Transition>
        </section>
        <section class="card">
            <h2>"Add a receiver"</h2>
            <form on:submit=submit>
                <div class="grid-form">
                    <label>"URL"<input type="url" required maxlength="2000" placeholder="https://crm.example.com/switchboard"
                        prop:value=move || url.get() on:input=move |ev| url.set(event_target_value(&ev))/></label>
                    <label>"Description"<input type="text" maxlength="200"
                        prop:value=move || description.get() on:input=move |ev| description.set(event_target_value(&ev))/></label>
                </div>
                <fieldset class="channels">
                    <legend>"Events"</legend>
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            page.await.map(|page| page.types.into_iter().map(|this| {
                                view! {
                                    <label>
                                        <input type="checkbox" prop:checked=move || chosen.get().contains(&this) on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            chosen.update(|list| {
                                                list.retain(|other| *other != this);
                                                if on {
                                                    list.push(this);
                                                }
                                            });
                                        }/>
                                        <code>{this.as_str()}</code>
                                    </label>
                                }
                            }).collect_view()).ok()
                        })}
                    </Transition>
                </fieldset>
                <button type="submit" disabled=move || add.pending().get()>"Add receiver"</button>
            </form>
        </section>
    }
}

#[component]
fn EndpointRow(endpoint: WebhookEndpoint, actions: Actions) -> impl IntoView {
    let id = endpoint.id;
    let enabled = endpoint.enabled;
    let open = RwSignal::new(false);
    view! {
        <tr data-url=endpoint.url.clone() class:disabled=!enabled>
            <td><code>{endpoint.url.clone()}</code><br/><span class="muted">{endpoint.description.clone()}</span></td>
            <td>{endpoint.event_types.iter().map(|hook| hook.as_str()).collect::<Vec<_>>().join(", ")}</td>
            <td>
                {if enabled { "Enabled".to_owned() } else { format!("Disabled: {}", endpoint.disabled_reason.clone().unwrap_or_default()) }}
                {endpoint.failing_since.clone().map(|since| view! { <br/><span class="error">"Failing since "<LocalTime at=since/></span> })}
            </td>
            <td>{format!("{} / {}", endpoint.pending, endpoint.failed)}</td>
            <td class="row-actions">
                <button type="button" class="secondary" on:click=move |_| {
                    actions.enabled.dispatch(SetWebhookEnabled { id, enabled: !enabled });
                }>{if enabled { "Disable" } else { "Enable" }}</button>
                <button type="button" class="secondary" on:click=move |_| open.update(|open| *open = !*open)>"Deliveries"</button>
                <button type="button" class="secondary" on:click=move |_| {
                    actions.delete.dispatch(DeleteWebhook { id });
                }>"Delete"</button>
            </td>
        </tr>
        <Show when=move || open.get()>
            <tr><td colspan="5"><Deliveries endpoint=id actions/></td></tr>
        </Show>
    }
}

#[component]
fn Deliveries(endpoint: Uuid, actions: Actions) -> impl IntoView {
    let list = Resource::new(move || actions.resend.version().get(), move |_| webhook_deliveries(endpoint));
    let from = RwSignal::new(String::new());
    let until = RwSignal::new(String::new());
    view! {
        <form class="row" on:submit=move |ev| {
            ev.prevent_default();
            actions.resend.dispatch(ResendWebhooks { id: endpoint, delivery: None, from: Some(from.get()), until: Some(until.get()) });
        }>
            <label>"From (UTC)"<input type="datetime-local" prop:value=move || from.get() on:input=move |ev| from.set(event_target_value(&ev))/></label>
            <label>"Until (UTC)"<input type="datetime-local" prop:value=move || until.get() on:input=move |ev| until.set(event_target_value(&ev))/></label>
            <button type="submit" class="secondary">"Send these again"</button>
        </form>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(deliveries) if deliveries.is_empty() => view! { <p class="muted">"Nothing sent yet."</p> }.into_any(),
                    Ok(deliveries) => view! {
                        <table data-testid="deliveries">
                            <thead><tr><th>"Event"</th><th>"Made"</th><th>"Status"</th><th>"Attempts"</th><th></th></tr></thead>
                            <tbody>{deliveries.into_iter().map(|delivery| view! { <DeliveryRow endpoint delivery actions/> }).collect_view()}</tbody>
                        </table>
                    }.into_any(),
                    Err(error) => failure(error),
                }
            })}
        </Transition>
    }
}

#[component]
fn DeliveryRow(endpoint: Uuid, delivery: Delivery, actions: Actions) -> impl IntoView {
    let id = delivery.id;
    let attempts = delivery
        .attempts
        .iter()
        .map(|attempt| {
            let answer = attempt.status_code.map_or_else(|| "no answer".to_owned(), |code| code.to_string());
            let error = attempt.error.clone().map(|error| format!(": {error}")).unwrap_or_default();
            view! { <li><LocalTime at=attempt.at.clone()/>{format!(" — {answer}{error} ({} ms)", attempt.duration_ms)}</li> }
        })
        .collect_view();
    view! {
        <tr>
            <td><code>{delivery.event_type.as_str()}</code><details><summary>"Body"</summary><pre>{delivery.payload.clone()}</pre></details></td>
            <td><LocalTime at=delivery.created_at.clone()/></td>
            <td>
                {delivery.status.clone()}
                {delivery.next_attempt_at.clone().map(|next| view! { <br/><span class="muted">"next try "<LocalTime at=next/></span> })}
            </td>
            <td><ul class="plain">{attempts}</ul></td>
            <td><button type="button" class="secondary" on:click=move |_| {
                actions.resend.dispatch(ResendWebhooks { id: endpoint, delivery: Some(id), from: None, until: None });
            }>"Resend"</button></td>
        </tr>
    }
}
