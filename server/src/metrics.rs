//! `/metrics`: the Prometheus exposition for operators. Queue and team
//! figures are read from the database at each scrape (so every server
//! reports the same); the counters come from the roll-up's running totals,
//! so they never go back after a restart. HTTP latency is this server's own.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use tokio::sync::Mutex;
use uuid::Uuid;

use app::error::AppError;
use app::state::AppState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueueLabels {
    queue: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChannelLabels {
    queue: String,
    channel: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeliveryLabels {
    endpoint: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: String,
    reason: String,
}

/// The registry and its metrics. Cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    refreshing: Arc<Mutex<()>>,
    access: Arc<MetricsAccess>,
    http: Family<HttpLabels, Histogram>,
    waiting: Family<QueueLabels, Gauge>,
    oldest_wait: Family<QueueLabels, Gauge<f64, AtomicU64>>,
    representatives: Family<StateLabels, Gauge>,
    offered: Family<QueueLabels, Counter>,
    matches: Family<QueueLabels, Counter>,
    rona: Family<QueueLabels, Counter>,
    abandons: Family<QueueLabels, Counter>,
    estimates_scored: Family<ChannelLabels, Gauge>,
    estimate_accuracy: Family<ChannelLabels, Gauge<f64, AtomicU64>>,
    webhook_deliveries: Family<DeliveryLabels, Gauge>,
}

fn latency() -> Histogram {
    // 1 ms to about 8 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 14))
}

impl Metrics {
    pub fn new(access: MetricsAccess) -> Self {
        let mut registry = Registry::with_prefix("switchboard");
        let http = Family::<HttpLabels, Histogram>::new_with_constructor(latency as fn() -> Histogram);
        registry.register("http_request_duration_seconds", "Time to answer an HTTP request, by route", http.clone());
        let waiting = Family::default();
        registry.register("queue_waiting", "Customers waiting now (or being offered)", Family::clone(&waiting));
        let oldest_wait = Family::default();
        registry.register(
            "queue_oldest_wait_seconds",
            "How long the longest-waiting customer has waited",
            Family::clone(&oldest_wait),
        );
        let representatives = Family::default();
        registry.register(
            "representatives",
            "Signed-in representatives by state (busy, wrap_up, ready, not_ready with reason)",
            Family::clone(&representatives),
        );
        let offered = Family::default();
        registry.register(
            "queue_offered",
            "Customers who entered the queue (or were transferred into it)",
            Family::clone(&offered),
        );
        let matches = Family::default();
        registry.register("queue_matches", "Customers connected to a representative", Family::clone(&matches));
        let rona = Family::default();
        registry.register("queue_rona", "Offers not answered in time", Family::clone(&rona));
        let abandons = Family::default();
        registry.register(
            "queue_abandons",
            "Customers who left while waiting (short abandons included)",
            Family::clone(&abandons),
        );
        let estimates_scored = Family::default();
        registry.register(
            "estimates_scored_today",
            "Customers first shown an estimated wait today (display time zone) and answered since",
            Family::clone(&estimates_scored),
        );
        let estimate_accuracy = Family::default();
        registry.register("estimate_accuracy_today", app::metrics::ACCURACY_DEFINITION, Family::clone(&estimate_accuracy));
        let webhook_deliveries = Family::default();
        registry.register(
            "webhook_deliveries",
            "Webhook deliveries by receiver: pending (waiting to be sent or retried) and failed (given up)",
            Family::clone(&webhook_deliveries),
        );
        Self {
            registry: Arc::new(registry),
            refreshing: Arc::new(Mutex::new(())),
            access: Arc::new(access),
            http,
            waiting,
            oldest_wait,
            representatives,
            offered,
            matches,
            rona,
            abandons,
            estimates_scored,
            estimate_accuracy,
            webhook_deliveries,
        }
    }

    /// Reads the database's figures into the metrics.
    async fn refresh(&self, pool: &sqlx::PgPool, time_zone: &str) -> Result<(), AppError> {
        // Two scrapes at once would both add the same difference to the counters.
        let _one_at_a_time = self.refreshing.lock().await;
        let lines = app::metrics::board::lines(pool).await?;
        let totals: HashMap<Uuid, [i64; 4]> =
            sqlx::query!("SELECT queue_id, offered, answered, rona, abandoned FROM metric_totals")
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(|row| (row.queue_id, [row.offered, row.answered, row.rona, row.abandoned]))
                .collect();
        self.waiting.clear();
        self.oldest_wait.clear();
        for line in lines {
            let [offered, answered, rona, abandoned] = totals.get(&line.id).copied().unwrap_or_default();
            let labels = QueueLabels { queue: line.name };
            self.waiting.get_or_create(&labels).set(line.waiting);
            self.oldest_wait.get_or_create(&labels).set(line.longest.unwrap_or(0.0));
            for (family, total) in
                [(&self.offered, offered), (&self.matches, answered), (&self.rona, rona), (&self.abandons, abandoned)]
            {
                let counter = family.get_or_create(&labels);
                let total = u64::try_from(total).unwrap_or_default();
                counter.inc_by(total.saturating_sub(counter.get()));
            }
        }
        let today = app::metrics::report::today(pool, time_zone).await?;
        self.estimates_scored.clear();
        self.estimate_accuracy.clear();
        for line in app::metrics::report::accuracy(pool, time_zone, today, today, None).await? {
            let channel = line.channel.map_or("all", app::queue::Channel::as_str).to_owned();
            let labels = ChannelLabels { queue: line.queue.clone(), channel };
            self.estimates_scored.get_or_create(&labels).set(line.scored);
            if let Some(rate) = line.rate() {
                self.estimate_accuracy.get_or_create(&labels).set(rate);
            }
        }
        self.webhook_deliveries.clear();
        for endpoint in app::integrations::webhooks::list(pool).await? {
            for (status, count) in [("pending", endpoint.pending), ("failed", endpoint.failed)] {
                // By id: a receiver's URL may hold its own secret (a Slack or
                // Zapier hook), which a scraper must not learn.
                let labels = DeliveryLabels { endpoint: endpoint.id.to_string(), status: status.into() };
                self.webhook_deliveries.get_or_create(&labels).set(count);
            }
        }
        let counts = app::metrics::board::agent_counts(pool).await?;
        self.representatives.clear();
        let mut states = vec![
            ("ready", String::new(), counts.ready),
            ("busy", String::new(), counts.busy),
            ("wrap_up", String::new(), counts.wrap_up),
        ];
        states.extend(counts.not_ready.into_iter().map(|(reason, count)| ("not_ready", reason, count)));
        for (state, reason, count) in states {
            self.representatives.get_or_create(&StateLabels { state: state.into(), reason }).set(count);
        }
        Ok(())
    }
}

/// Who may read `/metrics`: it names queues and not-ready reasons, so it
/// is closed unless the operator gives it a token or opens it on purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetricsAccess {
    /// `Authorization: Bearer <token>` (`SWITCHBOARD_METRICS_TOKEN`).
    Token(String),
    /// Anyone who reaches the port (`SWITCHBOARD_METRICS_OPEN=true`).
    Open,
    /// Nobody: neither was set.
    Closed,
}

