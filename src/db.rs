//! Connecting to SQLite or PostgreSQL, tuned once at start-up, and running migrations.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr};

use crate::config::Config;

/// Key of the PostgreSQL advisory lock held while migrations run, so that several
/// instances starting at once migrate one after the other.
const MIGRATION_LOCK_KEY: i64 = 0x64_616e_676a_6961; // "dangjia"

/// Pool settings chosen for throughput: prepared-statement cache on, no ping before every
/// acquire (a broken connection shows up as an error and is replaced), bounded waits so a
/// missing database answers 503 quickly instead of hanging requests.
pub fn connect_options(url: &str, max_connections: u32) -> ConnectOptions {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(3))
        .acquire_timeout(Duration::from_secs(5))
        .test_before_acquire(false)
        .sqlx_logging(false)
        .map_sqlx_postgres_opts(|o| o.statement_cache_capacity(256))
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true)
                .statement_cache_capacity(256)
        });
    if url.contains(":memory:") || url.contains("mode=memory") {
        // Each connection to an in-memory SQLite database is a separate database: keep
        // exactly one, forever.
        opts.max_connections(1).idle_timeout(None).max_lifetime(None);
    }
    opts
}

/// Connects with the configured settings; creates the data directory for embedded SQLite.
pub async fn connect(config: &Config) -> Result<DatabaseConnection, DbErr> {
    if config.is_sqlite() && !config.database_url.contains(":memory:") {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| {
            DbErr::Custom(format!(
                "cannot create data directory {}: {e}",
                config.data_dir.display()
            ))
        })?;
    }
    if let Some(file) = sqlite_file(&config.database_url) {
        make_private(&file, config.database_url.contains("mode=rwc"))
            .map_err(|e| DbErr::Custom(format!("cannot protect database file {}: {e}", file.display())))?;
    }
    Database::connect(connect_options(&config.database_url, config.db_max_connections)).await
}

/// The file of an embedded SQLite database URL (`sqlite://data/x.db?mode=rwc`), if any.
fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.contains(":memory:") && !url.contains("mode=memory")).then(|| path.into())
}

/// The database holds personal data: its file and SQLite's `-wal` and `-shm` files beside it
/// are readable by the service's user alone (0600), like the key files. SQLite gives the
/// journal files the database file's mode, so creating that file first with 0600 suffices;
/// files left by older versions are narrowed.
fn make_private(file: &std::path::Path, create: bool) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        if create && !file.exists() {
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .open(file)?;
        }
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut name = file.as_os_str().to_owned();
            name.push(suffix);
            let path = std::path::Path::new(&name);
            // A file the service does not own (copied in by another user) cannot be narrowed:
            // say so, and go on rather than refuse to start.
            if path.exists()
                && let Err(err) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            {
                tracing::warn!(file = %path.display(), error = %err, "cannot make the database file private (0600)");
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (file, create);
    Ok(())
}

/// Applies every pending migration. On PostgreSQL this runs on one dedicated connection
/// under an advisory lock, so concurrent starts are safe.
pub async fn migrate(db: &DatabaseConnection, url: &str) -> Result<(), DbErr> {
    if !is_postgres(db) {
        return Migrator::up(db, None).await;
    }
    let mut opts = connect_options(url, 1);
    opts.min_connections(0);
    let lock_conn = Database::connect(opts).await?;
    lock_conn
        .execute_unprepared(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
        .await?;
    let result = Migrator::up(&lock_conn, None).await;
    let unlock = lock_conn
        .execute_unprepared(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
        .await;
    let _ = lock_conn.close().await;
    result.and(unlock.map(|_| ()))
}

/// Connects and migrates, retrying for up to `patience` while the database is not up yet
/// (e.g. `docker compose up` starting both at once).
pub async fn connect_and_migrate(config: &Config, patience: Duration) -> Result<DatabaseConnection, DbErr> {
    let deadline = tokio::time::Instant::now() + patience;
    let mut wait = Duration::from_millis(250);
    loop {
        let attempt = async {
            let db = connect(config).await?;
            migrate(&db, &config.database_url).await?;
            // Events whose move onto the audit chain a crash cut short.
            crate::audit::chain_pending(&db).await?;
            Ok::<_, DbErr>(db)
        }
        .await;
        match attempt {
            Ok(db) => return Ok(db),
            Err(err) if crate::error::is_unavailable(&err) && tokio::time::Instant::now() < deadline => {
                tracing::warn!(error = %err, retry_in_ms = wait.as_millis() as u64, "database not reachable yet");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(5));
            }
            Err(err) => return Err(err),
        }
    }
}

pub fn is_postgres(db: &DatabaseConnection) -> bool {
    db.get_database_backend() == sea_orm::DatabaseBackend::Postgres
}

/// Connections in use and idle, for `/metrics`.
pub struct PoolUsage {
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

pub fn pool_usage(db: &DatabaseConnection, max: u32) -> PoolUsage {
    let (size, idle) = if is_postgres(db) {
        let pool = db.get_postgres_connection_pool();
        (pool.size(), pool.num_idle() as u32)
    } else {
        let pool = db.get_sqlite_connection_pool();
        (pool.size(), pool.num_idle() as u32)
    };
    PoolUsage { size, idle, max }
}

/// The current time at the precision both databases store (microseconds), so a value
/// returned right after a write equals the value read back later.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    let now = chrono::Utc::now();
    chrono::DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

/// SQL: the sum of `expr` as a 64-bit integer on both databases (PostgreSQL's `SUM` of a
/// `BIGINT` is a `NUMERIC`, which does not decode as one). Sums of money in fen and counts.
pub fn sum_i64(expr: sea_orm::sea_query::Expr) -> sea_orm::sea_query::Expr {
    use sea_orm::sea_query::{Alias, Func};
    Func::cast_as(Func::sum(expr), Alias::new("BIGINT")).into()
}

/// A domain enum's wire name written into the SQL as a literal instead of bound as a
/// parameter. In a prepared statement's generic plan PostgreSQL then knows which value is
/// asked for (the rare `org` subject kind, say), so it keeps one plan instead of planning
/// every call anew (the star board: 0.6 ms of planning per statement). Only for the fixed
/// names of enums: anything but lower-case letters and `_` is bound as a parameter after all.
pub fn constant(name: &'static str) -> sea_orm::sea_query::Expr {
    use sea_orm::sea_query::Expr;
    if !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        Expr::cust(format!("'{name}'"))
    } else {
        Expr::val(name)
    }
}
