//! Connectors: the global log published to a message broker, checkpointed, resumable.
//!
//! [`EventSink`] is the driven port a broker adapter implements (`hive-connector-nats` for NATS
//! JetStream); [`Connector`] feeds one sink from the global log, page by page, saving its
//! checkpoint (`connector:{name}`) after each published page.

mod runner;
mod sink;

pub use runner::{Connector, ConnectorError, DEFAULT_PAGE_SIZE};
pub use sink::{EventSink, SinkError};
