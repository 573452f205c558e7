//! The API over a real `BillingModule` on the in-memory adapters, with tokens for two
//! organizations and an event store that can be told to fail.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

pub mod feed;

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use hive_application::{EventBus, MiddlewareConfig};
use hive_billing::{BillingModule, BillingPorts};
use hive_domain::{EventEnvelope, EventStore, EventStoreError, EventStream, StoreCapabilities, StoreResult};
use hive_http::{router_with, ApiState, ApiToken, HttpConfig, Metrics, ReadinessCheck, Role, TokenRegistry};
use hive_store_memory::billing::{MemoryPaymentReadModel, MemoryPaymentSearchIndex};
use hive_store_memory::{MemoryCheckpointStore, MemoryEventStore, MemorySnapshotStore};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

pub const TOKEN_A: &str = "token-of-org-a";
pub const ORG_A: &str = "org-a";
pub const USER_A: &str = "alice";
pub const TOKEN_B: &str = "token-of-org-b";
pub const ORG_B: &str = "org-b";
pub const USER_B: &str = "bob";

/// Tokens of organization A with other roles than A's `writer` (`TOKEN_A`, `TOKEN_B`: writers).
pub const TOKEN_READER: &str = "token-of-a-reader";
pub const TOKEN_ADMIN: &str = "token-of-an-admin";
pub const TOKEN_PLATFORM: &str = "token-of-the-platform";
pub const TOKEN_READER_PLATFORM: &str = "token-of-a-reader-and-the-platform";
pub const TOKEN_NO_ROLE: &str = "token-without-a-role";

/// Every token of organization A: (token, user, roles).
pub const ROLE_TOKENS: &[(&str, &str, &[Role])] = &[
    (TOKEN_READER, "rita", &[Role::Reader]),
    (TOKEN_A, USER_A, &[Role::Writer]),
    (TOKEN_ADMIN, "adam", &[Role::Admin]),
    (TOKEN_PLATFORM, "pat", &[Role::Platform]),
    (TOKEN_READER_PLATFORM, "rhea", &[Role::Reader, Role::Platform]),
    (TOKEN_NO_ROLE, "nemo", &[]),
];

/// How the [`ControlledStore`] answers appends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    Normal = 0,
    Unavailable = 1,
    Conflict = 2,
    Slow = 3,
}

/// A `MemoryEventStore` whose appends can be made to fail, conflict or hang.
pub struct ControlledStore {
    pub inner: Arc<MemoryEventStore>,
    mode: AtomicU8,
}

impl ControlledStore {
    pub fn set(&self, mode: Mode) {
        self.mode.store(mode as u8, Ordering::SeqCst);
    }

    fn mode(&self) -> u8 {
        self.mode.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl EventStore for ControlledStore {
    async fn append(&self, id: &str, expected: u64, events: Vec<EventEnvelope>) -> StoreResult<Vec<EventEnvelope>> {
        match self.mode() {
            m if m == Mode::Unavailable as u8 => Err(EventStoreError::Unavailable("connection refused".into())),
            m if m == Mode::Conflict as u8 => Err(EventStoreError::Conflict {
                aggregate_id: id.to_owned(),
                expected,
                actual: expected + 1,
            }),
            m if m == Mode::Slow as u8 => {
                tokio::time::sleep(Duration::from_secs(5)).await;
                self.inner.append(id, expected, events).await
            }
            _ => self.inner.append(id, expected, events).await,
        }
    }

    fn read_stream<'a>(&'a self, aggregate_id: &'a str, from_version: u64) -> EventStream<'a> {
        self.inner.read_stream(aggregate_id, from_version)
    }

    async fn stream_version(&self, aggregate_id: &str) -> StoreResult<u64> {
        self.inner.stream_version(aggregate_id).await
    }

    async fn read_all(&self, after_position: u64, limit: usize) -> StoreResult<Vec<EventEnvelope>> {
        self.inner.read_all(after_position, limit).await
    }

    async fn head_position(&self) -> StoreResult<u64> {
        self.inner.head_position().await
    }
}

/// One answer, its body parsed as JSON when it is JSON.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or_default()
    }

    /// Asserts an RFC 7807 problem of `status` and returns its code.
    pub fn problem(&self, status: u16) -> &str {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.text);
        assert_eq!(self.content_type(), "application/problem+json", "body: {}", self.text);
        assert_eq!(self.body["status"], status, "body: {}", self.text);
        assert!(self.body["title"].is_string() && self.body["detail"].is_string() && self.body["type"].is_string());
        assert!(self.header("x-correlation-id").is_some(), "no correlation id echoed");
        self.body["code"].as_str().unwrap()
    }

    /// The fields named by a 400 problem.
    pub fn fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| errors.iter().map(|e| e["field"].as_str().unwrap().to_owned()).collect())
            .unwrap_or_default()
    }
}

#[derive(Default)]
pub struct Options {
    pub config: HttpConfig,
    pub readiness: Vec<Arc<dyn ReadinessCheck>>,
    pub cache: Option<hive_application::cache::QueryCache>,
    /// The event store offers the core port only: no look-up by id, search or analytics.
    pub core_only: bool,
    /// Routes served beside the API's (`hive_http::router_with`), e.g. the dashboard's.
    pub routes: &'static [hive_http::Route],
    /// How the subscription groups behave (default: polling every 200 ms).
    pub groups: Option<hive_http::GroupOptions>,
}

