//! Typed configuration from the environment (and `.env`, loaded by `main`).
//!
//! Every variable the service reads is listed in [`ENV_VARS`]; the README's configuration
//! table and the docker-compose test are checked against that list.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Every environment variable the service reads, with its default as shown in the README.
pub const ENV_VARS: &[(&str, &str)] = &[
    ("DATABASE_URL", "sqlite file in DANGJIAN_DATA_DIR"),
    ("DANGJIAN_DATA_DIR", "./data"),
    ("DANGJIAN_BIND", "127.0.0.1:8080"),
    ("DANGJIAN_LOG_FORMAT", "pretty"),
    ("RUST_LOG", "info"),
    ("DANGJIAN_CORS_ORIGINS", "(none)"),
    (
        "DANGJIAN_PUBLIC_BASE_URL",
        "http:// and DANGJIAN_BIND (127.0.0.1 for 0.0.0.0)",
    ),
    ("DANGJIAN_DB_MAX_CONNECTIONS", "10"),
    ("DANGJIAN_SHUTDOWN_TIMEOUT_SECS", "30"),
    (
        "DANGJIAN_JWT_SECRET",
        "generated in DANGJIAN_DATA_DIR on SQLite; required on PostgreSQL",
    ),
    ("DANGJIAN_LOGIN_RATE_PER_MINUTE", "10"),
    ("DANGJIAN_TRUST_FORWARDED_FOR", "false"),
    ("DANGJIAN_FEEDBACK_RATE_PER_HOUR", "20"),
    ("DANGJIAN_IMPORT_DRY_RUNS_PER_HOUR", "30"),
    ("DANGJIAN_RATING_NOTICE_DAYS", "5"),
    ("DANGJIAN_RATING_STAR_THRESHOLDS", "90,80,70,60"),
    ("DANGJIAN_RATING_HELP_RECORDS_PER_YEAR", "4"),
    (
        "DANGJIAN_DATA_KEY",
        "generated in DANGJIAN_DATA_DIR on SQLite; required on PostgreSQL",
    ),
];

/// How log lines are written: readable in a terminal, or one JSON object per line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Which browser origins may call the API (CORS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    /// Only same-origin callers (no CORS headers). The default.
    None,
    /// Any origin (`*`). Safe because the API uses bearer tokens, never cookies.
    Any,
    /// These exact origins, e.g. `https://dangjian.example.cn`.
    List(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub data_dir: PathBuf,
    pub bind: SocketAddr,
    pub log_format: LogFormat,
    pub cors_origins: CorsOrigins,
    /// The address villagers reach the service at, without a trailing `/`
    /// (`https://dangjian.example.cn`): QR codes on the printed boards encode pages under it,
    /// so behind a proxy it must be the proxy's public address.
    pub public_base_url: String,
    /// Whether `DANGJIAN_PUBLIC_BASE_URL` was set (the service warns at start when not: QR
    /// codes printed then encode a local address).
    pub public_base_url_set: bool,
    pub db_max_connections: u32,
    pub shutdown_timeout: Duration,
    /// Signing secret for access tokens; see `auth::tokens::JwtKeys::resolve`.
    pub jwt_secret: Option<String>,
    /// Login attempts allowed per client IP per minute.
    pub login_rate_per_minute: u32,
    /// Public feedback messages allowed per client IP per hour.
    pub feedback_rate_per_hour: u32,
    /// Member-import dry runs allowed per account per hour (each checks ID numbers town-wide).
    pub import_dry_runs_per_hour: u32,
    /// How long a published rating stays on public notice (公示) by default, in days.
    pub rating_notice_days: u32,
    /// The rule behind `GET /ratings/suggestion`: the scores (0–100) from which five, four,
    /// three and two stars are suggested, highest first.
    pub rating_star_thresholds: [u32; 4],
    /// Help records a member logs in a year for full points in a suggestion.
    pub rating_help_records_per_year: u32,
    /// The yearly collective income a village should reach, in fen (default ¥50,000).
    pub income_target_fen: i64,
    /// What the target is measured on: all collective income (default) or operating income.
    pub income_target_basis: crate::income::types::IncomeBasis,
    /// Load the demo town on the first start of an empty database: `None` (unset) loads it
    /// on SQLite only; `DANGJIAN_DEMO=true` on PostgreSQL too; `false` never.
    pub demo: Option<bool>,
    /// Take the client IP from `X-Forwarded-For` (only behind a proxy that sets it).
    pub trust_forwarded_for: bool,
    /// Key protecting personal data (64 hex characters); see `members::pii::data_keys`.
    pub data_key: Option<String>,
}

/// A configuration value that cannot be used; the message names the variable.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {variable}: {reason}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub reason: String,
}

