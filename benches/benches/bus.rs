//! The command bus: a trivial command (its handler answers a constant) through the full default
//! middleware stack, through a bus with each layer alone, and called directly.
//!
//! Every variant gets a fresh [`hive_benches::context`] (fresh command id, not named by the
//! sender, so idempotency lets it through) built in the untimed set-up; the `…_named_id`
//! variants get a [`hive_benches::named_context`] instead (a new id the sender named, as with
//! an HTTP `Idempotency-Key`, which idempotency remembers). Both sides own the context and drop it inside the timer (the bus once it has
//! answered, the direct call after the handler's answer). No tracing subscriber is installed, so the tracing layer's
//! span is disabled: its cost here is the cost of a span nobody listens to.

// A failed set-up should stop the bench loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// criterion_group!/criterion_main! generate undocumented public items.
#![allow(missing_docs)]

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use hive_application::Handler;
use hive_benches::{context, named_context, Constant, Ping, Stack};

/// Contexts prepared per timed batch: few enough to stay in the CPU caches, so that the timed
/// loop does not wait on memory for its inputs; many enough that the two clock reads of a
/// batch are negligible.
const CONTEXTS_PER_TIMED_BATCH: u64 = 512;

/// Builds the context of one timed dispatch.
type MakeContext = fn() -> hive_application::MessageContext;

fn bus(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut group = c.benchmark_group("bus");
    group
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(1));

    group.bench_function("baseline_direct_call", |b| {
        let handler = Constant;
        b.to_async(&runtime).iter_batched(
            context,
            |context| async move {
                // The context is dropped here, inside the timer, as the bus drops it.
                handler.handle(&Ping, &context).await
            },
            BatchSize::NumIterations(CONTEXTS_PER_TIMED_BATCH),
        );
    });

    let stacks: [(&str, Stack, MakeContext); 9] = [
        ("full_default_stack", Stack::Default, context),
        ("full_default_stack_named_id", Stack::Default, named_context),
        ("layer_none", Stack::Bare, context),
        ("layer_tracing", Stack::Tracing, context),
        ("layer_validation", Stack::Validation, context),
        ("layer_idempotency", Stack::Idempotency, context),
        ("layer_idempotency_named_id", Stack::Idempotency, named_context),
        ("layer_timeout", Stack::Timeout, context),
        ("layer_retry", Stack::Retry, context),
    ];
    for (name, stack, context) in stacks {
        let bus = stack.bus();
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter_batched(
                context,
                |context| bus.dispatch(Ping, context),
                BatchSize::NumIterations(CONTEXTS_PER_TIMED_BATCH),
            );
        });
    }
    group.finish();
}

criterion_group!(benches, bus);
criterion_main!(benches);