pub struct TestApp {
    pub router: Router,
    pub store: Arc<ControlledStore>,
    pub metrics: Metrics,
}

pub fn tokens() -> TokenRegistry {
    let token = |token: &str, organization: &str, user: &str, roles: &[Role]| ApiToken {
        token: token.into(),
        organization: organization.into(),
        user: user.into(),
        roles: roles.to_vec(),
    };
    let mut tokens: Vec<ApiToken> = ROLE_TOKENS
        .iter()
        .map(|(secret, user, roles)| token(secret, ORG_A, user, roles))
        .collect();
    tokens.push(token(TOKEN_B, ORG_B, USER_B, &[Role::Writer]));
    TokenRegistry::new(tokens)
}

impl TestApp {
    pub fn new() -> Self {
        Self::with(Options::default())
    }

    pub fn with(options: Options) -> Self {
        let memory = Arc::new(MemoryEventStore::new());
        let store = Arc::new(ControlledStore {
            inner: memory.clone(),
            mode: AtomicU8::new(Mode::Normal as u8),
        });
        // The optional capabilities come straight from the memory store: only the core fails
        // on demand. A core-only app has none of them.
        let capabilities = StoreCapabilities::core(store.clone());
        let capabilities = if options.core_only {
            capabilities
        } else {
            capabilities
                .with_lookup(memory.clone())
                .with_search(memory.clone())
                .with_analytics(memory)
        };
        let ports = BillingPorts {
            event_store: capabilities,
            snapshot_store: Arc::new(MemorySnapshotStore::new()),
            read_model: Arc::new(MemoryPaymentReadModel::new()),
            search_index: Arc::new(MemoryPaymentSearchIndex::new()),
        };
        let middleware = MiddlewareConfig {
            max_retries: 2,
            ..MiddlewareConfig::default()
        };
        let mut module = BillingModule::new(ports, EventBus::default(), middleware);
        if let Some(cache) = options.cache {
            module = module.with_query_cache(cache);
        }
        let billing = module.build();
        let wake = billing.event_bus.clone();
        let groups = options.groups.clone().unwrap_or(hive_http::GroupOptions {
            poll: Duration::from_millis(200),
            ..hive_http::GroupOptions::default()
        });
        let subscriptions = hive_http::Subscriptions::new(hive_http::ConsumerGroups::new(
            store.clone(),
            Arc::new(MemoryCheckpointStore::new()),
            Some(Arc::new(move || wake.subscribe())),
            groups,
        ));
        let metrics = Metrics::new();
        let query_cache = billing.query_cache().cloned();
        let state = ApiState {
            commands: billing.command_bus,
            queries: billing.query_bus,
            tokens: tokens(),
            readiness: options.readiness,
            metrics: metrics.clone(),
            query_cache,
            subscriptions: Some(subscriptions),
        };
        Self {
            router: router_with(state, options.config, options.routes),
            store,
            metrics,
        }
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = match headers
            .get(header::CONTENT_TYPE)
            .is_some_and(|t| t == "text/event-stream")
        {
            true => event_stream_data(&text),
            false => serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        };
        Reply {
            status,
            headers,
            text,
            body,
        }
    }

    pub async fn get(&self, token: &str, uri: &str) -> Reply {
        self.send(request(Method::GET, uri, token, None)).await
    }

    pub async fn post(&self, token: &str, uri: &str, body: Value) -> Reply {
        self.send(request(Method::POST, uri, token, Some(body))).await
    }

    /// Creates a payment, asserting `201`.
    pub async fn create(&self, token: &str, id: &str, amount: &str, currency: &str, description: &str) -> Value {
        let body = serde_json::json!({
            "paymentId": id, "amount": amount, "currency": currency, "description": description
        });
        let reply = self.post(token, "/payments", body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        reply.body
    }

    /// Creates and processes a payment.
    pub async fn completed(&self, token: &str, id: &str, amount: &str, currency: &str, description: &str) -> Value {
        self.create(token, id, amount, currency, description).await;
        let reply = self.post(token, &format!("/payments/{id}/process"), Value::Null).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        reply.body
    }
}

/// The `data` of every event of a finished Server-Sent Events stream, as a JSON array.
fn event_stream_data(text: &str) -> Value {
    text.lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .map(|data| serde_json::from_str::<Value>(data.trim_start()).unwrap())
        .collect()
}

/// The API with the query cache on (moka, in process): answers are served from it on a repeat.
pub fn with_cache() -> TestApp {
    let l1: Arc<dyn hive_application::cache::Cache> = Arc::new(hive_cache_moka::MokaCache::new(
        hive_cache_moka::MokaCacheConfig::default(),
    ));
    TestApp::with(Options {
        cache: Some(hive_application::cache::QueryCache::new(
            vec![l1],
            hive_application::cache::CacheConfig::default(),
        )),
        ..Options::default()
    })
}

/// A request with a bearer token (none when `token` is empty) and an optional JSON body.
pub fn request(method: Method, uri: &str, token: &str, body: Option<Value>) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(uri);
    if !token.is_empty() {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    match body {
        Some(Value::Null) | None => builder.body(Body::empty()).unwrap(),
        Some(body) => builder
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    }
}

/// A request with a raw body and content type.
pub fn raw(method: Method, uri: &str, token: &str, content_type: &str, body: impl Into<Body>) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, content_type)
        .body(body.into())
        .unwrap()
}
