//! `hive search sync|verify`: the payment search index against the read model (and the event
//! log), for every payment, one organization's, or one payment.

use std::fmt::Write as _;

use hive_billing::{Mismatch, PaymentKey, SyncReport, VerifyReport};

use super::{CommandResult, PaymentScope, Progress, SearchCommand};
use crate::app::App;

/// `hive search …`
pub async fn search(app: &App, command: SearchCommand) -> CommandResult {
    match command {
        SearchCommand::Sync(scope) => sync(app, &scope).await,
        SearchCommand::Verify(scope) => verify(app, &scope).await,
    }
}

/// What a scope covers, for the progress label.
fn describe(scope: &PaymentScope) -> String {
    match (&scope.organization, &scope.payment) {
        (Some(org), Some(payment)) => format!("payment {}", PaymentKey::new(org, payment)),
        (Some(org), None) => format!("organization {org}"),
        _ => "every payment".to_owned(),
    }
}

async fn sync(app: &App, scope: &PaymentScope) -> CommandResult {
    let sync = &app.services.sync;
    let progress = Progress::open_ended(format!("search sync, {}", describe(scope)), "payments");
    let report = match (&scope.organization, &scope.payment) {
        (Some(org), Some(payment)) => sync.synchronize_payment(&PaymentKey::new(org, payment)).await,
        (Some(org), None) => sync.synchronize_organization(org).await,
        _ => sync.synchronize_all().await,
    }
    .map_err(|e| e.to_string())?;
    progress.finish(seen(&report));
    print!("{}", sync_text(&report));
    if !report.failed.is_empty() {
        return Err(format!("{} payments were not indexed", report.failed.len()));
    }
    if scope.payment.is_some() && !report.missing.is_empty() {
        return Err("the read model does not hold that payment: nothing to index".into());
    }
    Ok(())
}

/// The payments a synchronisation looked at.
fn seen(report: &SyncReport) -> u64 {
    let count = report.indexed.len() + report.stale.len() + report.failed.len() + report.not_in_event_log.len();
    u64::try_from(count).unwrap_or(u64::MAX)
}

/// What `hive search sync` prints: a summary line, then one line per payment not indexed.
pub(crate) fn sync_text(report: &SyncReport) -> String {
    let mut text = format!(
        "indexed {}, {} already newer in the index (left as they are), {} missing from the read model, {} not in the \
         event log, {} failed\n",
        report.indexed.len(),
        report.stale.len(),
        report.missing.len(),
        report.not_in_event_log.len(),
        report.failed.len()
    );
    for key in &report.missing {
        let _ = writeln!(text, "  {key}: not in the read model");
    }
    for key in &report.not_in_event_log {
        let _ = writeln!(
            text,
            "  {key}: in the read model but not in the event log (left out; rebuild the read model to drop it)"
        );
    }
    for failure in &report.failed {
        let _ = writeln!(text, "  {}: refused by the index: {}", failure.key, failure.reason);
    }
    text
}

async fn verify(app: &App, scope: &PaymentScope) -> CommandResult {
    let sync = &app.services.sync;
    let progress = Progress::open_ended(format!("search verify, {}", describe(scope)), "payments");
    let report = match (&scope.organization, &scope.payment) {
        (Some(org), Some(payment)) => sync.verify_payment(&PaymentKey::new(org, payment)).await,
        (Some(org), None) => sync.verify_organization(org).await,
        _ => sync.verify_all().await,
    }
    .map_err(|e| e.to_string())?;
    progress.finish(report.checked);
    print!("{}", verify_text(&report));
    if scope.payment.is_some() && report.checked == 0 {
        return Err("neither the read model nor the search index holds that payment: nothing to verify".into());
    }
    if report.is_in_sync() {
        Ok(())
    } else {
        Err(format!(
            "the search index is out of sync: {} mismatches (`hive search sync` copies the read model into the index; \
             `hive projections rebuild` rebuilds either from the event log)",
            report.mismatches.len()
        ))
    }
}

