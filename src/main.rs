//! The `dangjian` command: `serve` (default), `migrate`, `openapi`.

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
}

fn main() -> ExitCode {
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
