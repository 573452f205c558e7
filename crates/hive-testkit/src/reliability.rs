//! Reliability under concurrency (issue #9, R1): many writers send commands through the billing
//! command bus (default middleware, so with conflict retries) at once, then the store and the read
//! model are audited.
//!
//! [`concurrent_writers`] runs one load and checks, for the adapter behind the
//! [`BillingPorts`]:
//!
//! * every acknowledged command's event is in the store exactly once (found by its causation id,
//!   the command id), and no refused command left an event behind;
//! * every refused command got a typed [`ApplicationError::Conflict`] (retries exhausted) and left
//!   no event, or a typed [`ApplicationError::Timeout`] (a slow server: the outcome is unknown to
//!   the caller, so its event may be stored, but at most once); never anything else;
//! * every stream's versions are gap-free (1..=n) and the global log has no duplicate event id;
//! * the live read model (fed inline, then caught up by the module's
//!   [`ProjectionRunner`](hive_application::ProjectionRunner)s as the service does in the
//!   background: under contention the inline projection refuses an event that does not follow
//!   the stored version and leaves it to the runner) equals a fresh rebuild of the whole log,
//!   payment by payment, and each payment's refunded total is the sum of its acknowledged
//!   refunds.
//!
//! The load: `streams` payments of one organization are created and processed, then `writers`
//! tasks each send `commands_per_writer` refunds of 0.01, writer `w`'s `i`-th refund going to
//! stream `(i + w) % streams`. With `streams == 1` every writer contends on one stream.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use futures::TryStreamExt;
use hive_application::{ApplicationError, EventBus, MessageContext, MiddlewareConfig};
use hive_billing::{
    payment_id_of_stream, Amount, BillingModule, BillingPorts, BillingServices, CreatePayment, PaymentKey,
    PaymentReadModel, PaymentReadModelProjection, PaymentRecord, ProcessPayment, RefundPayment,
};
use hive_domain::{CheckpointStore, EventEnvelope, Metadata, UpcasterChain};
use uuid::Uuid;

/// The shape of one load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Load {
    /// Concurrent writer tasks.
    pub writers: usize,
    /// Commands each writer sends.
    pub commands_per_writer: usize,
    /// Payment streams the commands spread over (1: all on the same stream).
    pub streams: usize,
}

impl Load {
    /// `writers` writers each sending `commands` refunds to one shared payment stream.
    pub fn same_stream(writers: usize, commands: usize) -> Self {
        Self {
            writers,
            commands_per_writer: commands,
            streams: 1,
        }
    }

    /// `writers` writers each sending `commands` refunds spread over `commands` payment streams.
    pub fn many_streams(writers: usize, commands: usize) -> Self {
        Self {
            writers,
            commands_per_writer: commands,
            streams: commands.max(1),
        }
    }

    /// The load scaled for `cargo xtask soak` (env `HIVE_SOAK=1`): `soak` commands per writer
    /// there, this load's otherwise.
    #[must_use]
    pub fn soaked(self, soak: usize) -> Self {
        if !soak_enabled() {
            return self;
        }
        Self {
            commands_per_writer: soak,
            streams: if self.streams == 1 { 1 } else { soak },
            ..self
        }
    }
}

/// Whether the long soak variants run (`HIVE_SOAK=1`, set by `cargo xtask soak`).
pub fn soak_enabled() -> bool {
    std::env::var("HIVE_SOAK").is_ok_and(|v| v == "1")
}

/// What one load did (all of it checked before it is returned).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Report {
    /// Refunds sent.
    pub commands: usize,
    /// Refunds acknowledged (their event is stored exactly once).
    pub acknowledged: usize,
    /// Refunds refused with a typed conflict after the retries (nothing stored for them).
    pub conflicts: usize,
    /// Refunds that timed out (typed; stored at most once: `timed_out_stored` of them were).
    pub timed_out: usize,
    /// Timed-out refunds whose event was stored (once).
    pub timed_out_stored: usize,
    /// Events in the audited streams afterwards.
    pub events: usize,
}

/// The organization the loads write as.
const ORGANIZATION: &str = "org-reliability";

fn context(message_id: Uuid) -> MessageContext {
    MessageContext::new().with_message_id(message_id).with_metadata(
        Metadata::default()
            .with_organization(ORGANIZATION)
            .with_user("user-reliability")
            .with_source("reliability"),
    )
}

fn amount(value: &str) -> Amount {
    value.parse().unwrap_or_else(|e| panic!("amount {value}: {e}"))
}

