//! The call on both pages: the other side's video (or audio), the self
//! preview, microphone and camera switches, and what the call reports (no
//! camera, media arrived, media missing). The WebRTC work is `call.js`,
//! which this drives; on the server the panel renders without it.

use crate::states::HelpSessionId;
use leptos::prelude::*;

/// What a call reported, for the page to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MediaState {
    /// Still connecting.
    #[default]
    Connecting,
    /// The other side's media is arriving.
    Flowing,
    /// Nothing arrived within 5 s (the representative is told).
    Missing,
}

/// One conversation's call. `held` follows the help session's hold state;
/// `problem` gets this side's or the other side's device trouble.
#[component]
pub fn CallPanel(
    help_session: HelpSessionId,
    /// `agent` or `customer`.
    side: &'static str,
    video: bool,
    #[prop(into)] held: Signal<bool>,
    media: RwSignal<MediaState>,
    problem: RwSignal<Option<String>>,
    /// Bumped to ask for a new connection (the representative's Retry).
    retries: RwSignal<u32>,
) -> impl IntoView {
    let local = NodeRef::<leptos::html::Video>::new();
    let remote = NodeRef::<leptos::html::Video>::new();
    let (muted, set_muted) = signal(false);
    let (camera_off, set_camera_off) = signal(false);
    #[cfg(feature = "hydrate")]
    browser::run(help_session, side, video, held, media, problem, retries, muted, camera_off, local, remote);
    #[cfg(not(feature = "hydrate"))]
    let _ = (help_session, media, problem, retries);
    view! {
        <div class="call" class:audio-only=!video data-testid="call">
            <video class="remote" node_ref=remote autoplay playsinline data-testid="remote-media"
                aria-label=if side == "customer" { "Representative's video" } else { "Customer's video" }></video>
            <video class="self" node_ref=local autoplay playsinline muted=true data-testid="self-preview" aria-label="Your camera"></video>
            <Show when=move || held.get()>
                <p class="on-hold-banner">"On hold"</p>
            </Show>
            <div class="row call-controls">
                <button type="button" class="secondary" aria-pressed=move || muted.get().to_string()
                    on:click=move |_| set_muted.update(|m| *m = !*m)>
                    "Mute microphone"
                </button>
                {video.then(|| view! {
                    <button type="button" class="secondary" aria-pressed=move || camera_off.get().to_string()
                        on:click=move |_| set_camera_off.update(|c| *c = !*c)>
                        "Turn camera off"
                    </button>
                })}
            </div>
        </div>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use crate::states::HelpSessionId;
    use leptos::prelude::*;
    use send_wrapper::SendWrapper;
    use wasm_bindgen::prelude::*;

    use super::MediaState;
    use crate::conversation::ice_servers;

    #[wasm_bindgen(module = "/src/conversation/call.js")]
    extern "C" {
        type Call;
        #[wasm_bindgen(constructor)]
        fn new(config: &str, local: &web_sys::HtmlVideoElement, remote: &web_sys::HtmlVideoElement, on_event: &JsValue) -> Call;
        #[wasm_bindgen(method)]
        fn hold(this: &Call, held: bool);
        #[wasm_bindgen(method, js_name = setMuted)]
        fn set_muted(this: &Call, muted: bool);
        #[wasm_bindgen(method, js_name = setCameraOff)]
        fn set_camera_off(this: &Call, off: bool);
        #[wasm_bindgen(method)]
        fn retry(this: &Call);
        #[wasm_bindgen(method)]
        fn close(this: &Call);
    }

    #[allow(clippy::too_many_arguments)]
    pub fn run(
        help_session: HelpSessionId,
        side: &'static str,
        video: bool,
        held: Signal<bool>,
        media: RwSignal<MediaState>,
        problem: RwSignal<Option<String>>,
        retries: RwSignal<u32>,
        muted: ReadSignal<bool>,
        camera_off: ReadSignal<bool>,
        local: NodeRef<leptos::html::Video>,
        remote: NodeRef<leptos::html::Video>,
    ) {
        let call: StoredValue<Option<SendWrapper<Call>>, LocalStorage> = StoredValue::new_local(None);
        let started = StoredValue::new(false);
        Effect::new(move |_| {
            let (Some(local), Some(remote)) = (local.get(), remote.get()) else { return };
            if started.get_value() {
                return;
            }
            started.set_value(true);
            let held_now = held.get_untracked();
            leptos::task::spawn_local(async move {
                let servers = ice_servers(help_session).await.unwrap_or_default();
                let config = serde_json::json!({
                    "session": help_session,
                    "side": side,
                    "video": video,
                    "held": held_now,
                    "iceServers": servers,
                })
                .to_string();
                let on_event = Closure::<dyn Fn(String, String)>::new(move |kind: String, detail: String| match kind.as_str() {
                    "remote-media" => media.set(MediaState::Flowing),
                    "no-remote-media" => media.set(MediaState::Missing),
                    "local-media-error" => problem.set(Some(detail)),
                    "peer-no-media" => problem.set(Some(format!(
                        "The other side's camera or microphone is not available ({detail}). You can go on by chat."
                    ))),
                    "local-media" => problem.set(None),
                    _ => {}
                });
                let created = Call::new(&config, &local, &remote, on_event.as_ref());
                // The call lives as long as the page's panel; the closure
                // must outlive every event it may still send.
                on_event.forget();
                if call.is_disposed() {
                    created.close();
                } else {
                    // Hold may have changed while the ICE servers were fetched.
                    created.hold(held.get_untracked());
                    call.set_value(Some(SendWrapper::new(created)));
                }
            });
        });
        Effect::new(move |_| {
            let held = held.get();
            call.with_value(|call| {
                if let Some(call) = call {
                    call.hold(held)
                }
            });
        });
        Effect::new(move |_| {
            let muted = muted.get();
            call.with_value(|call| {
                if let Some(call) = call {
                    call.set_muted(muted)
                }
            });
        });
        Effect::new(move |_| {
            let off = camera_off.get();
            call.with_value(|call| {
                if let Some(call) = call {
                    call.set_camera_off(off)
                }
            });
        });
        Effect::new(move |previous: Option<u32>| {
            let now = retries.get();
            if previous.is_some_and(|previous| previous != now) {
                media.set(MediaState::Connecting);
                call.with_value(|call| {
                    if let Some(call) = call {
                        call.retry()
                    }
                });
            }
            now
        });
        on_cleanup(move || {
            if let Some(Some(call)) = call.try_update_value(Option::take) {
                call.close();
            }
        });
    }
}
