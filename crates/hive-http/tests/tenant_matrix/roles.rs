//! The role dimension of the tenant matrix: every route of [`hive_http::ROUTES`] × every token
//! of organization A (`reader`, `writer`, `admin`, `platform` alone, `reader` + `platform`, no
//! role) and no token at all (the dashboard's charts: `hive-dashboard`'s tests).
//!
//! What each request needs is written here, not read from the route table: a route whose
//! access changes in the table fails this test. A refused request is a `403` problem with code
//! `insufficient_role` naming the role needed, and changes nothing.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use hive_http::{Role, ROUTES};
use serde_json::{json, Value};

use super::send;
use crate::common::{with_cache, TestApp, ORG_A, ORG_B, ROLE_TOKENS, TOKEN_A, TOKEN_B, TOKEN_PLATFORM};

/// What a request needs, as this test expects it.
#[derive(Debug, Clone, Copy)]
enum Needs {
    /// No token.
    Nothing,
    /// A token whose roles grant this one.
    Role(Role),
}

/// One request: the route it exercises, its URI, body, what it needs and answers when allowed.
struct Probe {
    method: Method,
    template: &'static str,
    uri: String,
    body: Option<Value>,
    needs: Needs,
    ok: StatusCode,
    check: fn(&Value),
}

fn probe(method: Method, template: &'static str, uri: &str, needs: Needs) -> Probe {
    let ok = match (&method, template) {
        (&Method::POST, "/payments") => StatusCode::CREATED,
        _ => StatusCode::OK,
    };
    Probe {
        method,
        template,
        uri: uri.to_owned(),
        body: None,
        needs,
        ok,
        check: |_| {},
    }
}

impl Probe {
    fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    /// The status answered when allowed, if not `200`.
    fn answers(mut self, ok: StatusCode) -> Self {
        self.ok = ok;
        self
    }

    fn check(mut self, check: fn(&Value)) -> Self {
        self.check = check;
        self
    }
}

/// Whether tokens holding `held` may do what `needed` allows: `reader` < `writer` < `admin`,
/// `platform` apart.
fn allowed(held: &[Role], needed: Role) -> bool {
    let granting: &[Role] = match needed {
        Role::Reader => &[Role::Reader, Role::Writer, Role::Admin],
        Role::Writer => &[Role::Writer, Role::Admin],
        Role::Admin => &[Role::Admin],
        Role::Platform => &[Role::Platform],
    };
    held.iter().any(|role| granting.contains(role))
}

/// Both organizations in a platform answer's `byOrganization`.
fn every_organization(body: &Value) {
    let organizations: Vec<&String> = body["byOrganization"].as_object().unwrap().keys().collect();
    assert_eq!(organizations, [ORG_A, ORG_B], "{body}");
}

/// Both organizations' events in a `scope=platform` feed.
fn every_organization_in_the_feed(body: &Value) {
    let organizations: BTreeSet<&str> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["metadata"]["organizationId"].as_str().unwrap())
        .collect();
    assert_eq!(organizations, BTreeSet::from([ORG_A, ORG_B]), "{body}");
}

