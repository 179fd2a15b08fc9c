//! Queues: the lines customers wait in, and their settings (SPEC §2).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::AppError;
use crate::language::Language;

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

    /// What the colour says, in words beside the figure: nothing is told
    /// by colour alone (WCAG 1.4.1).
    pub fn words(self) -> Option<&'static str> {
        match self {
            Alert::Normal => None,
            Alert::Amber => Some("warning"),
            Alert::Red => Some("alert"),
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

/// Every setting of a queue (SPEC §2), read from the database or sent by
/// the admin's page, where `checked` takes it in; a field left out keeps
/// its default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
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
    /// Offered only to customers of this language (`None`: to everyone).
    pub language: Option<Language>,
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
            language: None,
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
    /// Checks settings as they arrive (from the admin's page) and names
    /// the first field that is wrong; what it returns is what is stored.
    pub fn checked(self) -> Result<Self, AppError> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 60 {
            return Err(AppError::invalid("Queue name is required, at most 60 characters."));
        }
        crate::text::check("Queue name", name, crate::text::Shape::Line)?;
        let mut channels = self.channels;
        channels.sort_by_key(|c| Channel::ALL.iter().position(|x| x == c));
        channels.dedup();
        if channels.is_empty() {
            return Err(AppError::invalid("Choose at least one channel."));
        }
        if self.max_length.is_some_and(|n| n < 1) {
            return Err(AppError::invalid("Maximum length must be at least 1 (or empty for no limit)."));
        }
        if self.max_wait_seconds.is_some_and(|n| n < 1) {
            return Err(AppError::invalid("Maximum wait must be at least 1 second (or empty for no limit)."));
        }
        let message = self.nobody_message.trim();
        if message.is_empty() || message.chars().count() > 500 {
            return Err(AppError::invalid("The message for when nobody is logged in is required, at most 500 characters."));
        }
        crate::text::check("The message for when nobody is logged in", message, crate::text::Shape::Lines)?;
        let t = self.thresholds;
        Ok(Self {
            name: name.to_owned(),
            channels,
            rona_seconds: within("No-answer time", self.rona_seconds, 5, 300)?,
            wrap_up_seconds: within("Wrap-up time", self.wrap_up_seconds, 0, 3600)?,
            service_level_seconds: within("Service-level threshold", self.service_level_seconds, 1, 3600)?,
            nobody_message: message.to_owned(),
            thresholds: Thresholds::parse(t.wait_amber_seconds, t.wait_red_seconds, t.level_amber_percent, t.level_red_percent)?,
            hours: self.hours.checked()?,
            callbacks: self.callbacks.checked()?,
            callback_limits: self.callback_limits.checked()?,
            ..self
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
#[leptos::server(prefix = "/api", endpoint = "queues/save", input = server_fn::codec::Json)]
pub async fn save_queue(
    #[server(default)] id: Option<Uuid>,
    settings: QueueSettings,
    #[server(default)] members: Vec<Uuid>,
    #[server(default)] supervisors: Vec<Uuid>,
) -> Result<QueueWithMembers, AppError> {
    let (me, state) = crate::auth::require(crate::access::Area::Admin).await?;
    let settings = settings.checked()?;
    let saved = repo::save(&state.pool, id, &settings, &members, &supervisors).await?;
    tracing::info!(by = %me.id, queue = %saved.queue.id, "queue saved");
    Ok(saved)
}
