//! The part of a page that needs a role. The server already answered the
//! right status for a direct visit; this shows the matching view after
//! in-app navigation too.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use super::errors::Forbidden;
use super::failure;
use super::use_me;
use crate::access::Area;
use crate::model::Me;

pub fn guarded<V>(area: Area, page: impl Fn(Me) -> V + Send + Sync + Clone + 'static) -> impl IntoView
where
    V: IntoView + 'static,
{
    let me = use_me();
    // Read, not awaited: the closure runs again only when `me` changes
    // (once, when it arrives), so the page, and the resources it makes, is
    // made once. Awaited in a `Suspend`, the page was made twice while the
    // server rendered, and the first one's server calls could run after
    // their owner was gone, without the request's context.
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || me.get().map(|me| match me {
                Ok(Some(me)) if area.allows(me.role) => page(me).into_any(),
                Ok(Some(_)) => view! { <Forbidden/> }.into_any(),
                Ok(None) => view! { <SignInNeeded/> }.into_any(),
                Err(error) => failure(error),
            })}
        </Suspense>
    }
}

#[component]
fn SignInNeeded() -> impl IntoView {
    let location = use_location();
    let href = move || {
        let here = format!("{}{}", location.pathname.get(), location.search.get());
        format!("/login?next={}", urlencode(&here))
    };
    view! {
        <section class="card narrow">
            <h1>"Please sign in"</h1>
            <p>"This page is for the service team."</p>
            <a class="button" href=href>"Sign in"</a>
        </section>
    }
}

/// Percent-encodes a path for use as a query value.
pub fn urlencode(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for byte in raw.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(byte as char),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}
