//! The read-model and search-index queries through the query bus.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{invalid_fields, ts, Harness};
use hive_application::ApplicationError;
use hive_billing::{
    GetPaymentById, GetPaymentStatistics, GetPaymentSuggestions, GetPaymentTrends, GetPaymentsByOrganization,
    PaymentStatus, SearchPayments,
};

/// org-456: p1 completed EUR (day 1), p2 pending EUR, p3 completed USD (day 2), p4 failed EUR,
/// p5 refunded EUR (day 2); org-789: p6 completed EUR.
async fn populated() -> Harness {
    let h = Harness::new();
    h.create("org-456", "p1", "100.00", "EUR", "Cloud hosting March").await;
    h.create("org-456", "p2", "15.50", "EUR", "Object storage").await;
    h.create("org-456", "p3", "250", "USD", "Cloud hosting April").await;
    h.create("org-456", "p4", "99.99", "EUR", "Support plan").await;
    h.create("org-456", "p5", "0.03", "EUR", "Backup storage").await;
    h.create("org-789", "p6", "300", "EUR", "Cloud hosting March").await;
    h.advance(60);
    h.process("org-456", "p1").await.unwrap();
    h.process("org-789", "p6").await.unwrap();
    h.fail("org-456", "p4", "card declined").await.unwrap();
    h.advance(24 * 60);
    h.process("org-456", "p3").await.unwrap();
    h.process("org-456", "p5").await.unwrap();
    h.refund("org-456", "p5", "0.03").await.unwrap();
    h
}

fn ids<T>(items: &[T], id: impl Fn(&T) -> &str) -> Vec<String> {
    items.iter().map(|i| id(i).to_owned()).collect()
}

#[tokio::test]
async fn get_payment_by_id_is_scoped_to_the_caller() {
    let h = populated().await;
    let p1 = h
        .query(
            "org-456",
            GetPaymentById {
                payment_id: "p1".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(p1.status, PaymentStatus::Completed);
    let json = serde_json::to_value(&p1).unwrap();
    for key in [
        "paymentId",
        "organizationId",
        "userId",
        "amount",
        "currency",
        "status",
        "description",
        "tags",
        "processedAt",
        "failedAt",
        "error",
        "refundedAt",
        "refundAmount",
        "updatedAt",
        "version",
    ] {
        assert!(json.get(key).is_some(), "missing {key} in {json}");
    }
    assert_eq!(json["processedAt"], "2024-12-19T11:00:00Z");
    for (org, id) in [("org-789", "p1"), ("org-456", "nope")] {
        let err = h
            .query(org, GetPaymentById { payment_id: id.into() })
            .await
            .unwrap_err();
        assert_eq!(err, ApplicationError::not_found("payment", id));
    }
}

#[tokio::test]
async fn payments_by_organization_are_sorted_and_paged() {
    let h = populated().await;
    let all = h
        .query("org-456", GetPaymentsByOrganization { limit: 100, offset: 0 })
        .await
        .unwrap();
    assert_eq!(all.total, 5);
    assert_eq!(
        ids(&all.items, |p| &p.payment_id),
        vec!["p3", "p5", "p1", "p2", "p4"],
        "processedAt desc, then unprocessed by id"
    );
    let page = h
        .query("org-456", GetPaymentsByOrganization { limit: 2, offset: 1 })
        .await
        .unwrap();
    assert_eq!(
        (ids(&page.items, |p| &p.payment_id), page.total),
        (vec!["p5".into(), "p1".into()], 5)
    );
    let last = h
        .query("org-456", GetPaymentsByOrganization { limit: 2, offset: 4 })
        .await
        .unwrap();
    assert_eq!(ids(&last.items, |p| &p.payment_id), vec!["p4"]);
    let beyond = h
        .query("org-456", GetPaymentsByOrganization { limit: 2, offset: 5 })
        .await
        .unwrap();
    assert!(beyond.items.is_empty());
    assert_eq!(beyond.total, 5);
    let empty = h.query("org-000", GetPaymentsByOrganization::default()).await.unwrap();
    assert_eq!((empty.items.len(), empty.total), (0, 0));
    for limit in [0, 101] {
        let err = h
            .query("org-456", GetPaymentsByOrganization { limit, offset: 0 })
            .await
            .unwrap_err();
        assert_eq!(invalid_fields(&err), vec!["limit"]);
    }
}

#[tokio::test]
async fn statistics_group_by_status_and_currency_with_daily_buckets() {
    let h = populated().await;
    let stats = h
        .query(
            "org-456",
            GetPaymentStatistics {
                from: ts("2024-01-01T00:00:00Z"),
                to: ts("2025-01-01T00:00:00Z"),
            },
        )
        .await
        .unwrap();
    let json = serde_json::to_value(&stats).unwrap();
    assert_eq!(
        json["byStatus"]["completed"],
        serde_json::json!({
            "EUR": {"count": 1, "totalAmount": "100.00", "averageAmount": "100.00"},
            "USD": {"count": 1, "totalAmount": "250.00", "averageAmount": "250.00"}
        })
    );
    assert_eq!(json["byStatus"]["pending"]["EUR"]["count"], 1);
    assert_eq!(json["byStatus"]["failed"]["EUR"]["totalAmount"], "99.99");
    assert_eq!(json["byStatus"]["refunded"]["EUR"]["averageAmount"], "0.03");
    assert_eq!(
        json["daily"],
        serde_json::json!([
            {"date": "2024-12-19", "currency": "EUR", "count": 3, "totalAmount": "215.49"},
            {"date": "2024-12-20", "currency": "EUR", "count": 1, "totalAmount": "0.03"},
            {"date": "2024-12-20", "currency": "USD", "count": 1, "totalAmount": "250.00"}
        ])
    );
    let nothing = h
        .query(
            "org-456",
            GetPaymentStatistics {
                from: ts("2023-01-01T00:00:00Z"),
                to: ts("2024-01-01T00:00:00Z"),
            },
        )
        .await
        .unwrap();
    assert!(
        nothing.by_status.is_empty() && nothing.daily.is_empty(),
        "a range that excludes everything"
    );
    let backwards = GetPaymentStatistics {
        from: ts("2025-01-01T00:00:00Z"),
        to: ts("2024-01-01T00:00:00Z"),
    };
    assert_eq!(
        invalid_fields(&h.query("org-456", backwards).await.unwrap_err()),
        vec!["from"]
    );
}

#[tokio::test]
async fn trends_count_and_total_per_day_and_currency() {
    let h = populated().await;
    let day_two = GetPaymentTrends {
        from: ts("2024-12-20T00:00:00Z"),
        to: ts("2024-12-21T00:00:00Z"),
    };
    let trends = h.query("org-456", day_two).await.unwrap();
    let summary: Vec<_> = trends
        .daily
        .iter()
        .map(|b| (b.date.as_str(), b.currency.code(), b.count, b.total_amount.to_string()))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("2024-12-20", "EUR", 1, "0.03".into()),
            ("2024-12-20", "USD", 1, "250.00".into())
        ]
    );
    let empty = GetPaymentTrends {
        from: ts("2030-01-01T00:00:00Z"),
        to: ts("2030-02-01T00:00:00Z"),
    };
    assert!(h.query("org-456", empty).await.unwrap().daily.is_empty());
}

