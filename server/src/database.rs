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

#[cfg(test)]
mod tests {
    use super::MIGRATOR;

    /// Every released migration and its checksum (SHA-384, as sqlx keeps it
    /// in `_sqlx_migrations`). Released migrations are frozen: yesterday's
    /// databases ran them, and a changed one stops every such database
    /// from starting. A change is a new migration; a new one joins this
    /// list once it is released.
    const RELEASED: [(i64, &str); 16] = [
        (1, "221677056459b7a6f99b1b59ebec9ce44f1643bf416ec080139b7585daad700538d0871d88410b0b51bbecfa78f079e5"),
        (2, "3b4e94b95bac4aa4a63cb2a0eabc1fd4d197593ed731ffc2f84a84ec4048b4ad775e113b0d57d105c10aada9545d64d0"),
        (3, "f7a2a16a29a62910f08db1a8ca30e39e96a61c312b025df016635e6a9c18dae983f53c840c476bf6f32436e2cd09cbfe"),
        (4, "d595d58914598f0bfbafb2d388f81e3d5a1b258086eaf7f16489ad12a6490fb507a67ab44ce7c5c39af2c9d17f1fe47f"),
        (5, "18036dd1803cb028be9a5ec465356c4516952b17b68fe860a5a78f6263987a5ad3e8c378235ffe54975a2a5bc85a3a93"),
        (6, "d906b8622901779a7a6988a92d0abec4ced9f58f2e1be3b223230dbddac17775afd2ed7cb4ed5d3167f9e9fbb0847dfb"),
        (7, "880d098353251f898475675b61ad1d6445a7b3207a46b3e3a13e94b0bba4fde590761311ade286462f49bfe3ce7b87fc"),
        (8, "78c6f3dac128ea3aa46ceb8f5d2e4a3b1ef30a24f27437581727aae6cd04ec0aae80d5749cc54041a0cab3814e1e5873"),
        (9, "f903507839da986d2b5a74c9c5bfc57d56791b3ebd0f875d2b4b340405507c23c05e5afda2cbfbe5891ebe5911041ac3"),
        (10, "9407c5a701529064a1cfbea4c1454f6726a46841440840d627c2ebee52d3940e99a0364ea11a17d0c9e9e0febc14f77a"),
        (11, "c66ccebd5742b5cd77b77af59b143aaa8cbca576b7cb4fc6cf3828d7c5552270d9d676949156c13430862904f4797d48"),
        (12, "9dfa536706a327a327b827d7d588239116db7180c063552e320b2b272b32e65bb03403a336b35349832e0e8c5c6cddf8"),
        (13, "daf6c39bb59716d665e5aa82a629d2b64785d31b1fb8c44599676ff85a837b77ab0eb0d35965305ef403ac2becdb51c8"),
        (14, "d3e37e8b8d4968ee49000ffcc1c9c4916791cd3b0b546351309b48c044eeb588a0be501b912ad8ac09d623f624cc10d4"),
        (15, "0d4bb3f3d7eb1ea9e6cc50a719da2fb1190cc191dd49186a3d77913f9833817dc898caa258a730cd186af3c801fa8ff2"),
        (16, "0ac7fb9d4354b327d5eed3ea4620a7e60733c8da091977e434e3cb4840e4e6d85d7da023757835b9f832d5624e43107b"),
    ];

    #[test]
    fn released_migrations_never_change() {
        for (version, checksum) in RELEASED {
            let migration = MIGRATOR.iter().find(|migration| migration.version == version);
            let migration = migration.unwrap_or_else(|| panic!("migration {version} is gone: released migrations stay"));
            assert_eq!(
                hex::encode(&migration.checksum),
                checksum,
                "migration {version} ({}) changed: released migrations are frozen; write a new one",
                migration.description
            );
        }
    }
}
