//! The Switchboard server: configuration, the database (embedded or given),
//! the HTTP router, and start-up and shutdown.

pub mod api_status;
pub mod api_v1;
pub mod application;
pub mod cli;
pub mod config;
pub mod database;
pub mod embedded_postgres;
pub mod export;
pub mod gate;
pub mod help_api;
pub mod http;
pub mod lines;
pub mod listen;
pub mod live;
pub mod metrics;
pub mod serve;
pub mod shield;
pub mod sockets;
pub mod telemetry;
pub mod webhooks;
pub mod widget;
pub mod workers;
