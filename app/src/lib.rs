//! Switchboard's pages, server functions and shared types. Server-only code
//! (database, password hashing, sessions) sits behind the `ssr` feature so the
//! WASM bundle never contains it.

pub mod access;
pub mod alert;
pub mod auth;
#[cfg(feature = "ssr")]
pub mod client;
pub mod conversation;
pub mod customer;
pub mod desk;
pub mod i18n;
pub mod integrations;
#[cfg(feature = "ssr")]
pub mod limits;
pub mod live;
#[cfg(feature = "ssr")]
pub mod mail;
pub mod metrics;
pub mod model;
pub mod pages;
pub mod people;
pub mod queue;
#[cfg(feature = "ssr")]
pub mod secrets;
pub mod setup;
#[cfg(feature = "ssr")]
pub mod site;
#[cfg(feature = "ssr")]
pub mod state;
pub mod supervision;
pub mod widget;

// The engine's vocabulary, under the names the app has always used; the
// engine itself on the server.
#[cfg(feature = "ssr")]
pub use ::engine;
pub use ::engine::{error, language, states, text};

use leptos::prelude::*;
#[cfg(feature = "ssr")]
use leptos_meta::MetaTags;
use leptos_meta::{provide_meta_context, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

#[cfg(not(feature = "staff"))]
use crate::pages::FromServer;
#[cfg(feature = "staff")]
use crate::pages::{
    admin::AdminPage, api_clients::ApiClientsPage, errors::NotFound, login::LoginPage, people::PeoplePage, queues::QueuesPage,
    rep::RepPage, setup::SetupPage, supervisor::SupervisorPage, webhooks::WebhooksPage, widgets::WidgetsPage,
};
use crate::pages::{home::HomePage, layout::Header, widget::WidgetPage, MeResource};

/// The HTML document around the app, rendered on the server, with its
/// Content-Security-Policy: scripts only from this page's nonce (the
/// hydration script) and what it loads, WebAssembly compiled, everything
/// else from this site only, and never framed. It loads the stylesheet and
/// the bundle this page belongs to (`site.rs`).
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions, assets: &site::Assets) -> impl IntoView {
    if let (Some(nonce), Some(response)) = (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>()) {
        let policy = format!(
            "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
             style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; \
             object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        );
        if let Ok(value) = axum::http::HeaderValue::from_str(&policy) {
            response.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, value);
        }
    }
    let path = use_context::<axum::http::request::Parts>().map(|parts| parts.uri.path().to_owned()).unwrap_or_default();
    let scripts = assets.bundle(site::Bundle::for_path(&path)).map(|bundle| {
        let mut options = options;
        options.output_name = bundle.into();
        view! { <HydrationScripts options/> }
    });
    let stylesheet = assets.stylesheet_href().map(|href| view! { <link rel="stylesheet" href=href/> });
    // The page's words, in the customer's language (English for the team's
    // pages, for now): for the server's rendering, and in the head for the
    // browser's.
    let bundle = site::Bundle::for_path(&path);
    let reader = match bundle {
        site::Bundle::Customer => customer::request_language(),
        site::Bundle::Staff => language::Language::English,
    };
    let texts = i18n::Texts::for_language(reader);
    let language = texts.language.unwrap_or(language::Language::English);
    let texts_json = texts.to_page_json();
    provide_context(texts);
    view! {
        <!DOCTYPE html>
        <html lang=language.as_str() dir=if language.right_to_left() { "rtl" } else { "ltr" }>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                {stylesheet}
                <script type="application/json" id=i18n::TEXTS_ELEMENT inner_html=texts_json></script>
                {scripts}
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Makes the page the server sent live in the browser (both bundles' entry
/// point): first the lazily loaded parts of the bundle it shows, then the
/// whole body.
#[cfg(feature = "hydrate")]
pub async fn hydrate() {
    pages::home::load_shown_parts().await;
    leptos::mount::hydrate_body(App);
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // The words the server wrote into the page's head (it provided them
    // itself while rendering).
    #[cfg(feature = "hydrate")]
    provide_context(i18n::Texts::from_page());
    // Who is signed in, resolved before the page is sent so that the first
    // paint already shows the right thing for this person.
    let me = Resource::new_blocking(|| (), |_| auth::current_user());
    provide_context(MeResource(me));
    // Effects run only in the browser, after hydration: the mark tells tests
    // (and anyone debugging) that the page is interactive.
    Effect::new(|_| {
        #[cfg(feature = "hydrate")]
        if let Some(body) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.body()) {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Title formatter=|page: String| {
            if page.is_empty() { "Switchboard".to_owned() } else { format!("{page} · Switchboard") }
        }/>
        <Router>
            <Header/>
            <main>
                <Pages/>
            </main>
        </Router>
    }
}

/// Every page: the server's router and the team's bundle. The customer's
/// pages are sent whole (`SsrMode::Async`: nothing left for a script to fill
/// in), so their form works before any script has arrived.
#[cfg(feature = "staff")]
#[component]
fn Pages() -> impl IntoView {
    view! {
        <Routes fallback=|| view! { <NotFound/> }>
            <Route path=path!("/") view=HomePage ssr=SsrMode::Async/>
            <Route path=path!("/widget") view=WidgetPage ssr=SsrMode::Async/>
            <Route path=path!("/login") view=LoginPage/>
            <Route path=path!("/setup") view=SetupPage/>
            <Route path=path!("/rep") view=RepPage/>
            <Route path=path!("/supervisor") view=SupervisorPage/>
            <Route path=path!("/admin") view=AdminPage/>
            <Route path=path!("/admin/people") view=PeoplePage/>
            <Route path=path!("/admin/queues") view=QueuesPage/>
            <Route path=path!("/admin/api-clients") view=ApiClientsPage/>
            <Route path=path!("/admin/webhooks") view=WebhooksPage/>
            <Route path=path!("/admin/widgets") view=WidgetsPage/>
        </Routes>
    }
}

/// The customer's bundle: the customer's pages (`site::Bundle::for_path`
/// names the same), so none of the team's code is in it. A link to any other
/// page is loaded from the server, which sends it with the team's bundle.
#[cfg(not(feature = "staff"))]
#[component]
fn Pages() -> impl IntoView {
    view! {
        <Routes fallback=|| view! { <FromServer/> }>
            <Route path=path!("/") view=HomePage ssr=SsrMode::Async/>
            <Route path=path!("/widget") view=WidgetPage ssr=SsrMode::Async/>
        </Routes>
    }
}
