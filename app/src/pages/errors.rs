use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn Forbidden() -> impl IntoView {
    view! {
        <Title text="No access"/>
        <section class="card narrow" data-testid="forbidden">
            <h1>"No access"</h1>
            <p>"Your role does not open this page. Ask an admin if you need it."</p>
            <a href="/rep">"Back to your desk"</a>
        </section>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    // A direct visit to an unknown path answers 404, not 200.
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found"/>
        <section class="card narrow" data-testid="not-found">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address."</p>
            <a href="/">"Go to the start page"</a>
        </section>
    }
}
