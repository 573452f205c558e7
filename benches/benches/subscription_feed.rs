//! The subscription feeds over HTTP: how long after `POST /payments` answers its event reaches a
//! consumer of `GET /subscriptions/{group}/events`, and how many events per second the
//! Server-Sent Events feed hands to one consumer and to a group of four.
//!
//! `cargo bench -p hive-benches --bench subscription_feed`; `HIVE_FEED_STORE` picks the store
//! (default `memory-durable`, the embedded durable store `hive serve` runs on; `memory`
//! too), `HIVE_FEED_EVENTS` the size of the seeded log (default 20 000). Run by `cargo test`
//! (without `--bench`), it is a smoke run: 20 payments, 500 events.
//!
//! The service runs in this process (as the `hive-server` tests start it: `App::start`, then
//! `serve` on a loopback port, a temporary data directory and its development token), on the
//! same two-worker runtime as the clients; every figure is over real HTTP connections
//! (reqwest), each SSE chunk cut with `hive_server::cli::take_sse_events`. A consumer may hold
//! at most 1 000 unacknowledged events, so it acks as it goes, on a connection of its own:
//! either the highest position of each chunk before reading the next (as `hive events follow`
//! does; axum sends each SSE event as an HTTP chunk of its own, so this is one ack per event),
//! or from a task beside the reader, the highest position so far, one ack in flight.
//!
//! 1. **append → consumer**: one consumer of group `latency` connected; 500 payments created
//!    one at a time with `POST /payments`, 5 ms apart; latency from the `201` to the arrival
//!    of the payment's `PaymentCreated` at the consumer (0 when it came first), and from the
//!    sending of the `POST`: p50, p99, max;
//! 2. **one consumer**: a log of that many `PaymentCreated` (dispatched on the `App`'s command
//!    bus before the service listens, as `hive demo seed` does), read from position 0 by one
//!    consumer of group `solo` acking each chunk (`solo-beside`: acking beside): events/s from
//!    the `GET` to the last event;
//! 3. **a group of four**: the same log, four consumers of group `four` (`four-beside`)
//!    connected at once, each acking its own: events/s until the union holds every position
//!    (asserted: none missing, none beyond the log), and each consumer's share.
//!
//! Each phase also prints how many chunks and acks it took, and the time spent acking.

// A failed measurement should stop loudly, as in the benches.
#![allow(clippy::unwrap_used, clippy::expect_used)]

// Links hive-benches' global allocator (mimalloc, as in the `hive` binary).
use hive_benches::{latency_summary, measuring, size_from_env};

use std::collections::{BTreeMap, HashMap};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hive_application::MessageContext;
use hive_billing::CreatePayment;
use hive_domain::Metadata;
use hive_server::app::App;
use hive_server::cli::take_sse_events;
use hive_server::config::{Config, Layer};
use hive_server::dev_token::{DEV_ORGANIZATION, DEV_USER};
use parking_lot::Mutex;
use serde_json::{json, Value};
use tokio::sync::oneshot;

