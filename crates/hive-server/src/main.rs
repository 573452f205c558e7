//! The `hive` binary: `cargo run` serves the billing API on the embedded durable store.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use hive_billing::ManualClock;
use hive_server::app::App;
use hive_server::cli::{self, Cli, Command};
use hive_server::config::{Config, LogFormat};
use hive_server::{dev_token, serve};

/// mimalloc instead of the system allocator: a command allocates a few dozen small blocks, and
/// glibc's malloc/free were about a third of the samples of a command's profile
/// (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.clone(), cli.overrides.layer()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("hive: {error}");
            return ExitCode::from(2);
        }
    };
    init_logging(config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("hive: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config, cli.command.unwrap_or(Command::Serve))) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("hive: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config, command: Command) -> Result<(), String> {
    // The commands that talk to a running service over HTTP open no store.
    let command = match command {
        Command::Events(cli::EventsCommand::Follow(args)) => return cli::follow(args).await,
        Command::Subscriptions(command) => return cli::subscriptions(command).await,
        command => command,
    };
    if let Command::Demo(cli::DemoCommand::Seed { payments }) = command {
        let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
        let app = App::start_with_clock(config, clock.clone())
            .await
            .map_err(|e| e.to_string())?;
        let mut result = cli::seed(&app.services.command_bus, &clock, payments).await;
        // The commands fed the read models inline; every projection catches up here (applying
        // again what it has is a no-op), so its checkpoint reaches the head: the next start
        // neither applies the seeded events again to a shared read model nor rebuilds the
        // saved views of the embedded durable store (saved by `close`).
        for runner in &app.runners {
            if result.is_ok() {
                result = runner.catch_up().await.map(drop).map_err(|e| e.to_string());
            }
        }
        app.close().await;
        return result;
    }
    let app = App::start(config).await.map_err(|e| e.to_string())?;
    let result = match command {
        Command::Serve => {
            let listener = tokio::net::TcpListener::bind(app.config.http_addr)
                .await
                .map_err(|e| format!("cannot listen on {}: {e}", app.config.http_addr))?;
            return serve::serve(app, listener, serve::shutdown_signal())
                .await
                .map_err(|e| e.to_string());
        }
        Command::Projections(command) => cli::projections(&app, command).await,
        Command::Search(command) => cli::search(&app, command).await,
        Command::Events(command) => {
            let organization = replay_organization(&app, &command)?;
            cli::events(&app, command, organization).await
        }
        Command::Demo(_) | Command::Subscriptions(_) => Ok(()),
    };
    app.close().await;
    result
}

fn replay_organization(app: &App, command: &cli::EventsCommand) -> Result<String, String> {
    let cli::EventsCommand::Replay { organization, .. } = command else {
        return Ok(String::new());
    };
    if let Some(org) = organization {
        return Ok(org.clone());
    }
    match app.config.tokens.as_slice() {
        [] => Ok(dev_token::DEV_ORGANIZATION.to_owned()),
        [only] => Ok(only.organization.clone()),
        _ => Err("several organizations are configured: say which with --organization".into()),
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours only on a terminal: in a file or a log collector they are escape codes, and
    // formatting them is a measurable share of a request (docs/performance.md, P8).
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}
