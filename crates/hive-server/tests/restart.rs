//! The service on the embedded durable store keeps its data across a restart.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests state their expectations by unwrapping

use std::path::Path;

use hive_server::app::App;
use hive_server::config::{Config, Layer};
use serde_json::{json, Value};
use tokio::sync::oneshot;

struct Running {
    base: String,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

async fn start(data_dir: &Path) -> Running {
    let layer = Layer {
        data_dir: Some(data_dir.display().to_string()),
        http_addr: Some("127.0.0.1:0".into()),
        ..Layer::default()
    };
    let config = Config::resolve(Config::defaults().overridden_by(layer)).unwrap();
    let app = App::start(config).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        hive_server::serve::serve(app, listener, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    for _ in 0..100 {
        if reqwest::get(format!("{base}/healthz"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    Running { base, stop, task }
}

impl Running {
    async fn stop(self) {
        self.stop.send(()).unwrap();
        self.task.await.unwrap();
    }
}

fn token(data_dir: &Path) -> String {
    std::fs::read_to_string(data_dir.join("dev-token"))
        .unwrap()
        .trim()
        .to_owned()
}

async fn call(method: reqwest::Method, url: String, token: &str, body: Option<Value>) -> (u16, Value) {
    let client = reqwest::Client::new();
    let mut request = client.request(method, url).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_written_before_a_restart_is_served_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let token = token(dir.path());
    let (status, created) = call(
        reqwest::Method::POST,
        format!("{}/payments", server.base),
        &token,
        Some(json!({"paymentId": "pay-restart", "amount": "42.50", "currency": "EUR", "description": "Restart test"})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let (status, _) = call(
        reqwest::Method::POST,
        format!("{}/payments/pay-restart/process", server.base),
        &token,
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 200);
    server.stop().await;

    let server = start(dir.path()).await;
    assert_eq!(token, self::token(dir.path()), "the development token is kept");
    let (status, payment) = call(
        reqwest::Method::GET,
        format!("{}/payments/pay-restart", server.base),
        &token,
        None,
    )
    .await;
    assert_eq!(status, 200, "{payment}");
    assert_eq!(payment["status"], "completed");
    assert_eq!(payment["amount"], "42.50");
    assert_eq!(payment["version"], 2);
    let (status, history) = call(
        reqwest::Method::GET,
        format!("{}/payments/pay-restart/history", server.base),
        &token,
        None,
    )
    .await;
    assert_eq!(status, 200);
    let types: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["eventType"].as_str().unwrap())
        .collect();
    assert_eq!(types, vec!["PaymentCreated", "PaymentProcessed"]);
    let (status, search) = call(
        reqwest::Method::GET,
        format!("{}/payments/search?q=restart", server.base),
        &token,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(search["total"], 1, "the search index is rebuilt from the log: {search}");
    server.stop().await;
}