#[tokio::test]
async fn search_filters_text_and_pages() {
    let h = populated().await;
    let search = |f: fn(&mut SearchPayments)| {
        let mut q = SearchPayments::new();
        f(&mut q);
        h.query("org-456", q)
    };
    let all = search(|_| {}).await.unwrap();
    assert_eq!((all.total, all.total_pages), (5, 1));
    let hosting = search(|q| q.text = Some("hostnig".into())).await.unwrap();
    assert_eq!(
        ids(&hosting.items, |i| &i.payment.payment_id),
        vec!["p3", "p1"],
        "fuzzy, org-scoped"
    );
    assert!(hosting.items.iter().all(|i| i.score > 0.0));
    let completed_eur = search(|q| {
        q.statuses = vec![PaymentStatus::Completed];
        q.currencies = vec!["EUR".into()];
    })
    .await
    .unwrap();
    assert_eq!(ids(&completed_eur.items, |i| &i.payment.payment_id), vec!["p1"]);
    let amounts = search(|q| {
        q.min_amount = Some("15.50".parse().unwrap());
        q.max_amount = Some("100".parse().unwrap());
    })
    .await
    .unwrap();
    assert_eq!(ids(&amounts.items, |i| &i.payment.payment_id), vec!["p1", "p2", "p4"]);
    let processed_day_two = search(|q| {
        q.from = Some(ts("2024-12-20T00:00:00Z"));
        q.to = Some(ts("2024-12-21T00:00:00Z"));
    })
    .await
    .unwrap();
    assert_eq!(
        ids(&processed_day_two.items, |i| &i.payment.payment_id),
        vec!["p3", "p5"]
    );
    let page_two = search(|q| {
        q.page = 2;
        q.size = 2;
    })
    .await
    .unwrap();
    assert_eq!(
        (ids(&page_two.items, |i| &i.payment.payment_id), page_two.total_pages),
        (vec!["p1".into(), "p2".into()], 3)
    );
    let beyond = search(|q| q.page = 9).await.unwrap();
    assert!(beyond.items.is_empty());
    assert_eq!(beyond.total, 5);
    let none = search(|q| q.text = Some("zzzzzz".into())).await.unwrap();
    assert_eq!((none.items.len(), none.total, none.total_pages), (0, 0, 0));
    let far = search(|q| q.from = Some(ts("2030-01-01T00:00:00Z"))).await.unwrap();
    assert_eq!(far.total, 0, "a date range that excludes everything");
    let err = search(|q| {
        q.currencies = vec!["XYZ".into()];
        q.page = 0;
    })
    .await
    .unwrap_err();
    assert_eq!(invalid_fields(&err), vec!["currencies", "page"]);
}

#[tokio::test]
async fn suggestions_complete_description_prefixes() {
    let h = populated().await;
    let suggest = |prefix: &str, size: usize| {
        h.query(
            "org-456",
            GetPaymentSuggestions {
                prefix: prefix.into(),
                size,
            },
        )
    };
    let cloud = suggest("clo", 10).await.unwrap();
    let texts: Vec<_> = cloud.items.iter().map(|s| (s.text.as_str(), s.score)).collect();
    assert_eq!(texts, vec![("Cloud hosting April", 1.0), ("Cloud hosting March", 1.0)]);
    assert_eq!(suggest("stor", 1).await.unwrap().items.len(), 1);
    assert!(suggest("zz", 10).await.unwrap().items.is_empty());
    assert_eq!(invalid_fields(&suggest(" ", 10).await.unwrap_err()), vec!["prefix"]);
    assert_eq!(invalid_fields(&suggest("a", 0).await.unwrap_err()), vec!["size"]);
}
