//! The state every handler receives, built once at start-up by `app::state` and shared by
//! all workers. It sits below the features: they import it, it imports none of them but the
//! plumbing it holds.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::auth::AuthState;
use crate::config::Config;
use crate::crypto::DataKeys;
use crate::http::metrics::Metrics;
use crate::http::routes::RouteTable;

/// Everything a handler may need.
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    /// `GET /api/v1/dictionaries`, serialised once.
    pub dictionaries: Rendered,
    /// The OpenAPI document serialised once, served as is.
    pub spec_json: String,
    pub routes: Arc<RouteTable>,
    pub auth: AuthState,
    /// Keys protecting members' personal data.
    pub data_keys: DataKeys,
    /// Dashboards' answers, until the next write.
    pub computed: crate::http::computed::ComputedCache,
}

/// A JSON body serialised once at start-up, with its ETag.
pub struct Rendered {
    pub body: Vec<u8>,
    pub etag: String,
}
