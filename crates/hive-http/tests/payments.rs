//! The payment routes, happy paths: commands, queries, read-your-writes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use common::{TestApp, ORG_A, TOKEN_A, USER_A};
use serde_json::{json, Value};

#[tokio::test]
async fn create_answers_201_with_the_payment_and_its_location() {
    let app = TestApp::new();
    let body = json!({
        "paymentId": "payment-123", "amount": 100, "currency": "EUR", "description": "Cloud hosting",
        "tags": ["hosting"], "metadata": {"invoice": "INV-7"}
    });
    let reply = app.post(TOKEN_A, "/payments", body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.header("location"), Some("/payments/payment-123"));
    assert_eq!(reply.content_type(), "application/json");
    let payment = &reply.body;
    assert_eq!(payment["paymentId"], "payment-123");
    assert_eq!(
        payment["amount"], "100.00",
        "money is a decimal string at the currency's scale"
    );
    assert_eq!(payment["currency"], "EUR");
    assert_eq!(payment["status"], "pending");
    assert_eq!(
        payment["organizationId"], ORG_A,
        "the organization comes from the token"
    );
    assert_eq!(payment["userId"], USER_A, "the user comes from the token");
    assert_eq!(payment["tags"], json!(["hosting"]));
    assert_eq!(payment["version"], 1);

    // The same shape as GET /payments/{id}, and the metadata went into the event's metadata.
    let got = app.get(TOKEN_A, "/payments/payment-123").await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body, reply.body);
    let history = app.get(TOKEN_A, "/payments/payment-123/history").await;
    let metadata = &history.body["items"][0]["metadata"];
    assert_eq!(metadata["invoice"], "INV-7");
    assert_eq!(metadata["organizationId"], ORG_A);
    assert_eq!(metadata["userId"], USER_A);
    assert_eq!(metadata["source"], "http");
}

#[tokio::test]
async fn create_generates_a_uuid_v7_id_and_accepts_string_amounts() {
    let app = TestApp::new();
    let body = json!({"amount": "12.5", "currency": "USD", "description": "no id"});
    let reply = app.post(TOKEN_A, "/payments", body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let id = reply.body["paymentId"].as_str().unwrap();
    let uuid = uuid::Uuid::parse_str(id).expect("a generated UUID");
    assert_eq!(uuid.get_version_num(), 7);
    assert_eq!(reply.body["amount"], "12.50");
    assert_eq!(reply.header("location"), Some(format!("/payments/{id}").as_str()));
}

#[tokio::test]
async fn process_fail_and_refund_answer_the_payment_view() {
    let app = TestApp::new();
    app.create(TOKEN_A, "p-1", "100.00", "EUR", "one").await;
    let processed = app.post(TOKEN_A, "/payments/p-1/process", Value::Null).await;
    assert_eq!(processed.status, StatusCode::OK, "{}", processed.text);
    assert_eq!(processed.body["status"], "completed");
    assert!(processed.body["processedAt"].is_string());

    let refunded = app.post(TOKEN_A, "/payments/p-1/refund", json!({"amount": "30"})).await;
    assert_eq!(refunded.status, StatusCode::OK, "{}", refunded.text);
    assert_eq!(refunded.body["status"], "partially_refunded");
    assert_eq!(refunded.body["refundAmount"], "30.00");
    let rest = app.post(TOKEN_A, "/payments/p-1/refund", json!({"amount": 70})).await;
    assert_eq!(rest.body["status"], "refunded");
    assert_eq!(rest.body["refundAmount"], "100.00");

    app.create(TOKEN_A, "p-2", "5", "EUR", "two").await;
    let failed = app
        .post(TOKEN_A, "/payments/p-2/fail", json!({"error": "card declined"}))
        .await;
    assert_eq!(failed.status, StatusCode::OK, "{}", failed.text);
    assert_eq!(failed.body["status"], "failed");
    assert_eq!(failed.body["error"], "card declined");
}

#[tokio::test]
async fn a_query_right_after_a_command_sees_it() {
    let app = TestApp::new();
    for i in 0..5 {
        let id = format!("ryw-{i}");
        app.create(TOKEN_A, &id, "10", "EUR", "read your writes").await;
        assert_eq!(
            app.get(TOKEN_A, &format!("/payments/{id}")).await.body["status"],
            "pending"
        );
        app.post(TOKEN_A, &format!("/payments/{id}/process"), Value::Null).await;
        assert_eq!(
            app.get(TOKEN_A, &format!("/payments/{id}")).await.body["status"],
            "completed"
        );
        let list = app.get(TOKEN_A, "/payments").await;
        assert_eq!(list.body["total"], i + 1);
        let found = app
            .get(TOKEN_A, &format!("/payments/search?q={id}&status=completed"))
            .await;
        assert!(found.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["paymentId"] == id.as_str()));
        let stats = app.get(TOKEN_A, "/payments/statistics").await;
        assert_eq!(stats.body["byStatus"]["completed"]["EUR"]["count"], i + 1);
    }
}

