//! `/admin/export.csv`: a dashboard table as CSV, with exactly the cells the
//! page shows for the same range and queue.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tower_sessions::Session;

use app::access::Area;
use app::error::AppError;
use app::metrics::{ReportQuery, TableKind};
use app::state::AppState;

#[derive(Deserialize)]
pub struct ExportQuery {
    table: String,
    span: Option<String>,
    from: Option<String>,
    to: Option<String>,
    queue: Option<String>,
}

pub async fn export(State(state): State<AppState>, session: Session, Query(query): Query<ExportQuery>) -> Response {
    match csv_of(&state, &session, query).await {
        Ok((name, body)) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
            ],
            body,
        )
            .into_response(),
        Err(error) => crate::api_status::answer(&error, error.to_string()),
    }
}

async fn csv_of(state: &AppState, session: &Session, query: ExportQuery) -> Result<(String, String), AppError> {
    app::auth::session::allowed(session, &state.pool, Area::Admin).await?;
    let table = TableKind::parse(&query.table)?;
    let queue = match query.queue.as_deref().map(str::trim).filter(|raw| !raw.is_empty()) {
        None => None,
        Some(raw) => Some(raw.parse().map_err(|_| AppError::Invalid(format!("Queue \"{raw}\" is not a queue id.")))?),
    };
    let report_query = ReportQuery { span: query.span.unwrap_or_default(), from: query.from, to: query.to, queue };
    let report = app::metrics::report::report(&state.pool, &state.metrics, &report_query).await?;
    let body = report.table(table).to_csv()?;
    Ok((format!("switchboard-{}-{}-{}.csv", table.as_str(), report.from, report.to), body))
}
