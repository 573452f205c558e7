//! Look-up parameters shared by every event store.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::EventEnvelope;

/// A half-open time range `[from, to)`; a missing bound is open. An inclusive end (the seeds'
/// `lte`) is [`TimeRange::through`]: `to` one nanosecond after it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimeRange {
    /// Inclusive lower bound.
    pub from: Option<DateTime<Utc>>,
    /// Exclusive upper bound.
    pub to: Option<DateTime<Utc>>,
}

impl TimeRange {
    /// The range `[from, to)`.
    pub fn between(from: DateTime<Utc>, to: DateTime<Utc>) -> Self {
        Self {
            from: Some(from),
            to: Some(to),
        }
    }

    /// The range `[from, last]`: `last` included (`to` is one nanosecond after it, the finest
    /// instant a timestamp holds).
    pub fn through(from: DateTime<Utc>, last: DateTime<Utc>) -> Self {
        Self {
            from: Some(from),
            to: Some(inclusive_end(last)),
        }
    }

    /// Every instant.
    pub fn all() -> Self {
        Self::default()
    }

    /// True when `instant` lies inside the range.
    pub fn contains(&self, instant: DateTime<Utc>) -> bool {
        self.from.is_none_or(|from| instant >= from) && self.to.is_none_or(|to| instant < to)
    }
}

/// The exclusive end that includes `last`: one nanosecond after it (saturating).
pub fn inclusive_end(last: DateTime<Utc>) -> DateTime<Utc> {
    last.checked_add_signed(chrono::Duration::nanoseconds(1))
        .unwrap_or(last)
}

/// Which end of the order a page starts from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    /// Oldest first: timestamp ascending, then global order.
    #[default]
    Asc,
    /// Newest first (the seeds' `timestamp desc`): the exact reverse of [`SortOrder::Asc`].
    Desc,
}

impl SortOrder {
    /// `ordering` as this order sees it (reversed for [`SortOrder::Desc`]).
    pub fn apply(self, ordering: std::cmp::Ordering) -> std::cmp::Ordering {
        match self {
            Self::Asc => ordering,
            Self::Desc => ordering.reverse(),
        }
    }
}

impl std::str::FromStr for SortOrder {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "asc" => Ok(Self::Asc),
            "desc" => Ok(Self::Desc),
            other => Err(format!("`{other}` is not an order: use `asc` or `desc`")),
        }
    }
}

/// Offset paging in one order. `limit` is clamped by stores to [`Page::MAX_LIMIT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    /// How many matches to skip.
    pub offset: u64,
    /// How many matches to return at most.
    pub limit: u64,
    /// Oldest first (default) or newest first.
    #[serde(default)]
    pub order: SortOrder,
}

impl Page {
    /// The largest page a store returns at once.
    pub const MAX_LIMIT: u64 = 1_000;

    /// A page of `limit` items after `offset` items (limit clamped to `1..=MAX_LIMIT`).
    pub fn new(offset: u64, limit: u64) -> Self {
        Self {
            offset,
            limit: limit.clamp(1, Self::MAX_LIMIT),
            order: SortOrder::Asc,
        }
    }

    /// The same page in `order`.
    pub fn in_order(mut self, order: SortOrder) -> Self {
        self.order = order;
        self
    }

    /// The same page, newest first.
    pub fn newest_first(self) -> Self {
        self.in_order(SortOrder::Desc)
    }

    /// The first `limit` items.
    pub fn first(limit: u64) -> Self {
        Self::new(0, limit)
    }

    /// The offset as `usize` (saturating).
    pub fn offset_usize(&self) -> usize {
        usize::try_from(self.offset).unwrap_or(usize::MAX)
    }

    /// The limit as `usize`, clamped to [`Page::MAX_LIMIT`].
    pub fn limit_usize(&self) -> usize {
        usize::try_from(self.limit.clamp(1, Self::MAX_LIMIT)).unwrap_or(usize::MAX)
    }
}

impl Default for Page {
    fn default() -> Self {
        Self::new(0, 100)
    }
}

/// What to look events up by. Every set field must match (AND); `event_types` matches any of
/// its entries; `text` is a case-insensitive full-text match over `eventData` and `metadata`
/// values: every word of the text must occur as a whole word (words are runs of letters and
/// digits), as a search engine's standard analyzer would match them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventCriteria {
    /// Only events of this aggregate type.
    pub aggregate_type: Option<String>,
    /// Only events of this aggregate (stream).
    pub aggregate_id: Option<String>,
    /// Only events of one of these types (empty: any type).
    pub event_types: Vec<String>,
    /// Only events of this organization (`metadata.organizationId`).
    pub organization_id: Option<String>,
    /// Only events of this user (`metadata.userId`).
    pub user_id: Option<String>,
    /// Only events sharing this correlation id.
    pub correlation_id: Option<String>,
    /// Only events recorded in this range.
    pub time_range: TimeRange,
    /// Free text over event data and metadata.
    pub text: Option<String>,
}

