//! The event-store queries (history, search, timeline, correlations, replay) and the event
//! analytics queries through the query bus.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::Duration;
use common::{ctx, invalid_fields, t0, Harness};
use hive_application::ApplicationError;
use hive_billing::{
    CreatePayment, GetEventCorrelations, GetEventHeatmap, GetEventStatistics, GetEventTimeline, GetEventTrends,
    GetPaymentHistory, PaymentStatus, ReplayPayment, SearchPaymentEvents,
};
use hive_domain::Interval;

/// org-456: p1 created, processed, partially refunded; p2 created, failed. org-789: p3 created.
async fn populated() -> Harness {
    let h = Harness::new();
    h.create("org-456", "p1", "100", "EUR", "Cloud hosting").await;
    h.create("org-456", "p2", "20", "EUR", "Storage").await;
    h.create("org-789", "p3", "30", "USD", "Other tenant").await;
    h.advance(1);
    h.process("org-456", "p1").await.unwrap();
    h.fail("org-456", "p2", "card declined").await.unwrap();
    h.advance(1);
    h.refund("org-456", "p1", "40").await.unwrap();
    h
}

#[tokio::test]
async fn history_lists_a_payments_events_in_order() {
    let h = populated().await;
    let history = h
        .query(
            "org-456",
            GetPaymentHistory {
                payment_id: "p1".into(),
                from_version: None,
            },
        )
        .await
        .unwrap();
    let types: Vec<_> = history.items.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types, vec!["PaymentCreated", "PaymentProcessed", "PaymentRefunded"]);
    assert_eq!(
        history.items.iter().map(|e| e.version).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(history.items[2].data["refundAmount"], "40.00");
    let json = serde_json::to_value(&history.items[0]).unwrap();
    for key in [
        "eventId",
        "aggregateId",
        "eventType",
        "timestamp",
        "data",
        "metadata",
        "correlationId",
        "causationId",
    ] {
        assert!(json.get(key).is_some(), "missing {key}");
    }
    for (org, id) in [("org-789", "p1"), ("org-456", "ghost")] {
        let err = h
            .query(
                org,
                GetPaymentHistory {
                    payment_id: id.into(),
                    from_version: None,
                },
            )
            .await
            .unwrap_err();
        assert_eq!(err, ApplicationError::not_found("payment", id));
    }
}

