//! Tests of the rules (over hand-made models), of the model built from `cargo metadata`, and of
//! the real workspace.

use super::rules::Violation;
use super::*;

/// A model from `(crate, [(direct dependency, optional)])` rows.
fn layout(rows: &[(&str, &[(&str, bool)])]) -> Model {
    rows.iter()
        .map(|(krate, deps)| {
            (
                krate.to_string(),
                deps.iter()
                    .map(|(name, optional)| Dep::direct(name, *optional))
                    .collect(),
            )
        })
        .collect()
}

/// A layout that follows every rule.
fn healthy() -> Model {
    layout(&[
        (
            "hive-domain",
            &[("serde", false), ("futures", false), ("async-trait", false)],
        ),
        (
            "hive-application",
            &[("hive-domain", false), ("tokio", false), ("tower", false)],
        ),
        (
            "hive-billing",
            &[("hive-domain", false), ("hive-application", false), ("tokio", false)],
        ),
        ("hive-store-memory", &[("hive-domain", false), ("tokio", false)]),
        (
            "hive-store-mongodb",
            &[("hive-domain", false), ("mongodb", false), ("hive-billing", true)],
        ),
        ("hive-cache-redis", &[("hive-application", false), ("redis", false)]),
        (
            "hive-http",
            &[("hive-application", false), ("hive-billing", false), ("axum", false)],
        ),
        (
            "hive-server",
            &[
                ("hive-http", false),
                ("hive-store-memory", false),
                ("hive-store-mongodb", false),
                ("hive-cache-redis", false),
            ],
        ),
        ("hive-testkit", &[("hive-domain", false), ("tokio", false)]),
    ])
}

/// `healthy()` with `dep` added to `krate`.
fn with(krate: &str, dep: Dep) -> Model {
    let mut model = healthy();
    model.entry(krate.to_string()).or_default().push(dep);
    model
}

/// The one violation `model` must have.
fn only_violation(model: &Model) -> Violation {
    let mut found = check(model);
    assert_eq!(found.len(), 1, "expected exactly one violation, got {found:?}");
    found.remove(0)
}

#[test]
fn a_healthy_layout_passes() {
    assert_eq!(check(&healthy()), vec![]);
}

#[test]
fn hive_domain_gaining_tokio_fails() {
    let v = only_violation(&with("hive-domain", Dep::direct("tokio", false)));
    assert_eq!((v.krate.as_str(), v.dep.as_str()), ("hive-domain", "tokio"));
    assert_eq!(
        v.to_string(),
        "arch-check: hive-domain must not depend on tokio \
         (ARCHITECTURE.md: hive-domain depends on no I/O, runtime or driver crate)"
    );
}

#[test]
fn hive_domain_gaining_an_optional_tokio_fails_too() {
    let v = only_violation(&with("hive-domain", Dep::direct("tokio", true)));
    assert_eq!(v.dep, "tokio");
}

#[test]
fn hive_domain_gaining_tokio_through_another_crate_fails() {
    let v = only_violation(&with("hive-domain", Dep::through("tokio", "tower")));
    assert_eq!(v.via.as_deref(), Some("tower"));
    assert!(v.to_string().contains("tokio, even through tower ("), "{v}");
}

#[test]
fn hive_domain_gaining_mongodb_fails() {
    let v = only_violation(&with("hive-domain", Dep::direct("mongodb", false)));
    assert_eq!((v.krate.as_str(), v.dep.as_str()), ("hive-domain", "mongodb"));
}

#[test]
fn hive_domain_depending_on_another_hive_crate_fails() {
    let v = only_violation(&with("hive-domain", Dep::direct("hive-application", false)));
    assert_eq!(v.rule, "hive-domain depends on no other hive crate");
}

#[test]
fn hive_application_depending_on_hive_store_memory_fails() {
    let v = only_violation(&with("hive-application", Dep::direct("hive-store-memory", false)));
    assert_eq!(
        (v.krate.as_str(), v.dep.as_str()),
        ("hive-application", "hive-store-memory")
    );
}

#[test]
fn hive_application_depending_on_a_driver_fails_but_tokio_is_fine() {
    let v = only_violation(&with("hive-application", Dep::through("redis", "some-client")));
    assert_eq!(v.dep, "redis");
    assert_eq!(check(&with("hive-application", Dep::direct("tokio", false))), vec![]);
}

#[test]
fn hive_billing_depending_on_an_adapter_or_a_driver_fails() {
    let v = only_violation(&with("hive-billing", Dep::direct("hive-store-memory", false)));
    assert_eq!(v.dep, "hive-store-memory");
    let v = only_violation(&with("hive-billing", Dep::direct("elasticsearch", false)));
    assert_eq!(v.dep, "elasticsearch");
}

#[test]
fn an_adapter_depending_on_another_adapter_fails() {
    let v = only_violation(&with("hive-cache-redis", Dep::direct("hive-store-memory", false)));
    assert_eq!(
        (v.krate.as_str(), v.dep.as_str()),
        ("hive-cache-redis", "hive-store-memory")
    );
    assert_eq!(v.rule, "adapter crates never depend on each other");
}

