//! `dangjian serve`: connect, migrate, listen, and shut down gracefully on SIGTERM/SIGINT.

use std::time::Duration;

use actix_web::HttpServer;

use crate::app::{self, AppState};
use crate::config::Config;
use crate::db;
use crate::http::idempotency;

/// How long `serve` waits for the database at start-up before giving up.
const STARTUP_PATIENCE: Duration = Duration::from_secs(60);

pub async fn serve(config: Config) -> std::io::Result<()> {
    let db = db::connect_and_migrate(&config, STARTUP_PATIENCE)
        .await
        .map_err(|e| std::io::Error::other(format!("database: {e}")))?;
    let bind = config.bind;
    let shutdown_timeout = config.shutdown_timeout;
    let state = AppState::new(db.clone(), config);

    let server = HttpServer::new(move || app::build(state.clone(), |_| {}))
        .bind(bind)?
        .shutdown_timeout(shutdown_timeout.as_secs());
    for addr in server.addrs() {
        tracing::info!("listening on http://{addr}  (Swagger UI: http://{addr}/swagger-ui/)");
    }
    let purge = actix_web::rt::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            match idempotency::purge_expired(&db).await {
                Ok(n) if n > 0 => tracing::info!(removed = n, "purged expired idempotency keys"),
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "could not purge idempotency keys"),
            }
        }
    });
    let result = server.run().await;
    purge.abort();
    tracing::info!("stopped");
    result
}
