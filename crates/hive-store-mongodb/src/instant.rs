//! Instants to the nanosecond: a BSON date holds milliseconds, so a time field is stored as
//! its millisecond floor (a date, which sorts and filters like the instant) plus the
//! nanoseconds below it in the document's `subMillisecondNanos` sub-document, under the same
//! field name. The payment read model and the checkpoints' `lastProcessedTimestamp` use it.

use bson::{Bson, DateTime as BsonDateTime, Document};
use chrono::{DateTime, Duration, SubsecRound, Utc};

/// The sub-document holding the nanoseconds below the millisecond of each time field.
pub(crate) const SUB_MS: &str = "subMillisecondNanos";

/// The millisecond floor of `t` as a BSON date, and the nanoseconds below it.
pub(crate) fn split(t: DateTime<Utc>) -> (BsonDateTime, i64) {
    let floor = t.trunc_subsecs(3);
    let rest = (t - floor).num_nanoseconds().unwrap_or_default();
    (BsonDateTime::from_chrono(floor), rest)
}

/// The instant of a stored date and its sub-millisecond nanoseconds.
pub(crate) fn join(date: BsonDateTime, nanos: i64) -> DateTime<Utc> {
    date.to_chrono() + Duration::nanoseconds(nanos)
}

/// Reads the time `field` of `doc` (its date and its nanoseconds in [`SUB_MS`]): `Ok(None)`
/// when it is missing or null, `Err` with a description of what is there when it is not a date.
pub(crate) fn read(doc: &Document, field: &str) -> Result<Option<DateTime<Utc>>, String> {
    match doc.get(field) {
        None | Some(Bson::Null) => Ok(None),
        Some(Bson::DateTime(date)) => {
            let nanos = doc
                .get_document(SUB_MS)
                .ok()
                .and_then(|sub| match sub.get(field) {
                    Some(Bson::Int64(n)) => Some(*n),
                    Some(Bson::Int32(n)) => Some(i64::from(*n)),
                    _ => None,
                })
                .unwrap_or(0);
            Ok(Some(join(*date, nanos)))
        }
        Some(other) => Err(format!("expected a date, found {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use bson::doc;

    #[test]
    fn instants_split_and_join_exactly() {
        let t = DateTime::parse_from_rfc3339("2024-01-01T00:00:00.123456789Z")
            .unwrap()
            .with_timezone(&Utc);
        let (date, nanos) = split(t);
        assert_eq!(nanos, 456_789);
        assert_eq!(date.timestamp_millis() % 1000, 123);
        assert_eq!(join(date, nanos), t);
        let doc = doc! { "at": date, SUB_MS: { "at": nanos }, "nothing": Bson::Null, "text": "x" };
        assert_eq!(read(&doc, "at").unwrap(), Some(t));
        assert_eq!(read(&doc, "nothing").unwrap(), None);
        assert_eq!(read(&doc, "missing").unwrap(), None);
        assert!(read(&doc, "text").is_err());
        let without_nanos = doc! { "at": date };
        assert_eq!(read(&without_nanos, "at").unwrap(), Some(t.trunc_subsecs(3)));
    }
}
