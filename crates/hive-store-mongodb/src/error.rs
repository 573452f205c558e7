//! Classifying driver errors: duplicate keys, transient transaction errors, unreachable servers.

use hive_domain::EventStoreError;
use mongodb::error::{Error, ErrorKind, WriteFailure, TRANSIENT_TRANSACTION_ERROR, UNKNOWN_TRANSACTION_COMMIT_RESULT};

/// MongoDB's `DuplicateKey` error code.
pub(crate) const DUPLICATE_KEY: i32 = 11000;

/// The write error codes of `error`, however the driver wrapped them: a single write
/// (`ErrorKind::Write`), `insert_many` (`ErrorKind::InsertMany`) or a client bulk write
/// (`ErrorKind::BulkWrite`), or a command error.
fn codes(error: &Error) -> Vec<(i32, &str)> {
    match error.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(e)) => vec![(e.code, e.message.as_str())],
        ErrorKind::InsertMany(e) => e
            .write_errors
            .iter()
            .flatten()
            .map(|w| (w.code, w.message.as_str()))
            .collect(),
        ErrorKind::BulkWrite(e) => e.write_errors.values().map(|w| (w.code, w.message.as_str())).collect(),
        ErrorKind::Command(e) => vec![(e.code, e.message.as_str())],
        _ => Vec::new(),
    }
}

/// When `error` is a duplicate key (code 11000), its server message (which names the index).
pub(crate) fn duplicate_key(error: &Error) -> Option<String> {
    codes(error)
        .into_iter()
        .find(|(code, _)| *code == DUPLICATE_KEY)
        .map(|(_, message)| message.to_owned())
}

/// Whether a duplicate-key message is about the global position (`_id`), not the stream version.
pub(crate) fn names_position_index(message: &str) -> bool {
    message.contains("_id_") || message.contains("{ _id") || message.contains("globalPosition")
}

/// Whether `error` carries the `TransientTransactionError` label (write conflicts 112,
/// `NoSuchTransaction` 251 after an aborted one…): the whole transaction may be retried.
pub(crate) fn is_transient(error: &Error) -> bool {
    error.contains_label(TRANSIENT_TRANSACTION_ERROR)
}

/// Whether a commit may have happened or not (`UnknownTransactionCommitResult`): the commit
/// may be retried.
pub(crate) fn is_unknown_commit(error: &Error) -> bool {
    error.contains_label(UNKNOWN_TRANSACTION_COMMIT_RESULT)
}

/// The port error for a driver error: unreachable servers are `Unavailable`, the rest `Backend`.
pub(crate) fn store_error(what: &str, error: &Error) -> EventStoreError {
    match error.kind.as_ref() {
        ErrorKind::ServerSelection { .. }
        | ErrorKind::Io(_)
        | ErrorKind::ConnectionPoolCleared { .. }
        | ErrorKind::DnsResolve { .. }
        | ErrorKind::Shutdown => EventStoreError::Unavailable(format!("MongoDB {what}: {error}")),
        _ => EventStoreError::Backend(format!("MongoDB {what}: {error}")),
    }
}

/// A closure mapping a driver error to the port error for `what`.
pub(crate) fn backend(what: &'static str) -> impl Fn(Error) -> EventStoreError {
    move |error| store_error(what, &error)
}

/// A stored document that does not decode.
pub(crate) fn corrupt(record: impl Into<String>, reason: impl Into<String>) -> EventStoreError {
    EventStoreError::Corrupt {
        record: record.into(),
        reason: reason.into(),
    }
}