/// The service running in this process.
struct Service {
    base: String,
    token: String,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl Service {
    /// Starts the service on `store` with `seed` payments created before it listens.
    async fn start(store: &str, seed: usize) -> Self {
        let dir = tempfile::tempdir().expect("temporary data directory");
        let layer = Layer {
            data_dir: Some(dir.path().display().to_string()),
            store: Some(store.into()),
            http_addr: Some("127.0.0.1:0".into()),
            ..Layer::default()
        };
        let config = Config::resolve(Config::defaults().overridden_by(layer)).expect("configuration");
        let app = App::start(config).await.expect("the service starts");
        if seed > 0 {
            let started = Instant::now();
            seed_payments(&app, seed).await;
            eprintln!("seeded {seed} payments in {:.1} s", started.elapsed().as_secs_f64());
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let base = format!("http://{}", listener.local_addr().expect("an address"));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            hive_server::serve::serve(app, listener, async {
                let _ = stopped.await;
            })
            .await
            .expect("serve");
        });
        for _ in 0..250 {
            if reqwest::get(format!("{base}/healthz"))
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Written by `serve` when no token is configured.
        let token = std::fs::read_to_string(dir.path().join("dev-token"))
            .expect("dev-token")
            .trim()
            .to_owned();
        Self {
            base,
            token,
            stop,
            task,
            _dir: dir,
        }
    }

    async fn stop(self) {
        self.stop.send(()).expect("stop");
        self.task.await.expect("the service");
    }
}

/// Creates `count` payments of the development organization on the App's command bus.
async fn seed_payments(app: &App, count: usize) {
    let bus = &app.services.command_bus;
    for i in 0..count {
        let context = MessageContext::new().with_metadata(
            Metadata::default()
                .with_organization(DEV_ORGANIZATION)
                .with_user(DEV_USER)
                .with_source("bench"),
        );
        let create = CreatePayment {
            payment_id: format!("seed-{i:06}"),
            amount: "10.00".parse().expect("an amount"),
            currency: "EUR".into(),
            description: "Seeded".into(),
            tags: vec![],
            metadata: BTreeMap::new(),
        };
        bus.dispatch(create, context).await.expect("create");
    }
}

/// What the consumers received: for each position, when it first arrived and its payment;
/// how many arrived more than once.
#[derive(Default)]
struct Received {
    first: HashMap<u64, (Instant, String)>,
    by_payment: HashMap<String, Instant>,
    again: usize,
}

type Shared = Arc<Mutex<Received>>;

/// One consumer's work: events and chunks received, acks sent, time spent acking.
#[derive(Default, Clone, Copy)]
struct Tally {
    events: usize,
    chunks: usize,
    acks: usize,
    acking: Duration,
}

/// How a consumer acknowledges.
#[derive(Clone, Copy, Debug)]
enum Acks {
    /// After each chunk it read, the chunk's highest position, before reading on (as
    /// `hive events follow` does).
    EachChunk,
    /// From a task of its own, the highest position received so far, one ack at a time, while
    /// the reading goes on.
    Beside,
}

/// Aborts the task when dropped (the acking task dies with its consumer).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Acks `position` for `consumer`, counting in `tally`.
async fn ack(client: &reqwest::Client, url: &str, token: &str, consumer: &str, position: u64, tally: &Mutex<Tally>) {
    let acking = Instant::now();
    let answer = client
        .post(url)
        .bearer_auth(token)
        .json(&json!({"position": position, "consumer": consumer}))
        .send()
        .await
        .expect("ack");
    assert_eq!(answer.status(), 200, "{consumer}: ack {position}");
    let mut tally = tally.lock();
    tally.acks += 1;
    tally.acking += acking.elapsed();
}

/// Joins `group` as `consumer`, reads its feed and acks as `acks` says until aborted (panics if
/// the feed ends: it never should), counting in `tally`.
async fn consume(
    base: String,
    token: String,
    group: String,
    consumer: String,
    acks: Acks,
    received: Shared,
    tally: Arc<Mutex<Tally>>,
) {
    let client = reqwest::Client::new();
    let mut response = client
        .get(format!("{base}/subscriptions/{group}/events?consumer={consumer}"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("the feed");
    assert_eq!(response.status(), 200, "GET the feed of {group} as {consumer}");
    let ack_url = format!("{base}/subscriptions/{group}/ack");
    let (highest_tx, mut highest_rx) = tokio::sync::watch::channel(0u64);
    let _acker = AbortOnDrop(tokio::spawn({
        let (client, ack_url, token, consumer, tally) = (
            client.clone(),
            ack_url.clone(),
            token.clone(),
            consumer.clone(),
            tally.clone(),
        );
        async move {
            while highest_rx.changed().await.is_ok() {
                let position = *highest_rx.borrow_and_update();
                ack(&client, &ack_url, &token, &consumer, position, &tally).await;
            }
        }
    }));
    let mut bytes = Vec::new();
    let mut buffer = String::new();
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => panic!("{consumer}: the feed of {group} ended"),
            Err(error) => panic!("{consumer}: the feed of {group} failed: {error}"),
        };
        let now = Instant::now();
        // Only whole UTF-8 sequences move to the text (a chunk may end inside one).
        bytes.extend_from_slice(&chunk);
        let whole = match std::str::from_utf8(&bytes) {
            Ok(all) => all.len(),
            Err(error) => error.valid_up_to(),
        };
        buffer.push_str(std::str::from_utf8(&bytes[..whole]).expect("UTF-8"));
        bytes.drain(..whole);
        let events = take_sse_events(&mut buffer);
        let mut highest = None;
        {
            let mut received = received.lock();
            for event in &events {
                let Some(position) = event.id.as_deref().and_then(|id| id.parse::<u64>().ok()) else {
                    continue;
                };
                highest = highest.max(Some(position));
                let data: Value = serde_json::from_str(&event.data).expect("the event's JSON");
                let payment = data["aggregateId"].as_str().unwrap_or_default().to_owned();
                if received.first.contains_key(&position) {
                    received.again += 1;
                } else {
                    received.by_payment.insert(payment.clone(), now);
                    received.first.insert(position, (now, payment));
                }
            }
        }
        if !events.is_empty() {
            let mut tally = tally.lock();
            tally.events += events.len();
            tally.chunks += 1;
        }
        match (highest, acks) {
            (None, _) => {}
            (Some(position), Acks::EachChunk) => ack(&client, &ack_url, &token, &consumer, position, &tally).await,
            (Some(position), Acks::Beside) => {
                let _ = highest_tx.send(position);
            }
        }
    }
}

/// Consumers of `group` reading in the background.
struct Consumers {
    tasks: Vec<tokio::task::JoinHandle<()>>,
    counts: Vec<Arc<Mutex<Tally>>>,
    received: Shared,
}

impl Consumers {
    fn connect(service: &Service, group: &str, how_many: usize, acks: Acks) -> Self {
        let received = Shared::default();
        let mut tasks = Vec::new();
        let mut counts = Vec::new();
        for n in 0..how_many {
            let count = Arc::new(Mutex::new(Tally::default()));
            tasks.push(tokio::spawn(consume(
                service.base.clone(),
                service.token.clone(),
                group.to_owned(),
                format!("consumer-{n}"),
                acks,
                received.clone(),
                count.clone(),
            )));
            counts.push(count);
        }
        Self {
            tasks,
            counts,
            received,
        }
    }

