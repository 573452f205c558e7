#![doc = include_str!("../README.md")]

mod bus;
pub mod cache;
pub mod connector;
mod error;
mod event_bus;
mod message;
pub mod middleware;
mod projection;
mod repository;
pub mod subscription;

pub use bus::{
    BusFuture, BusMetrics, BusRequest, BusResponse, BusService, CommandBus, CommandBusBuilder, ErasedMessage, QueryBus,
    QueryBusBuilder,
};
pub use connector::{Connector, ConnectorError, EventSink, SinkError};
pub use error::{ApplicationError, FieldError};
pub use event_bus::{EventBus, EventHandler};
pub use message::{Command, Handler, Message, MessageContext, Query};
pub use middleware::MiddlewareConfig;
pub use projection::{
    BatchError, CatchUp, Lease, LeaseGrant, PoisonPolicy, Projection, ProjectionRunner, ProjectionStatus,
};
pub use repository::{AggregateRepository, Executed, Loaded, SnapshotPolicy, TimeSource, DEFAULT_HOT_AGGREGATES};
pub use subscription::{ConsumerGroups, GroupOptions, Membership};
