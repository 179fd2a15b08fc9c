//! The application, built in one place: the state every request sees, this
//! server's live parts, its background workers and the router. `serve` and
//! the test harness and benchmarks all build it here, so what runs in the
//! server runs in the tests too.

use axum::Router;
use sqlx::PgPool;

use app::state::AppState;

use crate::config::Config;
use crate::live::Live;

pub struct Application {
    pub router: Router,
    pub state: AppState,
    workers: Vec<tokio::task::JoinHandle<()>>,
}

impl Application {
    /// Builds everything on a migrated database and starts the workers.
    pub async fn build(pool: PgPool, config: &Config) -> Result<Self, app::error::AppError> {
        let state = crate::http::state(pool, config).await?;
        let live = Live::new(app::engine::presence::Rules {
            grace_seconds: config.grace_seconds as f64,
            unconnected_seconds: config.unconnected_seconds as f64,
        });
        let workers = crate::workers::start(
            &state.engine,
            &live,
            config.metrics.short_abandon_seconds,
            state.mail.clone(),
            config.webhooks.clone(),
            state.secrets.clone(),
        );
        let router = crate::http::router(state.clone(), config, live);
        Ok(Self { router, state, workers })
    }

    /// Stops the workers (the router stops with its listener).
    pub fn stop(self) {
        for worker in self.workers {
            worker.abort();
        }
    }
}
