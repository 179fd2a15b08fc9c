use leptos::form::ActionForm;
use leptos::prelude::*;

use super::{load_page, use_me};
use crate::access::Area;
use crate::auth::Logout;
use crate::model::Me;

/// The bar at the top: the service's name, the areas this person may open,
/// and who is signed in with a way out. A widget's panel, inside another
/// site's page, has none.
#[component]
pub fn Header() -> impl IntoView {
    if leptos_router::hooks::use_location().pathname.get_untracked() == "/widget" {
        return ().into_any();
    }
    let me = use_me();
    view! {
        <header class="topbar">
            <a class="brand" href="/">"Switchboard"</a>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match me.await {
                        Ok(Some(me)) => view! { <SignedInNav me/> }.into_any(),
                        _ => view! { <nav><a href="/login">"Team sign-in"</a></nav> }.into_any(),
                    }
                })}
            </Transition>
        </header>
    }
    .into_any()
}

#[component]
fn SignedInNav(me: Me) -> impl IntoView {
    let role = me.role;
    view! {
        <nav>
            <a href="/rep">"Desk"</a>
            <Show when=move || Area::Supervisor.allows(role)>
                <a href="/supervisor">"Supervisor"</a>
            </Show>
            <Show when=move || Area::Admin.allows(role)>
                <a href="/admin">"Admin"</a>
                <a href="/admin/people">"People"</a>
                <a href="/admin/queues">"Queues"</a>
                <a href="/admin/api-clients">"API clients"</a>
                <a href="/admin/webhooks">"Webhooks"</a>
                <a href="/admin/widgets">"Widgets"</a>
            </Show>
            <span class="who" data-testid="signed-in-as">{me.display_name.clone()}</span>
            <SignOut/>
        </nav>
    }
}

#[component]
pub fn SignOut() -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = logout.value().get() {
            load_page("/login");
        }
    });
    view! {
        <ActionForm action=logout>
            <button type="submit" class="secondary">"Sign out"</button>
        </ActionForm>
    }
}
