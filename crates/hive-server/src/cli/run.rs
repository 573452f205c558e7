//! Running the operator subcommands against an [`App`].

use std::sync::Arc;
use std::time::Duration;

use hive_application::{MessageContext, ProjectionRunner};
use hive_billing::ReplayPayment;
use hive_domain::Metadata;
use indicatif::{ProgressBar, ProgressStyle};

use super::{EventsCommand, ProjectionsCommand, SearchCommand};
use crate::app::App;

/// A failed operator command, with what to tell the user.
pub type CommandResult = Result<(), String>;

/// `hive projections …`
pub async fn projections(app: &App, command: ProjectionsCommand) -> CommandResult {
    match command {
        ProjectionsCommand::Status => {
            println!("{:<28} {:>12} {:>12} {:>8}", "projection", "position", "head", "lag");
            for runner in &app.runners {
                let status = runner.status().await.map_err(|e| e.to_string())?;
                println!(
                    "{:<28} {:>12} {:>12} {:>8}",
                    status.name, status.position, status.head, status.lag
                );
            }
            Ok(())
        }
        ProjectionsCommand::Rebuild { name } => {
            let selected: Vec<&Arc<ProjectionRunner>> = app
                .runners
                .iter()
                .filter(|r| name.as_deref().is_none_or(|n| n == r.name()))
                .collect();
            if selected.is_empty() {
                let known: Vec<&str> = app.runners.iter().map(|r| r.name()).collect();
                return Err(format!(
                    "no projection named `{}`; known: {}",
                    name.unwrap_or_default(),
                    known.join(", ")
                ));
            }
            for runner in selected {
                rebuild_with_progress(runner).await?;
            }
            Ok(())
        }
    }
}

async fn rebuild_with_progress(runner: &Arc<ProjectionRunner>) -> CommandResult {
    let head = runner.status().await.map_err(|e| e.to_string())?.head;
    let bar = ProgressBar::new(head);
    let style = ProgressStyle::with_template("{msg:<24} [{bar:40}] {pos}/{len} events, {per_sec}, ETA {eta}")
        .map_err(|e| e.to_string())?
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(runner.name().to_owned());
    let watcher = {
        let (runner, bar) = (Arc::clone(runner), bar.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                if let Ok(position) = runner.position().await {
                    bar.set_position(position);
                }
            }
        })
    };
    let report = runner.rebuild().await;
    watcher.abort();
    let report = report.map_err(|e| e.to_string())?;
    bar.set_position(report.position);
    bar.finish();
    println!(
        "{}: {} events applied, {} dead-lettered, checkpoint at {}",
        runner.name(),
        report.applied,
        report.dead_lettered,
        report.position
    );
    Ok(())
}

/// `hive search …`
pub async fn search(app: &App, command: SearchCommand) -> CommandResult {
    let sync = &app.services.sync;
    match command {
        SearchCommand::Sync { organization } => {
            let report = match organization {
                Some(org) => sync.synchronize_organization(&org).await,
                None => sync.synchronize_all().await,
            }
            .map_err(|e| e.to_string())?;
            println!(
                "indexed {}, removed {} stale, {} missing from the read model, {} not in the event log, {} failed",
                report.indexed.len(),
                report.stale.len(),
                report.missing.len(),
                report.not_in_event_log.len(),
                report.failed.len()
            );
            for payment_id in &report.not_in_event_log {
                println!("  not in the event log (left out; rebuild the read model to drop it): {payment_id}");
            }
            for failure in &report.failed {
                println!("  failed: {failure:?}");
            }
            if report.failed.is_empty() {
                Ok(())
            } else {
                Err("some documents were not indexed".into())
            }
        }
        SearchCommand::Verify => {
            let report = sync.verify_all().await.map_err(|e| e.to_string())?;
            println!(
                "checked {} payments, {} mismatches",
                report.checked,
                report.mismatches.len()
            );
            for mismatch in &report.mismatches {
                println!("  {mismatch:?}");
            }
            if report.is_in_sync() {
                Ok(())
            } else {
                Err("the search index differs from the read model".into())
            }
        }
    }
}

/// `hive events …`
pub async fn events(app: &App, command: EventsCommand, organization: String) -> CommandResult {
    let EventsCommand::Replay {
        aggregate_id, version, ..
    } = command;
    let context = MessageContext::new().with_metadata(
        Metadata::default()
            .with_organization(organization)
            .with_user("operator")
            .with_source("cli"),
    );
    let query = ReplayPayment {
        payment_id: aggregate_id,
        version,
        as_of: None,
    };
    let replay = app
        .services
        .query_bus
        .dispatch(query, context)
        .await
        .map_err(|e| e.to_string())?;
    let json = serde_json::to_string_pretty(&replay).map_err(|e| e.to_string())?;
    println!("{json}");
    Ok(())
}