#[tokio::test]
async fn list_pages_and_clamps_huge_limits() {
    let app = TestApp::new();
    for i in 0..3 {
        app.create(TOKEN_A, &format!("l-{i}"), "1", "EUR", "list").await;
    }
    let page = app.get(TOKEN_A, "/payments?limit=2&offset=1").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert_eq!(page.body["total"], 3);
    assert_eq!(page.body["limit"], 2);
    assert_eq!(page.body["offset"], 1);
    assert_eq!(page.body["items"].as_array().unwrap().len(), 2);
    let huge = app.get(TOKEN_A, "/payments?limit=1000000").await;
    assert_eq!(huge.status, StatusCode::OK, "{}", huge.text);
    assert_eq!(huge.body["limit"], 100, "clamped to billing's maximum");
    assert_eq!(huge.body["items"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn search_filters_by_repeated_or_comma_separated_statuses_and_currencies() {
    let app = TestApp::new();
    app.completed(TOKEN_A, "s-1", "100", "EUR", "cloud hosting").await;
    app.create(TOKEN_A, "s-2", "50", "USD", "cloud storage").await;
    app.completed(TOKEN_A, "s-3", "20", "GBP", "support plan").await;
    let ids = |reply: &common::Reply| -> Vec<String> {
        let mut ids: Vec<String> = reply.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["paymentId"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    let repeated = app
        .get(TOKEN_A, "/payments/search?status=completed&status=pending")
        .await;
    assert_eq!(ids(&repeated), ["s-1", "s-2", "s-3"]);
    let comma = app.get(TOKEN_A, "/payments/search?currency=EUR,USD").await;
    assert_eq!(ids(&comma), ["s-1", "s-2"]);
    let text = app.get(TOKEN_A, "/payments/search?q=cloud&status=completed").await;
    assert_eq!(ids(&text), ["s-1"]);
    assert!(text.body["items"][0]["score"].as_f64().unwrap() > 0.0);
    let amounts = app.get(TOKEN_A, "/payments/search?minAmount=30&maxAmount=60.5").await;
    assert_eq!(ids(&amounts), ["s-2"]);
    let paged = app.get(TOKEN_A, "/payments/search?page=2&size=2").await;
    assert_eq!(paged.body["total"], 3);
    assert_eq!(paged.body["page"], 2);
    assert_eq!(paged.body["totalPages"], 2);
    assert_eq!(paged.body["items"].as_array().unwrap().len(), 1);
    let clamped = app.get(TOKEN_A, "/payments/search?size=99999").await;
    assert_eq!(clamped.status, StatusCode::OK, "{}", clamped.text);
    assert_eq!(clamped.body["size"], 100);
    let now = chrono::Utc::now();
    let window = format!(
        "/payments/search?from={}&to={}",
        (now - chrono::Duration::hours(1)).format("%Y-%m-%dT%H:%M:%SZ"),
        (now + chrono::Duration::hours(1)).format("%Y-%m-%dT%H:%M:%SZ")
    );
    assert_eq!(
        ids(&app.get(TOKEN_A, &window).await),
        ["s-1", "s-3"],
        "processed in the window"
    );
}

#[tokio::test]
async fn suggestions_complete_a_prefix() {
    let app = TestApp::new();
    app.create(TOKEN_A, "g-1", "1", "EUR", "Cloud hosting").await;
    app.create(TOKEN_A, "g-2", "1", "EUR", "Cloud hosting").await;
    app.create(TOKEN_A, "g-3", "1", "EUR", "Support").await;
    let reply = app.get(TOKEN_A, "/payments/suggestions?q=clo&size=500").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["items"], json!([{"text": "Cloud hosting", "score": 2.0}]));
}

#[tokio::test]
async fn statistics_and_trends_have_the_documented_shape() {
    let app = TestApp::new();
    app.completed(TOKEN_A, "t-1", "100", "EUR", "a").await;
    app.completed(TOKEN_A, "t-2", "50", "EUR", "b").await;
    app.create(TOKEN_A, "t-3", "7", "USD", "c").await;
    let stats = app.get(TOKEN_A, "/payments/statistics").await;
    assert_eq!(stats.status, StatusCode::OK, "{}", stats.text);
    let eur = &stats.body["byStatus"]["completed"]["EUR"];
    assert_eq!(eur["count"], 2);
    assert_eq!(eur["totalAmount"], "150.00");
    assert_eq!(eur["averageAmount"], "75.00");
    assert_eq!(stats.body["byStatus"]["pending"]["USD"]["count"], 1);
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let daily = stats.body["daily"].as_array().unwrap();
    assert!(daily.iter().all(|d| d["date"] == today.as_str()));
    assert!(daily.iter().any(|d| d["totalAmount"] == "150.00" && d["count"] == 2));

    let trends = app.get(TOKEN_A, "/payments/trends").await;
    assert_eq!(trends.status, StatusCode::OK, "{}", trends.text);
    assert_eq!(trends.body["daily"], stats.body["daily"]);

    let old = app
        .get(
            TOKEN_A,
            "/payments/statistics?from=2020-01-01T00:00:00Z&to=2020-02-01T00:00:00Z",
        )
        .await;
    assert_eq!(old.body, json!({"byStatus": {}, "daily": []}));
}

#[tokio::test]
async fn history_and_replay_rebuild_the_payment() {
    let app = TestApp::new();
    app.completed(TOKEN_A, "h-1", "100", "EUR", "history").await;
    app.post(TOKEN_A, "/payments/h-1/refund", json!({"amount": "10"})).await;
    let history = app.get(TOKEN_A, "/payments/h-1/history").await;
    assert_eq!(history.status, StatusCode::OK, "{}", history.text);
    let types: Vec<&str> = history.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["eventType"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["PaymentCreated", "PaymentProcessed", "PaymentRefunded"]);

    let v1 = app.get(TOKEN_A, "/payments/h-1/replay?version=1").await;
    assert_eq!(v1.status, StatusCode::OK, "{}", v1.text);
    assert_eq!(v1.body["payment"]["status"], "pending");
    assert_eq!(v1.body["eventsApplied"], 1);
    assert_eq!(v1.body["latestVersion"], 3);
    let latest = app.get(TOKEN_A, "/payments/h-1/replay").await;
    assert_eq!(latest.body["payment"]["status"], "partially_refunded");
    let created_at = history.body["items"][0]["timestamp"].as_str().unwrap().to_owned();
    let at = app
        .get(
            TOKEN_A,
            &format!("/payments/h-1/replay?at={}", created_at.replace('+', "%2B")),
        )
        .await;
    assert_eq!(at.status, StatusCode::OK, "{}", at.text);
    assert!(at.body["eventsApplied"].as_u64().unwrap() >= 1);
}

#[tokio::test]
async fn history_from_a_version() {
    let app = TestApp::new();
    app.completed(TOKEN_A, "v-1", "100", "EUR", "versions").await;
    app.post(TOKEN_A, "/payments/v-1/refund", json!({"amount": "10"})).await;
    let versions = |reply: &common::Reply| -> Vec<u64> {
        reply.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["version"].as_u64().unwrap())
            .collect()
    };
    let all = app.get(TOKEN_A, "/payments/v-1/history").await;
    assert_eq!(versions(&all), [1, 2, 3]);
    let from_two = app.get(TOKEN_A, "/payments/v-1/history?fromVersion=2").await;
    assert_eq!(from_two.status, StatusCode::OK, "{}", from_two.text);
    assert_eq!(versions(&from_two), [2, 3]);
    assert_eq!(
        from_two.body["items"],
        json!(all.body["items"].as_array().unwrap()[1..])
    );
    let past = app.get(TOKEN_A, "/payments/v-1/history?fromVersion=4").await;
    assert_eq!((past.status, past.body["items"].clone()), (StatusCode::OK, json!([])));
    let zero = app.get(TOKEN_A, "/payments/v-1/history?fromVersion=0").await;
    assert_eq!(zero.problem(400), "validation_failed");
    assert_eq!(zero.fields(), ["fromVersion"]);
    let text = app.get(TOKEN_A, "/payments/v-1/history?fromVersion=two").await;
    assert_eq!(text.fields(), ["fromVersion"]);
    let unknown = app.get(TOKEN_A, "/payments/nope/history?fromVersion=2").await;
    assert_eq!(unknown.problem(404), "payment_not_found");
}

#[tokio::test]
async fn metadata_is_returned_and_searchable_like_tags() {
    let app = TestApp::new();
    let body = json!({
        "paymentId": "m-1", "amount": "10", "currency": "EUR", "description": "Object storage",
        "metadata": {"invoice": "INV-2026-11", "project": "apollo"}
    });
    let created = app.post(TOKEN_A, "/payments", body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let expected = json!({"invoice": "INV-2026-11", "project": "apollo"});
    assert_eq!(created.body["metadata"], expected);
    app.create(TOKEN_A, "m-2", "10", "EUR", "Object storage").await;
    let got = app.get(TOKEN_A, "/payments/m-1").await;
    assert_eq!(got.body["metadata"], expected);
    let list = app.get(TOKEN_A, "/payments").await;
    let without = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["paymentId"] == "m-2");
    assert_eq!(without.unwrap()["metadata"], json!({}), "no metadata is `{{}}`");
    let processed = app.post(TOKEN_A, "/payments/m-1/process", Value::Null).await;
    assert_eq!(processed.body["metadata"], expected, "commands answer it too");
    let replay = app.get(TOKEN_A, "/payments/m-1/replay?version=1").await;
    assert_eq!(replay.body["payment"]["metadata"], expected);

    for q in ["apollo", "INV-2026-11"] {
        let found = app.get(TOKEN_A, &format!("/payments/search?q={q}")).await;
        let ids: Vec<&str> = found.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["paymentId"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["m-1"], "{q}: {}", found.text);
    }
    let events = app
        .get(TOKEN_A, "/events/search?q=apollo&eventType=PaymentCreated")
        .await;
    assert_eq!(events.body["items"][0]["data"]["metadata"], expected);
}

#[tokio::test]
async fn metadata_bounds_are_the_commands() {
    let app = TestApp::new();
    let create = |metadata: Value| json!({"amount": "1", "currency": "EUR", "description": "x", "metadata": metadata});
    let many: serde_json::Map<String, Value> = (0..21).map(|i| (format!("k{i}"), json!("v"))).collect();
    let long_key = json!({"k".repeat(65): "v"});
    let long_value = json!({"k": "v".repeat(257)});
    for metadata in [Value::Object(many), long_key, long_value, json!({" ": "blank key"})] {
        let reply = app.post(TOKEN_A, "/payments", create(metadata)).await;
        assert_eq!(reply.problem(400), "validation_failed", "{}", reply.text);
        assert_eq!(reply.fields(), ["metadata"]);
    }
    let most: serde_json::Map<String, Value> = (0..20).map(|i| (format!("{i:0>64}"), json!("v".repeat(256)))).collect();
    let reply = app.post(TOKEN_A, "/payments", create(Value::Object(most))).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(
        app.get(TOKEN_A, "/events/search").await.body["total"],
        1,
        "refused creations stored nothing"
    );
}

#[tokio::test]
async fn payment_search_to_is_exclusive_and_to_inclusive_takes_the_bound() {
    let app = TestApp::new();
    let payment = app.completed(TOKEN_A, "t-1", "1", "EUR", "bounded").await;
    let at = payment["processedAt"].as_str().unwrap().replace('+', "%2B");
    let total = |uri: String| {
        let app = &app;
        async move { app.get(TOKEN_A, &uri).await.body["total"].clone() }
    };
    assert_eq!(total(format!("/payments/search?from={at}&to={at}")).await, 0);
    assert_eq!(total(format!("/payments/search?from={at}&toInclusive={at}")).await, 1);
    let both = app
        .get(TOKEN_A, &format!("/payments/search?to={at}&toInclusive={at}"))
        .await;
    assert_eq!(both.fields(), ["toInclusive"]);
    let stats = app
        .get(TOKEN_A, &format!("/payments/statistics?from={at}&toInclusive={at}"))
        .await;
    assert_eq!(stats.body["byStatus"]["completed"]["EUR"]["count"], 1, "{}", stats.text);
}