fn bad(variable: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        reason: reason.into(),
    }
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup`, so tests can supply variables without touching
    /// the process environment. Empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());

        let data_dir = PathBuf::from(get("DANGJIAN_DATA_DIR").unwrap_or_else(|| "./data".into()));
        let database_url = match get("DATABASE_URL") {
            Some(url) => {
                if !(url.starts_with("postgres://") || url.starts_with("postgresql://") || url.starts_with("sqlite:")) {
                    return Err(bad(
                        "DATABASE_URL",
                        "must start with postgres://, postgresql:// or sqlite:",
                    ));
                }
                url
            }
            None => format!("sqlite://{}?mode=rwc", data_dir.join("dangjian.db").to_string_lossy()),
        };

        let bind = get("DANGJIAN_BIND")
            .unwrap_or_else(|| "127.0.0.1:8080".into())
            .parse::<SocketAddr>()
            .map_err(|_| bad("DANGJIAN_BIND", "must be an IP address and port, e.g. 0.0.0.0:8080"))?;

        let log_format = match get("DANGJIAN_LOG_FORMAT").as_deref() {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(_) => return Err(bad("DANGJIAN_LOG_FORMAT", "must be `pretty` or `json`")),
        };

        let cors_origins = match get("DANGJIAN_CORS_ORIGINS") {
            None => CorsOrigins::None,
            Some(v) if v.trim() == "*" => CorsOrigins::Any,
            Some(v) => {
                let mut origins = Vec::new();
                for origin in v.split(',').map(str::trim).filter(|o| !o.is_empty()) {
                    let valid = (origin.starts_with("http://") || origin.starts_with("https://"))
                        && !origin.ends_with('/')
                        && origin
                            .split("://")
                            .nth(1)
                            .is_some_and(|h| !h.is_empty() && !h.contains('/'));
                    if !valid {
                        return Err(bad(
                            "DANGJIAN_CORS_ORIGINS",
                            format!("`{origin}` is not an origin like https://example.cn (comma-separated, or `*`)"),
                        ));
                    }
                    origins.push(origin.to_owned());
                }
                CorsOrigins::List(origins)
            }
        };

        let public_base_url = match get("DANGJIAN_PUBLIC_BASE_URL") {
            // `0.0.0.0` is where to listen, never an address to visit.
            None if bind.ip().is_unspecified() => format!("http://127.0.0.1:{}", bind.port()),
            None => format!("http://{bind}"),
            Some(url) => {
                let url = url.trim().trim_end_matches('/').to_owned();
                let host = url
                    .strip_prefix("https://")
                    .or_else(|| url.strip_prefix("http://"))
                    .unwrap_or_default();
                let host = host.split('/').next().unwrap_or_default();
                if host.is_empty() || url.contains(['?', '#', ' ', '"', '<', '>']) {
                    return Err(bad(
                        "DANGJIAN_PUBLIC_BASE_URL",
                        "must be an http:// or https:// address such as https://dangjian.example.cn (a path may follow; no query)",
                    ));
                }
                url
            }
        };

        let db_max_connections = parse_number(
            "DANGJIAN_DB_MAX_CONNECTIONS",
            get("DANGJIAN_DB_MAX_CONNECTIONS"),
            10,
            1,
            1000,
        )?;
        let shutdown_secs = parse_number(
            "DANGJIAN_SHUTDOWN_TIMEOUT_SECS",
            get("DANGJIAN_SHUTDOWN_TIMEOUT_SECS"),
            30,
            0,
            3600,
        )?;

        let jwt_secret = get("DANGJIAN_JWT_SECRET");
        if let Some(secret) = &jwt_secret {
            crate::crypto::check_jwt_secret(secret).map_err(|reason| bad("DANGJIAN_JWT_SECRET", reason))?;
        }
        let login_rate_per_minute = parse_number(
            "DANGJIAN_LOGIN_RATE_PER_MINUTE",
            get("DANGJIAN_LOGIN_RATE_PER_MINUTE"),
            10,
            1,
            100_000,
        )?;
        let feedback_rate_per_hour = parse_number(
            "DANGJIAN_FEEDBACK_RATE_PER_HOUR",
            get("DANGJIAN_FEEDBACK_RATE_PER_HOUR"),
            20,
            1,
            100_000,
        )?;
        let import_dry_runs_per_hour = parse_number(
            "DANGJIAN_IMPORT_DRY_RUNS_PER_HOUR",
            get("DANGJIAN_IMPORT_DRY_RUNS_PER_HOUR"),
            30,
            1,
            100_000,
        )?;
        let rating_notice_days = parse_number(
            "DANGJIAN_RATING_NOTICE_DAYS",
            get("DANGJIAN_RATING_NOTICE_DAYS"),
            5,
            1,
            30,
        )?;
        let rating_star_thresholds = parse_thresholds(get("DANGJIAN_RATING_STAR_THRESHOLDS"))?;
        let rating_help_records_per_year = parse_number(
            "DANGJIAN_RATING_HELP_RECORDS_PER_YEAR",
            get("DANGJIAN_RATING_HELP_RECORDS_PER_YEAR"),
            4,
            1,
            365,
        )?;
        let income_target_fen = parse_number(
            "DANGJIAN_INCOME_TARGET_FEN",
            get("DANGJIAN_INCOME_TARGET_FEN"),
            5_000_000,
            1,
            4_000_000_000,
        )?
        .into();
        let income_target_basis = match get("DANGJIAN_INCOME_TARGET_BASIS") {
            None => crate::income::types::IncomeBasis::Total,
            Some(v) => crate::income::types::IncomeBasis::ALL
                .iter()
                .copied()
                .find(|b| b.as_str() == v.trim())
                .ok_or_else(|| bad("DANGJIAN_INCOME_TARGET_BASIS", "must be `total` or `operating`"))?,
        };
        let demo = match get("DANGJIAN_DEMO").as_deref().map(str::trim) {
            None => None,
            Some("true") | Some("1") => Some(true),
            Some("false") | Some("0") => Some(false),
            Some(_) => return Err(bad("DANGJIAN_DEMO", "must be `true` or `false`")),
        };
        let trust_forwarded_for = match get("DANGJIAN_TRUST_FORWARDED_FOR").as_deref() {
            None | Some("false") | Some("0") => false,
            Some("true") | Some("1") => true,
            Some(_) => return Err(bad("DANGJIAN_TRUST_FORWARDED_FOR", "must be `true` or `false`")),
        };

        let data_key = get("DANGJIAN_DATA_KEY");
        if let Some(key) = &data_key {
            crate::crypto::parse_data_key(key).map_err(|reason| bad("DANGJIAN_DATA_KEY", reason))?;
        }

        Ok(Config {
            database_url,
            data_dir,
            bind,
            log_format,
            cors_origins,
            public_base_url,
            public_base_url_set: get("DANGJIAN_PUBLIC_BASE_URL").is_some(),
            db_max_connections,
            shutdown_timeout: Duration::from_secs(shutdown_secs.into()),
            jwt_secret,
            login_rate_per_minute,
            feedback_rate_per_hour,
            import_dry_runs_per_hour,
            rating_notice_days,
            rating_star_thresholds,
            rating_help_records_per_year,
            income_target_fen,
            income_target_basis,
            demo,
            trust_forwarded_for,
            data_key,
        })
    }

    /// True when the embedded SQLite database is in use.
    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

fn parse_number(
    variable: &'static str,
    value: Option<String>,
    default: u32,
    min: u32,
    max: u32,
) -> Result<u32, ConfigError> {
    let Some(value) = value else { return Ok(default) };
    match value.trim().parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(bad(variable, format!("must be a whole number from {min} to {max}"))),
    }
}

/// Four scores from 100 down to 0, each lower than the one before: `90,80,70,60`.
fn parse_thresholds(value: Option<String>) -> Result<[u32; 4], ConfigError> {
    const VARIABLE: &str = "DANGJIAN_RATING_STAR_THRESHOLDS";
    let Some(value) = value else {
        return Ok([90, 80, 70, 60]);
    };
    let parsed: Option<Vec<u32>> = value.split(',').map(|n| n.trim().parse().ok()).collect();
    match parsed.as_deref() {
        Some(&[a, b, c, d]) if a <= 100 && a > b && b > c && c > d => Ok([a, b, c, d]),
        _ => Err(bad(
            VARIABLE,
            "must be four whole numbers from 100 down to 0, each lower than the one before (e.g. 90,80,70,60)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn defaults_use_embedded_sqlite_in_the_data_dir() {
        let c = config(&[]).unwrap();
        assert_eq!(c.database_url, "sqlite://./data/dangjian.db?mode=rwc");
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.db_max_connections, 10);
        assert_eq!(c.cors_origins, CorsOrigins::None);
    }

    #[test]
    fn errors_name_the_bad_variable() {
        for (var, value) in [
            ("DANGJIAN_BIND", "localhost"),
            ("DANGJIAN_LOG_FORMAT", "xml"),
            ("DANGJIAN_DB_MAX_CONNECTIONS", "0"),
            ("DANGJIAN_CORS_ORIGINS", "example.cn"),
            ("DATABASE_URL", "mysql://x"),
            ("DANGJIAN_SHUTDOWN_TIMEOUT_SECS", "-1"),
            ("DANGJIAN_RATING_STAR_THRESHOLDS", "90,80,80,60"),
            ("DANGJIAN_RATING_STAR_THRESHOLDS", "101,80,70,60"),
            ("DANGJIAN_RATING_STAR_THRESHOLDS", "90,80,70"),
            ("DANGJIAN_RATING_HELP_RECORDS_PER_YEAR", "0"),
            ("DANGJIAN_RATING_NOTICE_DAYS", "31"),
            ("DANGJIAN_JWT_SECRET", "too short"),
            ("DANGJIAN_TRUST_FORWARDED_FOR", "maybe"),
            ("DANGJIAN_DATA_KEY", "not-hex"),
        ] {
            let err = config(&[(var, value)]).unwrap_err();
            assert_eq!(err.variable, var);
            assert!(err.to_string().contains(var));
        }
    }

    #[test]
    fn port_zero_and_origin_lists_are_accepted() {
        let c = config(&[
            ("DANGJIAN_BIND", "0.0.0.0:0"),
            ("DANGJIAN_CORS_ORIGINS", "https://a.cn, http://b.cn:8080"),
        ])
        .unwrap();
        assert_eq!(c.bind.port(), 0);
        assert_eq!(
            c.cors_origins,
            CorsOrigins::List(vec!["https://a.cn".into(), "http://b.cn:8080".into()])
        );
    }
}
