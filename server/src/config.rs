//! Configuration, read from environment variables. Every variable has a
//! default that works on a developer's machine; the README lists them all.

use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use app::conversation::ice::IceConfig;
use app::limits::LimitSettings;
use app::metrics::MetricsSettings;
use app::secrets::Secrets;
use app::state::SignInRules;

#[derive(Debug, thiserror::Error)]
#[error("{name}: {message}")]
pub struct ConfigError {
    name: &'static str,
    message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// `SWITCHBOARD_LISTEN`: where the HTTP server listens.
    pub listen: SocketAddr,
    /// `DATABASE_URL`: an external PostgreSQL. Unset: the embedded one.
    pub database_url: Option<String>,
    /// `SWITCHBOARD_PGDATA`: the embedded PostgreSQL's data directory.
    pub pg_data_dir: PathBuf,
    /// `SWITCHBOARD_DB_MAX_CONNECTIONS`: size of the connection pool.
    pub db_max_connections: u32,
    /// `SWITCHBOARD_HEADER_TIMEOUT_SECONDS`: a client must send its
    /// request's headers within this long.
    pub header_timeout_seconds: u64,
    /// `SWITCHBOARD_PUBLIC_URL`: the address people reach the site at, used in
    /// links the server prints (the setup link).
    pub public_url: String,
    /// `SWITCHBOARD_SECURE_COOKIES`: mark cookies `Secure` (serve over HTTPS).
    pub secure_cookies: bool,
    /// `SWITCHBOARD_SESSION_IDLE_MINUTES`: sign-in sessions end after this
    /// long without a request.
    pub session_idle_minutes: i64,
    /// `SWITCHBOARD_SITE_ROOT`: the built WASM, JavaScript and CSS
    /// (`scripts/build` writes them to `target/site`).
    pub site_root: String,
    /// `RUST_LOG`: which logs to write.
    pub log_filter: String,
    /// `SWITCHBOARD_LOG_FORMAT`: `text` or `json`.
    pub log_format: LogFormat,
    /// `SWITCHBOARD_SIGNIN_*`.
    pub sign_in: SignInRules,
    /// `SWITCHBOARD_TRUSTED_PROXIES`: how many proxies in front of the server
    /// append to `X-Forwarded-For` (0: none, the peer is the client).
    pub trusted_proxies: usize,
    /// `SWITCHBOARD_HELP_REQUESTS_PER_MINUTE_PER_ADDRESS`,
    /// `SWITCHBOARD_HELP_REQUESTS_PER_MINUTE` and
    /// `SWITCHBOARD_SOCKETS_PER_SUBJECT`.
    pub limits: LimitSettings,
    /// `SWITCHBOARD_GRACE_SECONDS`: how long a page may be gone (a reload, a
    /// network blip) before the customer or agent counts as gone.
    pub grace_seconds: u64,
    /// `SWITCHBOARD_UNCONNECTED_SECONDS`: a help session no page ever
    /// connected to (or an API session never put in line) is given up after
    /// this long.
    pub unconnected_seconds: u64,
    /// `SWITCHBOARD_MAX_TRANSFERS` (default 5): how many times one customer
    /// may be transferred.
    pub max_transfers: i32,
    /// `SWITCHBOARD_SMTP_URL`: where email to customers keeping their place
    /// is sent (`smtp://host:port`, `smtps://user:password@host`); unset: no
    /// email is offered.
    pub smtp_url: Option<String>,
    /// `SWITCHBOARD_MAIL_FROM`: the sender of that email.
    pub mail_from: String,
    /// `SWITCHBOARD_STUN_URLS`, `SWITCHBOARD_TURN_URLS` (comma-separated),
    /// `SWITCHBOARD_TURN_SECRET` (coturn's static-auth-secret) and
    /// `SWITCHBOARD_TURN_TTL_SECONDS`: the calls' ICE servers.
    pub ice: IceConfig,
    /// `SWITCHBOARD_TIME_ZONE` (an IANA name, default `UTC`): the days and
    /// hours of the admin's metrics; `SWITCHBOARD_SHORT_ABANDON_SECONDS`
    /// (default 5): customers who leave this soon are short abandons.
    pub metrics: MetricsSettings,
    /// `SWITCHBOARD_METRICS_TOKEN`: `/metrics` needs
    /// `Authorization: Bearer <token>`; without one, `/metrics` is closed
    /// unless `SWITCHBOARD_METRICS_OPEN=true`.
    pub metrics_access: crate::metrics::MetricsAccess,
    /// `SWITCHBOARD_WEBHOOK_RETRY_SECONDS` (the waits between attempts,
    /// comma-separated; default 5,300,1800,7200,18000,36000,50400,72000,86400)
    /// and `SWITCHBOARD_WEBHOOK_TIMEOUT_SECONDS` (default 15).
    pub webhooks: crate::webhooks::Schedule,
    /// `SWITCHBOARD_SECRET_KEY`, or the file `SWITCHBOARD_SECRET_KEY_FILE`
    /// (default `data/secret-key`, made on first start): the key stored
    /// secrets are sealed with.
    pub secret_key: SecretKeySource,
}

