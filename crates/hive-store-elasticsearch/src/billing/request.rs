//! The request bodies of the payment search index.

use chrono::{DateTime, SecondsFormat, Utc};
use hive_billing::read::text;
use hive_billing::PaymentSearchCriteria;
use serde_json::{json, Value};

use crate::search::MAX_RESULT_WINDOW;

/// How many completions one suggest request asks for before they are grouped by description
/// (a prefix matching more of an organization's payments counts only these).
pub(crate) const SUGGEST_CANDIDATES: usize = 1_000;

/// The name of the suggestion in suggest requests and answers.
pub(crate) const SUGGESTION: &str = "description";

/// An instant as Elasticsearch reads it (`strict_date_optional_time`, UTC).
pub(crate) fn instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// `from` and `size` of a page, kept inside the result window.
pub(crate) fn window(offset: u64, limit: u64) -> (u64, u64) {
    let from = offset.min(MAX_RESULT_WINDOW);
    (from, limit.min(MAX_RESULT_WINDOW - from))
}

/// The `_search` body of `criteria`: filters in `bool.filter` (never scored), the user's text
/// only in a `multi_match` (`best_fields`, `fuzziness: AUTO`) over `description^2`,
/// `paymentId.text` and `searchTags.text` (the tags and the metadata values, as
/// `PaymentSearchCriteria::score` matches them); sorted by `_score`, `processedAt` (missing last),
/// `paymentId`; `track_total_hits: true`.
pub(crate) fn search_body(criteria: &PaymentSearchCriteria) -> Value {
    let mut filter = vec![json!({"term": {"organizationId": criteria.organization_id}})];
    if !criteria.statuses.is_empty() {
        let statuses: Vec<&str> = criteria.statuses.iter().map(|s| s.as_str()).collect();
        filter.push(json!({"terms": {"status": statuses}}));
    }
    if !criteria.currencies.is_empty() {
        let currencies: Vec<&str> = criteria.currencies.iter().map(|c| c.code()).collect();
        filter.push(json!({"terms": {"currency": currencies}}));
    }
    if criteria.min_amount.is_some() || criteria.max_amount.is_some() {
        let mut range = serde_json::Map::new();
        if let Some(min) = criteria.min_amount {
            range.insert("gte".into(), json!(min.to_string()));
        }
        if let Some(max) = criteria.max_amount {
            range.insert("lte".into(), json!(max.to_string()));
        }
        filter.push(json!({"range": {"amount": range}}));
    }
    if criteria.processed.from.is_some() || criteria.processed.to.is_some() {
        let mut range = serde_json::Map::new();
        if let Some(from) = criteria.processed.from {
            range.insert("gte".into(), json!(instant(from)));
        }
        if let Some(to) = criteria.processed.to {
            range.insert("lt".into(), json!(instant(to)));
        }
        filter.push(json!({"range": {"processedAt": range}}));
    }
    let mut query = json!({"bool": {"filter": filter}});
    let text = criteria.text.as_deref().map(str::trim).filter(|t| !t.is_empty());
    if let Some(text) = text {
        query["bool"]["must"] = json!([{"multi_match": {
            "query": text,
            "type": "best_fields",
            "fields": ["description^2", "paymentId.text", "searchTags.text"],
            "fuzziness": "AUTO",
            "operator": "or"
        }}]);
    }
    let (from, size) = window(criteria.offset, criteria.limit);
    json!({
        "query": query,
        "sort": [
            {"_score": {"order": "desc"}},
            {"processedAt": {"order": "desc", "missing": "_last"}},
            {"paymentId": {"order": "asc"}}
        ],
        "track_scores": text.is_some(),
        "track_total_hits": true,
        "from": from,
        "size": size
    })
}

/// The `_search` body completing `prefix` among `organization_id`'s descriptions: the
/// completion suggester on `suggest` (every word suffix of the description), in the
/// organization's context, without `skip_duplicates` (one option per payment, grouped by
/// description afterwards). `None` when the prefix is empty.
pub(crate) fn suggest_body(organization_id: &str, prefix: &str) -> Option<Value> {
    let prefix = text::normalize_prefix(prefix);
    let trimmed = prefix.trim_end();
    if trimmed.is_empty() {
        return None;
    }
    Some(json!({
        "_source": ["paymentId", "description", "suggest"],
        "suggest": {
            SUGGESTION: {
                "prefix": trimmed,
                "completion": {
                    "field": "suggest",
                    "size": SUGGEST_CANDIDATES,
                    "skip_duplicates": false,
                    "contexts": {"organizationId": [organization_id]}
                }
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_stay_in_the_result_window() {
        assert_eq!(window(0, 100), (0, 100));
        assert_eq!(window(9_990, 100), (9_990, 10));
        assert_eq!(window(20_000, 5), (10_000, 0));
        assert_eq!(window(0, u64::MAX), (0, 10_000));
    }

    #[test]
    fn empty_prefixes_complete_nothing() {
        assert_eq!(suggest_body("org-1", "  "), None);
        let body = suggest_body("org-1", "Cloud  Ho").unwrap_or_default();
        assert_eq!(body["suggest"][SUGGESTION]["prefix"], "cloud ho");
    }
}
