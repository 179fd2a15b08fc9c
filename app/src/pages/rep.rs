use leptos::prelude::*;
use leptos_meta::Title;

use super::guard::guarded;
use super::layout::SignOut;
use crate::access::Area;

/// The representative's desk.
#[component]
pub fn RepPage() -> impl IntoView {
    view! {
        <Title text="Desk"/>
        {guarded(Area::Rep, |me| view! {
            <section class="card">
                <h1>"Your desk"</h1>
                <dl class="facts">
                    <dt>"Signed in as"</dt>
                    <dd data-testid="desk-name">{me.display_name.clone()}</dd>
                    <dt>"Email"</dt>
                    <dd>{me.email.clone()}</dd>
                    <dt>"Role"</dt>
                    <dd data-testid="desk-role">{me.role.label()}</dd>
                </dl>
                <SignOut/>
            </section>
        })}
    }
}
