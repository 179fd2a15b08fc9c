//! What the desk's parts share: its actions with the latest desk they (or
//! the WebSocket) returned, and the workspace's choice of open
//! conversation.

use std::collections::HashMap;

use leptos::prelude::*;

use crate::desk::{
    AcceptOffer, AddColleague, DeclineOffer, Desk, EndSession, FinishWarmTransfer, Hold, LeaveConversation, NextCustomer,
    RecordCallback, Resume, SetChannel, SetState, TransferCustomer, WrapUp,
};
use crate::error::AppError;
use crate::live::now_ms;
use crate::states::HelpSessionId;

/// Every action the desk can take, and the latest desk any of them (or the
/// WebSocket) returned.
#[derive(Clone, Copy)]
pub(super) struct Controls {
    pub(super) desk: RwSignal<Option<Desk>>,
    /// When `desk` arrived (page clock, ms), for countdowns.
    pub(super) received: RwSignal<f64>,
    pub(super) error: RwSignal<Option<String>>,
    pub(super) set_state: ServerAction<SetState>,
    pub(super) set_channel: ServerAction<SetChannel>,
    pub(super) accept: ServerAction<AcceptOffer>,
    pub(super) decline: ServerAction<DeclineOffer>,
    pub(super) next: ServerAction<NextCustomer>,
    pub(super) end: ServerAction<EndSession>,
    pub(super) wrap_up: ServerAction<WrapUp>,
    pub(super) hold: ServerAction<Hold>,
    pub(super) resume: ServerAction<Resume>,
    pub(super) transfer: ServerAction<TransferCustomer>,
    pub(super) add_colleague: ServerAction<AddColleague>,
    pub(super) leave: ServerAction<LeaveConversation>,
    pub(super) finish_warm: ServerAction<FinishWarmTransfer>,
    pub(super) record_callback: ServerAction<RecordCallback>,
}

impl Controls {
    /// The desk's actions, each showing what it answers (the new desk, or
    /// its error).
    pub(super) fn new() -> Self {
        let controls = Self {
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
        controls.shows(controls.set_state);
        controls.shows(controls.set_channel);
        controls.shows(controls.accept);
        controls.shows(controls.decline);
        controls.shows(controls.end);
        controls.shows(controls.wrap_up);
        controls.shows(controls.hold);
        controls.shows(controls.resume);
        controls.shows(controls.transfer);
        controls.shows(controls.add_colleague);
        controls.shows(controls.leave);
        controls.shows(controls.finish_warm);
        controls.shows(controls.record_callback);
        controls
    }

    /// Shows what `action` answered: the new desk, or its error.
    fn shows<A>(self, action: ServerAction<A>)
    where
        A: leptos::server_fn::ServerFn<Output = Desk, Error = AppError> + Clone + Send + Sync + 'static,
    {
        Effect::new(move |_| match action.value().get() {
            Some(Ok(desk)) => {
                self.desk.set(Some(desk));
                self.received.set(now_ms());
                self.error.set(None);
            }
            Some(Err(failure)) => self.error.set(Some(failure.to_string())),
            None => {}
        });
    }
}

/// What the workspace shares between the list of conversations and the
/// open one.
#[derive(Clone, Copy)]
pub(super) struct Workspace {
    /// The conversation the representative chose to open.
    pub(super) chosen: RwSignal<Option<HelpSessionId>>,
    /// The one open: the chosen one while it is on the desk, else the first.
    pub(super) open: Memo<Option<HelpSessionId>>,
    /// Messages from others not seen yet, by conversation.
    pub(super) unread: RwSignal<HashMap<HelpSessionId, usize>>,
    /// The page clock (ms), each second: for times in status.
    pub(super) clock: ReadSignal<f64>,
}
