//! What the desk's parts share: its actions with the latest desk they (or
//! the WebSocket) returned, and the workspace's choice of open
//! conversation.

use std::collections::HashMap;

use leptos::prelude::*;

use crate::desk::{Act, Desk, DeskCommand, NextCustomer};
use crate::live::now_ms;
use crate::states::HelpSessionId;

/// The desk as the page knows it, and what the representative does to it.
#[derive(Clone, Copy)]
pub(super) struct Controls {
    /// The newest desk: of the one opened, the last the WebSocket pushed
    /// and the last a command answered, the one read last. The one place
    /// the page's desk comes from.
    pub(super) desk: Memo<Option<Desk>>,
    /// When `desk` arrived (page clock, ms), for countdowns.
    pub(super) received: Memo<f64>,
    /// The desk the page opened with, and the last one pushed.
    pub(super) opened: RwSignal<Option<Desk>>,
    pub(super) pushed: RwSignal<Option<Desk>>,
    /// What went wrong with the last command (or "Next customer").
    pub(super) error: RwSignal<Option<String>>,
    act: ServerAction<Act>,
    pub(super) next: ServerAction<NextCustomer>,
}

impl Controls {
    pub(super) fn new() -> Self {
        let act = ServerAction::<Act>::new();
        let (opened, pushed) = (RwSignal::new(None::<Desk>), RwSignal::new(None::<Desk>));
        let desk = Memo::new(move |_| {
            let answered = act.value().get().and_then(Result::ok);
            [opened.get(), pushed.get(), answered].into_iter().flatten().max_by_key(|desk| desk.as_of)
        });
        let received = Memo::new(move |_| {
            desk.track();
            now_ms()
        });
        let error = RwSignal::new(None);
        Effect::new(move |_| match act.value().get() {
            Some(Ok(_)) => error.set(None),
            Some(Err(failure)) => error.set(Some(failure.to_string())),
            None => {}
        });
        Self { desk, received, opened, pushed, error, act, next: ServerAction::new() }
    }

    /// Does what the representative asked; the answer is the new desk (or
    /// the error shown).
    pub(super) fn send(self, command: DeskCommand) {
        self.act.dispatch(Act { command });
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
