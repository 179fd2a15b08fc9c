//! Start-up and shutdown of the server.

use std::net::SocketAddr;

use crate::application::Application;
use crate::config::Config;
use crate::database::Database;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Database(#[from] crate::database::DatabaseError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("start-up: {0}")]
    Setup(app::error::AppError),
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

/// Connects, migrates, offers the setup link if there is no admin, serves
/// until SIGINT or SIGTERM, then drains requests and stops the database.
pub async fn serve(config: Config) -> Result<(), ServeError> {
    let database = Database::open(&config).await?;
    let result = serve_on(&database, &config).await;
    database.close().await;
    result
}

async fn serve_on(database: &Database, config: &Config) -> Result<(), ServeError> {
    database.migrate().await?;
    let pool = database.pool.clone();

    if let Some(token) = app::setup::token::issue_if_needed(&pool).await.map_err(ServeError::Setup)? {
        // The one time a secret is logged on purpose: it is how the person
        // installing Switchboard gets in, it works once, and it expires.
        tracing::warn!(
            setup_link = %format!("{}/setup?token={token}", config.public_url),
            "no admin account yet: open the setup link to create one"
        );
    }

    let application = Application::build(pool.clone(), config).await.map_err(ServeError::Setup)?;
    let listener =
        tokio::net::TcpListener::bind(config.listen).await.map_err(|source| ServeError::Bind { addr: config.listen, source })?;
    let local = listener.local_addr()?;
    tracing::info!(addr = %local, url = %config.public_url, "Switchboard is listening");

    let header_timeout = std::time::Duration::from_secs(config.header_timeout_seconds);
    crate::listen::serve(listener, application.router.clone(), header_timeout, shutdown_signal()).await;
    application.stop();
    tracing::info!("stopped serving");
    Ok(())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = interrupt => tracing::info!("SIGINT received, shutting down"),
        () = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
}
