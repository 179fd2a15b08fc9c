//! What the benchmarks share: a fresh database on the server DATABASE_URL
//! names, and the real server in this process on a real socket.

use std::net::SocketAddr;
use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Executor, PgPool};

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// Drops and creates the database `name`, migrated; returns a pool of
/// `connections` and its connect options.
pub async fn fresh_database(name: &str, connections: u32) -> Result<(PgPool, PgConnectOptions), Error> {
    let server_url = std::env::var("DATABASE_URL").map_err(|_| "DATABASE_URL is not set (run `make bench`)")?;
    let admin = PgConnectOptions::from_str(&server_url)?;
    let mut conn = admin.clone().connect().await?;
    conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str()).await?;
    conn.execute(format!("CREATE DATABASE {name}").as_str()).await?;
    let options = admin.database(name);
    let pool = PgPoolOptions::new().max_connections(connections).connect_with(options.clone()).await?;
    server::database::MIGRATOR.run(&pool).await?;
    app::engine::definitions::apply(&pool).await?;
    Ok((pool, options))
}

/// Serves `router` on a free local port; returns its base URL.
pub async fn serve(router: axum::Router) -> Result<String, Error> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        let _ = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await;
    });
    Ok(base)
}
