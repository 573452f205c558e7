//! What the whole billing flow must show on every server-backed store (Elasticsearch,
//! PostgreSQL): the same answers after a restart of the service, and the same answers as the
//! embedded store.

use std::path::Path;

use hive_server::config::Layer;
use serde_json::Value;

use super::compare::{assert_same, comparable};
use super::flow::{answers, billing_flow, search_answers, settle};
use super::{start, token, Running};

/// Runs the flow on a service started with `layer` (its data directory `dir`), settles, and
/// returns the flow's answers and search answers; the service is stopped.
pub async fn run_flow(layer: Layer, dir: &Path) -> (Value, Value) {
    let server = start(layer).await;
    let token = token(dir);
    let flow = billing_flow(&server, &token).await;
    settle(&server, &token, &flow).await;
    let answered = answers(&server, &token, &flow).await;
    let searched = search_answers(&server, &token).await;
    server.stop().await;
    (answered, searched)
}

/// Runs the flow on a service started with `layer` (its data directory `dir`), stops it,
/// starts it again on the same layer, and asserts that every query and search answers the
/// same. `ready` checks the service's `/readyz` after each start.
pub async fn same_answers_after_a_restart(layer: Layer, dir: &Path, ready: impl AsyncFn(&Running, &str)) {
    let server = start(layer.clone()).await;
    let token = token(dir);
    ready(&server, &token).await;
    let flow = billing_flow(&server, &token).await;
    settle(&server, &token, &flow).await;
    let before = answers(&server, &token, &flow).await;
    let searched = search_answers(&server, &token).await;
    assert_eq!(
        before["timeline"]["items"].as_array().map(Vec::len),
        Some(5),
        "{before}"
    );
    assert_eq!(before["eventStatistics"]["total"], flow.events, "{before}");
    server.stop().await;

    let server = start(layer).await;
    ready(&server, &token).await;
    settle(&server, &token, &flow).await;
    let after = answers(&server, &token, &flow).await;
    assert_same(&before, &after, "answers before and after the restart");
    assert_same(
        &searched,
        &search_answers(&server, &token).await,
        "search answers after the restart",
    );
    server.stop().await;
}

/// Runs the flow on a service started with `layer` (its data directory `dir`) and on the
/// embedded store, and asserts that they answer the same (`store` names the first in the
/// message), searches included.
pub async fn same_answers_as_the_embedded_store(layer: Layer, dir: &Path, store: &str) {
    let (on_store, searched_on_store) = run_flow(layer, dir).await;
    let embedded_dir = tempfile::tempdir().unwrap();
    let embedded = Layer {
        data_dir: Some(embedded_dir.path().display().to_string()),
        ..Layer::default()
    };
    let (on_embedded, searched_on_embedded) = run_flow(embedded, embedded_dir.path()).await;
    assert_same(
        &comparable(&on_embedded),
        &comparable(&on_store),
        &format!("the embedded store (left) and {store} (right)"),
    );
    // The ids found (ranked by relevance: sorted) and the suggestions with their scores.
    assert_same(&searched_on_embedded, &searched_on_store, "search answers");
}