/// Every request a token of user `user` sends (its writes aim at its own fixtures).
fn probes(user: &str, event: &str) -> Vec<Probe> {
    use Needs::{Nothing, Role as R};
    let (get, post) = (Method::GET, Method::POST);
    let (read, write, platform) = (R(Role::Reader), R(Role::Writer), R(Role::Platform));
    let create =
        json!({"paymentId": format!("{user}-new"), "amount": "5", "currency": "EUR", "description": "Shared hosting"});
    vec![
        probe(post.clone(), "/payments", "/payments", write).body(create),
        probe(get.clone(), "/payments", "/payments", read),
        probe(get.clone(), "/payments/search", "/payments/search?q=hosting", read),
        probe(
            get.clone(),
            "/payments/suggestions",
            "/payments/suggestions?q=sha",
            read,
        ),
        probe(get.clone(), "/payments/statistics", "/payments/statistics", read),
        probe(get.clone(), "/payments/trends", "/payments/trends", read),
        probe(get.clone(), "/payments/{id}", "/payments/shared-1", read),
        probe(
            post.clone(),
            "/payments/{id}/process",
            &format!("/payments/{user}-1/process"),
            write,
        ),
        probe(
            post.clone(),
            "/payments/{id}/fail",
            &format!("/payments/{user}-2/fail"),
            write,
        )
        .body(json!({"error": "card declined"})),
        probe(
            post.clone(),
            "/payments/{id}/refund",
            &format!("/payments/{user}-3/refund"),
            write,
        )
        .body(json!({"amount": "1"})),
        probe(
            get.clone(),
            "/payments/{id}/history",
            "/payments/shared-1/history?fromVersion=2",
            read,
        ),
        probe(
            get.clone(),
            "/payments/{id}/replay",
            "/payments/shared-1/replay?version=1",
            read,
        ),
        probe(get.clone(), "/events/search", "/events/search?order=asc", read),
        probe(
            get.clone(),
            "/events/timeline/{correlationId}",
            "/events/timeline/role-corr",
            read,
        ),
        probe(
            get.clone(),
            "/events/correlations/{correlationId}",
            "/events/correlations/role-corr",
            read,
        ),
        probe(get.clone(), "/events/{eventId}", &format!("/events/{event}"), read),
        probe(get.clone(), "/events/statistics", "/events/statistics", read)
            .check(|b| assert_eq!(b["byOrganization"], json!({ORG_A: b["total"]}))),
        probe(
            get.clone(),
            "/events/statistics",
            "/events/statistics?scope=organization",
            read,
        ),
        probe(
            get.clone(),
            "/events/statistics",
            "/events/statistics?scope=platform",
            platform,
        )
        .check(every_organization),
        probe(get.clone(), "/events/trends", "/events/trends", read),
        probe(
            get.clone(),
            "/events/trends",
            "/events/trends?scope=platform&interval=week",
            platform,
        ),
        probe(get.clone(), "/events/heatmap", "/events/heatmap", read),
        probe(
            get.clone(),
            "/events/heatmap",
            "/events/heatmap?scope=platform",
            platform,
        ),
        probe(
            get.clone(),
            "/subscriptions/{group}/events",
            "/subscriptions/roles/events?live=false",
            read,
        ),
        probe(
            get.clone(),
            "/subscriptions/{group}/events",
            "/subscriptions/roles/events?live=false&scope=platform",
            platform,
        )
        .check(every_organization_in_the_feed),
        probe(get.clone(), "/subscriptions/{group}", "/subscriptions/roles", read),
        probe(
            get.clone(),
            "/subscriptions/{group}",
            "/subscriptions/roles?scope=platform",
            platform,
        ),
        probe(
            post.clone(),
            "/subscriptions/{group}/ack",
            "/subscriptions/roles/ack",
            read,
        )
        .body(json!({"position": 1})),
        probe(
            post.clone(),
            "/subscriptions/{group}/ack",
            "/subscriptions/roles/ack?scope=platform",
            platform,
        )
        .body(json!({"position": 1})),
        // Nobody holds the event: allowed, the refusal is a 409.
        probe(
            post.clone(),
            "/subscriptions/{group}/nack",
            "/subscriptions/roles/nack",
            read,
        )
        .body(json!({"position": 1}))
        .answers(StatusCode::CONFLICT),
        probe(
            post.clone(),
            "/subscriptions/{group}/nack",
            "/subscriptions/roles/nack?scope=platform",
            platform,
        )
        .body(json!({"position": 1}))
        .answers(StatusCode::CONFLICT),
        probe(
            get.clone(),
            "/subscriptions/{group}/parked",
            "/subscriptions/roles/parked",
            read,
        ),
        probe(
            get.clone(),
            "/subscriptions/{group}/parked",
            "/subscriptions/roles/parked?scope=platform",
            platform,
        ),
        probe(
            post.clone(),
            "/subscriptions/{group}/parked/replay",
            "/subscriptions/roles/parked/replay",
            read,
        )
        .body(json!({})),
        probe(
            post.clone(),
            "/subscriptions/{group}/parked/replay",
            "/subscriptions/roles/parked/replay?scope=platform",
            platform,
        )
        .body(json!({})),
        probe(
            post.clone(),
            "/subscriptions/{group}/parked/skip",
            "/subscriptions/roles/parked/skip",
            read,
        )
        .body(json!({"positions": [1]})),
        probe(
            post.clone(),
            "/subscriptions/{group}/parked/skip",
            "/subscriptions/roles/parked/skip?scope=platform",
            platform,
        )
        .body(json!({"positions": [1]})),
        probe(get.clone(), "/healthz", "/healthz", Nothing),
        probe(get.clone(), "/readyz", "/readyz", Nothing),
        probe(get.clone(), "/metrics", "/metrics", Nothing),
        probe(get, "/openapi.json", "/openapi.json", Nothing),
    ]
}

