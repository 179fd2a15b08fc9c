//! The bar over the workspace: who is at the desk, their state and their
//! channels.

use leptos::prelude::*;

use super::controls::Controls;
use crate::desk::{ChannelSeat, DeskCommand, NOT_READY_REASONS};
use crate::model::Me;
use crate::states::AgentState;

/// The bar over the workspace: who is at the desk, their state with the
/// controls to change it, and their channels.
#[component]
pub(super) fn DeskBar(me: Me, controls: Controls) -> impl IntoView {
    let desk = move || controls.desk.get();
    let state = move || desk().map_or(AgentState::LoggedOut, |d| d.state);
    let (reason, set_reason) = signal(NOT_READY_REASONS[0].to_owned());
    view! {
        <section class="card desk-head">
            <div class="desk-who">
                <h1>"Your desk"</h1>
                <p class="muted">
                    <span data-testid="desk-name">{me.display_name.clone()}</span>
                    " · "
                    <span data-testid="desk-role">{me.role.label()}</span>
                    " · "
                    {me.email.clone()}
                </p>
            </div>
            <div class="desk-state">
                <p>
                    "You are "
                    <strong data-testid="agent-state">
                        {move || match state() {
                            AgentState::Ready => "Ready".to_owned(),
                            AgentState::NotReady => format!("Not ready ({})", desk().and_then(|d| d.reason).unwrap_or_default()),
                            AgentState::LoggedOut => "Logged out".to_owned(),
                        }}
                    </strong>
                </p>
                <div class="row">
                    <button
                        type="button"
                        disabled=move || state() == AgentState::Ready
                        on:click=move |_| { controls.send(DeskCommand::SetState { state: AgentState::Ready, reason: String::new() }); }
                    >"Ready"</button>
                    <select aria-label="Not ready reason" on:change=move |ev| set_reason.set(event_target_value(&ev))>
                        {NOT_READY_REASONS.map(|r| view! { <option value=r>{r}</option> })}
                    </select>
                    <button
                        type="button"
                        class="secondary"
                        on:click=move |_| { controls.send(DeskCommand::SetState { state: AgentState::NotReady, reason: reason.get() }); }
                    >"Not ready"</button>
                    <button
                        type="button"
                        class="secondary"
                        on:click=move |_| { controls.send(DeskCommand::SetState { state: AgentState::LoggedOut, reason: String::new() }); }
                    >"Log out of queues"</button>
                </div>
            </div>
            <div class="seats" aria-label="Channels">
                {move || desk().map(|d| d.channels).unwrap_or_default().into_iter().map(|seat| view! { <Seat seat controls/> }).collect_view()}
            </div>
        </section>
        {move || controls.error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
    }
}

#[component]
fn Seat(seat: ChannelSeat, controls: Controls) -> impl IntoView {
    let channel = seat.channel;
    let ready = seat.ready;
    view! {
        <label class="seat">
            <input
                type="checkbox"
                prop:checked=ready
                on:change=move |ev| {
                    controls.send(DeskCommand::SetChannel { channel, ready: event_target_checked(&ev) });
                }
            />
            <span>{channel.label()}</span>
            <span class="muted">{format!("{}/{} live · {}/{} in all", seat.live, seat.max_live, seat.sessions, seat.max_sessions)}</span>
        </label>
    }
}
