//! The figures `cargo xtask bench` reports against their targets: P1–P8 (the core and the
//! stores), E1–E3 (the Elasticsearch adapter on a live engine) and G1–G3 (the PostgreSQL
//! adapter on a live server).

/// One criterion benchmark: group, function, parameter.
pub(crate) type Key = (&'static str, &'static str, Option<&'static str>);

/// How a figure is computed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Measure {
    /// How many times faster the subject is: reference time ÷ subject time.
    Speedup(Key, Key),
    /// The subject's throughput as a share of the reference's: reference time ÷ subject time.
    Share(Key, Key),
    /// What the subject adds to the reference, in nanoseconds: subject time − reference time.
    Added(Key, Key),
    /// The largest deviation of the others' time from the first one's, as a fraction.
    Flat(&'static [Key]),
    /// The subject's throughput, in elements per second.
    Rate(Key),
    /// The subject's mean time, in nanoseconds.
    Time(Key),
    /// The service's requests per second as a share of the hello-world's.
    HttpShare,
}

/// What a figure must reach.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Target {
    /// At least this value.
    AtLeast(f64),
    /// At most this value.
    AtMost(f64),
    /// No target: the figure is shown for what it tells.
    Shown,
}

/// One figure.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Figure {
    /// `P1`…`P8`, `E1`…`E3`, `G1`…`G3`.
    pub(crate) id: &'static str,
    /// What it compares.
    pub(crate) what: &'static str,
    /// How it is computed.
    pub(crate) measure: Measure,
    /// Its target.
    pub(crate) target: Target,
}

const CQRS_10: Key = ("vs_cqrs_es", "reference_cqrs_es", Some("10"));
const CQRS_100: Key = ("vs_cqrs_es", "reference_cqrs_es", Some("100"));
const CQRS_1K: Key = ("vs_cqrs_es", "reference_cqrs_es", Some("1000"));
const CQRS_10K: Key = ("vs_cqrs_es", "reference_cqrs_es", Some("10000"));
/// A command on a hot aggregate, no snapshots, from 10 to 1 000 000 events per stream.
const STREAM_LENGTHS: &[Key] = &[
    ("command_latency", "hive", Some("10")),
    ("command_latency", "hive", Some("1000")),
    ("command_latency", "hive", Some("10000")),
    ("command_latency", "hive", Some("100000")),
    ("command_latency", "hive", Some("1000000")),
];

