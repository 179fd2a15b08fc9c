//! Queues: the lines customers wait in, and their settings (SPEC §2).

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

use crate::error::AppError;

#[cfg(feature = "ssr")]
pub mod repo;

/// How a customer is helped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Video,
    Audio,
    Chat,
    Callback,
}

impl Channel {
    pub const ALL: [Channel; 4] = [Channel::Video, Channel::Audio, Channel::Chat, Channel::Callback];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Video => "video",
            Channel::Audio => "audio",
            Channel::Chat => "chat",
            Channel::Callback => "callback",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Channel::Video => "Video",
            Channel::Audio => "Audio only",
            Channel::Chat => "Chat",
            Channel::Callback => "Call me back",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, AppError> {
        Channel::ALL
            .into_iter()
            .find(|channel| channel.as_str() == raw.trim().to_ascii_lowercase())
            .ok_or_else(|| AppError::invalid(format!("Channel must be video, audio, chat or callback, not \"{raw}\".")))
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RoutingMode {
    /// The server offers the head of the queue to one agent.
    Push,
    /// Agents take the head with "Next customer".
    Pull,
}

impl RoutingMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RoutingMode::Push => "push",
            RoutingMode::Pull => "pull",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, AppError> {
        match raw.trim() {
            "push" => Ok(RoutingMode::Push),
            "pull" => Ok(RoutingMode::Pull),
            other => Err(AppError::invalid(format!("Routing must be push or pull, not \"{other}\"."))),
        }
    }
}

/// Which eligible agent a push queue offers the head to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// The agent free for the longest time.
    LongestIdle,
    /// Fewest live sessions, then longest idle.
    LeastConnections,
    /// The agent offered a customer least recently.
    RoundRobin,
    /// Fewest customers answered today, then longest idle.
    FewestHandledToday,
}

impl Strategy {
    pub const ALL: [Strategy; 4] =
        [Strategy::LongestIdle, Strategy::LeastConnections, Strategy::RoundRobin, Strategy::FewestHandledToday];

    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::LongestIdle => "longest_idle",
            Strategy::LeastConnections => "least_connections",
            Strategy::RoundRobin => "round_robin",
            Strategy::FewestHandledToday => "fewest_handled_today",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Strategy::LongestIdle => "Longest idle",
            Strategy::LeastConnections => "Least connections",
            Strategy::RoundRobin => "Round robin",
            Strategy::FewestHandledToday => "Fewest handled today",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, AppError> {
        Strategy::ALL
            .into_iter()
            .find(|strategy| strategy.as_str() == raw.trim())
            .ok_or_else(|| AppError::invalid(format!("Unknown strategy \"{raw}\".")))
    }
}

/// What happens to a new customer when nobody is logged in for the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WhenNobody {
    /// Refuse with the queue's message and offer a callback.
    Refuse,
    /// Let them wait anyway.
    Accept,
}

impl WhenNobody {
    pub fn as_str(self) -> &'static str {
        match self {
            WhenNobody::Refuse => "refuse",
            WhenNobody::Accept => "accept",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, AppError> {
        match raw.trim() {
            "refuse" => Ok(WhenNobody::Refuse),
            "accept" => Ok(WhenNobody::Accept),
            other => Err(AppError::invalid(format!("\"When nobody is logged in\" must be refuse or accept, not \"{other}\"."))),
        }
    }
}

/// A queue and every setting of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Queue {
    pub id: Uuid,
    pub name: String,
    pub channels: Vec<Channel>,
    pub routing_mode: RoutingMode,
    pub strategy: Strategy,
    pub rona_seconds: i32,
    pub wrap_up_seconds: i32,
    pub service_level_seconds: i32,
    pub max_length: Option<i32>,
    pub max_wait_seconds: Option<i32>,
    pub when_nobody: WhenNobody,
    pub nobody_message: String,
    pub auto_join: bool,
}

/// A queue as the admin edits it: its settings and who serves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueWithMembers {
    pub queue: Queue,
    pub members: Vec<Uuid>,
}

/// Every queue with its members. Admins only.
#[leptos::server(prefix = "/api", endpoint = "queues/list")]
pub async fn list_queues() -> Result<Vec<QueueWithMembers>, AppError> {
    let (_, state) = crate::auth::require(crate::access::Area::Admin).await?;
    repo::list_with_members(&state.pool).await
}

/// Creates (no `id`) or updates a queue and sets its members. Admins only.
#[allow(clippy::too_many_arguments)]
#[leptos::server(prefix = "/api", endpoint = "queues/save")]
pub async fn save_queue(
    #[server(default)] id: Option<Uuid>,
    name: String,
    #[server(default)] channels: Vec<String>,
    routing_mode: String,
    strategy: String,
    rona_seconds: i32,
    wrap_up_seconds: i32,
    service_level_seconds: i32,
    #[server(default)] max_length: Option<i32>,
    #[server(default)] max_wait_seconds: Option<i32>,
    when_nobody: String,
    nobody_message: String,
    #[server(default)] auto_join: bool,
    #[server(default)] members: Vec<Uuid>,
) -> Result<QueueWithMembers, AppError> {
    let (me, state) = crate::auth::require(crate::access::Area::Admin).await?;
    let settings = repo::Settings::parse(
        &name,
        &channels,
        &routing_mode,
        &strategy,
        rona_seconds,
        wrap_up_seconds,
        service_level_seconds,
        max_length,
        max_wait_seconds,
        &when_nobody,
        &nobody_message,
        auto_join,
    )?;
    let saved = repo::save(&state.pool, id, &settings, &members).await?;
    tracing::info!(by = %me.id, queue = %saved.queue.id, "queue saved");
    Ok(saved)
}