impl MetricsAccess {
    fn allows(&self, bearer: Option<&str>) -> bool {
        match (self, bearer) {
            (Self::Open, _) => true,
            // Compared in constant time: the time taken says nothing of
            // how much of a guess was right.
            (Self::Token(token), Some(given)) => bool::from(subtle::ConstantTimeEq::ct_eq(token.as_bytes(), given.as_bytes())),
            _ => false,
        }
    }
}

/// `GET /metrics`.
pub async fn scrape(
    State(state): State<AppState>,
    axum::Extension(metrics): axum::Extension<Metrics>,
    headers: HeaderMap,
) -> Response {
    if !metrics.access.allows(app::client::bearer(&headers)) {
        return (StatusCode::UNAUTHORIZED, "A bearer token is needed for /metrics.").into_response();
    }
    if let Err(error) = metrics.refresh(&state.pool, &state.metrics.time_zone).await {
        tracing::error!(?error, "cannot read metrics");
        return (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response();
    }
    let mut body = String::new();
    if encode(&mut body, &metrics.registry).is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], body).into_response()
}

/// Times every routed request into the latency histogram.
pub async fn track(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or_else(|| "other".to_owned(), |path| path.as_str().to_owned());
    // Only the methods the routes answer: an invented one must not make a
    // series of its own.
    let method = match *request.method() {
        Method::GET | Method::HEAD | Method::POST | Method::PUT | Method::PATCH | Method::DELETE | Method::OPTIONS => {
            request.method().as_str().to_owned()
        }
        _ => "other".to_owned(),
    };
    let started = Instant::now();
    let response = next.run(request).await;
    let labels = HttpLabels { method, route, status: response.status().as_u16() };
    metrics.http.get_or_create(&labels).observe(started.elapsed().as_secs_f64());
    response
}
