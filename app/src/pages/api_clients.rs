use leptos::prelude::*;
use leptos_meta::Title;

use super::guard::guarded;
use super::{failure, LocalTime};
use crate::access::Area;
use crate::integrations::{list_api_clients, AddApiClient, ApiClient, RotateApiClient, Scope, SetApiClientDisabled, WithSecret};

/// `/admin/api-clients`: the admin registers the website backends and tools
/// that call `/api/v1`, sees each new secret once, rotates and disables.
#[component]
pub fn ApiClientsPage() -> impl IntoView {
    view! {
        <Title text="API clients"/>
        {guarded(Area::Admin, |_| view! { <ApiClients/> })}
    }
}

#[derive(Clone, Copy)]
struct Actions {
    rotate: ServerAction<RotateApiClient>,
    set_disabled: ServerAction<SetApiClientDisabled>,
}

#[component]
fn ApiClients() -> impl IntoView {
    let add = ServerAction::<AddApiClient>::new();
    let actions = Actions { rotate: ServerAction::new(), set_disabled: ServerAction::new() };
    // The form, emptied once a client is added (kept when refused).
    let name = RwSignal::new(String::new());
    let chosen = RwSignal::new(Vec::<Scope>::new());
    let clients = Resource::new(
        move || (add.version().get(), actions.rotate.version().get(), actions.set_disabled.version().get()),
        |_| list_api_clients(),
    );
    // The secret just made, shown until the next action.
    let secret = RwSignal::new(None::<WithSecret>);
    let failed = RwSignal::new(None::<String>);
    Effect::new(move |_| match add.value().get() {
        Some(Ok(made)) => {
            secret.set(Some(made));
            failed.set(None);
            name.set(String::new());
            chosen.set(Vec::new());
        }
        Some(Err(error)) => failed.set(Some(error.to_string())),
        None => {}
    });
    Effect::new(move |_| match actions.rotate.value().get() {
        Some(Ok(made)) => {
            secret.set(Some(made));
            failed.set(None);
        }
        Some(Err(error)) => failed.set(Some(error.to_string())),
        None => {}
    });
    Effect::new(move |_| match actions.set_disabled.value().get() {
        Some(Ok(_)) => {
            secret.set(None);
            failed.set(None);
        }
        Some(Err(error)) => failed.set(Some(error.to_string())),
        None => {}
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        add.dispatch(AddApiClient {
            name: name.get(),
            scopes: chosen.get().iter().map(|scope| scope.as_str().to_owned()).collect(),
        });
    };

    view! {
        <section class="card">
            <h1>"API clients"</h1>
            <p class="muted">
                "Website backends and tools call the API at "<code>"/api/v1"</code>" as a client: each signs its own "
                "short-lived token with its secret (HS256, iss = sub = the client's id, aud = this site's "<code>"/api/v1"</code>
                " address, a fresh jti each time). "<a href="/api/v1/docs" rel="external">"API reference"</a>
            </p>
            {move || failed.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
            {move || secret.get().map(|made| view! {
                <div class="notice" role="status" data-testid="new-secret">
                    <p>{format!("The secret of {} — copy it now, it is not shown again:", made.client.name)}</p>
                    <p><code data-testid="client-id">{made.client.id.to_string()}</code></p>
                    <p><code data-testid="secret">{made.secret}</code></p>
                    {made.client.previous_until.map(|until| view! {
                        <p>"The previous secret keeps working until "<LocalTime at=until/>"."</p>
                    })}
                </div>
            })}
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match clients.await {
                        Ok(list) if list.is_empty() => view! { <p class="muted">"No API clients yet."</p> }.into_any(),
                        Ok(list) => view! { <ClientTable list actions/> }.into_any(),
                        Err(error) => failure(error),
                    }
                })}
            </Transition>
        </section>
        <section class="card">
            <h2>"Add an API client"</h2>
            <form on:submit=submit>
                <div class="grid-form">
                    <label>
                        "Name"
                        <input type="text" maxlength="100" required prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                    </label>
                </div>
                <fieldset class="channels">
                    <legend>"Scopes"</legend>
                    {Scope::ALL.map(|scope| view! {
                        <label>
                            <input
                                type="checkbox"
                                value=scope.as_str()
                                prop:checked=move || chosen.get().contains(&scope)
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    chosen.update(|list| {
                                        list.retain(|other| *other != scope);
                                        if on {
                                            list.push(scope);
                                        }
                                    });
                                }
                            />
                            <code>{scope.as_str()}</code>" — "{scope.meaning()}
                        </label>
                    })}
                </fieldset>
                <button type="submit" disabled=move || add.pending().get()>"Add client"</button>
            </form>
        </section>
    }
}

#[component]
fn ClientTable(list: Vec<ApiClient>, actions: Actions) -> impl IntoView {
    view! {
        <table data-testid="api-clients">
            <thead>
                <tr>
                    <th>"Name"</th>
                    <th>"Client id"</th>
                    <th>"Scopes"</th>
                    <th>"Status"</th>
                    <th>"Last used"</th>
                    <th>"Actions"</th>
                </tr>
            </thead>
            <tbody>
                {list.into_iter().map(|client| view! { <ClientRow client actions/> }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn ClientRow(client: ApiClient, actions: Actions) -> impl IntoView {
    let id = client.id;
    let disabled = client.disabled_at.is_some();
    let scopes = client.scopes.iter().map(|scope| scope.as_str()).collect::<Vec<_>>().join(", ");
    view! {
        <tr data-client=client.name.clone() class:disabled=disabled>
            <td>{client.name.clone()}</td>
            <td><code>{id.to_string()}</code></td>
            <td>{scopes}</td>
            <td>{if disabled { "Disabled" } else { "Active" }}</td>
            <td>{match client.last_used_at {
                Some(at) => view! { <LocalTime at/> }.into_any(),
                None => "never".into_any(),
            }}</td>
            <td class="row-actions">
                <button type="button" class="secondary" on:click=move |_| {
                    actions.rotate.dispatch(RotateApiClient { id });
                }>"Rotate secret"</button>
                <button type="button" class="secondary" on:click=move |_| {
                    actions.set_disabled.dispatch(SetApiClientDisabled { id, disabled: !disabled });
                }>{if disabled { "Enable" } else { "Disable" }}</button>
            </td>
        </tr>
    }
}
