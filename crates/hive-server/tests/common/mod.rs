//! Shared by the service tests: start the service in process on a free port, call it, stop it.
#![allow(dead_code, unreachable_pub)]

use std::path::Path;

pub mod compare;
pub mod flow;
pub mod groups;
pub mod load;
pub mod nats;
pub mod postgres;
pub mod process;
pub mod redis;
pub mod stores;

use hive_server::app::App;
use hive_server::config::{Config, Layer};
use serde_json::Value;
use tokio::sync::oneshot;

/// A service running in this process.
pub struct Running {
    pub base: String,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

/// Starts the service with the defaults overridden by `layer` (its `data_dir` must be set) and
/// waits until `/healthz` answers.
pub async fn start(layer: Layer) -> Running {
    let layer = Layer {
        http_addr: Some("127.0.0.1:0".into()),
        ..layer
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
    /// Shuts the service down gracefully and waits for it.
    pub async fn stop(self) {
        self.stop.send(()).unwrap();
        self.task.await.unwrap();
    }
}

/// The development token the service wrote into its data directory.
pub fn token(data_dir: &Path) -> String {
    std::fs::read_to_string(data_dir.join("dev-token"))
        .unwrap()
        .trim()
        .to_owned()
}

/// Sends one request; the status and the JSON body (`null` when there is none).
pub async fn call(method: reqwest::Method, url: String, token: &str, body: Option<Value>) -> (u16, Value) {
    let client = reqwest::Client::new();
    let mut request = client.request(method, url).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}