/// Where the key that seals stored secrets comes from.
#[derive(Debug, Clone)]
pub enum SecretKeySource {
    /// `SWITCHBOARD_SECRET_KEY`: the base64 of 32 random bytes.
    Given(Secrets),
    /// A file holding the same; made, readable by this user only, when
    /// missing.
    File(PathBuf),
}

impl SecretKeySource {
    /// The key, reading (or first making) its file.
    pub fn load(&self) -> Result<Secrets, ConfigError> {
        let path = match self {
            SecretKeySource::Given(secrets) => return Ok(secrets.clone()),
            SecretKeySource::File(path) => path,
        };
        let failed = |error: &dyn std::fmt::Display| ConfigError {
            name: "SWITCHBOARD_SECRET_KEY_FILE",
            message: format!("{}: {error}", path.display()),
        };
        match std::fs::read_to_string(path) {
            Ok(text) => return Secrets::parse(&text).map_err(|error| failed(&error)),
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(failed(&error)),
            Err(_) => {}
        }
        let (secrets, text) = Secrets::generate().map_err(|error| failed(&error))?;
        if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|error| failed(&error))?;
        }
        let mut file = match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
            Ok(file) => file,
            // Another server made it first: theirs it is.
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                let text = std::fs::read_to_string(path).map_err(|error| failed(&error))?;
                return Secrets::parse(&text).map_err(|error| failed(&error));
            }
            Err(error) => return Err(failed(&error)),
        };
        file.write_all(format!("{text}\n").as_bytes()).and_then(|()| file.sync_all()).map_err(|error| failed(&error))?;
        tracing::info!(path = %path.display(), "made the key stored secrets are sealed with: back it up with the database");
        Ok(secrets)
    }
}

fn secret_key() -> Result<SecretKeySource, ConfigError> {
    match var("SWITCHBOARD_SECRET_KEY") {
        Some(text) => Secrets::parse(&text)
            .map(SecretKeySource::Given)
            .map_err(|message| ConfigError { name: "SWITCHBOARD_SECRET_KEY", message }),
        None => Ok(SecretKeySource::File(PathBuf::from(
            var("SWITCHBOARD_SECRET_KEY_FILE").unwrap_or_else(|| "data/secret-key".into()),
        ))),
    }
}

fn list(name: &'static str) -> Vec<String> {
    var(name)
        .map(|raw| raw.split(',').map(str::trim).filter(|url| !url.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default()
}

fn var(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.trim().is_empty())
}

fn parsed<T: std::str::FromStr>(name: &'static str, default: T) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match var(name) {
        None => Ok(default),
        Some(raw) => {
            raw.trim().parse().map_err(|error: T::Err| ConfigError { name, message: format!("\"{raw}\" is not valid: {error}") })
        }
    }
}

fn flag(name: &'static str) -> Result<bool, ConfigError> {
    match var(name).map(|raw| raw.trim().to_ascii_lowercase()) {
        None => Ok(false),
        Some(raw) => match raw.as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" => Ok(false),
            _ => Err(ConfigError { name, message: format!("\"{raw}\" is not true or false") }),
        },
    }
}

fn positive<T: PartialOrd + Default + Copy>(name: &'static str, value: T) -> Result<T, ConfigError> {
    if value > T::default() {
        Ok(value)
    } else {
        Err(ConfigError { name, message: "must be greater than zero".into() })
    }
}

