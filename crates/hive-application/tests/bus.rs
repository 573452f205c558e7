//! Command and query buses through the middleware stack.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests state their expectations by unwrapping

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hive_application::{
    ApplicationError, BusRequest, Command, CommandBus, Handler, Message, MessageContext, MiddlewareConfig, Query,
    QueryBus,
};

#[derive(Debug, Clone)]
struct Charge {
    amount: i64,
}
impl Message for Charge {
    type Output = String;
    fn name() -> &'static str {
        "Charge"
    }
    fn validate(&self) -> Result<(), ApplicationError> {
        if self.amount <= 0 {
            return Err(ApplicationError::invalid("amount", "must be greater than zero"));
        }
        Ok(())
    }
}
impl Command for Charge {}

#[derive(Debug)]
struct Unrouted;
impl Message for Unrouted {
    type Output = ();
}
impl Command for Unrouted {}

/// Fails with `failures` queued errors first, then succeeds; counts calls.
#[derive(Clone, Default)]
struct Scripted {
    calls: Arc<AtomicU32>,
    failures: Arc<Mutex<Vec<ApplicationError>>>,
    delay: Duration,
}

impl Scripted {
    fn failing(errors: Vec<ApplicationError>) -> Self {
        Self {
            failures: Arc::new(Mutex::new(errors)),
            ..Self::default()
        }
    }
    fn calls(&self) -> u32 {
        self.calls.load(Ordering::SeqCst)
    }
}

impl Handler<Charge> for Scripted {
    async fn handle(&self, charge: &Charge, context: &MessageContext) -> Result<String, ApplicationError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        tokio::time::sleep(self.delay).await;
        if let Some(error) = self.failures.lock().unwrap().pop() {
            return Err(error);
        }
        Ok(format!(
            "charged {} (call {n}, corr {})",
            charge.amount, context.correlation_id
        ))
    }
}

fn conflict() -> ApplicationError {
    ApplicationError::Conflict {
        aggregate_id: "p".into(),
        expected: 1,
        actual: 2,
    }
}

fn default_bus(handler: Scripted) -> CommandBus {
    CommandBus::builder()
        .with_default_middleware(MiddlewareConfig::default())
        .handler::<Charge, _>(handler)
        .build()
}

#[tokio::test]
async fn dispatch_returns_the_typed_output_of_the_one_handler() {
    let handler = Scripted::default();
    let bus = default_bus(handler.clone());
    let out = bus
        .dispatch(Charge { amount: 5 }, MessageContext::new().with_correlation_id("c-1"))
        .await
        .unwrap();
    assert_eq!(out, "charged 5 (call 1, corr c-1)");
    assert!(bus.handles::<Charge>());
    assert!(!bus.handles::<Unrouted>());
}

#[tokio::test]
async fn an_unregistered_message_is_a_typed_error() {
    let bus = default_bus(Scripted::default());
    let err = bus.dispatch(Unrouted, MessageContext::new()).await.unwrap_err();
    assert!(matches!(err, ApplicationError::NotRegistered { .. }), "{err:?}");
}

#[tokio::test]
async fn validation_refuses_before_the_handler_runs() {
    let handler = Scripted::default();
    let bus = default_bus(handler.clone());
    let err = bus
        .dispatch(Charge { amount: 0 }, MessageContext::new())
        .await
        .unwrap_err();
    assert_eq!(err, ApplicationError::invalid("amount", "must be greater than zero"));
    assert_eq!(handler.calls(), 0);
}

#[tokio::test]
async fn conflicts_are_retried_until_success() {
    let handler = Scripted::failing(vec![conflict(), conflict(), conflict()]);
    let bus = default_bus(handler.clone());
    let out = bus.dispatch(Charge { amount: 1 }, MessageContext::new()).await.unwrap();
    assert_eq!(bus.metrics().conflict_retries(), 3, "counted in the bus's own metrics");
    assert!(out.starts_with("charged 1 (call 4"), "{out}");
    assert_eq!(handler.calls(), 4);
}

