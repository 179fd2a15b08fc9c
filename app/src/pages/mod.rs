//! The pages, one module each, and what they share.

pub mod admin;
pub mod api_clients;
pub mod chart;
pub mod embedded;
pub mod errors;
pub mod guard;
pub mod home;
pub mod layout;
pub mod login;
pub mod people;
pub mod queues;
pub mod rep;
pub mod setup;
pub mod supervisor;
pub mod webhooks;
pub mod widget;
pub mod widgets;

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::Me;

/// Who is signed in, loaded once per page load by the app root.
#[derive(Clone, Copy)]
pub struct MeResource(pub Resource<Result<Option<Me>, AppError>>);

pub fn use_me() -> Resource<Result<Option<Me>, AppError>> {
    // The app root always provides it; pages are only rendered inside it.
    expect_context::<MeResource>().0
}

/// A full page load to `path`. Used after signing in or out, so that the
/// server's access rules and the page's idea of who is signed in start over
/// together.
pub fn load_page(path: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(window) = web_sys::window() {
        let _ = window.location().set_href(path);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = path;
}

/// A page the customer's bundle does not have (`Pages` in `lib.rs`): the
/// router has moved to its address, and the server sends it whole, with the
/// bundle that has it.
#[component]
pub fn FromServer() -> impl IntoView {
    Effect::new(|_| {
        #[cfg(feature = "hydrate")]
        if let Some(window) = web_sys::window() {
            let _ = window.location().reload();
        }
    });
}

/// A timestamp as people read it.
pub fn when(at: Option<time::OffsetDateTime>) -> String {
    const FORMAT: &[time::format_description::FormatItem<'_>] =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    match at {
        Some(at) => at.to_offset(time::UtcOffset::UTC).format(FORMAT).unwrap_or_else(|_| at.to_string()),
        None => "never".to_owned(),
    }
}

/// A failed load, shown where the content would be.
pub fn failure(error: AppError) -> AnyView {
    view! { <p class="error" role="alert">{error.to_string()}</p> }.into_any()
}

/// A customer's form refused: said as an alert and given the focus, so a
/// keyboard or screen-reader user lands on the reason (WCAG 3.3.1).
#[component]
pub fn FormError(#[prop(into)] message: String) -> impl IntoView {
    let node = NodeRef::<leptos::html::P>::new();
    Effect::new(move |_| {
        if let Some(element) = node.get() {
            let _ = element.focus();
        }
    });
    view! { <p class="error" role="alert" tabindex="-1" node_ref=node>{message}</p> }
}

/// Gives the focus to the first `selector` inside `within` once the view
/// has changed under it (a new phase's heading): the keyboard and the screen
/// reader go on from the new content, not from a button now gone. Only
/// while the customer is on this page: a widget's panel never takes the
/// focus from the company's page around it.
pub fn focus_first(within: NodeRef<leptos::html::Section>, selector: &'static str) {
    #[cfg(feature = "hydrate")]
    request_animation_frame(move || {
        use wasm_bindgen::JsCast;
        let here =
            web_sys::window().and_then(|window| window.document()).is_some_and(|document| document.has_focus().unwrap_or(false));
        if !here {
            return;
        }
        let found = within.get_untracked().and_then(|section| section.query_selector(selector).ok().flatten());
        if let Some(element) = found.and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok()) {
            if !element.has_attribute("tabindex") {
                let _ = element.set_attribute("tabindex", "-1");
            }
            let _ = element.focus();
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (within, selector);
}

/// Runs `tick` every `period` while the component lives, in the browser
/// only (effects never run on the server, where there is no timer).
pub fn every(period: std::time::Duration, tick: impl Fn() + Clone + 'static) {
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(tick.clone(), period) {
            on_cleanup(move || handle.clear());
        }
    });
}

/// "3:05" (minutes and seconds), "1:02:05" past an hour.
pub fn clock_text(seconds: i64) -> String {
    let seconds = seconds.max(0);
    if seconds >= 3600 {
        format!("{}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60)
    } else {
        format!("{}:{:02}", seconds / 60, seconds % 60)
    }
}

/// A wide table that scrolls sideways on a narrow screen: a named region
/// the keyboard can reach and scroll (WCAG 2.1.1), not only a mouse.
#[component]
pub fn Scrolling(#[prop(into)] label: String, children: Children) -> impl IntoView {
    view! {
        <div class="scroll" tabindex="0" role="region" aria-label=label>
            {children()}
        </div>
    }
}

/// A moment (RFC 3339) in the reader's own time zone: the server writes it
/// in UTC, and the browser rewrites it in its zone once the page runs.
#[component]
pub fn LocalTime(#[prop(into)] at: String) -> impl IntoView {
    let node = NodeRef::<leptos::html::Time>::new();
    #[cfg(feature = "hydrate")]
    {
        let at = at.clone();
        Effect::new(move |_| {
            if let Some(element) = node.get() {
                element.set_text_content(Some(&local_text(&at)));
            }
        });
    }
    view! { <time node_ref=node datetime=at.clone()>{local_text(&at)}</time> }
}

/// The moment as the reader's browser writes it in its own zone
/// ("Mon, 30 Nov, 10:00"); in UTC on the server ("Mon 30 Nov 09:00 UTC").
/// The browser's bundle leaves the `time` crate's formatting out: the
/// browser's own `Intl` writes the text.
pub fn local_text(at: &str) -> String {
    #[cfg(feature = "hydrate")]
    {
        let options = js_sys::Object::new();
        for (key, value) in
            [("weekday", "short"), ("day", "numeric"), ("month", "short"), ("hour", "2-digit"), ("minute", "2-digit")]
        {
            let _ = js_sys::Reflect::set(&options, &key.into(), &value.into());
        }
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(at));
        if date.get_time().is_nan() {
            at.to_owned()
        } else {
            String::from(date.to_locale_string("default", &options))
        }
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let format =
            time::macros::format_description!("[weekday repr:short] [day padding:none] [month repr:short] [hour]:[minute] UTC");
        time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
            .ok()
            .and_then(|moment| moment.to_offset(time::UtcOffset::UTC).format(format).ok())
            .unwrap_or_else(|| at.to_owned())
    }
}
