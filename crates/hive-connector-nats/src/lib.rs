#![doc = include_str!("../README.md")]

mod reader;
mod sink;
mod subject;

pub use reader::StoredMessage;
pub use sink::{NatsOptions, NatsSink, DEFAULT_DUPLICATE_WINDOW, DEFAULT_STREAM, DEFAULT_SUBJECT_PREFIX};
pub use subject::{subject_for, subject_token, NO_ORGANIZATION};
