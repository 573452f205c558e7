//! Running the operator subcommands against an [`App`].

use std::sync::Arc;

use chrono::SecondsFormat;
use hive_application::{MessageContext, ProjectionRunner, ProjectionStatus};
use hive_billing::ReplayPayment;
use hive_domain::Metadata;

use super::{EventsCommand, ProjectionsCommand};
use crate::app::App;

/// A failed operator command, with what to tell the user.
pub type CommandResult = Result<(), String>;

/// `hive projections …`
pub async fn projections(app: &App, command: ProjectionsCommand) -> CommandResult {
    match command {
        ProjectionsCommand::Status => {
            let mut statuses = Vec::with_capacity(app.runners.len());
            for runner in &app.runners {
                statuses.push(runner.status().await.map_err(|e| e.to_string())?);
            }
            print!("{}", status_table(&statuses));
            Ok(())
        }
        ProjectionsCommand::Rebuild { name, offline } => {
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
            super::rebuild::rebuild(app, selected, offline).await
        }
    }
}

/// What `hive projections status` prints: one row per projection, `-` for a timestamp it
/// never recorded.
pub(crate) fn status_table(statuses: &[ProjectionStatus]) -> String {
    let row = |name: &str, position: &str, head: &str, lag: &str, version: &str, at: &str| {
        format!("{name:<30} {position:>10} {head:>10} {lag:>8} {version:>8}  {at}\n")
    };
    let mut table = row(
        "projection",
        "position",
        "head",
        "lag",
        "version",
        "lastProcessedTimestamp",
    );
    for status in statuses {
        let at = status
            .last_processed_timestamp
            .map_or_else(|| "-".to_owned(), |t| t.to_rfc3339_opts(SecondsFormat::Millis, true));
        table.push_str(&row(
            &status.name,
            &status.position.to_string(),
            &status.head.to_string(),
            &status.lag.to_string(),
            &status.version.to_string(),
            &at,
        ));
    }
    table
}

/// `hive events …`
pub async fn events(app: &App, command: EventsCommand, organization: String) -> CommandResult {
    let EventsCommand::Replay {
        aggregate_id, version, ..
    } = command
    else {
        return Err("`hive events follow` talks to a running service: it opens no store".into());
    };
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

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn the_status_table_shows_version_and_last_processed_timestamp() {
        let at = chrono::Utc.with_ymd_and_hms(2026, 11, 30, 9, 15, 0).unwrap();
        let statuses = [
            ProjectionStatus {
                name: "billing.payment_read_model".into(),
                position: 400,
                head: 402,
                lag: 2,
                version: 2,
                last_processed_timestamp: Some(at),
            },
            ProjectionStatus {
                name: "billing.payment_search_index".into(),
                position: 0,
                head: 402,
                lag: 402,
                version: 0,
                last_processed_timestamp: None,
            },
        ];
        let table = status_table(&statuses);
        let lines: Vec<Vec<&str>> = table.lines().map(|l| l.split_whitespace().collect()).collect();
        assert_eq!(
            lines,
            [
                vec![
                    "projection",
                    "position",
                    "head",
                    "lag",
                    "version",
                    "lastProcessedTimestamp"
                ],
                vec![
                    "billing.payment_read_model",
                    "400",
                    "402",
                    "2",
                    "2",
                    "2026-11-30T09:15:00.000Z"
                ],
                vec!["billing.payment_search_index", "0", "402", "402", "0", "-"],
            ]
        );
    }
}
