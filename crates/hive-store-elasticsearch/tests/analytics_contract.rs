//! Contract tests of the event analytics: the exact aggregation requests, real-shaped
//! Elasticsearch 8 aggregation answers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{TimeZone, Utc};
use common::{body, fixture, requests, store};
use hive_domain::{AnalyticsFilter, EventAnalytics, EventStoreError, HeatmapCell, Interval, TimeRange, TrendBucket};
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn answer(server: &MockServer, status: u16, body: Value) {
    Mock::given(method("POST"))
        .and(path("/t-events/_search"))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(server)
        .await;
}

fn filter() -> AnalyticsFilter {
    AnalyticsFilter {
        event_type: Some("PaymentCreated".into()),
        organization_id: Some("org-1".into()),
        time_range: TimeRange::between(
            Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap(),
        ),
    }
}

fn filter_query() -> Value {
    json!({"bool": {"filter": [
        {"term": {"eventType": "PaymentCreated"}},
        {"term": {"metadata.organizationId": "org-1"}},
        {"range": {"timestamp": {"gte": "2026-03-01T00:00:00+00:00", "lt": "2026-04-01T00:00:00+00:00"}}}
    ]}})
}

#[tokio::test]
async fn statistics_aggregate_by_hour_day_organization_and_user() {
    let server = MockServer::start().await;
    answer(&server, 200, fixture("events.statistics.aggs")).await;
    let stats = store(&server).event_store().statistics(&filter()).await.unwrap();
    let received = server.received_requests().await.unwrap();
    assert_eq!(
        body(&received[0]),
        json!({
            "size": 0,
            "track_total_hits": true,
            "query": filter_query(),
            "aggs": {
                "byHour": {"date_histogram": {"field": "timestamp", "fixed_interval": "1h",
                    "format": "yyyy-MM-dd'T'HH:00:00'Z'", "min_doc_count": 1}},
                "byDay": {"date_histogram": {"field": "timestamp", "calendar_interval": "day",
                    "format": "yyyy-MM-dd", "min_doc_count": 1}},
                "byOrganization": {"terms": {"field": "metadata.organizationId", "missing": "unknown", "size": 10000}},
                "byUser": {"terms": {"field": "metadata.userId", "missing": "unknown", "size": 10000}}
            }
        })
    );
    assert_eq!(requests(&server).await, vec!["POST /t-events/_search"]);
    assert_eq!(stats.total, 6);
    let map = |pairs: &[(&str, u64)]| pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect();
    assert_eq!(
        stats.by_hour,
        map(&[
            ("2026-03-02T10:00:00Z", 3),
            ("2026-03-02T11:00:00Z", 1),
            ("2026-03-08T23:00:00Z", 2)
        ])
    );
    assert_eq!(stats.by_day, map(&[("2026-03-02", 4), ("2026-03-08", 2)]));
    assert_eq!(stats.by_organization, map(&[("org-1", 4), ("unknown", 2)]));
    assert_eq!(stats.by_user, map(&[("user-1", 3), ("user-2", 2), ("unknown", 1)]));
}

#[tokio::test]
async fn an_empty_filter_sends_an_empty_bool_filter() {
    let server = MockServer::start().await;
    answer(&server, 200, fixture("events.trends.week")).await;
    store(&server)
        .event_store()
        .trends(&AnalyticsFilter::default(), Interval::Hour)
        .await
        .unwrap();
    let received = server.received_requests().await.unwrap();
    assert_eq!(body(&received[0])["query"], json!({"bool": {"filter": []}}));
}

#[tokio::test]
async fn trends_use_calendar_intervals_and_read_bucket_starts() {
    for (interval, name) in [
        (Interval::Hour, "hour"),
        (Interval::Day, "day"),
        (Interval::Week, "week"),
        (Interval::Month, "month"),
    ] {
        let server = MockServer::start().await;
        answer(&server, 200, fixture("events.trends.week")).await;
        let trend = store(&server).event_store().trends(&filter(), interval).await.unwrap();
        let received = server.received_requests().await.unwrap();
        assert_eq!(
            body(&received[0]),
            json!({
                "size": 0,
                "query": filter_query(),
                "aggs": {"trend": {"date_histogram": {"field": "timestamp", "calendar_interval": name, "min_doc_count": 1}}}
            })
        );
        assert_eq!(
            trend,
            vec![
                TrendBucket {
                    start: Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap(),
                    count: 6
                },
                TrendBucket {
                    start: Utc.with_ymd_and_hms(2026, 3, 9, 0, 0, 0).unwrap(),
                    count: 1
                },
            ]
        );
    }
}

#[tokio::test]
async fn heatmap_folds_the_hourly_histogram_into_weekday_hour_cells() {
    let server = MockServer::start().await;
    answer(&server, 200, fixture("events.heatmap.hourly")).await;
    let heatmap = store(&server).event_store().heatmap(&filter()).await.unwrap();
    let received = server.received_requests().await.unwrap();
    assert_eq!(
        body(&received[0]),
        json!({
            "size": 0,
            "query": filter_query(),
            "aggs": {"byHour": {"date_histogram": {"field": "timestamp", "fixed_interval": "1h",
                "format": "yyyy-MM-dd'T'HH:00:00'Z'", "min_doc_count": 1}}}
        })
    );
    let cell = |day_of_week, hour, count| HeatmapCell {
        day_of_week,
        hour,
        count,
    };
    assert_eq!(heatmap.cells, vec![cell(1, 10, 4), cell(1, 11, 1), cell(7, 23, 2)]);
    let days: Vec<_> = heatmap.by_day.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(days, vec![("2026-03-02", 4), ("2026-03-08", 2), ("2026-03-09", 1)]);
}

#[tokio::test]
async fn a_missing_aggregation_is_a_backend_error_and_overload_is_unavailable() {
    let server = MockServer::start().await;
    answer(&server, 200, fixture("search.empty")).await;
    let error = store(&server).event_store().heatmap(&filter()).await.unwrap_err();
    assert!(
        matches!(&error, EventStoreError::Backend(m) if m.contains("aggregations.byHour.buckets")),
        "{error:?}"
    );
    let server = MockServer::start().await;
    answer(&server, 429, fixture("error.too_many_requests")).await;
    let error = store(&server).event_store().statistics(&filter()).await.unwrap_err();
    assert!(matches!(error, EventStoreError::Unavailable(_)), "{error:?}");
}
