//! The database: the external one from `DATABASE_URL`, or the embedded one;
//! the pool; the migrations.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

use crate::config::Config;
use crate::embedded_postgres::{EmbeddedError, EmbeddedPostgres};

/// The migrations in `migrations/`, compiled into the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error("DATABASE_URL is not a valid PostgreSQL URL: {0}")]
    BadUrl(sqlx::Error),
    #[error("embedded PostgreSQL: {0}")]
    Embedded(#[from] EmbeddedError),
    #[error("cannot connect to PostgreSQL: {0}")]
    Connect(sqlx::Error),
    #[error("migrating the database failed: {0} (a database made by a build from before the baseline schema of 2026-11-29 cannot be migrated: make it anew, e.g. `make clean-data`)")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("applying the engine's SQL definitions failed: {0}")]
    Define(sqlx::Error),
}

/// A connected database and, when embedded, the cluster to stop at the end.
pub struct Database {
    pub pool: PgPool,
    pub embedded: Option<EmbeddedPostgres>,
}

impl Database {
    /// Connects as configured. Does not migrate.
    pub async fn open(config: &Config) -> Result<Self, DatabaseError> {
        let (options, embedded) = match &config.database_url {
            Some(url) => (PgConnectOptions::from_str(url).map_err(DatabaseError::BadUrl)?, None),
            None => {
                let cluster = EmbeddedPostgres::start(&config.pg_data_dir).await?;
                (cluster.connect_options(), Some(cluster))
            }
        };
        let pool = PgPoolOptions::new()
            .max_connections(config.db_max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await;
        match pool {
            Ok(pool) => Ok(Self { pool, embedded }),
            Err(error) => {
                if let Some(cluster) = &embedded {
                    let _ = cluster.stop().await;
                }
                Err(DatabaseError::Connect(error))
            }
        }
    }

    /// Runs the migrations, then applies the engine's SQL definitions.
    pub async fn migrate(&self) -> Result<(), DatabaseError> {
        MIGRATOR.run(&self.pool).await?;
        app::engine::definitions::apply(&self.pool).await.map_err(DatabaseError::Define)?;
        Ok(())
    }

    /// Closes the pool, then stops the embedded cluster if this process
    /// started it.
    pub async fn close(self) {
        self.pool.close().await;
        if let Some(cluster) = self.embedded {
            if let Err(error) = cluster.stop().await {
                tracing::error!(%error, "stopping embedded PostgreSQL failed");
            }
        }
    }
}
