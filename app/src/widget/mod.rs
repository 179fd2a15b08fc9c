//! The embeddable widget (SPEC §1, §10): a website adds a small script with
//! a widget key, and its visitors get Switchboard's customer experience in
//! a panel on the site's own pages. A key says which sites may embed it
//! (their origins), which queues it offers, its colour and greeting; its
//! secret checks the tokens the site's backend signs to say who a known
//! customer is ([`identity`]).
//!
//! The pieces: the loader (`/widget.js`, served by the server), which asks
//! the server whether this site may show the key and then shows a button
//! and the panel in an iframe; the panel (`/widget?key=…`, the page in
//! `pages::widget`), framed only by the key's origins; and the messages
//! between them (`bridge.js` on the panel's side), versioned and checked
//! by origin on both sides.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::customer::QueueChoice;
use crate::error::AppError;

pub mod bridge;
#[cfg(feature = "ssr")]
pub mod identity;
#[cfg(feature = "ssr")]
pub mod repo;

/// The version of the messages between the loader and the panel, carried
/// in each as `switchboard: 1`.
pub const MESSAGE_VERSION: u32 = 1;

/// A widget key as the admin page shows it (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Widget {
    pub id: Uuid,
    /// Public: written in the site's pages (`data-key`).
    pub key: String,
    pub name: String,
    /// The sites that may embed it: `https://shop.example`.
    pub origins: Vec<String>,
    /// The queues it offers.
    pub queues: Vec<Uuid>,
    /// `#rrggbb`.
    pub accent: String,
    pub greeting: String,
    pub enabled: bool,
    /// RFC 3339.
    pub created_at: String,
}

/// A widget key and its new secret, shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WithWidgetSecret {
    pub widget: Widget,
    pub secret: String,
}

/// What the panel shows for its key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Panel {
    pub key: String,
    pub greeting: String,
    pub queues: Vec<QueueChoice>,
    /// The sites that may embed it: the only ones the panel talks to.
    pub origins: Vec<String>,
}

pub use engine::identity::Identity;

/// The widgets page: every key (newest first), the queues a key may
/// offer, and the loader's address for the snippet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Widgets {
    pub widgets: Vec<Widget>,
    pub queues: Vec<QueueChoice>,
    /// `https://switchboard.example/widget.js`.
    pub loader: String,
}

/// Admins only.
#[server(prefix = "/api", endpoint = "widgets/list")]
pub async fn list_widgets() -> Result<Widgets, AppError> {
    let (_, state) = crate::auth::require(crate::access::Area::Admin).await?;
    Ok(Widgets {
        widgets: repo::list(&state.pool).await?,
        queues: crate::customer::queue_choices(&state.pool, None).await?,
        loader: format!("{}/widget.js", state.public_url.trim_end_matches('/')),
    })
}

/// A new widget key; the answer holds its secret, shown once. `origins`:
/// one per line (or separated by spaces or commas). Admins only.
#[server(prefix = "/api", endpoint = "widgets/add")]
pub async fn add_widget(
    name: String,
    origins: String,
    #[server(default)] queues: Vec<Uuid>,
    accent: String,
    greeting: String,
) -> Result<WithWidgetSecret, AppError> {
    let (me, state) = crate::auth::require(crate::access::Area::Admin).await?;
    let settings = repo::Settings::parse(&state.pool, &name, &origins, &queues, &accent, &greeting).await?;
    let added = repo::add(&state.pool, &state.secrets, &settings).await?;
    tracing::info!(by = %me.id, widget = %added.widget.id, "widget key added");
    Ok(added)
}

/// Changes a key's settings (its key and secret stay). Admins only.
#[server(prefix = "/api", endpoint = "widgets/update")]
pub async fn update_widget(
    id: Uuid,
    name: String,
    origins: String,
    #[server(default)] queues: Vec<Uuid>,
    accent: String,
    greeting: String,
) -> Result<Widget, AppError> {
    let (me, state) = crate::auth::require(crate::access::Area::Admin).await?;
    let settings = repo::Settings::parse(&state.pool, &name, &origins, &queues, &accent, &greeting).await?;
    let widget = repo::update(&state.pool, id, &settings).await?;
    tracing::info!(by = %me.id, widget = %id, "widget key changed");
    Ok(widget)
}

/// Turns a key off (the loader shows nothing, the panel refuses) or on
/// again. Admins only.
#[server(prefix = "/api", endpoint = "widgets/enabled")]
pub async fn set_widget_enabled(id: Uuid, enabled: bool) -> Result<Widget, AppError> {
    let (me, state) = crate::auth::require(crate::access::Area::Admin).await?;
    tracing::info!(by = %me.id, widget = %id, enabled, "widget key enabled or disabled");
    repo::set_enabled(&state.pool, id, enabled).await
}

/// A new secret for identifying customers; the old one stops at once.
/// Admins only.
#[server(prefix = "/api", endpoint = "widgets/rotate")]
pub async fn rotate_widget_secret(id: Uuid) -> Result<WithWidgetSecret, AppError> {
    let (me, state) = crate::auth::require(crate::access::Area::Admin).await?;
    tracing::info!(by = %me.id, widget = %id, "widget secret rotated");
    repo::rotate(&state.pool, &state.secrets, id).await
}

/// Deletes a key (help sessions made through it stay). Admins only.
#[server(prefix = "/api", endpoint = "widgets/delete")]
pub async fn delete_widget(id: Uuid) -> Result<(), AppError> {
    let (me, state) = crate::auth::require(crate::access::Area::Admin).await?;
    tracing::info!(by = %me.id, widget = %id, "widget key deleted");
    repo::delete(&state.pool, id).await
}

/// What the panel of an enabled key shows.
#[server(prefix = "/api", endpoint = "widgets/panel")]
pub async fn widget_panel(key: String) -> Result<Panel, AppError> {
    let state = crate::state::app_state()?;
    let widget = repo::enabled(&state.pool, &key).await?;
    let queues = crate::customer::queue_choices(&state.pool, Some(crate::customer::request_language()))
        .await?
        .into_iter()
        .filter(|queue| widget.queues.contains(&queue.id))
        .collect();
    Ok(Panel { key: widget.key, greeting: widget.greeting, queues, origins: widget.origins })
}

/// Checks a token the site's backend signed for a known customer (sent by
/// the host page with `Switchboard('identify', token)`), and answers who
/// it names.
#[server(prefix = "/api", endpoint = "widgets/identify")]
pub async fn identify(key: String, token: String) -> Result<Identity, AppError> {
    let state = crate::state::app_state()?;
    let widget = repo::enabled(&state.pool, &key).await?;
    // Only checked here, to show who the site says the customer is; spent
    // when it asks for help.
    Ok(identity::verify(&widget.secret(&state.secrets)?, &widget.key, &token)?.identity)
}
