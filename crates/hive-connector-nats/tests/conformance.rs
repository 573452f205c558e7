//! `hive_testkit::event_sink_conformance!` against a real nats-server (`HIVE_NATS_URL`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use async_trait::async_trait;
use hive_application::EventSink;
use hive_connector_nats::{NatsOptions, NatsSink};
use hive_domain::EventEnvelope;
use hive_testkit::connector::{BrokerProbe, ReceivedMessage};
use hive_testkit::{backend, CleanUp, Held};

/// Whether a server is configured (a skip notice when not; a panic where backends are required).
fn server() -> bool {
    backend::available(backend::NATS)
}

/// A sink on a stream and subject prefix of its own, and a reader of that stream.
struct NatsProbe {
    sink: Arc<NatsSink>,
}

impl NatsProbe {
    /// A probe on a fresh stream, deleted when the returned guard drops.
    async fn fresh() -> Held<Self> {
        let url = std::env::var(backend::NATS).expect("HIVE_NATS_URL");
        let id = uuid::Uuid::new_v4().simple().to_string();
        let options = NatsOptions::new(url)
            .with_stream(format!("HIVE_TEST_{id}"))
            .with_subject_prefix(format!("hive-test.{id}"));
        let sink = Arc::new(NatsSink::connect(options).await.expect("connect"));
        sink.ensure_stream().await.expect("create the test stream");
        let guard = sink.clone();
        Held::with_guard(
            Self { sink },
            CleanUp::new(async move {
                let stream = guard.options().stream.clone();
                if let Err(error) = guard.jetstream().delete_stream(&stream).await {
                    eprintln!("could not delete the test stream {stream}: {error}");
                }
            }),
        )
    }
}

#[async_trait]
impl BrokerProbe for NatsProbe {
    fn sink(&self) -> Arc<dyn EventSink> {
        self.sink.clone()
    }

    fn subject_for(&self, event: &EventEnvelope) -> String {
        self.sink.subject_for(event)
    }

    async fn received(&self) -> Vec<ReceivedMessage> {
        self.sink
            .stored_messages()
            .await
            .expect("read the stream")
            .into_iter()
            .map(|m| ReceivedMessage {
                subject: m.subject,
                message_id: m.message_id.unwrap_or_default(),
                event: m.event,
            })
            .collect()
    }
}

hive_testkit::event_sink_conformance!(skip_unless = server(), NatsProbe::fresh());
