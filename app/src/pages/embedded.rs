//! Whether the customer's page runs inside a website's widget: the panel
//! (`widget.rs`) provides it, the customer's pages (`home.rs`) read it.

use leptos::prelude::*;

use super::guard::urlencode;
use crate::customer::QueueChoice;
use crate::widget::Identity;

/// Inside a widget's panel: its key, the queues it offers, and the
/// customer the site identified (the token and who it names).
#[derive(Clone)]
pub struct Embedded {
    pub key: String,
    pub queues: Vec<QueueChoice>,
    pub identity: RwSignal<Option<(String, Identity)>>,
}

/// Where the customer's page starts over: the panel in a widget, `/`
/// otherwise.
pub fn home_page() -> String {
    match use_context::<Embedded>() {
        Some(embedded) => format!("/widget?key={}", urlencode(&embedded.key)),
        None => "/".to_owned(),
    }
}
