//! `Idempotency-Key`: the same key from the same organization is the same command.
//!
//! The key is hashed with the caller's organization into the command id
//! (`Uuid::new_v5(&IDEMPOTENCY_NAMESPACE, "{organization}:{key}")`), so a retried request
//! reaches the command bus with the id of the first one, and the bus's idempotency layer
//! answers the first outcome again without appending a second event. The memory of keys is the
//! bus's: bounded in count and age ([`hive_application::MiddlewareConfig`]), per process, lost
//! on restart. The bus remembers outcomes per command type, so one key reused on another
//! route (say, `process` then `refund`) is another command.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::HeaderName;
use uuid::Uuid;

use crate::Problem;

/// The `Idempotency-Key` header.
pub const IDEMPOTENCY_KEY_HEADER: HeaderName = HeaderName::from_static("idempotency-key");

/// Longest accepted idempotency key.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

/// The UUID v5 namespace of command ids derived from idempotency keys.
pub const IDEMPOTENCY_NAMESPACE: Uuid = Uuid::from_u128(0x6869_7665_2d68_7474_702d_6964_656d_706f);

/// The command id of `key` sent by `organization`.
///
/// ```
/// use hive_http::idempotency::command_id;
///
/// assert_eq!(command_id("org-1", "k-1"), command_id("org-1", "k-1"));
/// assert_ne!(command_id("org-1", "k-1"), command_id("org-2", "k-1"));
/// ```
pub fn command_id(organization: &str, key: &str) -> Uuid {
    Uuid::new_v5(&IDEMPOTENCY_NAMESPACE, format!("{organization}:{key}").as_bytes())
}

/// The request's idempotency key, if any (1–255 printable ASCII characters, else `400`).
#[derive(Debug, Clone, Default)]
pub(crate) struct IdempotencyKey(pub(crate) Option<String>);

impl IdempotencyKey {
    pub(crate) fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        let Some(value) = parts.headers.get(IDEMPOTENCY_KEY_HEADER) else {
            return Ok(Self(None));
        };
        let bytes = value.as_bytes();
        let printable = bytes.iter().all(|b| (0x20..0x7f).contains(b));
        let key = String::from_utf8_lossy(bytes).trim().to_owned();
        if !printable || key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY_LEN {
            return Err(Problem::bad_request(
                "Idempotency-Key",
                format!("must have 1 to {MAX_IDEMPOTENCY_KEY_LEN} printable ASCII characters"),
            ));
        }
        Ok(Self(Some(key)))
    }
}
