#![doc = include_str!("../README.md")]

mod account;
mod append;
mod bus;
mod durable;
mod error;
mod load;

pub use account::{deposits, Account, AccountCommand, AccountError, AccountEvent};
pub use append::{BaselineLog, Rotating};
pub use bus::{context, Constant, Ping, Stack};
pub use durable::DurableFixture;
pub use error::FixtureError;
pub use load::{LoadFixture, LOADED_STREAM};
