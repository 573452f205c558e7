#![doc = include_str!("../README.md")]

mod cache;
mod config;
mod connection;
mod entry;
mod feed;
mod lease;
mod purge;
mod scripts;

pub use cache::RedisCache;
pub use config::RedisCacheConfig;
pub use lease::RedisLease;
