//! Builds the actix application: shared state, middleware, every feature's routes,
//! Swagger UI and the 404/405 fallback.

use std::sync::Arc;

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpResponse, web};
use sea_orm::DatabaseConnection;
use utoipa_actix_web::AppExt;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_swagger_ui::{Config as SwaggerConfig, SwaggerUi};

use crate::auth::AuthState;
use crate::auth::tokens::JwtKeys;
use crate::config::{Config, ConfigError, CorsOrigins};
use crate::error::{ApiError, ErrorCode};
use crate::http::metrics::Metrics;
use crate::http::middleware::{
    X_REQUEST_ID, finish_problems, not_found_or_method_not_allowed, observe, refuse_unknown_query,
};
use crate::http::routes::RouteTable;
pub use crate::state::AppState;
use crate::text;
use crate::{
    audit, auth, dictionaries, households, income, members, openapi, ops, orgs, overview, pages, pairings, places,
    pledges, ratings, users,
};

/// Builds the shared state: connects the statement counter, the signing and data keys, the
/// rendered dictionaries and spec, and the route table. Fails when a key cannot be had.
pub fn state(mut db: DatabaseConnection, config: Config) -> Result<web::Data<AppState>, ConfigError> {
    let metrics = Arc::new(Metrics::new());
    let statements = metrics.db_statements.clone();
    db.set_metric_callback(move |_| statements.inc());
    let spec = openapi::spec();
    let keys = JwtKeys::resolve(&config)?;
    let auth = AuthState::new(keys, &config);
    let data_keys = crate::members::pii::data_keys(&config)?;
    Ok(web::Data::new(AppState {
        db,
        auth,
        data_keys,
        config: Arc::new(config),
        metrics,
        dictionaries: dictionaries::render(),
        spec_json: spec.to_json().unwrap_or_default(),
        routes: Arc::new(RouteTable::from_spec(&spec)),
        computed: Default::default(),
    }))
}

/// Every documented route, feature by feature. Registering here is what puts a route in the
/// OpenAPI document, the 405 table and the route tests.
pub fn routes(cfg: &mut ServiceConfig) {
    ops::configure(cfg);
    dictionaries::configure(cfg);
    auth::configure(cfg);
    orgs::configure(cfg);
    places::configure(cfg);
    users::configure(cfg);
    members::configure(cfg);
    pledges::configure(cfg);
    households::configure(cfg);
    pairings::configure(cfg);
    ratings::configure(cfg);
    income::configure(cfg);
    overview::configure(cfg);
    pages::configure(cfg);
    audit::configure(cfg);
}

/// The application. `extra` registers additional services (tests use it for fixtures;
/// `serve` passes nothing).
pub fn build(
    state: web::Data<AppState>,
    extra: impl FnOnce(&mut web::ServiceConfig),
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let metrics = state.metrics.clone();
    let auth_state = state.clone();
    let query_routes = state.routes.clone();
    let cors = cors(&state.config.cors_origins);
    let swagger = SwaggerUi::new("/swagger-ui/{_:.*}")
        .config(SwaggerConfig::new(["/api-docs/openapi.json"]).persist_authorization(true));

    App::new()
        .into_utoipa_app()
        .app_data(state.clone())
        .app_data(web::PathConfig::default().error_handler(|err, _| {
            ApiError::bad_request(ErrorCode::InvalidPath, text!("{err}", "路径参数无效：{err}")).into()
        }))
        .app_data(web::QueryConfig::default().error_handler(|err, _| {
            ApiError::bad_request(ErrorCode::InvalidQuery, text!("{err}", "查询参数无效：{err}")).into()
        }))
        .configure(routes)
        .into_app()
        .configure(extra)
        .route("/api-docs/openapi.json", web::get().to(serve_spec))
        .route("/swagger-ui", web::get().to(redirect_to_swagger))
        .route("/p", web::get().to(redirect_to_pages))
        .service(swagger)
        .default_service(web::to(not_found_or_method_not_allowed))
        .wrap(from_fn(move |req, next| {
            refuse_unknown_query(query_routes.clone(), req, next)
        }))
        .wrap(from_fn(move |req, next| {
            auth::authenticate(auth_state.clone(), req, next)
        }))
        .wrap(cors)
        .wrap(from_fn(finish_problems))
        .wrap(Compress::default())
        .wrap(from_fn(move |req, next| observe(metrics.clone(), req, next)))
}

fn cors(origins: &CorsOrigins) -> Cors {
    let base = Cors::default()
        .allowed_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            crate::http::idempotency::IDEMPOTENCY_KEY,
            X_REQUEST_ID,
        ])
        .expose_headers([header::ETAG, header::LOCATION, header::RETRY_AFTER, X_REQUEST_ID])
        .max_age(3600)
        .block_on_origin_mismatch(false);
    match origins {
        CorsOrigins::None => base,
        CorsOrigins::Any => base.allow_any_origin(),
        CorsOrigins::List(list) => list.iter().fold(base, |cors, origin| cors.allowed_origin(origin)),
    }
}

async fn serve_spec(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(state.spec_json.clone())
}

async fn redirect_to_pages() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/p/"))
        .finish()
}

async fn redirect_to_swagger() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/swagger-ui/"))
        .finish()
}