#[tokio::test]
async fn event_search_filters_type_text_and_time_and_pages() {
    let h = populated().await;
    let search = |q: SearchPaymentEvents| h.query("org-456", q);
    let all = search(SearchPaymentEvents::default()).await.unwrap();
    assert_eq!(all.total, 5, "only the caller's organization's events");
    let created = search(SearchPaymentEvents {
        event_type: Some("PaymentCreated".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(created.total, 2);
    let declined = search(SearchPaymentEvents {
        text: Some("DECLINED".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(
        declined
            .items
            .iter()
            .map(|e| e.aggregate_id.as_str())
            .collect::<Vec<_>>(),
        vec!["p2"]
    );
    let by_metadata = search(SearchPaymentEvents {
        text: Some("api".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(by_metadata.total, 5, "text also searches metadata");
    let page = search(SearchPaymentEvents {
        page: 2,
        size: 2,
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!((page.items.len(), page.total, page.total_pages), (2, 5, 3));
    let beyond = search(SearchPaymentEvents {
        page: 4,
        size: 2,
        ..Default::default()
    })
    .await
    .unwrap();
    assert!(beyond.items.is_empty());
    let past = t0() - Duration::days(400);
    let excluded = search(SearchPaymentEvents {
        from: Some(past),
        to: Some(past + Duration::days(1)),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(
        (excluded.items.len(), excluded.total),
        (0, 0),
        "a time range that excludes everything"
    );
    let err = search(SearchPaymentEvents {
        size: 500,
        ..Default::default()
    })
    .await
    .unwrap_err();
    assert_eq!(invalid_fields(&err), vec!["size"]);
}

#[tokio::test]
async fn timeline_and_correlations_follow_a_correlation_id_across_aggregates() {
    let h = Harness::new();
    let context = ctx("org-456").with_correlation_id("checkout-1");
    for id in ["a", "b"] {
        let command = CreatePayment {
            payment_id: id.into(),
            amount: "5".parse().unwrap(),
            currency: "EUR".into(),
            description: "basket".into(),
            tags: vec![],
            metadata: Default::default(),
        };
        let context = hive_application::MessageContext {
            message_id: uuid::Uuid::now_v7(),
            ..context.clone()
        };
        h.billing.command_bus.dispatch(command, context).await.unwrap();
    }
    let foreign = ctx("org-789").with_correlation_id("checkout-1");
    let command = CreatePayment {
        payment_id: "c".into(),
        amount: "5".parse().unwrap(),
        currency: "EUR".into(),
        description: "other tenant".into(),
        tags: vec![],
        metadata: Default::default(),
    };
    h.billing.command_bus.dispatch(command, foreign).await.unwrap();
    let timeline = h
        .query(
            "org-456",
            GetEventTimeline {
                correlation_id: "checkout-1".into(),
            },
        )
        .await
        .unwrap();
    let streams: Vec<_> = timeline.items.iter().map(|e| e.aggregate_id.as_str()).collect();
    assert_eq!(
        streams,
        vec!["a", "b"],
        "time order, across aggregates, caller's organization only"
    );
    let correlations = h
        .query(
            "org-456",
            GetEventCorrelations {
                correlation_id: "checkout-1".into(),
            },
        )
        .await
        .unwrap();
    let json = serde_json::to_value(&correlations.items[0]).unwrap();
    assert_eq!(
        json.as_object().unwrap().len(),
        4,
        "eventType, aggregateId, timestamp, data: {json}"
    );
    assert_eq!(json["eventType"], "PaymentCreated");
    let none = h
        .query(
            "org-456",
            GetEventTimeline {
                correlation_id: "unknown".into(),
            },
        )
        .await
        .unwrap();
    assert!(none.items.is_empty());
}

#[tokio::test]
async fn replay_rebuilds_the_latest_a_version_or_a_point_in_time() {
    let h = populated().await;
    let replay = |q: ReplayPayment| h.query("org-456", q);
    let latest = replay(ReplayPayment {
        payment_id: "p1".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(
        (latest.payment.status, latest.events_applied, latest.latest_version),
        (PaymentStatus::PartiallyRefunded, 3, 3)
    );
    let v1 = replay(ReplayPayment {
        payment_id: "p1".into(),
        version: Some(1),
        as_of: None,
    })
    .await
    .unwrap();
    assert_eq!((v1.payment.status, v1.payment.version), (PaymentStatus::Pending, 1));
    let history = h
        .query(
            "org-456",
            GetPaymentHistory {
                payment_id: "p1".into(),
                from_version: None,
            },
        )
        .await
        .unwrap();
    let processed_at = history.items[1].timestamp;
    let as_of = replay(ReplayPayment {
        payment_id: "p1".into(),
        version: None,
        as_of: Some(processed_at),
    })
    .await
    .unwrap();
    assert!(
        as_of.events_applied >= 2,
        "the events recorded at or before the instant"
    );
    assert_ne!(as_of.payment.status, PaymentStatus::Pending);
    let before = replay(ReplayPayment {
        payment_id: "p1".into(),
        version: None,
        as_of: Some(history.items[0].timestamp - Duration::seconds(1)),
    })
    .await
    .unwrap_err();
    assert_eq!(
        before,
        ApplicationError::not_found("payment", "p1"),
        "it did not exist yet"
    );
    let too_far = replay(ReplayPayment {
        payment_id: "p1".into(),
        version: Some(9),
        as_of: None,
    })
    .await
    .unwrap_err();
    assert_eq!(invalid_fields(&too_far), vec!["version"]);
    let both = replay(ReplayPayment {
        payment_id: "p1".into(),
        version: Some(1),
        as_of: Some(processed_at),
    })
    .await
    .unwrap_err();
    assert_eq!(invalid_fields(&both), vec!["asOf"]);
    let foreign = h
        .query(
            "org-789",
            ReplayPayment {
                payment_id: "p1".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(foreign, ApplicationError::not_found("payment", "p1"));
}

#[tokio::test]
async fn event_analytics_are_scoped_to_the_callers_organization() {
    let h = populated().await;
    let (from, to) = (t0() - Duration::hours(1), t0() + Duration::hours(1));
    let stats = h
        .query(
            "org-456",
            GetEventStatistics {
                event_type: Some("PaymentCreated".into()),
                from,
                to,
                scope: Default::default(),
            },
        )
        .await
        .unwrap();
    assert_eq!(stats.total, 2);
    assert_eq!(stats.by_organization.keys().collect::<Vec<_>>(), vec!["org-456"]);
    assert_eq!(stats.by_user.get("user-123"), Some(&2));
    let all_types = h
        .query(
            "org-456",
            GetEventStatistics {
                event_type: None,
                from,
                to,
                scope: Default::default(),
            },
        )
        .await
        .unwrap();
    assert_eq!(all_types.total, 5);
    let trends = h
        .query(
            "org-456",
            GetEventTrends {
                event_type: None,
                from,
                to,
                interval: Interval::Day,
                scope: Default::default(),
            },
        )
        .await
        .unwrap();
    assert_eq!(trends.items.iter().map(|b| b.count).sum::<u64>(), 5);
    let heatmap = h
        .query(
            "org-456",
            GetEventHeatmap {
                event_type: None,
                from,
                to,
                scope: Default::default(),
            },
        )
        .await
        .unwrap();
    assert_eq!(heatmap.cells.iter().map(|c| c.count).sum::<u64>(), 5);
    let past = t0() - Duration::days(30);
    let empty = h
        .query(
            "org-456",
            GetEventStatistics {
                event_type: None,
                from: past,
                to: past + Duration::days(1),
                scope: Default::default(),
            },
        )
        .await
        .unwrap();
    assert_eq!(empty.total, 0, "a time range that excludes everything");
    let err = h
        .query(
            "org-456",
            GetEventHeatmap {
                event_type: Some(String::new()),
                from: to,
                to: from,
                scope: Default::default(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(invalid_fields(&err), vec!["eventType", "from"]);
}