#[tokio::test]
async fn retries_are_bounded() {
    let handler = Scripted::failing(vec![conflict(); 20]);
    let config = MiddlewareConfig {
        max_retries: 3,
        ..MiddlewareConfig::default()
    };
    let bus = CommandBus::builder()
        .with_default_middleware(config)
        .handler::<Charge, _>(handler.clone())
        .build();
    let err = bus
        .dispatch(Charge { amount: 1 }, MessageContext::new())
        .await
        .unwrap_err();
    assert_eq!(err, conflict());
    assert_eq!(handler.calls(), 4, "one try and three retries");
}

#[tokio::test]
async fn other_errors_are_not_retried() {
    let handler = Scripted::failing(vec![ApplicationError::domain("x", "refused")]);
    let bus = default_bus(handler.clone());
    let err = bus
        .dispatch(Charge { amount: 1 }, MessageContext::new())
        .await
        .unwrap_err();
    assert_eq!(err, ApplicationError::domain("x", "refused"));
    assert_eq!(handler.calls(), 1);
}

#[tokio::test]
async fn a_slow_handler_times_out() {
    let handler = Scripted {
        delay: Duration::from_secs(5),
        ..Scripted::default()
    };
    let config = MiddlewareConfig {
        timeout: Duration::from_millis(20),
        ..MiddlewareConfig::default()
    };
    let bus = CommandBus::builder()
        .with_default_middleware(config)
        .handler::<Charge, _>(handler)
        .build();
    let err = bus
        .dispatch(Charge { amount: 1 }, MessageContext::new())
        .await
        .unwrap_err();
    assert_eq!(err, ApplicationError::Timeout(Duration::from_millis(20)));
}

#[tokio::test]
async fn the_same_command_id_returns_the_first_answer_and_runs_once() {
    let handler = Scripted::default();
    let bus = default_bus(handler.clone());
    let ctx = named_command();
    let first = bus.dispatch(Charge { amount: 3 }, ctx.clone()).await.unwrap();
    let second = bus.dispatch(Charge { amount: 3 }, ctx.clone()).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(handler.calls(), 1);
    bus.dispatch(Charge { amount: 3 }, MessageContext::new()).await.unwrap();
    assert_eq!(handler.calls(), 2, "another id runs again");
    let unnamed = MessageContext::new();
    bus.dispatch(Charge { amount: 3 }, unnamed.clone()).await.unwrap();
    bus.dispatch(Charge { amount: 3 }, unnamed).await.unwrap();
    assert_eq!(handler.calls(), 4, "an id the sender did not name is not remembered");
}

/// A context whose id the sender named: the bus remembers it.
fn named_command() -> MessageContext {
    MessageContext::new().with_message_id(uuid::Uuid::now_v7())
}

#[derive(Debug, Clone)]
struct Void;
impl Message for Void {
    type Output = String;
}
impl Command for Void {}
impl Handler<Void> for Scripted {
    async fn handle(&self, _: &Void, _: &MessageContext) -> Result<String, ApplicationError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok("voided".into())
    }
}