#[test]
fn a_broker_connector_is_held_to_the_adapter_rules() {
    let connector = || {
        let mut model = healthy();
        model.insert(
            "hive-connector-nats".to_string(),
            vec![Dep::direct("hive-application", false), Dep::direct("async-nats", false)],
        );
        model
    };
    assert_eq!(check(&connector()), vec![]);
    let mut model = connector();
    model
        .get_mut("hive-connector-nats")
        .unwrap()
        .push(Dep::direct("hive-store-memory", false));
    let v = only_violation(&model);
    assert_eq!(
        (v.krate.as_str(), v.dep.as_str()),
        ("hive-connector-nats", "hive-store-memory")
    );
    assert_eq!(v.rule, "adapter crates never depend on each other");
}

#[test]
fn an_adapter_depending_on_another_adapter_optionally_fails_too() {
    let v = only_violation(&with("hive-store-mongodb", Dep::direct("hive-cache-redis", true)));
    assert_eq!(v.dep, "hive-cache-redis");
}

#[test]
fn an_optional_hive_billing_dependency_of_an_adapter_passes() {
    assert_eq!(
        check(&with("hive-store-memory", Dep::direct("hive-billing", true))),
        vec![]
    );
}

#[test]
fn a_non_optional_hive_billing_dependency_of_an_adapter_fails() {
    let v = only_violation(&with("hive-store-memory", Dep::direct("hive-billing", false)));
    assert_eq!(v.dep, "hive-billing");
    assert!(v.rule.contains("`billing` cargo feature"));
}

#[test]
fn an_adapter_depending_on_the_server_or_http_fails() {
    let v = only_violation(&with("hive-store-memory", Dep::direct("hive-server", false)));
    assert_eq!(v.dep, "hive-server");
    let v = only_violation(&with("hive-store-memory", Dep::direct("hive-http", false)));
    assert_eq!(v.dep, "hive-http");
}

#[test]
fn a_driving_adapter_touching_a_store_fails() {
    let v = only_violation(&with("hive-http", Dep::direct("hive-store-memory", false)));
    assert_eq!((v.krate.as_str(), v.dep.as_str()), ("hive-http", "hive-store-memory"));
    let v = only_violation(&with("hive-cli", Dep::direct("hive-cache-redis", false)));
    assert_eq!(v.krate, "hive-cli");
}

#[test]
fn only_the_server_wires_several_adapters() {
    let mut model = with("hive-testkit", Dep::direct("hive-store-memory", false));
    assert_eq!(check(&model), vec![], "one adapter is fine");
    model
        .entry("hive-testkit".into())
        .or_default()
        .push(Dep::direct("hive-cache-redis", false));
    let found = check(&model);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found.iter().all(|v| v.krate == "hive-testkit"));
}

#[test]
fn nobody_depends_on_the_server() {
    let v = only_violation(&with("hive-testkit", Dep::direct("hive-server", false)));
    assert_eq!(v.rule, "hive-server is the composition root; nothing depends on it");
}

#[test]
fn missing_crates_are_skipped() {
    let model = layout(&[("hive-domain", &[("serde", false)])]);
    assert_eq!(check(&model), vec![]);
}

// The model built from `cargo metadata`.

/// A two-crate workspace where hive-domain pulls tokio in through `tower`.
const METADATA: &str = r#"{
  "packages": [
    {"id": "d", "name": "hive-domain", "dependencies": [
      {"name": "tower", "kind": null, "optional": false},
      {"name": "tokio", "kind": "dev", "optional": false}]},
    {"id": "s", "name": "hive-store-memory", "dependencies": [
      {"name": "hive-domain", "kind": null, "optional": false},
      {"name": "hive-billing", "kind": null, "optional": true}]},
    {"id": "t", "name": "tower", "dependencies": []},
    {"id": "k", "name": "tokio", "dependencies": []}
  ],
  "workspace_members": ["d", "s"],
  "resolve": {"nodes": [
    {"id": "d", "deps": [
      {"pkg": "t", "dep_kinds": [{"kind": null}]},
      {"pkg": "k", "dep_kinds": [{"kind": "dev"}]}]},
    {"id": "s", "deps": [{"pkg": "d", "dep_kinds": [{"kind": null}]}]},
    {"id": "t", "deps": [{"pkg": "k", "dep_kinds": [{"kind": null}]}]},
    {"id": "k", "deps": []}
  ]},
  "target_directory": "/tmp/target"
}"#;

#[test]
fn the_model_keeps_normal_dependencies_and_what_they_pull_in() -> TaskResult {
    let model = model(&metadata::parse(METADATA.as_bytes())?);
    assert_eq!(
        model["hive-domain"],
        vec![Dep::direct("tower", false), Dep::through("tokio", "tower")]
    );
    assert_eq!(
        model["hive-store-memory"],
        vec![
            Dep::direct("hive-domain", false),
            Dep::direct("hive-billing", true),
            Dep::through("tower", "hive-domain"),
            Dep::through("tokio", "hive-domain"),
        ]
    );
    let found = check(&model);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].to_string().split(" (").next(),
        Some("arch-check: hive-domain must not depend on tokio, even through tower")
    );
    Ok(())
}

#[test]
fn the_real_workspace_passes() -> TaskResult {
    let model = model(&metadata::load(false)?);
    assert!(
        model.contains_key("hive-domain"),
        "the workspace has hive-domain: {:?}",
        model.keys()
    );
    let found: Vec<String> = check(&model).iter().map(ToString::to_string).collect();
    assert!(
        found.is_empty(),
        "the workspace breaks the dependency rules:\n{}",
        found.join("\n")
    );
    Ok(())
}
