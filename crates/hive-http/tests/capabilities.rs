//! On an event store with the core port only, the routes that need an optional capability
//! answer `501 capability_unsupported` naming it; commands and payment reads still work.

mod common;

use common::{Options, TestApp, TOKEN_A};

fn core_only() -> TestApp {
    TestApp::with(Options {
        core_only: true,
        ..Options::default()
    })
}

#[tokio::test]
async fn routes_of_a_missing_capability_answer_501() {
    let app = core_only();
    let created = app.create(TOKEN_A, "pay-core-1", "10.00", "EUR", "core only").await;
    let event_id = uuid::Uuid::now_v7();
    for (uri, capability) in [
        ("/events/search?text=core".to_owned(), "event_search"),
        ("/events/timeline/corr-1".to_owned(), "event_search"),
        ("/events/correlations/corr-1".to_owned(), "event_search"),
        (format!("/events/{event_id}"), "event_lookup"),
        ("/events/statistics".to_owned(), "event_analytics"),
        ("/events/trends?interval=day".to_owned(), "event_analytics"),
        ("/events/heatmap".to_owned(), "event_analytics"),
    ] {
        let reply = app.get(TOKEN_A, &uri).await;
        assert_eq!(reply.problem(501), "capability_unsupported", "{uri}");
        assert_eq!(reply.body["capability"], capability, "{uri}: {}", reply.text);
    }
    assert_eq!(created["status"], "pending", "{created}");
}

#[tokio::test]
async fn commands_and_payment_reads_work_without_the_capabilities() {
    let app = core_only();
    app.completed(TOKEN_A, "pay-core-2", "25.00", "EUR", "core only").await;
    let payment = app.get(TOKEN_A, "/payments/pay-core-2").await;
    assert_eq!(payment.status, 200, "{}", payment.text);
    assert_eq!(payment.body["status"], "completed", "{}", payment.text);
    let history = app.get(TOKEN_A, "/payments/pay-core-2/history").await;
    assert_eq!(history.status, 200, "{}", history.text);
    assert_eq!(
        history.body["items"].as_array().map(Vec::len),
        Some(2),
        "{}",
        history.text
    );
    let list = app.get(TOKEN_A, "/payments").await;
    assert_eq!(list.status, 200, "{}", list.text);
}