/// Every figure of the issue, in order.
pub(crate) const FIGURES: &[Figure] = &[
    Figure {
        id: "P1",
        what: "command, 10 events/stream, no snapshots, full default stack: Hive vs cqrs-es 0.5",
        measure: Measure::Speedup(("vs_cqrs_es", "hive", Some("10")), CQRS_10),
        target: Target::AtLeast(2.0),
    },
    Figure {
        id: "P1",
        what: "command, 100 events/stream, no snapshots, full default stack: Hive vs cqrs-es 0.5",
        measure: Measure::Speedup(("vs_cqrs_es", "hive", Some("100")), CQRS_100),
        target: Target::AtLeast(5.0),
    },
    Figure {
        id: "P1",
        what: "command, 1 000 events/stream, no snapshots, full default stack: Hive vs cqrs-es 0.5",
        measure: Measure::Speedup(("vs_cqrs_es", "hive", Some("1000")), CQRS_1K),
        target: Target::AtLeast(1.0),
    },
    Figure {
        id: "P1",
        what: "command, 10 000 events/stream, no snapshots, full default stack: Hive vs cqrs-es 0.5",
        measure: Measure::Speedup(("vs_cqrs_es", "hive", Some("10000")), CQRS_10K),
        target: Target::AtLeast(500.0),
    },
    Figure {
        id: "P2",
        what: "command at 1k, 10k, 100k, 1M events/stream, no snapshots: largest deviation from 10 events",
        measure: Measure::Flat(STREAM_LENGTHS),
        target: Target::AtMost(0.10),
    },
    Figure {
        id: "P3",
        what: "bus: what the full default middleware stack adds to calling the handler",
        measure: Measure::Added(
            ("bus", "full_default_stack", None),
            ("bus", "baseline_direct_call", None),
        ),
        target: Target::AtMost(300.0),
    },
    Figure {
        id: "P4",
        what: "memory store append, 1 event, vs Vec + HashMap",
        measure: Measure::Share(
            ("memory_append", "store", Some("1")),
            ("memory_append", "baseline_vec_hashmap", Some("1")),
        ),
        target: Target::AtLeast(0.5),
    },
    Figure {
        id: "P4",
        what: "memory store append, 100 events, vs Vec + HashMap",
        measure: Measure::Share(
            ("memory_append", "store", Some("100")),
            ("memory_append", "baseline_vec_hashmap", Some("100")),
        ),
        target: Target::AtLeast(0.5),
    },
    Figure {
        id: "P4",
        what: "durable append, batches of 100, 8 writers, fsync always (events/s)",
        measure: Measure::Rate(("durable_append", "batches_of_100_8_writers", Some("fsync_always"))),
        target: Target::AtLeast(100_000.0),
    },
    Figure {
        id: "P4",
        what: "durable append, batches of 100, 8 writers, fsync never (events/s)",
        measure: Measure::Rate(("durable_append", "batches_of_100_8_writers", Some("fsync_never"))),
        target: Target::AtLeast(100_000.0),
    },
    Figure {
        id: "P5",
        what: "MongoDB adapter append, 1 event, vs raw insert_many",
        measure: Measure::Share(
            ("mongodb_append", "store", Some("1")),
            ("mongodb_append", "baseline_raw_insert_many", Some("1")),
        ),
        target: Target::AtLeast(0.85),
    },
    Figure {
        id: "P5",
        what: "MongoDB adapter append, 100 events, vs raw insert_many",
        measure: Measure::Share(
            ("mongodb_append", "store", Some("100")),
            ("mongodb_append", "baseline_raw_insert_many", Some("100")),
        ),
        target: Target::AtLeast(0.85),
    },
    Figure {
        id: "P6",
        what: "payment statistics over 100k payments: L1 hit vs uncached",
        measure: Measure::Speedup(
            ("query_cache", "l1_hit", None),
            ("query_cache", "baseline_uncached", None),
        ),
        target: Target::AtLeast(100.0),
    },
    Figure {
        id: "P7",
        what: "payment read model rebuild from 1M events vs a raw scan of the log",
        measure: Measure::Share(
            ("projection_rebuild", "rebuild", None),
            ("projection_rebuild", "baseline_scan", None),
        ),
        target: Target::AtLeast(0.5),
    },
    Figure {
        id: "P8",
        what: "HTTP `GET /payments/{id}` through the service vs axum hello-world (wrk)",
        measure: Measure::HttpShare,
        target: Target::AtLeast(0.6),
    },
    Figure {
        id: "E1",
        what: "Elasticsearch/OpenSearch adapter append, 1 event, vs a raw `_bulk` (live node)",
        measure: Measure::Share(
            ("es_append", "store", Some("1")),
            ("es_append", "baseline_raw_bulk", Some("1")),
        ),
        target: Target::AtLeast(0.8),
    },
    Figure {
        id: "E1",
        what: "Elasticsearch/OpenSearch adapter append, 100 events, vs a raw `_bulk` (live node)",
        measure: Measure::Share(
            ("es_append", "store", Some("100")),
            ("es_append", "baseline_raw_bulk", Some("100")),
        ),
        target: Target::AtLeast(0.8),
    },
    Figure {
        id: "E2",
        what: "payment search with text over 10 000 payments (live node), time per query",
        measure: Measure::Time(("es_payments", "search", None)),
        target: Target::Shown,
    },
    Figure {
        id: "E3",
        what: "payment statistics over 10 000 payments: aggregations (live node) vs the in-memory read model",
        measure: Measure::Speedup(
            ("es_payments", "statistics_elasticsearch", None),
            ("es_payments", "statistics_memory", None),
        ),
        target: Target::Shown,
    },
    Figure {
        id: "G1",
        what: "PostgreSQL adapter append, 1 event, vs a raw `INSERT` of the same row in one transaction",
        measure: Measure::Share(
            ("postgres_append", "store", Some("1")),
            ("postgres_append", "baseline_raw_insert", Some("1")),
        ),
        target: Target::AtLeast(0.85),
    },
    Figure {
        id: "G1",
        what: "PostgreSQL adapter append, 100 events, vs a raw `INSERT` of the same rows in one transaction",
        measure: Measure::Share(
            ("postgres_append", "store", Some("100")),
            ("postgres_append", "baseline_raw_insert", Some("100")),
        ),
        target: Target::AtLeast(0.85),
    },
    Figure {
        id: "G2",
        what: "PostgreSQL adapter, 8 concurrent writers in batches of 100 (events/s)",
        measure: Measure::Rate(("postgres_writers", "batches_of_100_8_writers", Some("8"))),
        target: Target::AtLeast(50_000.0),
    },
    Figure {
        id: "G3",
        what: "PostgreSQL: reading 20 000 events through `read_all` vs one raw `SELECT` of the log",
        measure: Measure::Share(
            ("postgres_rebuild", "read_all", Some("20000")),
            ("postgres_rebuild", "baseline_raw_select", Some("20000")),
        ),
        target: Target::Shown,
    },
];
