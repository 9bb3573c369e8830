//! The `dangjian` command: `serve` (default), `migrate`, `openapi`, `create-admin`,
//! `seed-county`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use dangjian::config::Config;

#[derive(Parser)]
#[command(
    name = "dangjian",
    version,
    about = "JSON REST API of the 党员有限，服务无限 programme"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate the database and serve the API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document (JSON) to standard output.
    Openapi,
    /// Create a town administrator on the root committee (creating the root if the tree is
    /// empty), or reset that account's password and rights.
    CreateAdmin {
        #[arg(long)]
        username: String,
        /// Read the password from one line of standard input (required: passwords never go
        /// on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Fill an empty database with a generated county (load tests, benchmarks): towns,
    /// branches, groups, members, pledges over several years, feedback, and accounts. Refuses
    /// a database holding more than the bootstrap root committee and `admin`.
    /// Load the demo town: 平山镇 in 2017, as the programme's newspaper report describes it
    /// (1,462 members, 37 branches, pledges, ratings, pairings, village finances), with one
    /// account per role whose passwords are printed once. Refuses a database holding more than
    /// the bootstrap root committee and `admin`. `serve` loads it by itself on the first start
    /// of an embedded database (opt out with `DANGJIAN_DEMO=false`).
    SeedDemo,
    SeedCounty {
        #[command(flatten)]
        options: dangjian::seed::county::CountyOptions,
        /// Read the password of the accounts created from one line of standard input;
        /// without it a random one is generated and printed once.
        #[arg(long)]
        password_stdin: bool,
    },
}

fn main() -> ExitCode {
    limit_malloc_arenas();
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Openapi = command {
        print!("{}", dangjian::openapi::spec_json());
        return ExitCode::SUCCESS;
    }

    let config = match Config::from_env().and_then(|c| dangjian::telemetry::init(c.log_format).map(|_| c)) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("dangjian: {err}");
            return ExitCode::from(2);
        }
    };
    let result = actix_web::rt::System::new().block_on(async move {
        match command {
            Command::CreateAdmin { username, .. } => create_admin(&config, &username).await,
            Command::SeedDemo => seed_demo(&config).await,
            Command::SeedCounty {
                options,
                password_stdin,
            } => seed_county(&config, &options, password_stdin).await,
            Command::Migrate => dangjian::db::connect_and_migrate(&config, std::time::Duration::ZERO)
                .await
                .map(|_| tracing::info!("migrations applied"))
                .map_err(|e| e.to_string()),
            _ => dangjian::server::serve(config).await.map_err(|e| e.to_string()),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err}");
            eprintln!("dangjian: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn create_admin(config: &Config, username: &str) -> Result<(), String> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| format!("reading the password: {e}"))?;
    let password = line.trim_end_matches(['\r', '\n']);
    let db = dangjian::db::connect_and_migrate(config, std::time::Duration::ZERO)
        .await
        .map_err(|e| e.to_string())?;
    dangjian::users::admin::create_or_reset_admin(&db, username, password)
        .await
        .map_err(|e| match e {
            dangjian::error::ApiError::Validation(errors) => errors
                .iter()
                .map(|e| format!("{}: {}", e.pointer.as_deref().unwrap_or(""), e.message))
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        })?;
    println!("town_admin `{}` is ready", username.trim().to_lowercase());
    Ok(())
}

async fn seed_demo(config: &Config) -> Result<(), String> {
    let keys = dangjian::members::pii::data_keys(config).map_err(|e| e.to_string())?;
    let db = dangjian::db::connect_and_migrate(config, std::time::Duration::ZERO)
        .await
        .map_err(|e| e.to_string())?;
    let report = dangjian::seed::demo::seed(&db, &keys)
        .await
        .map_err(|e| e.to_string())?;
    println!("{}", report.summary());
    Ok(())
}

async fn seed_county(
    config: &Config,
    options: &dangjian::seed::county::CountyOptions,
    password_stdin: bool,
) -> Result<(), String> {
    let (password, generated) = if password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| format!("reading the password: {e}"))?;
        (line.trim_end_matches(['\r', '\n']).to_owned(), false)
    } else {
        (dangjian::auth::password::generate(), true)
    };
    let keys = dangjian::members::pii::data_keys(config).map_err(|e| e.to_string())?;
    let db = dangjian::db::connect_and_migrate(config, std::time::Duration::ZERO)
        .await
        .map_err(|e| e.to_string())?;
    let report = dangjian::seed::county::seed(&db, &keys, options, &password)
        .await
        .map_err(|e| e.to_string())?;
    println!("{}", report.summary());
    if generated {
        println!("Password of every account created (shown once):\n  password: {password}");
    }
    Ok(())
}

/// glibc's allocator gives threads that allocate at once heaps of their own (up to 8 per
/// core), each keeping memory when idle. Measured on the county data set on two cores
/// (member by id and a 50-member page, 32 connections): with the default the service sat
/// at 33 MB resident when idle and peaked at 53 MB; with two arenas at 28 MB and 48 MB at
/// the same throughput (within the runs' noise); with one at 23 MB and 43 MB but 15–20 %
/// slower, its threads queueing for the one heap. `MALLOC_ARENA_MAX` in the environment
/// still decides when set.
///
/// Blocks of 1 MiB and more are always mapped on their own and returned when freed: glibc
/// otherwise raises that threshold after the first such block is freed, and each sign-in's
/// 19 MiB password hash then stayed in a heap (64 sign-ins left the service at 264 MB).
/// `MALLOC_MMAP_THRESHOLD_` in the environment still decides when set.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only sets a parameter of the allocator, before any other thread
        // exists; an unknown value would make it return 0 and change nothing.
        if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
            unsafe {
                libc::mallopt(libc::M_ARENA_MAX, ARENAS);
            }
        }
        if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
            unsafe {
                libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
            }
        }
    }
}

/// Blocks from this size up are mapped on their own (see [`limit_malloc_arenas`]).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 1024 * 1024;

/// The number of glibc heap arenas (see [`limit_malloc_arenas`]).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const ARENAS: libc::c_int = 2;
