//! Service metrics (SPEC §9): figures computed from the event log, rolled up
//! into 15-minute buckets by the roller, read back for any range, and the
//! live board of what is happening now.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use leptos::prelude::*;

use crate::error::AppError;
use crate::queue::Channel;

#[cfg(feature = "ssr")]
pub mod board;
#[cfg(feature = "ssr")]
pub mod report;
#[cfg(feature = "ssr")]
pub mod roll;
pub mod settings;

pub use settings::MetricsSettings;

/// The sums every figure is made of, for one bucket or any group of them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    pub offered: i64,
    pub answered: i64,
    /// Answered within the queue's service-level threshold.
    pub answered_in_sl: i64,
    /// Total wait of answered sessions.
    pub wait_seconds: f64,
    pub abandoned: i64,
    /// Abandoned after the service-level threshold.
    pub abandoned_after_sl: i64,
    pub short_abandoned: i64,
    /// Taken out of the line at the queue's maximum wait.
    pub expired: i64,
    pub rona: i64,
    pub handled: i64,
    /// Total talk + hold + wrap-up of handled sessions.
    pub handle_seconds: f64,
    pub ratings: i64,
    pub rating_sum: i64,
    /// Representatives' time with at least one session (talking, on hold or
    /// wrapping up).
    pub handling_seconds: f64,
    /// Representatives' time READY with no session.
    pub ready_idle_seconds: f64,
    /// Representatives' time NOT_READY with no session.
    pub not_ready_seconds: f64,
    /// Customers who asked to be called back (on entering, or switching).
    pub callbacks_requested: i64,
    /// Calls made to them.
    pub callback_attempts: i64,
    /// Calls that reached them.
    pub callbacks_reached: i64,
    /// Total time from a request to the call that reached the customer.
    pub reach_seconds: f64,
}

fn ratio(part: f64, whole: f64) -> Option<f64> {
    (whole > 0.0).then(|| part / whole)
}

impl Figures {
    pub fn add(&mut self, other: &Figures) {
        self.offered += other.offered;
        self.answered += other.answered;
        self.answered_in_sl += other.answered_in_sl;
        self.wait_seconds += other.wait_seconds;
        self.abandoned += other.abandoned;
        self.abandoned_after_sl += other.abandoned_after_sl;
        self.short_abandoned += other.short_abandoned;
        self.expired += other.expired;
        self.rona += other.rona;
        self.handled += other.handled;
        self.handle_seconds += other.handle_seconds;
        self.ratings += other.ratings;
        self.rating_sum += other.rating_sum;
        self.handling_seconds += other.handling_seconds;
        self.ready_idle_seconds += other.ready_idle_seconds;
        self.not_ready_seconds += other.not_ready_seconds;
        self.callbacks_requested += other.callbacks_requested;
        self.callback_attempts += other.callback_attempts;
        self.callbacks_reached += other.callbacks_reached;
        self.reach_seconds += other.reach_seconds;
    }

    /// Callbacks reached ÷ callbacks requested.
    pub fn reached_rate(&self) -> Option<f64> {
        ratio(self.callbacks_reached as f64, self.callbacks_requested as f64)
    }

    /// Mean time from a callback's request to the call that reached the
    /// customer, in seconds.
    pub fn time_to_reach(&self) -> Option<f64> {
        ratio(self.reach_seconds, self.callbacks_reached as f64)
    }

    /// Answered within T ÷ (answered + abandoned after T).
    pub fn service_level(&self) -> Option<f64> {
        ratio(self.answered_in_sl as f64, (self.answered + self.abandoned_after_sl) as f64)
    }

    /// Mean wait of answered sessions, in seconds.
    pub fn asa(&self) -> Option<f64> {
        ratio(self.wait_seconds, self.answered as f64)
    }

    /// Mean talk + hold + wrap-up of handled sessions, in seconds.
    pub fn aht(&self) -> Option<f64> {
        ratio(self.handle_seconds, self.handled as f64)
    }

    /// Abandoned ÷ (answered + abandoned).
    pub fn abandonment_rate(&self) -> Option<f64> {
        ratio(self.abandoned as f64, (self.answered + self.abandoned) as f64)
    }

    /// Time handling ÷ (time handling + time READY idle).
    pub fn occupancy(&self) -> Option<f64> {
        ratio(self.handling_seconds, self.handling_seconds + self.ready_idle_seconds)
    }

    /// Mean rating (1–5).
    pub fn csat(&self) -> Option<f64> {
        ratio(self.rating_sum as f64, self.ratings as f64)
    }

    /// Ratings ÷ handled sessions.
    pub fn response_rate(&self) -> Option<f64> {
        ratio(self.ratings as f64, self.handled as f64)
    }
}

/// Which days a report covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Span {
    Today,
    Last7,
    Last30,
    Custom,
}

