//! Queues: the lines customers wait in, and their settings (SPEC §2).

// The browser's stubs of the server functions below take the form's
// fields as arguments; the macro does not carry an `allow` over to them.
#![cfg_attr(not(feature = "ssr"), allow(clippy::too_many_arguments))]

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::AppError;

#[cfg(feature = "ssr")]
pub mod repo;

pub use engine::queue::{hours, CallbackLimits, CallbackRules, Channel, OpeningHours, RoutingMode, Strategy, WhenNobody};

/// How a figure on the wallboard stands against its queue's thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Alert {
    Normal,
    Amber,
    Red,
}

impl Alert {
    /// The CSS class the wallboard gives it.
    pub fn class(self) -> &'static str {
        match self {
            Alert::Normal => "normal",
            Alert::Amber => "amber",
            Alert::Red => "red",
        }
    }
}

/// When the wallboard turns a queue's longest wait (past so many seconds)
/// and its service level today (under so many percent) amber, then red.
/// `None`: that colour never shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Thresholds {
    pub wait_amber_seconds: Option<i32>,
    pub wait_red_seconds: Option<i32>,
    pub level_amber_percent: Option<i32>,
    pub level_red_percent: Option<i32>,
}

impl Thresholds {
    /// Checks an admin's thresholds: in range, and red past amber.
    pub fn parse(
        wait_amber_seconds: Option<i32>,
        wait_red_seconds: Option<i32>,
        level_amber_percent: Option<i32>,
        level_red_percent: Option<i32>,
    ) -> Result<Self, AppError> {
        let seconds = |field: &str, value: Option<i32>| match value {
            Some(v) if !(1..=86_400).contains(&v) => {
                Err(AppError::invalid(format!("{field} must be between 1 and 86400 seconds (or empty).")))
            }
            _ => Ok(value),
        };
        let percent = |field: &str, value: Option<i32>| match value {
            Some(v) if !(1..=100).contains(&v) => {
                Err(AppError::invalid(format!("{field} must be between 1 and 100 % (or empty).")))
            }
            _ => Ok(value),
        };
        let thresholds = Self {
            wait_amber_seconds: seconds("Longest wait amber", wait_amber_seconds)?,
            wait_red_seconds: seconds("Longest wait red", wait_red_seconds)?,
            level_amber_percent: percent("Service level amber", level_amber_percent)?,
            level_red_percent: percent("Service level red", level_red_percent)?,
        };
        if let (Some(amber), Some(red)) = (thresholds.wait_amber_seconds, thresholds.wait_red_seconds) {
            if red < amber {
                return Err(AppError::invalid("The longest wait turns red after it turns amber: red must be at least amber."));
            }
        }
        if let (Some(amber), Some(red)) = (thresholds.level_amber_percent, thresholds.level_red_percent) {
            if red > amber {
                return Err(AppError::invalid("The service level turns red below amber: red must be at most amber."));
            }
        }
        Ok(thresholds)
    }

    /// The longest wait now, against the wait thresholds.
    pub fn wait(&self, seconds: Option<f64>) -> Alert {
        let past = |limit: Option<i32>| seconds.zip(limit).is_some_and(|(s, limit)| s > f64::from(limit));
        if past(self.wait_red_seconds) {
            Alert::Red
        } else if past(self.wait_amber_seconds) {
            Alert::Amber
        } else {
            Alert::Normal
        }
    }

    /// The service level today (a fraction; none before anyone counted),
    /// against the level thresholds.
    pub fn level(&self, level: Option<f64>) -> Alert {
        let under = |limit: Option<i32>| level.zip(limit).is_some_and(|(l, limit)| l * 100.0 < f64::from(limit));
        if under(self.level_red_percent) {
            Alert::Red
        } else if under(self.level_amber_percent) {
            Alert::Amber
        } else {
            Alert::Normal
        }
    }
}

/// A queue: its id and every setting of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Queue {
    pub id: Uuid,
    #[serde(flatten)]
    pub settings: QueueSettings,
}

/// Every setting of a queue (SPEC §2). Built by `parse` from what an admin
/// typed, or read from the database; a value is valid by construction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueSettings {
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
    pub thresholds: Thresholds,
    /// The desk does not say "Supervisor is listening" while a supervisor
    /// monitors this queue's conversations in silence.
    pub hide_monitoring: bool,
    pub hours: OpeningHours,
    pub callbacks: CallbackRules,
    pub callback_limits: CallbackLimits,
}

/// The settings a new queue starts with (the database's defaults).
impl Default for QueueSettings {
    fn default() -> Self {
        Self {
            name: String::new(),
            channels: Channel::ALL.to_vec(),
            routing_mode: RoutingMode::Push,
            strategy: Strategy::LongestIdle,
            rona_seconds: 15,
            wrap_up_seconds: 60,
            service_level_seconds: 20,
            max_length: None,
            max_wait_seconds: None,
            when_nobody: WhenNobody::Refuse,
            nobody_message: "Nobody is available right now. Leave your number and we will call you back.".into(),
            auto_join: false,
            thresholds: Thresholds::default(),
            hide_monitoring: false,
            hours: OpeningHours::default(),
            callbacks: CallbackRules::default(),
            callback_limits: CallbackLimits::default(),
        }
    }
}

fn within(field: &str, value: i32, low: i32, high: i32) -> Result<i32, AppError> {
    if (low..=high).contains(&value) {
        Ok(value)
    } else {
        Err(AppError::invalid(format!("{field} must be between {low} and {high} seconds.")))
    }
}

