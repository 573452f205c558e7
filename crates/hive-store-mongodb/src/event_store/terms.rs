//! `searchTerms`: the lower-cased words of an event's data and metadata, for whole-word text
//! look-ups with `{searchTerms: {$all: [...]}}` on every server.
//!
//! The words are exactly those [`hive_domain::EventCriteria::matches`] finds: the text of every
//! string and number of `eventData` and `metadata`, space-joined, lower-cased, split into runs
//! of letters and digits by [`hive_domain::words`].

use std::collections::BTreeSet;

use hive_domain::{words, EventCriteria, EventEnvelope};
use serde_json::Value;

/// The distinct words of `event`'s data and metadata.
pub(crate) fn search_terms(event: &EventEnvelope) -> Vec<String> {
    let mut text = String::new();
    collect_text(&event.event_data, &mut text);
    if let Ok(meta) = serde_json::to_value(&event.metadata) {
        collect_text(&meta, &mut text);
    }
    let text = text.to_lowercase();
    let distinct: BTreeSet<&str> = words(&text).collect();
    distinct.into_iter().map(str::to_owned).collect()
}

fn collect_text(value: &Value, out: &mut String) {
    match value {
        Value::String(s) => {
            out.push_str(s);
            out.push(' ');
        }
        Value::Number(n) => {
            out.push_str(&n.to_string());
            out.push(' ');
        }
        Value::Array(items) => items.iter().for_each(|v| collect_text(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect_text(v, out)),
        Value::Bool(_) | Value::Null => {}
    }
}

/// The words every matching event must hold (empty: no text condition).
pub(crate) fn query_terms(criteria: &EventCriteria) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for term in criteria.text_terms() {
        for word in words(&term) {
            if !out.iter().any(|w| w == word) {
                out.push(word.to_owned());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use hive_domain::Metadata;
    use serde_json::json;

    #[test]
    fn terms_agree_with_the_reference_matching() {
        let event = EventEnvelope::new("p", "T", "E", json!({"error": "Card DECLINED", "n": 42, "r": 0.25}), 1)
            .with_metadata(Metadata::default().with_source("Check-out"));
        let terms = search_terms(&event);
        for word in ["card", "declined", "42", "0", "25", "check", "out"] {
            assert!(terms.contains(&word.to_owned()), "{word} in {terms:?}");
        }
        for text in ["declined CHECK", "card-declined", "declin", "!!!", "25 nope"] {
            let criteria = EventCriteria {
                text: Some(text.into()),
                ..EventCriteria::default()
            };
            let ours = query_terms(&criteria).iter().all(|t| terms.contains(t));
            assert_eq!(ours, criteria.matches(&event), "{text}");
        }
    }
}
