//! The representative's desk (`/rep`): the bar with their state and
//! channels, offers, their conversations (each with its call, chat, handing
//! on and wrap-up) and the customer's details.
//!
//! One file per part of the screen. Like every component, each returns its
//! view type-erased (`--cfg erase_components`, `.cargo/config.toml`), so the
//! conversation's parts (head, call, handing on, chat, wrap-up, details) are
//! components of their own rather than one view nesting them all.

mod bar;
mod conversation;
mod details;
mod offers;
mod transfer;
mod workspace;

use leptos::prelude::*;
use leptos_meta::Title;

use super::failure;
use super::guard::guarded;
use crate::access::Area;
use crate::desk::{
    open_desk, AcceptOffer, AddColleague, DeclineOffer, Desk, EndSession, FinishWarmTransfer, Hold, LeaveConversation, NextCustomer, RecordCallback, Resume,
    SetChannel, SetState, TransferCustomer, WrapUp,
};
use crate::error::AppError;
use crate::live::now_ms;
use crate::model::Me;
use workspace::DeskBody;

/// The representative's desk.
#[component]
pub fn RepPage() -> impl IntoView {
    view! {
        <Title text="Desk"/>
        {guarded(Area::Rep, |me| view! { <DeskView me/> })}
    }
}

/// Every action the desk can take, and the latest desk any of them (or the
/// WebSocket) returned.
#[derive(Clone, Copy)]
struct Controls {
    desk: RwSignal<Option<Desk>>,
    /// When `desk` arrived (page clock, ms), for countdowns.
    received: RwSignal<f64>,
    error: RwSignal<Option<String>>,
    set_state: ServerAction<SetState>,
    set_channel: ServerAction<SetChannel>,
    accept: ServerAction<AcceptOffer>,
    decline: ServerAction<DeclineOffer>,
    next: ServerAction<NextCustomer>,
    end: ServerAction<EndSession>,
    wrap_up: ServerAction<WrapUp>,
    hold: ServerAction<Hold>,
    resume: ServerAction<Resume>,
    transfer: ServerAction<TransferCustomer>,
    add_colleague: ServerAction<AddColleague>,
    leave: ServerAction<LeaveConversation>,
    finish_warm: ServerAction<FinishWarmTransfer>,
    record_callback: ServerAction<RecordCallback>,
}

/// Shows what an action answered: the new desk, or its error.
fn take<A>(action: ServerAction<A>, controls_desk: RwSignal<Option<Desk>>, received: RwSignal<f64>, error: RwSignal<Option<String>>)
where
    A: leptos::server_fn::ServerFn<Output = Desk, Error = AppError> + Clone + Send + Sync + 'static,
{
    Effect::new(move |_| match action.value().get() {
        Some(Ok(desk)) => {
            controls_desk.set(Some(desk));
            received.set(now_ms());
            error.set(None);
        }
        Some(Err(failure)) => error.set(Some(failure.to_string())),
        None => {}
    });
}

#[component]
fn DeskView(me: Me) -> impl IntoView {
    let initial = Resource::new(|| (), |_| open_desk());
    let controls = Controls {
        desk: RwSignal::new(None),
        received: RwSignal::new(0.0),
        error: RwSignal::new(None),
        set_state: ServerAction::new(),
        set_channel: ServerAction::new(),
        accept: ServerAction::new(),
        decline: ServerAction::new(),
        next: ServerAction::new(),
        end: ServerAction::new(),
        wrap_up: ServerAction::new(),
        hold: ServerAction::new(),
        resume: ServerAction::new(),
        transfer: ServerAction::new(),
        add_colleague: ServerAction::new(),
        leave: ServerAction::new(),
        finish_warm: ServerAction::new(),
        record_callback: ServerAction::new(),
    };
    let (pushed, set_pushed) = signal(None::<Desk>);
    crate::live::follow("/ws/rep", set_pushed);
    Effect::new(move |_| {
        if let Some(desk) = pushed.get() {
            controls.desk.set(Some(desk));
            controls.received.set(now_ms());
        }
    });
    take(controls.set_state, controls.desk, controls.received, controls.error);
    take(controls.set_channel, controls.desk, controls.received, controls.error);
    take(controls.accept, controls.desk, controls.received, controls.error);
    take(controls.decline, controls.desk, controls.received, controls.error);
    take(controls.end, controls.desk, controls.received, controls.error);
    take(controls.wrap_up, controls.desk, controls.received, controls.error);
    take(controls.hold, controls.desk, controls.received, controls.error);
    take(controls.resume, controls.desk, controls.received, controls.error);
    take(controls.transfer, controls.desk, controls.received, controls.error);
    take(controls.add_colleague, controls.desk, controls.received, controls.error);
    take(controls.leave, controls.desk, controls.received, controls.error);
    take(controls.finish_warm, controls.desk, controls.received, controls.error);
    take(controls.record_callback, controls.desk, controls.received, controls.error);
    let notice = RwSignal::new(None::<String>);
    Effect::new(move |_| match controls.next.value().get() {
        Some(Ok(None)) => notice.set(Some("Nobody is waiting right now.".into())),
        Some(Ok(Some(_))) => notice.set(None),
        Some(Err(failure)) => controls.error.set(Some(failure.to_string())),
        None => {}
    });

    let me = StoredValue::new(me);
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Opening your desk…"</p> }>
            {move || Suspend::new(async move {
                match initial.await {
                    Ok(desk) => {
                        if controls.desk.get_untracked().is_none() {
                            controls.desk.set(Some(desk));
                            controls.received.set(now_ms());
                        }
                        view! { <DeskBody me=me.get_value() controls notice/> }.into_any()
                    }
                    Err(error) => failure(error),
                }
            })}
        </Suspense>
    }
}
