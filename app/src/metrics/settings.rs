//! The metrics' server configuration, apart from the server functions of
//! `metrics`, so that the state can hold it without depending on them.

/// How metrics are computed and shown (server configuration).
#[derive(Debug, Clone)]
pub struct MetricsSettings {
    /// The IANA time zone days and hours are shown in (e.g. `Europe/Paris`).
    pub time_zone: String,
    /// Customers who leave within this many seconds count as short abandons.
    pub short_abandon_seconds: f64,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        Self { time_zone: "UTC".into(), short_abandon_seconds: 5.0 }
    }
}