impl Span {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        match raw {
            "" | "today" => Ok(Span::Today),
            "7d" => Ok(Span::Last7),
            "30d" => Ok(Span::Last30),
            "custom" => Ok(Span::Custom),
            other => Err(AppError::Invalid(format!("Range \"{other}\" is not one of today, 7d, 30d or custom."))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Span::Today => "today",
            Span::Last7 => "7d",
            Span::Last30 => "30d",
            Span::Custom => "custom",
        }
    }
}

/// What the admin asked for: a span (with its dates when custom) and
/// optionally one queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportQuery {
    pub span: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub queue: Option<Uuid>,
}

/// One labelled line of figures (a queue, a representative, an hour, a day).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    pub label: String,
    pub figures: Figures,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueChoice {
    pub id: Uuid,
    pub name: String,
}

/// Figures for a range of days, as the dashboard shows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// First and last day shown (inclusive), `YYYY-MM-DD` in `time_zone`.
    pub from: String,
    pub to: String,
    pub span: Span,
    pub time_zone: String,
    pub queue: Option<Uuid>,
    pub queues: Vec<QueueChoice>,
    pub total: Figures,
    pub by_queue: Vec<Line>,
    pub by_representative: Vec<Line>,
    /// 24 lines, hour 00 to 23 of the day in `time_zone`.
    pub by_hour: Vec<Line>,
    /// Every day of the range.
    pub by_day: Vec<Line>,
    /// How often the first estimate held, per queue and channel.
    pub estimates: Vec<Accuracy>,
}

/// How often the range customers were first shown held, for one queue and
/// channel (or all): of the customers answered in the range who had been
/// shown an estimate, those whose wait, from being shown it to being
/// answered, fell inside it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Accuracy {
    pub queue: String,
    /// `None`: every channel.
    pub channel: Option<Channel>,
    pub scored: i64,
    pub held: i64,
}

impl Accuracy {
    /// Held ÷ scored.
    pub fn rate(&self) -> Option<f64> {
        ratio(self.held as f64, self.scored as f64)
    }

    /// Every line summed.
    pub fn total(lines: &[Accuracy]) -> Accuracy {
        Accuracy {
            queue: "All".into(),
            channel: None,
            scored: lines.iter().map(|line| line.scored).sum(),
            held: lines.iter().map(|line| line.held).sum(),
        }
    }
}

/// What "Estimate accuracy" means, wherever it is shown.
pub const ACCURACY_DEFINITION: &str = "Of the customers answered who had been shown an estimated wait, the share whose wait \
     (from when they were first shown it to being answered) fell inside the range they were first shown. \
     The ranges are drawn to hold for about 8 customers in 10.";

/// The tables of the dashboard; each has a CSV download of the same cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TableKind {
    Queues,
    Representatives,
    Hours,
    Days,
    Estimates,
}

impl TableKind {
    pub const ALL: [TableKind; 5] =
        [TableKind::Queues, TableKind::Representatives, TableKind::Hours, TableKind::Days, TableKind::Estimates];

    pub fn parse(raw: &str) -> Result<Self, AppError> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == raw).ok_or_else(|| {
            AppError::Invalid(format!("Table \"{raw}\" is not one of queues, representatives, hours, days or estimates."))
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TableKind::Queues => "queues",
            TableKind::Representatives => "representatives",
            TableKind::Hours => "hours",
            TableKind::Days => "days",
            TableKind::Estimates => "estimates",
        }
    }
}

/// A table as shown: header and cells, already formatted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// A count.
fn count(value: i64) -> String {
    value.to_string()
}

/// A ratio as a percentage with one decimal, or "n/a" when undefined.
pub fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_owned(), |value| format!("{:.1}", value * 100.0))
}

/// Seconds with one decimal, or "n/a".
pub fn seconds(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_owned(), |value| format!("{value:.1}"))
}

/// A mean rating with two decimals, or "n/a".
pub fn stars(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_owned(), |value| format!("{value:.2}"))
}