/// What `hive search verify` prints: a summary line, then one line per mismatch.
pub(crate) fn verify_text(report: &VerifyReport) -> String {
    let mut text = format!(
        "checked {} payments, {} mismatches\n",
        report.checked,
        report.mismatches.len()
    );
    for mismatch in &report.mismatches {
        let _ = writeln!(text, "  {}", mismatch_text(mismatch));
    }
    text
}

fn mismatch_text(mismatch: &Mismatch) -> String {
    let yes_no = |held: bool| if held { "holds it" } else { "does not" };
    match mismatch {
        Mismatch::MissingFromIndex { key } => format!("{key}: missing from the search index"),
        Mismatch::MissingFromReadModel { key } => {
            format!("{key}: only in the search index (the read model does not hold it)")
        }
        Mismatch::NotInEventLog {
            key,
            in_read_model,
            in_index,
        } => format!(
            "{key}: not in the event log (the read model {}, the search index {})",
            yes_no(*in_read_model),
            yes_no(*in_index)
        ),
        Mismatch::Differs { key, fields } => {
            let fields: Vec<String> = fields
                .iter()
                .map(|f| {
                    format!(
                        "{} is `{}` in the read model, `{}` in the index",
                        f.field, f.read_model, f.index
                    )
                })
                .collect();
            format!("{key}: differs: {}", fields.join("; "))
        }
    }
}

#[cfg(test)]
mod tests {
    use hive_billing::{BulkFailure, FieldDifference};

    use super::*;

    fn key(org: &str, id: &str) -> PaymentKey {
        PaymentKey::new(org, id)
    }

    #[test]
    fn every_mismatch_is_one_readable_line() {
        let report = VerifyReport {
            checked: 4,
            mismatches: vec![
                Mismatch::MissingFromIndex {
                    key: key("org-a", "pay-1"),
                },
                Mismatch::MissingFromReadModel {
                    key: key("org-a", "pay-2"),
                },
                Mismatch::NotInEventLog {
                    key: key("org-b", "pay-1"),
                    in_read_model: true,
                    in_index: false,
                },
                Mismatch::Differs {
                    key: key("org-b", "pay-2"),
                    fields: vec![
                        FieldDifference {
                            field: "status".into(),
                            read_model: "processed".into(),
                            index: "pending".into(),
                        },
                        FieldDifference {
                            field: "amount".into(),
                            read_model: "10.00".into(),
                            index: "12.00".into(),
                        },
                    ],
                },
            ],
        };
        assert_eq!(
            verify_text(&report),
            "checked 4 payments, 4 mismatches\n\
             \x20 org-a/pay-1: missing from the search index\n\
             \x20 org-a/pay-2: only in the search index (the read model does not hold it)\n\
             \x20 org-b/pay-1: not in the event log (the read model holds it, the search index does not)\n\
             \x20 org-b/pay-2: differs: status is `processed` in the read model, `pending` in the index; amount is \
             `10.00` in the read model, `12.00` in the index\n"
        );
        assert_eq!(
            verify_text(&VerifyReport::default()),
            "checked 0 payments, 0 mismatches\n"
        );
    }

    #[test]
    fn a_sync_lists_what_it_did_not_index() {
        let report = SyncReport {
            indexed: vec![key("org-a", "pay-1")],
            stale: vec![key("org-a", "pay-2")],
            failed: vec![BulkFailure {
                key: key("org-a", "pay-3"),
                reason: "mapper_parsing_exception".into(),
            }],
            missing: vec![key("org-a", "pay-4")],
            not_in_event_log: vec![key("org-a", "pay-5")],
        };
        let text = sync_text(&report);
        assert!(text.starts_with(
            "indexed 1, 1 already newer in the index (left as they are), 1 missing from the read model, 1 not in the \
             event log, 1 failed\n"
        ));
        assert!(text.contains("  org-a/pay-4: not in the read model\n"), "{text}");
        assert!(
            text.contains("  org-a/pay-5: in the read model but not in the event log"),
            "{text}"
        );
        assert!(
            text.contains("  org-a/pay-3: refused by the index: mapper_parsing_exception\n"),
            "{text}"
        );
        assert_eq!(seen(&report), 4);
    }
}