/// A's fixtures, made by A's writer: `shared-1` completed (correlation `role-corr`), and for
/// every user `{user}-1`, `{user}-2` pending and `{user}-3` completed. B: `b-1`. Answers the
/// id of `shared-1`'s creation event.
async fn seed(app: &TestApp) -> String {
    let body = json!({"paymentId": "shared-1", "amount": "10", "currency": "EUR", "description": "Shared hosting"});
    let created = send(app, TOKEN_A, &Method::POST, "/payments", Some(&body), "role-corr").await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let processed = send(
        app,
        TOKEN_A,
        &Method::POST,
        "/payments/shared-1/process",
        None,
        "role-corr",
    )
    .await;
    assert_eq!(processed.status, StatusCode::OK, "{}", processed.text);
    for (_, user, _) in ROLE_TOKENS {
        app.create(TOKEN_A, &format!("{user}-1"), "10", "EUR", "Pending hosting")
            .await;
        app.create(TOKEN_A, &format!("{user}-2"), "10", "EUR", "Pending hosting")
            .await;
        app.completed(TOKEN_A, &format!("{user}-3"), "10", "EUR", "Completed hosting")
            .await;
    }
    app.create(TOKEN_B, "b-1", "10", "EUR", "Other organization").await;
    let history = app.get(TOKEN_A, "/payments/shared-1/history").await;
    history.body["items"][0]["eventId"].as_str().unwrap().to_owned()
}

/// The status of `{user}-1`, `{user}-2`, `{user}-3` and whether `{user}-new` exists.
async fn fixtures_of(app: &TestApp, user: &str) -> Vec<Value> {
    let mut seen = Vec::new();
    for id in ["1", "2", "3", "new"] {
        let reply = app.get(TOKEN_A, &format!("/payments/{user}-{id}")).await;
        seen.push(json!([
            reply.status.as_u16(),
            reply.body["status"],
            reply.body["refundAmount"]
        ]));
    }
    seen
}

#[tokio::test]
async fn every_route_answers_each_role_as_the_role_table_says() {
    let all: BTreeSet<(String, &str)> = ROUTES.iter().map(|r| (r.method.to_string(), r.path)).collect();
    let covered: BTreeSet<(String, &str)> = probes("u", "e")
        .iter()
        .map(|p| (p.method.to_string(), p.template))
        .collect();
    let missing: Vec<_> = all.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "routes without a probe in the role matrix: {missing:?}"
    );
    let app = with_cache();
    let event = seed(&app).await;
    let before: Vec<Value> = {
        let mut all = Vec::new();
        for (_, user, _) in ROLE_TOKENS {
            all.push(json!(fixtures_of(&app, user).await));
        }
        all
    };
    let mut refused = 0;
    let mut tokens: Vec<(&str, &str, &[Role])> = vec![("", "anonymous", &[])];
    tokens.extend(ROLE_TOKENS.iter().copied());
    for (token, user, roles) in tokens {
        for probe in probes(user, &event) {
            let what = format!("{user} {roles:?}: {} {}", probe.method, probe.uri);
            let reply = send(
                &app,
                token,
                &probe.method,
                &probe.uri,
                probe.body.as_ref(),
                "role-probe",
            )
            .await;
            match probe.needs {
                Needs::Role(_) if token.is_empty() => assert_eq!(reply.problem(401), "unauthorized", "{what}"),
                Needs::Role(needed) if !allowed(roles, needed) => {
                    refused += 1;
                    assert_eq!(reply.problem(403), "insufficient_role", "{what}");
                    assert_eq!(reply.body["requiredRole"], needed.as_str(), "{what}");
                    let detail = reply.body["detail"].as_str().unwrap();
                    assert!(detail.contains(&format!("the `{needed}` role")), "{what}: {detail}");
                }
                Needs::Nothing | Needs::Role(_) => {
                    assert_eq!(reply.status, probe.ok, "{what}: {}", reply.text);
                    (probe.check)(&reply.body);
                }
            }
        }
    }
    assert!(
        refused > 40,
        "only {refused} refusals: the matrix did not exercise the roles"
    );
    // Refused writes changed nothing; allowed ones did what they say.
    for ((_, user, roles), before) in ROLE_TOKENS.iter().zip(before) {
        let after = json!(fixtures_of(&app, user).await);
        match allowed(roles, Role::Writer) {
            false => assert_eq!(after, before, "{user}'s refused commands changed its payments"),
            true => assert_eq!(
                after,
                json!([
                    [200, "completed", null],
                    [200, "failed", null],
                    [200, "partially_refunded", "1.00"],
                    [200, "pending", null]
                ]),
                "{user}"
            ),
        }
    }
}

#[tokio::test]
async fn a_scope_other_than_organization_or_platform_is_a_400_and_without_a_token_a_401() {
    let app = TestApp::new();
    for uri in [
        "/events/statistics?scope=world",
        "/events/trends?scope=Platform",
        "/events/heatmap?scope=all",
    ] {
        let reply = app.get(TOKEN_PLATFORM, uri).await;
        assert_eq!(reply.problem(400), "bad_request", "{uri}");
        assert_eq!(reply.fields(), ["scope"], "{uri}");
        assert_eq!(app.get("", uri).await.problem(401), "unauthorized", "{uri}");
    }
}
