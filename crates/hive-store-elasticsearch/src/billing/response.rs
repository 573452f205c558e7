//! Reading the answers of the payment search index.

use std::collections::{BTreeMap, BTreeSet};

use hive_billing::read::text;
use hive_billing::{BulkFailure, BulkReport, PaymentKey, PaymentSearchResults, ScoredPayment, Suggestion};
use serde_json::Value;

use super::request::SUGGESTION;
use crate::{BulkOutcome, EsError, EsResult};

/// The page and total of a `_search` answer; a hit's score is its `_score` (0 when null).
pub(crate) fn search_results(body: &Value) -> EsResult<PaymentSearchResults> {
    let what = "payments _search";
    let total = body
        .pointer("/hits/total/value")
        .and_then(Value::as_u64)
        .ok_or_else(|| EsError::decode(what, "no `hits.total.value` (is track_total_hits set?)"))?;
    let items = crate::search::hits(body, what)?
        .iter()
        .map(|hit| {
            Ok(ScoredPayment {
                payment: super::document::view(what, crate::search::source(hit, what)?)?,
                score: hit.get("_score").and_then(Value::as_f64).unwrap_or(0.0),
            })
        })
        .collect::<EsResult<Vec<_>>>()?;
    Ok(PaymentSearchResults { items, total })
}

/// The suggestions of a completion answer, as [`Suggestion::suggest`] defines them: options
/// whose document has an input starting with the normalised `prefix` (a trailing space kept),
/// one per payment, grouped by description; score = payments in the group; best first, then
/// by text; the first `size`.
pub(crate) fn suggestions(body: &Value, prefix: &str, size: usize) -> EsResult<Vec<Suggestion>> {
    let what = "payments suggest";
    let prefix = text::normalize_prefix(prefix);
    let options = body
        .pointer(&format!("/suggest/{SUGGESTION}/0/options"))
        .and_then(Value::as_array)
        .ok_or_else(|| EsError::decode(what, format!("no `suggest.{SUGGESTION}[0].options`")))?;
    let mut seen = BTreeSet::new();
    let mut groups: BTreeMap<String, u64> = BTreeMap::new();
    for option in options {
        let source = crate::search::source(option, what)?;
        let id = option.get("_id").and_then(Value::as_str).unwrap_or_default();
        let description = source.get("description").and_then(Value::as_str).unwrap_or_default();
        let inputs = source.get("suggest").and_then(Value::as_array).into_iter().flatten();
        let matches = inputs
            .filter_map(Value::as_str)
            .any(|input| input.starts_with(&prefix) || format!("{input} ").starts_with(&prefix));
        if matches && seen.insert(id.to_owned()) {
            *groups.entry(description.to_owned()).or_default() += 1;
        }
    }
    let mut out: Vec<Suggestion> = groups
        .into_iter()
        .map(|(text, count)| Suggestion {
            text,
            score: count as f64,
        })
        .collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.text.cmp(&b.text)));
    out.truncate(size);
    Ok(out)
}

/// The billing report of a bulk outcome, item `i` answering the document of `keys[i]` (a
/// `_bulk` answers its items in request order): successes are `indexed`, 409 version conflicts
/// (`external_gte` found a greater position) are `stale`, anything else `failed` with its reason.
pub(crate) fn bulk_report(keys: &[PaymentKey], outcome: &BulkOutcome) -> BulkReport {
    let mut report = BulkReport::default();
    for (i, key) in keys.iter().enumerate() {
        match outcome.items.get(i) {
            Some(item) if !item.is_failure() => report.indexed.push(key.clone()),
            Some(item) if item.status == 409 => report.stale.push(key.clone()),
            Some(item) => report.failed.push(BulkFailure {
                key: key.clone(),
                reason: item
                    .to_error()
                    .map(|e| e.to_string())
                    .unwrap_or_else(|| format!("status {}", item.status)),
            }),
            None => report.failed.push(BulkFailure {
                key: key.clone(),
                reason: "no item for this document in the bulk answer".into(),
            }),
        }
    }
    report
}