impl QueueSettings {
    /// Checks what an admin sent and names the first field that is wrong.
    #[allow(clippy::too_many_arguments)]
    pub fn parse(
        name: &str,
        channels: &[String],
        routing_mode: &str,
        strategy: &str,
        rona_seconds: i32,
        wrap_up_seconds: i32,
        service_level_seconds: i32,
        max_length: Option<i32>,
        max_wait_seconds: Option<i32>,
        when_nobody: &str,
        nobody_message: &str,
        auto_join: bool,
        thresholds: Thresholds,
        hide_monitoring: bool,
        hours: OpeningHours,
        callbacks: CallbackRules,
        callback_limits: CallbackLimits,
    ) -> Result<Self, AppError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 60 {
            return Err(AppError::invalid("Queue name is required, at most 60 characters."));
        }
        crate::text::check("Queue name", name, crate::text::Shape::Line)?;
        let mut parsed: Vec<Channel> = channels.iter().map(|c| Channel::parse(c)).collect::<Result<_, _>>()?;
        parsed.sort_by_key(|c| Channel::ALL.iter().position(|x| x == c));
        parsed.dedup();
        if parsed.is_empty() {
            return Err(AppError::invalid("Choose at least one channel."));
        }
        if max_length.is_some_and(|n| n < 1) {
            return Err(AppError::invalid("Maximum length must be at least 1 (or empty for no limit)."));
        }
        if max_wait_seconds.is_some_and(|n| n < 1) {
            return Err(AppError::invalid("Maximum wait must be at least 1 second (or empty for no limit)."));
        }
        let message = nobody_message.trim();
        if message.is_empty() || message.chars().count() > 500 {
            return Err(AppError::invalid("The message for when nobody is logged in is required, at most 500 characters."));
        }
        crate::text::check("The message for when nobody is logged in", message, crate::text::Shape::Lines)?;
        Ok(Self {
            name: name.to_owned(),
            channels: parsed,
            routing_mode: RoutingMode::parse(routing_mode)?,
            strategy: Strategy::parse(strategy)?,
            rona_seconds: within("No-answer time", rona_seconds, 5, 300)?,
            wrap_up_seconds: within("Wrap-up time", wrap_up_seconds, 0, 3600)?,
            service_level_seconds: within("Service-level threshold", service_level_seconds, 1, 3600)?,
            max_length,
            max_wait_seconds,
            when_nobody: WhenNobody::parse(when_nobody)?,
            nobody_message: message.to_owned(),
            auto_join,
            thresholds,
            hide_monitoring,
            hours,
            callbacks,
            callback_limits,
        })
    }
}

/// A queue as the admin edits it: its settings, who serves it and who
/// supervises it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueWithMembers {
    pub queue: Queue,
    pub members: Vec<Uuid>,
    pub supervisors: Vec<Uuid>,
}

/// Every queue with its members. Admins only.
#[leptos::server(prefix = "/api", endpoint = "queues/list")]
pub async fn list_queues() -> Result<Vec<QueueWithMembers>, AppError> {
    let (_, state) = crate::auth::require(crate::access::Area::Admin).await?;
    repo::list_with_members(&state.pool).await
}

/// Creates (no `id`) or updates a queue and sets its members and its
/// supervisors (supervisors and admins only). Admins only.
#[leptos::server(prefix = "/api", endpoint = "queues/save")]
#[allow(clippy::too_many_arguments)]
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
    #[server(default)] supervisors: Vec<Uuid>,
    #[server(default)] wait_amber_seconds: Option<i32>,
    #[server(default)] wait_red_seconds: Option<i32>,
    #[server(default)] level_amber_percent: Option<i32>,
    #[server(default)] level_red_percent: Option<i32>,
    #[server(default)] hide_monitoring: bool,
    #[server(default)] time_zone: Option<String>,
    #[server(default)] opens: Vec<String>,
    #[server(default)] closes: Vec<String>,
    #[server(default)] closed_dates: String,
    #[server(default)] callback_retry_seconds: Option<i32>,
    #[server(default)] callback_max_attempts: Option<i32>,
    #[server(default)] notify_position: Option<i32>,
    #[server(default)] notify_seconds: Option<i32>,
    #[server(default)] front_hold_seconds: Option<i32>,
    #[server(default)] callback_cap: Option<i32>,
    #[server(default)] callbacks_per_address: Option<i32>,
    #[server(default)] callback_expiry_hours: Option<i32>,
    #[server(default)] callback_prefixes: String,
) -> Result<QueueWithMembers, AppError> {
    let (me, state) = crate::auth::require(crate::access::Area::Admin).await?;
    let settings = QueueSettings::parse(
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
        Thresholds::parse(wait_amber_seconds, wait_red_seconds, level_amber_percent, level_red_percent)?,
        hide_monitoring,
        OpeningHours::parse(time_zone.as_deref().unwrap_or("UTC"), &opens, &closes, &closed_dates)?,
        CallbackRules::parse(callback_retry_seconds, callback_max_attempts, notify_position, notify_seconds, front_hold_seconds)?,
        CallbackLimits::parse(callback_cap, callbacks_per_address, callback_expiry_hours, &callback_prefixes)?,
    )?;
    let saved = repo::save(&state.pool, id, &settings, &members, &supervisors).await?;
    tracing::info!(by = %me.id, queue = %saved.queue.id, "queue saved");
    Ok(saved)
}