/// Runs `load` against `ports` (which must be fresh for this run: streams are named after a
/// random prefix, so a shared database is fine) and audits the result; `checkpoints` keeps the
/// live runners' positions, `fresh_read_model` is an empty read model the whole log is rebuilt
/// into for the comparison. Panics on any breach.
pub async fn concurrent_writers(
    ports: BillingPorts,
    checkpoints: Arc<dyn CheckpointStore>,
    fresh_read_model: Arc<dyn PaymentReadModel>,
    load: Load,
) -> Report {
    let billing = BillingModule::new(ports.clone(), EventBus::default(), MiddlewareConfig::default()).build();
    let prefix = format!("r1-{}", Uuid::now_v7().simple());
    let streams: Vec<String> = (0..load.streams).map(|s| format!("{prefix}-{s:05}")).collect();
    setup(&billing, &streams).await;

    let mut tasks = Vec::with_capacity(load.writers);
    for writer in 0..load.writers {
        let bus = billing.command_bus.clone();
        let streams = streams.clone();
        tasks.push(tokio::spawn(async move {
            let mut outcomes = Vec::with_capacity(load.commands_per_writer);
            for i in 0..load.commands_per_writer {
                let stream = streams[(i + writer) % streams.len()].clone();
                let id = Uuid::now_v7();
                let command = RefundPayment {
                    payment_id: stream.clone(),
                    refund_amount: amount("0.01"),
                };
                let result = bus.dispatch(command, context(id)).await;
                outcomes.push((id, stream, result.map(|view| view.version)));
            }
            outcomes
        }));
    }
    let mut acknowledged: HashMap<Uuid, (String, u64)> = HashMap::new();
    let mut refused: HashSet<Uuid> = HashSet::new();
    let mut timed_out: HashSet<Uuid> = HashSet::new();
    for task in tasks {
        for (id, stream, outcome) in task.await.unwrap_or_else(|e| panic!("writer task: {e}")) {
            match outcome {
                Ok(version) => {
                    acknowledged.insert(id, (stream, version));
                }
                Err(ApplicationError::Conflict { .. }) => {
                    refused.insert(id);
                }
                Err(ApplicationError::Timeout(_)) => {
                    timed_out.insert(id);
                }
                Err(other) => panic!("refund {id} on {stream} failed with an unexpected error: {other:?}"),
            }
        }
    }
    let landed = audit_store(&ports, &streams, &acknowledged, &refused, &timed_out).await;
    let events = landed.0;
    // A timed-out refund that was stored counts as acknowledged for the read-model audit.
    acknowledged.extend(landed.1.iter().map(|(id, at)| (*id, at.clone())));
    for runner in billing.projection_runners(checkpoints) {
        let report = runner
            .catch_up()
            .await
            .unwrap_or_else(|e| panic!("catch-up of {}: {e}", runner.name()));
        assert_eq!(report.dead_lettered, 0, "{}: events dead-lettered", runner.name());
    }
    audit_read_model(&ports, fresh_read_model, &streams, &acknowledged).await;
    Report {
        commands: load.writers * load.commands_per_writer,
        acknowledged: acknowledged.len() - landed.1.len(),
        conflicts: refused.len(),
        timed_out: timed_out.len(),
        timed_out_stored: landed.1.len(),
        events,
    }
}

/// Creates and processes one big payment per stream (acknowledged, or the load cannot start).
async fn setup(billing: &BillingServices, streams: &[String]) {
    for chunk in streams.chunks(32) {
        let work = chunk.iter().map(|stream| async move {
            let create = CreatePayment {
                payment_id: stream.clone(),
                amount: amount("1000000.00"),
                currency: "EUR".into(),
                description: "Reliability load".into(),
                tags: Vec::new(),
                metadata: Default::default(),
            };
            billing
                .command_bus
                .dispatch(create, context(Uuid::now_v7()))
                .await
                .unwrap_or_else(|e| panic!("create {stream}: {e:?}"));
            let process = ProcessPayment {
                payment_id: stream.clone(),
            };
            billing
                .command_bus
                .dispatch(process, context(Uuid::now_v7()))
                .await
                .unwrap_or_else(|e| panic!("process {stream}: {e:?}"));
        });
        futures::future::join_all(work).await;
    }
}

/// Every acknowledged refund stored once at the version it returned, nothing for refused ones,
/// timed-out ones stored at most once, streams gap-free, no event id twice in the global log.
/// The number of events audited and the timed-out refunds that were stored (stream, version).
async fn audit_store(
    ports: &BillingPorts,
    streams: &[String],
    acknowledged: &HashMap<Uuid, (String, u64)>,
    refused: &HashSet<Uuid>,
    timed_out: &HashSet<Uuid>,
) -> (usize, HashMap<Uuid, (String, u64)>) {
    let mut by_causation: HashMap<String, Vec<(String, u64)>> = HashMap::new();
    let mut total = 0;
    let mut refunds_stored = 0;
    for stream in streams {
        let events: Vec<EventEnvelope> = ports
            .event_store
            .events
            .read_stream(&stream_of(stream), 0)
            .try_collect()
            .await
            .unwrap_or_else(|e| panic!("read {stream}: {e}"));
        let versions: Vec<u64> = events.iter().map(|e| e.version).collect();
        let expected: Vec<u64> = (1..=events.len() as u64).collect();
        assert_eq!(versions, expected, "stream {stream} has gaps or duplicates");
        let refunds = events.iter().filter(|e| e.event_type == "PaymentRefunded").count();
        let acked_here = acknowledged.values().filter(|(s, _)| s == stream).count();
        assert!(
            refunds >= acked_here,
            "stream {stream}: fewer refunds stored than acknowledged"
        );
        refunds_stored += refunds;
        for event in &events {
            by_causation
                .entry(event.causation_id.clone())
                .or_default()
                .push((payment_id_of_stream(&event.aggregate_id).to_owned(), event.version));
        }
        total += events.len();
    }
    for (id, (stream, version)) in acknowledged {
        let found = by_causation.get(&id.to_string()).map(Vec::as_slice).unwrap_or_default();
        assert_eq!(
            found,
            [(stream.clone(), *version)],
            "acknowledged refund {id} must be stored exactly once, at the version it returned"
        );
    }
    for id in refused {
        assert!(
            !by_causation.contains_key(&id.to_string()),
            "refused refund {id} left an event behind"
        );
    }
    let mut landed = HashMap::new();
    for id in timed_out {
        match by_causation.get(&id.to_string()).map(Vec::as_slice).unwrap_or_default() {
            [] => {}
            [one] => {
                landed.insert(*id, one.clone());
            }
            many => panic!("timed-out refund {id} stored {} times", many.len()),
        }
    }
    assert_eq!(
        refunds_stored,
        acknowledged.len() + landed.len(),
        "refunds stored = acknowledged + timed out and stored"
    );
    audit_global_log(ports, streams).await;
    (total, landed)
}

