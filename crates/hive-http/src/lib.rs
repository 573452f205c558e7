#![doc = include_str!("../README.md")]

mod access;
mod auth;
mod correlation;
mod extract;
pub mod idempotency;
mod layers;
mod metrics;
mod openapi;
mod problem;
mod readiness;
mod routes;
mod state;
mod subscriptions;

pub use access::{token_roles, Access, Role, RoleError, INSUFFICIENT_ROLE};
pub use auth::{ApiToken, Caller, TokenRegistry, SOURCE};
pub use correlation::{CORRELATION_ID_HEADER, MAX_CORRELATION_ID_LEN};
pub use extract::Params;
pub use hive_application::subscription::{ConsumerGroups, GroupOptions, WakeSource};
pub use metrics::{Metrics, UNMATCHED_ROUTE};
pub use openapi::openapi_document;
pub use problem::{Problem, PROBLEM_JSON};
pub use readiness::{Readiness, ReadinessCheck, READINESS_CHECK_TIMEOUT};
pub use routes::{router, router_with, Endpoint, Route, RouteState, PUBLIC_ROUTES, ROUTES};
pub use routes::{FILTER_MISMATCH, NOT_IN_FLIGHT};
pub use state::{ApiState, HttpConfig};
pub use subscriptions::{Subscriptions, FEED_PAGE_SIZE, INVALID_GROUP};
