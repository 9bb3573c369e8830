//! `dangjian serve`: connect, migrate, listen, and shut down gracefully on SIGTERM/SIGINT.

use std::time::Duration;

use std::net::SocketAddr;

use actix_web::dev::Server;
use actix_web::{HttpServer, web};

use crate::app::{self, AppState};
use crate::config::Config;
use crate::db;
use crate::http::idempotency;

/// How long `serve` waits for the database at start-up before giving up.
const STARTUP_PATIENCE: Duration = Duration::from_secs(60);

pub async fn serve(config: Config) -> std::io::Result<()> {
    // Refuse to start without a usable signing secret before waiting for the database.
    crate::auth::tokens::JwtKeys::resolve(&config).map_err(std::io::Error::other)?;
    crate::members::pii::data_keys(&config).map_err(std::io::Error::other)?;
    let db = db::connect_and_migrate(&config, STARTUP_PATIENCE)
        .await
        .map_err(|e| std::io::Error::other(format!("database: {e}")))?;
    match crate::users::admin::bootstrap(&db).await {
        Ok(Some(password)) => {
            println!(
                "\nCreated the first administrator.\n  username: admin\n  password: {password}\n\
                 Sign in and change it (POST /api/v1/me/password). It is not shown again.\n"
            );
            // A first start on an embedded database shows the demo town (`DANGJIAN_DEMO`).
            if config.demo.unwrap_or(config.is_sqlite()) {
                let keys = crate::members::pii::data_keys(&config).map_err(std::io::Error::other)?;
                match crate::seed::demo::seed(&db, &keys).await {
                    Ok(report) => println!("{}", report.summary()),
                    Err(err) => tracing::warn!(error = %err, "the demo town was not loaded"),
                }
            }
        }
        Ok(None) => {}
        Err(err) => {
            return Err(std::io::Error::other(format!(
                "creating the first administrator: {err}"
            )));
        }
    }
    if !config.public_base_url_set {
        tracing::warn!(
            public_base_url = %config.public_base_url,
            "DANGJIAN_PUBLIC_BASE_URL is not set: the boards' QR codes encode this local address; \
             set it to the address villagers reach before printing boards"
        );
    }
    let state = crate::app::state(db.clone(), config).map_err(std::io::Error::other)?;
    let (server, addrs) = start(state, |_| {})?;
    // The server installs its signal handlers and starts its workers on its first poll:
    // let that happen before announcing readiness.
    let running = actix_web::rt::spawn(server);
    for _ in 0..3 {
        tokio::task::yield_now().await;
    }
    for addr in &addrs {
        tracing::info!("listening on http://{addr}  (Swagger UI: http://{addr}/swagger-ui/)");
    }
    let purge = actix_web::rt::spawn(async move {
        // Every minute: ratings whose notice ended become final; every hour: purges.
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        for minute in 0u64.. {
            tick.tick().await;
            match crate::ratings::notice::finalise_due(&db).await {
                Ok(n) if n > 0 => tracing::info!(ratings = n, "ratings final after their notice"),
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "could not finalise ratings"),
            }
            if minute % 60 != 0 {
                continue;
            }
            if let Err(err) = crate::auth::purge_login_failures(&db).await {
                tracing::warn!(error = %err, "could not purge login failures");
            }
            match idempotency::purge_expired(&db).await {
                Ok(n) if n > 0 => tracing::info!(removed = n, "purged expired idempotency keys"),
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "could not purge idempotency keys"),
            }
        }
    });
    let result = running.await.unwrap_or_else(|e| Err(std::io::Error::other(e)));
    purge.abort();
    tracing::info!("stopped");
    result
}

/// Binds the configured address and starts serving; returns the running server (await it;
/// stop it with its handle or a signal) and the bound addresses. SIGTERM and SIGINT stop it
/// gracefully: no new connections, in-flight requests finish within the shutdown timeout.
pub fn start<F>(state: web::Data<AppState>, extra: F) -> std::io::Result<(Server, Vec<SocketAddr>)>
where
    F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
{
    let bind = state.config.bind;
    let shutdown_timeout = state.config.shutdown_timeout.as_secs();
    let server = HttpServer::new(move || {
        let extra = extra.clone();
        app::build(state.clone(), move |cfg| extra(cfg))
    })
    .bind(bind)?
    .shutdown_timeout(shutdown_timeout);
    let addrs = server.addrs();
    Ok((server.run(), addrs))
}
