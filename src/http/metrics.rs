//! Prometheus metrics: request counts and latency by route pattern and status, SQL
//! statements run, and database pool usage (read from the pool when scraped).

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::db::PoolUsage;

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool: IntGaugeVec,
    /// SQL statements sent to the database. Tests read it to show a request's statement
    /// count does not grow with the data (no N+1).
    pub db_statements: IntCounter,
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by method, route pattern and status",
            ),
            &["method", "route", "status"],
        )
        .expect("static metric definition");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency by method, route pattern and status",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["method", "route", "status"],
        )
        .expect("static metric definition");
        let pool = IntGaugeVec::new(
            Opts::new(
                "db_pool_connections",
                "Database pool connections by state (in_use, idle, max)",
            ),
            &["state"],
        )
        .expect("static metric definition");
        let db_statements = IntCounter::new("db_statements_total", "SQL statements sent to the database")
            .expect("static metric definition");
        for metric in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(pool.clone()),
            Box::new(db_statements.clone()),
        ] {
            registry.register(metric).expect("metric registered once");
        }
        Metrics {
            registry,
            requests,
            latency,
            pool,
            db_statements,
        }
    }

    pub fn observe(&self, method: &str, route: &str, status: &str, seconds: f64) {
        let labels = [method, route, status];
        self.requests.with_label_values(&labels).inc();
        self.latency.with_label_values(&labels).observe(seconds);
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self, pool: PoolUsage) -> String {
        self.pool
            .with_label_values(&["in_use"])
            .set(i64::from(pool.size.saturating_sub(pool.idle)));
        self.pool.with_label_values(&["idle"]).set(i64::from(pool.idle));
        self.pool.with_label_values(&["max"]).set(i64::from(pool.max));
        let mut out = Vec::new();
        if let Err(err) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!(error = %err, "metrics encoding failed");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
