//! Operations endpoints: liveness, readiness and Prometheus metrics.

use std::time::Duration;

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db;
use crate::error::ApiError;
use crate::http::Json;
use crate::state::AppState;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(healthz).service(readyz).service(metrics);
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Liveness: 200 while the process runs, whatever the database does.
#[utoipa::path(tag = "operations", responses((status = 200, description = "The process is alive", body = Health)))]
#[get("/healthz")]
async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Readiness: 200 when the database answers within 2 seconds, else 503 with `Retry-After`.
/// Load balancers stop routing to an instance while it is not ready.
#[utoipa::path(tag = "operations", responses(
    (status = 200, description = "The database answers", body = Health),
))]
#[get("/readyz")]
async fn readyz(state: web::Data<AppState>) -> Result<Json<Health>, ApiError> {
    match tokio::time::timeout(Duration::from_secs(2), state.db.ping()).await {
        Ok(Ok(())) => Ok(Json(Health { status: "ready" })),
        Ok(Err(err)) => Err(ApiError::DatabaseUnavailable(err.to_string())),
        Err(_) => Err(ApiError::DatabaseUnavailable("ping timed out".into())),
    }
}

/// Prometheus metrics: `http_requests_total` and `http_request_duration_seconds` by method,
/// route and status; `db_pool_connections` by state.
#[utoipa::path(tag = "operations", responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain")))]
#[get("/metrics")]
async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let usage = db::pool_usage(&state.db, state.config.db_max_connections);
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render(usage))
}
