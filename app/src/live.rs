//! The browser end of the live WebSockets: connect to a path on this site,
//! hand every message to the page, send a heartbeat, and reconnect after a
//! drop (a reload or a short network blip is inside the server's grace
//! period, so nothing changes for the customer or agent).

use leptos::prelude::*;
use serde::de::DeserializeOwned;

/// Keeps `target` set to the latest message from the WebSocket at `path`
/// while the calling component lives. Does nothing on the server.
pub fn follow<T>(path: impl Into<String>, target: WriteSignal<Option<T>>)
where
    T: DeserializeOwned + Send + Sync + 'static,
{
    let path: String = path.into();
    #[cfg(feature = "hydrate")]
    browser::follow(path, target);
    #[cfg(not(feature = "hydrate"))]
    let _ = (path, target);
}

/// Milliseconds since the page loaded (for countdowns).
pub fn now_ms() -> f64 {
    #[cfg(feature = "hydrate")]
    {
        web_sys::window().and_then(|w| w.performance()).map(|p| p.now()).unwrap_or(0.0)
    }
    #[cfg(not(feature = "hydrate"))]
    0.0
}

#[cfg(feature = "hydrate")]
mod browser {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use leptos::prelude::*;
    use send_wrapper::SendWrapper;
    use serde::de::DeserializeOwned;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    use web_sys::{MessageEvent, WebSocket};

    const HEARTBEAT: Duration = Duration::from_secs(10);
    const RETRY: Duration = Duration::from_secs(1);

    /// The connection of one `follow`: stopped when its component goes, and
    /// the socket open now (replaced on every reconnect).
    struct Link {
        stopped: AtomicBool,
        socket: Mutex<Option<SendWrapper<WebSocket>>>,
    }

    pub fn follow<T>(path: String, target: WriteSignal<Option<T>>)
    where
        T: DeserializeOwned + Send + Sync + 'static,
    {
        let link = Arc::new(Link { stopped: AtomicBool::new(false), socket: Mutex::new(None) });
        open(path, target, link.clone());
        on_cleanup(move || {
            link.stopped.store(true, Ordering::SeqCst);
            if let Some(socket) = link.socket.lock().ok().and_then(|mut socket| socket.take()) {
                let _ = socket.close();
            }
        });
    }

    fn url(path: &str) -> Option<String> {
        let location = web_sys::window()?.location();
        let scheme = if location.protocol().ok()? == "https:" { "wss" } else { "ws" };
        Some(format!("{scheme}://{}{path}", location.host().ok()?))
    }

    fn open<T>(path: String, target: WriteSignal<Option<T>>, link: Arc<Link>)
    where
        T: DeserializeOwned + Send + Sync + 'static,
    {
        if link.stopped.load(Ordering::SeqCst) {
            return;
        }
        let Some(socket) = url(&path).and_then(|url| WebSocket::new(&url).ok()) else {
            return;
        };

        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            if let Some(text) = event.data().as_string() {
                if let Ok(value) = serde_json::from_str::<T>(&text) {
                    target.set(Some(value));
                }
            }
        });
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();

        let heartbeat = {
            let socket = SendWrapper::new(socket.clone());
            set_interval_with_handle(
                move || {
                    if socket.ready_state() == WebSocket::OPEN {
                        let _ = socket.send_with_str("ping");
                    }
                },
                HEARTBEAT,
            )
            .ok()
        };

        let retry_link = link.clone();
        let on_close = Closure::<dyn FnMut()>::new(move || {
            if let Some(heartbeat) = heartbeat {
                heartbeat.clear();
            }
            let link = retry_link.clone();
            let path = path.clone();
            set_timeout(move || open(path, target, link), RETRY);
        });
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        on_close.forget();

        if let Ok(mut current) = link.socket.lock() {
            *current = Some(SendWrapper::new(socket));
        }
    }
}
