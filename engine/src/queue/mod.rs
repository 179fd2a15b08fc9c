//! A queue's vocabulary: how customers are helped, how a queue routes, and
//! its opening hours and callback rules. (Queues' settings and their
//! storage are the app's: `app/src/queue`.)

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::error::AppError;

pub mod hours;

pub use hours::{CallbackLimits, CallbackRules, OpeningHours};

/// How a customer is helped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
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

crate::states::sql_text!(Channel);

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
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

crate::states::sql_text!(RoutingMode);

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

crate::states::sql_text!(Strategy);

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

crate::states::sql_text!(WhenNobody);