#[tokio::test]
async fn one_id_on_two_message_types_is_two_commands() {
    let handler = Scripted::default();
    let bus = CommandBus::builder()
        .with_default_middleware(MiddlewareConfig::default())
        .handler::<Charge, _>(handler.clone())
        .handler::<Void, _>(handler.clone())
        .build();
    let ctx = named_command();
    assert!(bus
        .dispatch(Charge { amount: 1 }, ctx.clone())
        .await
        .unwrap()
        .starts_with("charged"));
    assert_eq!(bus.dispatch(Void, ctx).await.unwrap(), "voided");
    assert_eq!(handler.calls(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_sends_of_one_command_id_run_the_handler_once() {
    let handler = Scripted {
        delay: Duration::from_millis(30),
        ..Scripted::default()
    };
    let bus = default_bus(handler.clone());
    let ctx = named_command();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (bus, ctx) = (bus.clone(), ctx.clone());
            tokio::spawn(async move { bus.dispatch(Charge { amount: 2 }, ctx).await })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap().unwrap());
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(handler.calls(), 1);
}

#[tokio::test]
async fn transient_failures_are_forgotten_refusals_are_remembered() {
    let handler = Scripted::failing(vec![ApplicationError::Unavailable("db down".into())]);
    let bus = default_bus(handler.clone());
    let ctx = named_command();
    assert!(bus.dispatch(Charge { amount: 1 }, ctx.clone()).await.is_err());
    assert!(
        bus.dispatch(Charge { amount: 1 }, ctx.clone()).await.is_ok(),
        "sent again after the outage"
    );
    assert_eq!(handler.calls(), 2);

    let handler = Scripted::failing(vec![ApplicationError::domain("x", "no")]);
    let bus = default_bus(handler.clone());
    let ctx = named_command();
    let first = bus.dispatch(Charge { amount: 1 }, ctx.clone()).await.unwrap_err();
    let again = bus.dispatch(Charge { amount: 1 }, ctx).await.unwrap_err();
    assert_eq!(first, again);
    assert_eq!(handler.calls(), 1);
}

/// A plain tower layer recording `name` when a request passes through, to check the order of
/// layers.
fn mark(
    name: &'static str,
    trail: Arc<Mutex<Vec<&'static str>>>,
) -> tower::util::MapRequestLayer<impl Fn(BusRequest) -> BusRequest + Clone + Send + Sync + 'static> {
    tower::util::MapRequestLayer::new(move |request: BusRequest| {
        trail.lock().unwrap().push(name);
        request
    })
}

#[tokio::test]
async fn layers_run_in_registration_order() {
    let trail = Arc::new(Mutex::new(Vec::new()));
    let bus = CommandBus::builder()
        .layer(mark("outer", trail.clone()))
        .layer(mark("inner", trail.clone()))
        .handler::<Charge, _>(Scripted::default())
        .build();
    bus.dispatch(Charge { amount: 1 }, MessageContext::new()).await.unwrap();
    assert_eq!(*trail.lock().unwrap(), vec!["outer", "inner"]);
}

#[derive(Debug)]
struct Balance;
impl Message for Balance {
    type Output = u64;
}
impl Query for Balance {}

struct BalanceHandler;
impl Handler<Balance> for BalanceHandler {
    async fn handle(&self, _: &Balance, _: &MessageContext) -> Result<u64, ApplicationError> {
        Ok(42)
    }
}

#[tokio::test]
async fn the_query_bus_routes_queries() {
    let bus = QueryBus::builder()
        .with_default_middleware(MiddlewareConfig::default())
        .handler(BalanceHandler)
        .build();
    assert_eq!(bus.dispatch(Balance, MessageContext::new()).await.unwrap(), 42);
}

#[tokio::test]
async fn a_duplicate_waiting_for_a_dropped_first_send_runs_the_command_itself() {
    let handler = Scripted {
        delay: Duration::from_millis(20),
        ..Scripted::default()
    };
    let bus = default_bus(handler.clone());
    let ctx = named_command();
    let first = tokio::spawn({
        let (bus, ctx) = (bus.clone(), ctx.clone());
        async move { bus.dispatch(Charge { amount: 7 }, ctx).await }
    });
    tokio::time::sleep(Duration::from_millis(5)).await; // the first send is running
    let second = tokio::spawn({
        let (bus, ctx) = (bus.clone(), ctx.clone());
        async move { bus.dispatch(Charge { amount: 7 }, ctx).await }
    });
    tokio::time::sleep(Duration::from_millis(5)).await; // the second one waits for it
    first.abort();
    let answer = second.await.unwrap().unwrap();
    assert!(answer.starts_with("charged 7 (call 2"), "{answer}");
    assert_eq!(
        bus.dispatch(Charge { amount: 7 }, ctx).await.unwrap(),
        answer,
        "then remembered"
    );
    assert_eq!(handler.calls(), 2);
}

#[tokio::test]
async fn each_bus_counts_its_own_retries() {
    let busy = default_bus(Scripted::failing(vec![conflict()]));
    let quiet = default_bus(Scripted::default());
    busy.dispatch(Charge { amount: 1 }, MessageContext::new())
        .await
        .unwrap();
    quiet
        .dispatch(Charge { amount: 1 }, MessageContext::new())
        .await
        .unwrap();
    assert_eq!(
        (busy.metrics().conflict_retries(), quiet.metrics().conflict_retries()),
        (1, 0)
    );
}
