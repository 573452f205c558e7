//! # hive-server
//!
//! Hive's composition root: it loads the [`config`], opens the adapters it names, builds the
//! billing module on top ([`app`]), and serves the HTTP API or runs a [`cli`] command. Nothing
//! else lives here.
//!
#![doc = include_str!("../README.md")]

pub mod app;
pub mod caches;
pub mod capabilities;
pub mod cli;
pub mod config;
pub mod connector;
pub mod dev_token;
pub mod elasticsearch;
pub mod payment_views;
pub mod postgres;
pub mod search;
pub mod serve;
pub mod stores;
