#![doc = include_str!("../README.md")]

/// The allocator of the `hive` binary: every bench (and the `hello` reference of P8) allocates
/// as the service does, and both sides of each comparison share it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod account;
mod append;
mod bus;
mod commands;
mod durable;
mod error;
mod load;
mod payment;
mod payment_view;
mod timing;

pub use account::{deposits, new_stream, Account, AccountCommand, AccountError, AccountEvent};
pub use append::{BaselineLog, Rotating};
pub use bus::{context, named_context, Constant, Ping, Stack};
pub use commands::{CommandSide, HivePayments, ProcessPayment, StreamRig};
pub use durable::DurableFixture;
pub use error::FixtureError;
pub use load::{LoadFixture, LOADED_STREAM};
pub use payment::{
    payment_envelopes, payment_history, BenchPayment, BenchPaymentCommand, BenchPaymentError, BenchPaymentEvent,
};
pub use payment_view::{payment_view, payment_views_start, BENCH_ORG};
pub use timing::{latency_summary, measuring, size_from_env};
