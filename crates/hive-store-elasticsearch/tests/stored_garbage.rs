//! Issue #9, stored-data deserialisers on Elasticsearch: search hits whose `_source` is damaged
//! (each envelope field removed, null or of the wrong type, or no object at all) never panic
//! `read_all` or `search`; they answer a typed error naming the hit (`_id`). Runs against a
//! loopback wiremock server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{search_hits, store};
use hive_domain::{EventCriteria, EventEnvelope, EventSearch, EventStore, Page};
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn sources() -> Vec<Value> {
    let mut good = serde_json::to_value(EventEnvelope::new("g", "Garbage", "Stored", json!({"n": 1}), 1)).unwrap();
    good["globalPosition"] = json!(1);
    let mut out = vec![json!(null), json!(7), json!("text"), json!([1, 2])];
    for field in good.as_object().unwrap().keys() {
        for bad in [
            Value::Null,
            json!("garbage"),
            json!(-7),
            json!({"$where": 1}),
            json!([true]),
        ] {
            let mut damaged = good.clone();
            damaged[field] = bad;
            out.push(damaged);
        }
        let mut removed = good.clone();
        removed.as_object_mut().unwrap().remove(field);
        out.push(removed);
    }
    out
}

#[tokio::test]
async fn damaged_hits_are_typed_errors_naming_the_hit() {
    let mut errors = 0;
    let all = sources();
    for source in &all {
        let server = MockServer::start().await;
        let hit = ("damaged-hit-1".to_owned(), source.clone(), json!([1]));
        Mock::given(method("POST"))
            .and(path("/t-events/_search"))
            .respond_with(ResponseTemplate::new(200).set_body_json(search_hits("t-events", vec![hit])))
            .mount(&server)
            .await;
        let events = store(&server).event_store();
        let read = events.read_all(0, 10).await.map(|_| ());
        let searched = events
            .search(&EventCriteria::default(), Page::first(10))
            .await
            .map(|_| ());
        for (reader, result) in [("read_all", read), ("search", searched)] {
            if let Err(error) = result {
                assert!(
                    error.to_string().contains("damaged-hit-1"),
                    "{reader}, source {source}: the error must name the hit: {error}"
                );
                errors += 1;
            }
        }
    }
    assert!(errors > 0);
    eprintln!(
        "{} damaged sources, {errors} typed errors naming the hit, 0 panics",
        all.len()
    );
}