impl EventCriteria {
    /// The words of `text`, lower-cased (empty when there is no text).
    pub fn text_terms(&self) -> Vec<String> {
        self.text
            .as_deref()
            .map(|t| t.split_whitespace().map(str::to_lowercase).collect())
            .unwrap_or_default()
    }

    /// Evaluates the criteria against one envelope — the reference semantics every store
    /// must reproduce (stores push the work down; tests compare against this).
    pub fn matches(&self, event: &EventEnvelope) -> bool {
        let eq = |want: &Option<String>, got: Option<&str>| want.as_deref().is_none_or(|w| Some(w) == got);
        eq(&self.aggregate_type, Some(&event.aggregate_type))
            && eq(&self.aggregate_id, Some(&event.aggregate_id))
            && (self.event_types.is_empty() || self.event_types.contains(&event.event_type))
            && eq(&self.organization_id, event.metadata.organization_id.as_deref())
            && eq(&self.user_id, event.metadata.user_id.as_deref())
            && eq(&self.correlation_id, Some(&event.correlation_id))
            && self.time_range.contains(event.timestamp)
            && self.matches_text(event)
    }

    fn matches_text(&self, event: &EventEnvelope) -> bool {
        let terms = self.text_terms();
        if terms.is_empty() {
            return true;
        }
        let haystack = searchable_text(event);
        let found: std::collections::HashSet<&str> = words(&haystack).collect();
        terms.iter().all(|term| words(term).all(|w| found.contains(w)))
    }
}

/// The words of a text: runs of alphanumeric characters.
pub fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty())
}

/// The lower-cased text of every string and number in `eventData` and `metadata`, space-joined:
/// what [`EventCriteria::text`] is matched against, word by word ([`words`]).
pub fn searchable_text(event: &EventEnvelope) -> String {
    let mut out = String::new();
    collect_text(&event.event_data, &mut out);
    if let Ok(meta) = serde_json::to_value(&event.metadata) {
        collect_text(&meta, &mut out);
    }
    out.to_lowercase()
}

fn collect_text(value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::String(s) => {
            out.push_str(s);
            out.push(' ');
        }
        serde_json::Value::Number(n) => {
            out.push_str(&n.to_string());
            out.push(' ');
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_text(v, out)),
        serde_json::Value::Object(map) => map.values().for_each(|v| collect_text(v, out)),
        serde_json::Value::Bool(_) | serde_json::Value::Null => {}
    }
}

/// The order of look-up results oldest first: timestamp, then global position (an event
/// without one last), then event id. [`SortOrder::Desc`] is its exact reverse.
pub fn event_order(a: &EventEnvelope, b: &EventEnvelope) -> std::cmp::Ordering {
    let position = |e: &EventEnvelope| e.global_position.unwrap_or(u64::MAX);
    a.timestamp
        .cmp(&b.timestamp)
        .then_with(|| position(a).cmp(&position(b)))
        .then_with(|| a.event_id.cmp(&b.event_id))
}

/// One page of look-up results and the number of all matches.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventPage {
    /// The events of the page in the page's [`SortOrder`] (by timestamp, then global order).
    pub items: Vec<EventEnvelope>,
    /// How many events match in all.
    pub total: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Metadata;
    use serde_json::json;

    #[test]
    fn page_is_clamped() {
        assert_eq!(Page::new(0, 0).limit, 1);
        assert_eq!(Page::new(0, u64::MAX).limit, Page::MAX_LIMIT);
    }

    #[test]
    fn criteria_match_text_in_data_and_metadata() {
        let ev = EventEnvelope::new(
            "p",
            "Payment",
            "PaymentFailed",
            json!({"error": "Card DECLINED", "n": 42}),
            1,
        )
        .with_metadata(Metadata::default().with_organization("org-9").with_source("Checkout"));
        let mut c = EventCriteria {
            text: Some("declined checkout".into()),
            ..Default::default()
        };
        assert!(c.matches(&ev));
        c.text = Some("42".into());
        assert!(c.matches(&ev));
        c.text = Some("approved".into());
        assert!(!c.matches(&ev));
        c.text = Some("declin".into());
        assert!(!c.matches(&ev), "whole words only");
        c.text = Some("card-declined".into());
        assert!(c.matches(&ev), "punctuation splits words");
        let c = EventCriteria {
            organization_id: Some("org-1".into()),
            ..Default::default()
        };
        assert!(!c.matches(&ev));
    }

    #[test]
    fn time_range_is_half_open() {
        let t = chrono::Utc::now();
        let r = TimeRange::between(t, t + chrono::Duration::seconds(1));
        assert!(r.contains(t));
        assert!(!r.contains(t + chrono::Duration::seconds(1)));
        assert!(TimeRange::all().contains(t));
    }
}
