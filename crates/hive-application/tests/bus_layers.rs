//! How the built-in bus layers behave where they take a shortcut: the timeout arms no timer
//! for an immediate answer, tracing skips a span nobody listens to, and other tower layers
//! still compose with them.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests state their expectations by unwrapping

use std::sync::Arc;

use hive_application::{
    ApplicationError, BusRequest, Command, CommandBus, Handler, Message, MessageContext, MiddlewareConfig,
};
use hive_testkit::CapturedLog;

#[derive(Debug)]
struct Echo;
impl Message for Echo {
    type Output = String;
    fn name() -> &'static str {
        "Echo"
    }
}
impl Command for Echo {}

/// Answers at once with the correlation id.
struct Immediate;
impl Handler<Echo> for Immediate {
    async fn handle(&self, _: &Echo, context: &MessageContext) -> Result<String, ApplicationError> {
        tracing::info!("inside the handler");
        Ok(context.correlation_id.clone())
    }
}

fn default_bus() -> CommandBus {
    CommandBus::builder()
        .with_default_middleware(MiddlewareConfig::default())
        .handler(Immediate)
        .build()
}

#[test]
fn an_immediate_answer_needs_no_timer() {
    let _serial = SERIAL.blocking_lock();
    // No time driver: arming a timer would panic.
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let answer = runtime
        .block_on(default_bus().dispatch(Echo, MessageContext::new().with_correlation_id("c-1")))
        .unwrap();
    assert_eq!(answer, "c-1");
}

/// The tests of this file, one at a time: tracing caches each callsite's interest globally,
/// and a test dispatching with no subscriber while another installs one can leave the
/// callsites disabled for it (its log then comes back empty: seen once in CI).
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test]
async fn a_listening_subscriber_gets_the_span_with_the_correlation_id() {
    let _serial = SERIAL.lock().await;
    let captured = CapturedLog::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    default_bus()
        .dispatch(Echo, MessageContext::new().with_correlation_id("corr-42"))
        .await
        .unwrap();
    let log = captured.text();
    let inside = log.lines().find(|l| l.contains("inside the handler")).expect(&log);
    assert!(inside.contains("correlation_id=corr-42"), "{inside}");
    assert!(inside.contains("kind=\"command\" Echo"), "{inside}");
    assert!(
        log.lines().any(|l| l.contains("handled") && l.contains("corr-42")),
        "{log}"
    );
}

#[tokio::test]
async fn without_a_subscriber_the_handler_runs_the_same() {
    let _serial = SERIAL.lock().await;
    let answer = default_bus()
        .dispatch(Echo, MessageContext::new().with_correlation_id("quiet"))
        .await
        .unwrap();
    assert_eq!(answer, "quiet");
}

#[tokio::test]
async fn any_tower_layer_composes_with_the_built_in_ones() {
    let _serial = SERIAL.lock().await;
    let bus = CommandBus::builder()
        .layer(tower::util::MapRequestLayer::new(|mut request: BusRequest| {
            Arc::make_mut(&mut request.context).correlation_id = "rewritten".into();
            request
        }))
        .with_default_middleware(MiddlewareConfig::default())
        .handler(Immediate)
        .build();
    let answer = bus.dispatch(Echo, MessageContext::new()).await.unwrap();
    assert_eq!(answer, "rewritten");
}