impl Report {
    /// The cells of one table, exactly as the page and the CSV show them.
    pub fn table(&self, kind: TableKind) -> Table {
        let service = |first: &str| {
            [
                first,
                "Offered",
                "Answered",
                "Abandoned",
                "Short abandons",
                "Service level (%)",
                "ASA (s)",
                "AHT (s)",
                "Abandonment rate (%)",
                "Occupancy (%)",
                "CSAT (1-5)",
                "CSAT responses (%)",
                "Callbacks requested",
                "Callback calls",
                "Reached rate (%)",
                "Time to reach (s)",
            ]
            .map(str::to_owned)
            .to_vec()
        };
        let service_row = |line: &Line| {
            let f = &line.figures;
            vec![
                line.label.clone(),
                count(f.offered),
                count(f.answered),
                count(f.abandoned),
                count(f.short_abandoned),
                percent(f.service_level()),
                seconds(f.asa()),
                seconds(f.aht()),
                percent(f.abandonment_rate()),
                percent(f.occupancy()),
                stars(f.csat()),
                percent(f.response_rate()),
                count(f.callbacks_requested),
                count(f.callback_attempts),
                percent(f.reached_rate()),
                seconds(f.time_to_reach()),
            ]
        };
        match kind {
            TableKind::Queues => Table { columns: service("Queue"), rows: self.by_queue.iter().map(service_row).collect() },
            TableKind::Hours => Table { columns: service("Hour"), rows: self.by_hour.iter().map(service_row).collect() },
            TableKind::Days => Table { columns: service("Day"), rows: self.by_day.iter().map(service_row).collect() },
            TableKind::Estimates => Table {
                columns: ["Queue", "Channel", "Answered with an estimate", "Inside the range", "Estimate accuracy (%)"]
                    .map(str::to_owned)
                    .to_vec(),
                rows: self
                    .estimates
                    .iter()
                    .map(|line| {
                        vec![
                            line.queue.clone(),
                            line.channel.map_or("all", Channel::as_str).to_owned(),
                            count(line.scored),
                            count(line.held),
                            percent(line.rate()),
                        ]
                    })
                    .collect(),
            },
            TableKind::Representatives => Table {
                columns: [
                    "Representative",
                    "Answered",
                    "Handled",
                    "AHT (s)",
                    "Occupancy (%)",
                    "Not ready (h)",
                    "Missed offers",
                    "CSAT (1-5)",
                    "CSAT responses (%)",
                    "Callback calls",
                    "Callbacks reached",
                    "Time to reach (s)",
                ]
                .map(str::to_owned)
                .to_vec(),
                rows: self
                    .by_representative
                    .iter()
                    .map(|line| {
                        let f = &line.figures;
                        vec![
                            line.label.clone(),
                            count(f.answered),
                            count(f.handled),
                            seconds(f.aht()),
                            percent(f.occupancy()),
                            format!("{:.2}", f.not_ready_seconds / 3600.0),
                            count(f.rona),
                            stars(f.csat()),
                            percent(f.response_rate()),
                            count(f.callback_attempts),
                            count(f.callbacks_reached),
                            seconds(f.time_to_reach()),
                        ]
                    })
                    .collect(),
            },
        }
    }

    /// The query string that asks for this report again (for CSV links).
    pub fn query_string(&self) -> String {
        let mut query = format!("span={}", self.span.as_str());
        if self.span == Span::Custom {
            query.push_str(&format!("&from={}&to={}", self.from, self.to));
        }
        if let Some(queue) = self.queue {
            query.push_str(&format!("&queue={queue}"));
        }
        query
    }
}

/// One queue right now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveQueue {
    pub id: Uuid,
    pub name: String,
    pub waiting: i64,
    pub longest_wait_seconds: Option<f64>,
    /// Today's figures (in the display time zone) so far.
    pub today: Figures,
}

/// Representatives by what they are doing now (logged-out ones not counted).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentCounts {
    pub ready: i64,
    /// Talking or holding at least one customer.
    pub busy: i64,
    /// Wrapping up, and talking to nobody.
    pub wrap_up: i64,
    /// NOT_READY by reason, most first.
    pub not_ready: Vec<(String, i64)>,
}

/// What the admin sees live, pushed on every change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveBoard {
    pub queues: Vec<LiveQueue>,
    pub agents: AgentCounts,
}

/// The report for a range. Admins only.
#[server(prefix = "/api", endpoint = "metrics/report")]
pub async fn metrics_report(query: ReportQuery) -> Result<Report, AppError> {
    let (_, state) = crate::auth::require(crate::access::Area::Admin).await?;
    report::report(&state.pool, &state.metrics, &query).await
}

/// The live board now (the page then follows `/ws/admin`). Admins only.
#[server(prefix = "/api", endpoint = "metrics/live")]
pub async fn live_now() -> Result<LiveBoard, AppError> {
    let (_, state) = crate::auth::require(crate::access::Area::Admin).await?;
    board::board(&state.pool, &state.metrics).await
}

#[cfg(feature = "ssr")]
impl Table {
    /// The same cells as comma-separated values, header first.
    pub fn to_csv(&self) -> Result<String, AppError> {
        let failed = |error: &dyn std::fmt::Display| {
            tracing::error!(%error, "cannot write CSV");
            AppError::Internal
        };
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(&self.columns).map_err(|error| failed(&error))?;
        for row in &self.rows {
            writer.write_record(row).map_err(|error| failed(&error))?;
        }
        let bytes = writer.into_inner().map_err(|error| failed(&error))?;
        String::from_utf8(bytes).map_err(|error| failed(&error))
    }
}
