use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::load_page;
use crate::auth::Login;

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let login = ServerAction::<Login>::new();
    let (show_password, set_show_password) = signal(false);

    Effect::new(move |_| {
        if let Some(Ok(next)) = login.value().get() {
            load_page(&next);
        }
    });
    let error = move || login.value().get().and_then(Result::err).map(|error| error.to_string());

    view! {
        <Title text="Sign in"/>
        <section class="card narrow">
            <h1>"Sign in"</h1>
            <p class="muted">"For representatives, supervisors and admins."</p>
            <ActionForm action=login>
                <div class="stack">
                    <input type="hidden" name="next" value=next/>
                    <label>
                        "Email"
                        <input type="email" name="email" autocomplete="username" required/>
                    </label>
                    <div class="field">
                        <label for="login-password">"Password"</label>
                        <span class="password-field">
                            <input
                                id="login-password"
                                type=move || if show_password.get() { "text" } else { "password" }
                                name="password"
                                autocomplete="current-password"
                                required
                            />
                            <button
                                type="button"
                                class="link"
                                data-testid="toggle-password"
                                aria-controls="login-password"
                                on:click=move |_| set_show_password.update(|shown| *shown = !*shown)
                            >
                                {move || if show_password.get() { "Hide" } else { "Show" }}
                            </button>
                        </span>
                    </div>
                    {move || error().map(|message| view! { <p class="error" role="alert">{message}</p> })}
                    <button type="submit" disabled=move || login.pending().get()>"Sign in"</button>
                </div>
            </ActionForm>
        </section>
    }
}