/// The global log holds each event of the audited streams once, positions strictly increasing.
async fn audit_global_log(ports: &BillingPorts, streams: &[String]) {
    let wanted: HashSet<String> = streams.iter().map(|s| stream_of(s)).collect();
    let mut seen = HashSet::new();
    let mut after = 0;
    loop {
        let page = ports
            .event_store
            .events
            .read_all(after, 1000)
            .await
            .unwrap_or_else(|e| panic!("read_all after {after}: {e}"));
        let Some(last) = page.last() else { break };
        for event in &page {
            let position = event
                .global_position
                .unwrap_or_else(|| panic!("event {} has no position", event.event_id));
            assert!(
                position > after,
                "global positions must increase: {position} after {after}"
            );
            after = position;
            if wanted.contains(&event.aggregate_id) {
                assert!(
                    seen.insert(event.event_id),
                    "event {} twice in the global log",
                    event.event_id
                );
            }
        }
        after = last.global_position.unwrap_or(after);
    }
    let in_streams: usize = {
        let mut n = 0;
        for stream in streams {
            n += ports
                .event_store
                .events
                .stream_version(&stream_of(stream))
                .await
                .unwrap_or_else(|e| panic!("{e}")) as usize;
        }
        n
    };
    assert_eq!(seen.len(), in_streams, "the global log and the streams disagree");
}

/// The live read model equals a fresh rebuild of the log and the acknowledged refunds.
async fn audit_read_model(
    ports: &BillingPorts,
    fresh: Arc<dyn PaymentReadModel>,
    streams: &[String],
    acknowledged: &HashMap<Uuid, (String, u64)>,
) {
    rebuild(ports, Arc::clone(&fresh)).await;
    for stream in streams {
        let live = record(ports.read_model.as_ref(), stream).await;
        let rebuilt = record(fresh.as_ref(), stream).await;
        assert_eq!(
            live, rebuilt,
            "payment {stream}: the live read model differs from a rebuild"
        );
        let acked = acknowledged.values().filter(|(s, _)| s == stream).count() as u64;
        assert_eq!(live.payment.version, 2 + acked, "payment {stream}: version");
        if acked > 0 {
            let refunded = live.payment.refund_amount.map(|a| a.to_string());
            let expected = rust_cents(acked);
            assert_eq!(
                refunded.as_deref(),
                Some(expected.as_str()),
                "payment {stream}: refunded total"
            );
        }
    }
}

/// `cents` hundredths as a decimal amount string (`1.07`).
fn rust_cents(cents: u64) -> String {
    amount(&format!("{}.{:02}", cents / 100, cents % 100)).to_string()
}

/// The event stream of payment `payment_id` of the suite's organization.
fn stream_of(payment_id: &str) -> String {
    PaymentKey::new(ORGANIZATION, payment_id).to_string()
}

async fn record(model: &dyn PaymentReadModel, id: &str) -> PaymentRecord {
    model
        .get(&PaymentKey::new(ORGANIZATION, id))
        .await
        .unwrap_or_else(|e| panic!("read model get {id}: {e}"))
        .unwrap_or_else(|| panic!("payment {id} missing from the read model"))
}

/// Applies the whole log to `fresh` through the read-model projection.
async fn rebuild(ports: &BillingPorts, fresh: Arc<dyn PaymentReadModel>) {
    let projection = PaymentReadModelProjection::new(fresh, Arc::new(UpcasterChain::new()));
    let mut after = 0;
    loop {
        let page: Vec<EventEnvelope> = ports
            .event_store
            .events
            .read_all(after, 1000)
            .await
            .unwrap_or_else(|e| panic!("read_all after {after}: {e}"));
        let Some(last) = page.last() else { break };
        for event in &page {
            projection
                .apply_event(event)
                .await
                .unwrap_or_else(|e| panic!("rebuild: event {}: {e}", event.event_id));
        }
        after = last.global_position.unwrap_or(after);
    }
}
