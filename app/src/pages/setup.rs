use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::errors::NotFound;
use super::failure;
use crate::model::NewPassword;
use crate::setup::{setup_status, CreateFirstAdmin, SetupState};

/// `/setup?token=...`: the one-time page that creates the first admin.
#[component]
pub fn SetupPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let status = Resource::new_blocking(token, setup_status);
    let create = ServerAction::<CreateFirstAdmin>::new();
    let created = move || matches!(create.value().get(), Some(Ok(())));
    let error = move || create.value().get().and_then(Result::err).map(|error| error.to_string());

    view! {
        <Title text="Set up"/>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match status.await {
                    Ok(SetupState::Done) => view! { <NotFound/> }.into_any(),
                    Ok(SetupState::BadToken) => view! {
                        <section class="card narrow">
                            <h1>"This setup link does not work"</h1>
                            <p>
                                "It was already used, has expired or was copied incompletely. "
                                "Restart the server to get a new link in its log, or create the admin with "
                                <code>"switchboard user add --role admin"</code>"."
                            </p>
                        </section>
                    }.into_any(),
                    Ok(SetupState::Open) => view! {
                        <section class="card narrow">
                            <Show
                                when=created
                                fallback=move || view! {
                                    <h1>"Create the admin account"</h1>
                                    <p class="muted">
                                        "This account manages the team and the service. "
                                        "This link works once."
                                    </p>
                                    <ActionForm action=create>
                                        <div class="stack">
                                            <input type="hidden" name="token" value=token/>
                                            <label>"Email"<input type="email" name="email" required/></label>
                                            <label>"Name"<input type="text" name="display_name" maxlength="100" required/></label>
                                            <label>
                                                {format!("Password (at least {} characters)", NewPassword::MIN_CHARS)}
                                                <input type="password" name="password" autocomplete="new-password" required/>
                                            </label>
                                            <label>
                                                "Password again"
                                                <input type="password" name="password_again" autocomplete="new-password" required/>
                                            </label>
                                            {move || error().map(|message| view! { <p class="error" role="alert">{message}</p> })}
                                            <button type="submit" disabled=move || create.pending().get()>"Create admin"</button>
                                        </div>
                                    </ActionForm>
                                }
                            >
                                <h1>"Admin account created"</h1>
                                <p>"Sign in with the email and password you chose."</p>
                                <a class="button" href="/login?next=/admin/people" rel="external">"Sign in"</a>
                            </Show>
                        </section>
                    }.into_any(),
                    Err(error) => failure(error),
                }
            })}
        </Suspense>
    }
}