    /// Waits until `done` holds of what was received, at most `limit`; panics with what is
    /// missing otherwise (or when a consumer stopped).
    async fn wait(&self, limit: Duration, what: &str, done: impl Fn(&Received) -> bool) {
        let deadline = Instant::now() + limit;
        loop {
            if done(&self.received.lock()) {
                return;
            }
            if let Some(task) = self.tasks.iter().position(|t| t.is_finished()) {
                panic!("consumer-{task} stopped while waiting for {what}");
            }
            assert!(
                Instant::now() < deadline,
                "{what} not received within {limit:?}: {} positions received, consumers got {:?}",
                self.received.lock().first.len(),
                self.counts.iter().map(|c| c.lock().events).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
    }

    fn stop(self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

fn print_lags(what: &str, mut lags: Vec<Duration>) {
    println!("{what}: {}", latency_summary(&mut lags));
}

async fn latency(store: &str, payments: usize) {
    let service = Service::start(store, 0).await;
    let consumers = Consumers::connect(&service, "latency", 1, Acks::EachChunk);
    // The consumer has joined once a first event reaches it: one payment to warm up.
    let client = reqwest::Client::new();
    let create = |id: String| {
        client
            .post(format!("{}/payments", service.base))
            .bearer_auth(&service.token)
            .json(&json!({"paymentId": id, "amount": "10.00", "currency": "EUR", "description": "Latency"}))
            .send()
    };
    assert_eq!(create("warm-up".into()).await.expect("POST").status(), 201);
    consumers
        .wait(Duration::from_secs(10), "the warm-up payment", |r| {
            r.by_payment.contains_key("warm-up")
        })
        .await;
    let mut sent = Vec::with_capacity(payments);
    for i in 0..payments {
        let id = format!("latency-{i:05}");
        let sending = Instant::now();
        let status = create(id.clone()).await.expect("POST").status();
        let answered = Instant::now();
        assert_eq!(status, 201, "POST /payments {id}");
        consumers
            .wait(Duration::from_secs(10), &id, |r| r.by_payment.contains_key(&id))
            .await;
        sent.push((id, sending, answered));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let received = consumers.received.lock().by_payment.clone();
    let again = consumers.received.lock().again;
    consumers.stop();
    let from_answer = sent
        .iter()
        .map(|(id, _, answered)| received[id].saturating_duration_since(*answered))
        .collect::<Vec<_>>();
    let from_sending = sent
        .iter()
        .map(|(id, sending, _)| received[id].saturating_duration_since(*sending))
        .collect::<Vec<_>>();
    let first = from_answer.iter().filter(|d| d.is_zero()).count();
    let posts = sent
        .iter()
        .map(|(_, sending, answered)| answered.saturating_duration_since(*sending))
        .collect::<Vec<_>>();
    println!("append → consumer ({store}): {payments} POST /payments, 5 ms apart, one consumer");
    print_lags("  POST answered → event received", from_answer);
    print_lags("  POST sent → event received", from_sending);
    print_lags("  POST round trip", posts);
    println!("  event before the POST's answer: {first} of {payments}; delivered again: {again}");
    service.stop().await;
}

async fn throughput(service: &Service, group: &str, consumers: usize, acks: Acks, events: usize) {
    let started = Instant::now();
    let feed = Consumers::connect(service, group, consumers, acks);
    feed.wait(
        Duration::from_secs(300),
        &format!("the {events} events of group {group}"),
        |r| r.first.len() >= events,
    )
    .await;
    let elapsed = started.elapsed();
    // A moment for anything delivered twice or beyond the log to show.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let tallies = feed.counts.iter().map(|c| *c.lock()).collect::<Vec<_>>();
    let shares = tallies.iter().map(|t| t.events).collect::<Vec<_>>();
    let acks_sent = tallies.iter().map(|t| t.acks).sum::<usize>();
    let acking = tallies.iter().map(|t| t.acking).max().unwrap_or_default();
    let (positions, again) = {
        let received = feed.received.lock();
        let mut positions = received.first.keys().copied().collect::<Vec<_>>();
        positions.sort_unstable();
        (positions, received.again)
    };
    feed.stop();
    let missing = (1..=events as u64)
        .filter(|p| positions.binary_search(p).is_err())
        .collect::<Vec<_>>();
    assert!(
        missing.is_empty(),
        "group {group}: positions never delivered: {missing:?}"
    );
    assert_eq!(positions.len(), events, "group {group}: positions beyond the log");
    println!(
        "{consumers} consumer(s), group {group}: {events} events in {:.2} s: {:.0} events/s \
         (each consumer's share {shares:?}, delivered again {again})",
        elapsed.as_secs_f64(),
        events as f64 / elapsed.as_secs_f64(),
    );
    let chunks = tallies.iter().map(|t| t.chunks).sum::<usize>();
    println!(
        "  acks {acks:?}: {chunks} chunks read ({:.1} events each), {acks_sent} acks ({:.2} ms each on average; \
         the most any one consumer spent acking: {:.2} s)",
        events as f64 / chunks.max(1) as f64,
        (tallies.iter().map(|t| t.acking).sum::<Duration>() / acks_sent.max(1) as u32).as_secs_f64() * 1e3,
        acking.as_secs_f64(),
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let measuring = measuring();
    let store = std::env::var("HIVE_FEED_STORE").unwrap_or_else(|_| "memory-durable".into());
    let events = match size_from_env("HIVE_FEED_EVENTS", 20_000, 500) {
        Ok(events) => usize::try_from(events).unwrap_or(usize::MAX),
        Err(message) => {
            eprintln!("subscription_feed: {message}");
            return ExitCode::from(2);
        }
    };
    latency(&store, if measuring { 500 } else { 20 }).await;
    let service = Service::start(&store, events).await;
    println!("catch-up ({store}): {events} PaymentCreated in the log, read from position 0");
    throughput(&service, "solo", 1, Acks::EachChunk, events).await;
    throughput(&service, "four", 4, Acks::EachChunk, events).await;
    throughput(&service, "solo-beside", 1, Acks::Beside, events).await;
    throughput(&service, "four-beside", 4, Acks::Beside, events).await;
    service.stop().await;
    ExitCode::SUCCESS
}