fn webhook_schedule() -> Result<crate::webhooks::Schedule, ConfigError> {
    let defaults = crate::webhooks::Schedule::default();
    let name = "SWITCHBOARD_WEBHOOK_RETRY_SECONDS";
    let retries = match var(name) {
        None => defaults.retries,
        Some(_) => list(name)
            .iter()
            .map(|wait| wait.parse::<f64>().ok().filter(|s| s.is_finite() && *s >= 0.0).map(std::time::Duration::from_secs_f64))
            .collect::<Option<Vec<_>>>()
            .ok_or(ConfigError { name, message: "must be seconds separated by commas, e.g. 5,300,1800".into() })?,
    };
    let timeout = positive(
        "SWITCHBOARD_WEBHOOK_TIMEOUT_SECONDS",
        parsed("SWITCHBOARD_WEBHOOK_TIMEOUT_SECONDS", defaults.timeout.as_secs_f64())?,
    )?;
    Ok(crate::webhooks::Schedule { retries, timeout: std::time::Duration::from_secs_f64(timeout) })
}

fn ice() -> Result<IceConfig, ConfigError> {
    let stun_urls = list("SWITCHBOARD_STUN_URLS");
    let turn_urls = list("SWITCHBOARD_TURN_URLS");
    for (name, urls, schemes) in [
        ("SWITCHBOARD_STUN_URLS", &stun_urls, &["stun:", "stuns:"][..]),
        ("SWITCHBOARD_TURN_URLS", &turn_urls, &["turn:", "turns:"][..]),
    ] {
        if let Some(bad) = urls.iter().find(|url| !schemes.iter().any(|scheme| url.starts_with(scheme))) {
            return Err(ConfigError { name, message: format!("\"{bad}\" does not start with {}", schemes.join(" or ")) });
        }
    }
    let turn_secret = var("SWITCHBOARD_TURN_SECRET");
    if !turn_urls.is_empty() && turn_secret.is_none() {
        return Err(ConfigError {
            name: "SWITCHBOARD_TURN_SECRET",
            message: "is needed with SWITCHBOARD_TURN_URLS (coturn's static-auth-secret)".into(),
        });
    }
    Ok(IceConfig {
        stun_urls,
        turn_urls,
        turn_secret,
        turn_ttl_seconds: positive("SWITCHBOARD_TURN_TTL_SECONDS", parsed("SWITCHBOARD_TURN_TTL_SECONDS", 3600u64)?)?,
    })
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        let listen: SocketAddr = parsed("SWITCHBOARD_LISTEN", SocketAddr::from(([127, 0, 0, 1], 3000)))?;
        let public_url = var("SWITCHBOARD_PUBLIC_URL")
            .map(|url| url.trim_end_matches('/').to_owned())
            .unwrap_or_else(|| format!("http://{listen}"));
        let log_format = match var("SWITCHBOARD_LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError { name: "SWITCHBOARD_LOG_FORMAT", message: format!("\"{other}\" is not text or json") })
            }
        };
        let defaults = SignInRules::default();
        let sign_in = SignInRules {
            max_failures_per_account: positive(
                "SWITCHBOARD_SIGNIN_MAX_FAILURES",
                parsed("SWITCHBOARD_SIGNIN_MAX_FAILURES", defaults.max_failures_per_account)?,
            )?,
            max_failures_per_address: positive(
                "SWITCHBOARD_SIGNIN_MAX_FAILURES_PER_ADDRESS",
                parsed("SWITCHBOARD_SIGNIN_MAX_FAILURES_PER_ADDRESS", defaults.max_failures_per_address)?,
            )?,
            window: time::Duration::minutes(positive(
                "SWITCHBOARD_SIGNIN_WINDOW_MINUTES",
                parsed("SWITCHBOARD_SIGNIN_WINDOW_MINUTES", defaults.window.whole_minutes())?,
            )?),
        };
        if var("SWITCHBOARD_TOKEN_SECRET").is_some() {
            return Err(ConfigError {
                name: "SWITCHBOARD_TOKEN_SECRET",
                message: "is no longer used (customers' tokens are random and kept only as hashes): unset it".into(),
            });
        }
        if var("SWITCHBOARD_TRUST_FORWARDED_FOR").is_some() {
            return Err(ConfigError {
                name: "SWITCHBOARD_TRUST_FORWARDED_FOR",
                message: "is replaced by SWITCHBOARD_TRUSTED_PROXIES, the number of proxies in front (usually 1)".into(),
            });
        }
        let limit_defaults = LimitSettings::default();
        let limits = LimitSettings {
            help_per_address_per_minute: positive(
                "SWITCHBOARD_HELP_REQUESTS_PER_MINUTE_PER_ADDRESS",
                parsed("SWITCHBOARD_HELP_REQUESTS_PER_MINUTE_PER_ADDRESS", limit_defaults.help_per_address_per_minute)?,
            )?,
            help_per_minute: positive(
                "SWITCHBOARD_HELP_REQUESTS_PER_MINUTE",
                parsed("SWITCHBOARD_HELP_REQUESTS_PER_MINUTE", limit_defaults.help_per_minute)?,
            )?,
            sockets_per_subject: positive(
                "SWITCHBOARD_SOCKETS_PER_SUBJECT",
                parsed("SWITCHBOARD_SOCKETS_PER_SUBJECT", limit_defaults.sockets_per_subject)?,
            )?,
            api_per_client_per_minute: positive(
                "SWITCHBOARD_API_REQUESTS_PER_MINUTE",
                parsed("SWITCHBOARD_API_REQUESTS_PER_MINUTE", limit_defaults.api_per_client_per_minute)?,
            )?,
        };
        Ok(Self {
            listen,
            database_url: var("DATABASE_URL"),
            pg_data_dir: PathBuf::from(var("SWITCHBOARD_PGDATA").unwrap_or_else(|| "data/postgres".into())),
            db_max_connections: positive("SWITCHBOARD_DB_MAX_CONNECTIONS", parsed("SWITCHBOARD_DB_MAX_CONNECTIONS", 10u32)?)?,
            header_timeout_seconds: positive(
                "SWITCHBOARD_HEADER_TIMEOUT_SECONDS",
                parsed("SWITCHBOARD_HEADER_TIMEOUT_SECONDS", 10u64)?,
            )?,
            public_url,
            secure_cookies: flag("SWITCHBOARD_SECURE_COOKIES")?,
            session_idle_minutes: positive(
                "SWITCHBOARD_SESSION_IDLE_MINUTES",
                parsed("SWITCHBOARD_SESSION_IDLE_MINUTES", 12 * 60i64)?,
            )?,
            site_root: var("SWITCHBOARD_SITE_ROOT").unwrap_or_else(|| "target/site".into()),
            log_filter: var("RUST_LOG").unwrap_or_else(|| "info,sqlx=warn,tower_sessions=warn".into()),
            log_format,
            sign_in,
            trusted_proxies: parsed("SWITCHBOARD_TRUSTED_PROXIES", 0usize)?,
            limits,
            grace_seconds: positive("SWITCHBOARD_GRACE_SECONDS", parsed("SWITCHBOARD_GRACE_SECONDS", 10u64)?)?,
            unconnected_seconds: positive("SWITCHBOARD_UNCONNECTED_SECONDS", parsed("SWITCHBOARD_UNCONNECTED_SECONDS", 120u64)?)?,
            max_transfers: i32::from(parsed("SWITCHBOARD_MAX_TRANSFERS", 5u16)?),
            smtp_url: var("SWITCHBOARD_SMTP_URL"),
            mail_from: var("SWITCHBOARD_MAIL_FROM").unwrap_or_else(|| "Switchboard <noreply@localhost>".into()),
            ice: ice()?,
            metrics: MetricsSettings {
                time_zone: var("SWITCHBOARD_TIME_ZONE").unwrap_or_else(|| "UTC".into()),
                short_abandon_seconds: f64::from(parsed("SWITCHBOARD_SHORT_ABANDON_SECONDS", 5u32)?),
            },
            metrics_access: match var("SWITCHBOARD_METRICS_TOKEN") {
                Some(token) => crate::metrics::MetricsAccess::Token(token),
                None if flag("SWITCHBOARD_METRICS_OPEN")? => crate::metrics::MetricsAccess::Open,
                None => crate::metrics::MetricsAccess::Closed,
            },
            webhooks: webhook_schedule()?,
            secret_key: secret_key()?,
        })
    }
}
