//! The subject of an event: `{prefix}.{organization}.{eventType}`, tokens escaped.

use hive_domain::EventEnvelope;

/// The organization token of an event without organization (or with an empty one).
pub const NO_ORGANIZATION: &str = "_";

/// One subject token for `value`: ASCII letters, digits, `-` and `_` are kept; every other
/// byte of its UTF-8 (`.`, `*`, `>`, whitespace, `~`, non-ASCII…) becomes `~` and two
/// upper-case hex digits (`acme.eu` → `acme~2Eeu`). An empty value and the value `_` itself
/// are escaped too (`~`, `~5F`), so no value collides with [`NO_ORGANIZATION`].
pub fn subject_token(value: &str) -> String {
    if value.is_empty() {
        return "~".to_owned();
    }
    if value == NO_ORGANIZATION {
        return "~5F".to_owned();
    }
    let mut token = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_' {
            token.push(char::from(byte));
        } else {
            token.push('~');
            token.push_str(&format!("{byte:02X}"));
        }
    }
    token
}

/// The subject `event` is published on: `{prefix}.{organization}.{eventType}`, with
/// [`subject_token`] escaping both tokens and [`NO_ORGANIZATION`] (`_`) for an event without
/// organization (`hive.events.org-1.PaymentCreated`, `hive.events._.PaymentCreated`).
pub fn subject_for(prefix: &str, event: &EventEnvelope) -> String {
    let organization = match event.metadata.organization_id.as_deref() {
        None | Some("") => NO_ORGANIZATION.to_owned(),
        Some(organization) => subject_token(organization),
    };
    format!("{prefix}.{organization}.{}", subject_token(&event.event_type))
}

#[cfg(test)]
mod tests {
    use hive_domain::Metadata;

    use super::*;

    #[test]
    fn tokens_escape_what_subjects_cannot_hold() {
        assert_eq!(subject_token("org-dev_1"), "org-dev_1");
        assert_eq!(subject_token("acme.eu"), "acme~2Eeu");
        assert_eq!(subject_token("a b*>~"), "a~20b~2A~3E~7E");
        assert_eq!(subject_token("é"), "~C3~A9");
        assert_eq!(subject_token("_"), "~5F");
        assert_eq!(subject_token(""), "~");
    }

    #[test]
    fn subjects_are_prefix_organization_and_type() {
        let event = EventEnvelope::new("p-1", "Payment", "PaymentCreated", serde_json::json!({}), 1);
        assert_eq!(subject_for("hive.events", &event), "hive.events._.PaymentCreated");
        let event = event.with_metadata(Metadata::default().with_organization("org.1"));
        assert_eq!(subject_for("hive.events", &event), "hive.events.org~2E1.PaymentCreated");
    }
}
