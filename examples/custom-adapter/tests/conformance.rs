//! The adapter passes the core event-store conformance suite: one macro call, every case.

hive_testkit::event_store_conformance!(async { example_custom_adapter::VecEventStore::new() });
