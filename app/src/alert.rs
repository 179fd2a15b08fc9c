//! Alerts (`alert.js`): the desk rings while an offer waits and shows a
//! desktop notification for each new one while it is in the background; a
//! customer keeping their place hears a chime and gets a notification when
//! their turn is near. The permission for notifications is asked once. On
//! the server, where nothing rings, these do nothing.

/// Whether desktop notifications may be shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    Granted,
    Denied,
    /// Not asked yet.
    Ask,
    Unsupported,
}

#[cfg(feature = "hydrate")]
mod browser {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen(module = "/src/alert.js")]
    extern "C" {
        #[wasm_bindgen(js_name = startRinging)]
        pub fn start_ringing();
        #[wasm_bindgen(js_name = stopRinging)]
        pub fn stop_ringing();
        #[wasm_bindgen(js_name = notificationPermission)]
        pub fn notification_permission() -> String;
        #[wasm_bindgen(js_name = askNotificationPermission)]
        pub fn ask_notification_permission(answered: &JsValue);
        #[wasm_bindgen(js_name = notifyOffer)]
        pub fn notify_offer(title: &str, body: &str, tag: &str);
        #[wasm_bindgen(js_name = turnNear)]
        pub fn turn_near(title: &str, body: &str);
    }
}

/// Rings while `on`.
pub fn ringing(on: bool) {
    #[cfg(feature = "hydrate")]
    if on {
        browser::start_ringing();
    } else {
        browser::stop_ringing();
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = on;
}

fn permission_from(answer: &str) -> Permission {
    match answer {
        "granted" => Permission::Granted,
        "denied" => Permission::Denied,
        "default" => Permission::Ask,
        _ => Permission::Unsupported,
    }
}

pub fn permission() -> Permission {
    #[cfg(feature = "hydrate")]
    return permission_from(&browser::notification_permission());
    #[cfg(not(feature = "hydrate"))]
    permission_from("unsupported")
}

/// Asks the browser for the permission (call from a click); `answered`
/// gets the answer.
pub fn ask_permission(answered: impl FnMut(Permission) + 'static) {
    #[cfg(feature = "hydrate")]
    {
        let mut answered = answered;
        let callback = wasm_bindgen::closure::Closure::once_into_js(move |answer: String| answered(permission_from(&answer)));
        browser::ask_notification_permission(&callback);
    }
    #[cfg(not(feature = "hydrate"))]
    drop(answered);
}

/// A desktop notification for a new offer (shown only while the desk is
/// in the background, with the permission).
pub fn notify_offer(title: &str, body: &str, tag: &str) {
    #[cfg(feature = "hydrate")]
    browser::notify_offer(title, body, tag);
    #[cfg(not(feature = "hydrate"))]
    let _ = (title, body, tag);
}

/// A customer's turn is near: a chime, and a notification (with the
/// permission) wherever their page is.
pub fn turn_near(title: &str, body: &str) {
    #[cfg(feature = "hydrate")]
    browser::turn_near(title, body);
    #[cfg(not(feature = "hydrate"))]
    let _ = (title, body);
}
