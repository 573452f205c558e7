//! The `platform` role: every organization's event analytics (`scope=platform`), kept fresh
//! through the query cache by any organization's events, and nothing else of other
//! organizations.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::common::{with_cache, TestApp, ORG_A, ORG_B, TOKEN_A, TOKEN_B, TOKEN_PLATFORM, TOKEN_READER_PLATFORM};

#[tokio::test]
async fn platform_analytics_follow_every_organizations_events_through_the_cache() {
    let app = with_cache();
    app.create(TOKEN_A, "a-1", "10", "EUR", "Ours").await;
    let uris = [
        "/events/statistics?scope=platform",
        "/events/trends?scope=platform&interval=month",
        "/events/heatmap?scope=platform",
        "/events/statistics?scope=platform&eventType=PaymentCreated",
    ];
    let total = |body: &Value| -> u64 {
        match body.get("total") {
            Some(total) => total.as_u64().unwrap(),
            None => body
                .get("items")
                .or_else(|| body.get("cells"))
                .and_then(Value::as_array)
                .unwrap()
                .iter()
                .map(|i| i["count"].as_u64().unwrap())
                .sum(),
        }
    };
    for uri in uris {
        let first = app.get(TOKEN_PLATFORM, uri).await;
        assert_eq!(first.status, StatusCode::OK, "{uri}: {}", first.text);
        assert_eq!(total(&first.body), 1, "{uri}");
    }
    // Another organization's event makes every cached platform answer stale.
    app.create(TOKEN_B, "b-1", "10", "EUR", "Theirs").await;
    for uri in uris {
        let again = app.get(TOKEN_PLATFORM, uri).await;
        assert_eq!(
            total(&again.body),
            2,
            "{uri}: a platform answer outlived an event of org-b"
        );
    }
    let statistics = app
        .get(TOKEN_READER_PLATFORM, "/events/statistics?scope=platform")
        .await;
    assert_eq!(statistics.body["byOrganization"], json!({ORG_A: 1, ORG_B: 1}));
    let own = app.get(TOKEN_READER_PLATFORM, "/events/statistics").await;
    assert_eq!(
        own.body["byOrganization"],
        json!({ORG_A: 1}),
        "the default scope is the organization"
    );
}

#[tokio::test]
async fn the_platform_role_reads_nothing_else_of_other_organizations() {
    let app = TestApp::new();
    app.completed(TOKEN_B, "b-1", "10", "EUR", "Theirs").await;
    let event = app.get(TOKEN_B, "/payments/b-1/history").await.body["items"][0]["eventId"].clone();
    let event = event.as_str().unwrap();
    for uri in ["/payments/b-1", "/payments/b-1/history", "/payments/b-1/replay"] {
        assert_eq!(
            app.get(TOKEN_READER_PLATFORM, uri).await.problem(404),
            "payment_not_found",
            "{uri}"
        );
        assert_eq!(
            app.get(TOKEN_PLATFORM, uri).await.problem(403),
            "insufficient_role",
            "{uri}"
        );
    }
    let by_id = app.get(TOKEN_READER_PLATFORM, &format!("/events/{event}")).await;
    assert_eq!(by_id.problem(404), "event_not_found");
    for uri in [
        "/events/search",
        "/events/search?scope=platform",
        "/payments/search?scope=platform",
        "/payments",
    ] {
        let reply = app.get(TOKEN_READER_PLATFORM, uri).await;
        assert_eq!(reply.body["total"], 0, "{uri}: {}", reply.text);
    }
    let statistics = app
        .get(TOKEN_READER_PLATFORM, "/payments/statistics?scope=platform")
        .await;
    assert_eq!(statistics.body["byStatus"], json!({}), "{}", statistics.text);
}
