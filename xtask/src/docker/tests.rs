#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::Path;

use super::compose::{self, hive_env_keys, url_host, Context};
use super::dockerfile::{self, instructions, is_pinned};
use crate::cmd;

fn read(relative: &str) -> String {
    std::fs::read_to_string(cmd::workspace_root().join(relative)).unwrap()
}

fn real_hive_env() -> BTreeSet<String> {
    let dir = cmd::workspace_root().join("crates/hive-server/src/config");
    let sources: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    hive_env_keys(&sources)
}

fn check_compose(text: &str) -> Vec<String> {
    let env = real_hive_env();
    let is_file = |path: &Path| path == Path::new("../docker/Dockerfile");
    compose::check(
        text,
        &Context {
            hive_env: &env,
            is_file: &is_file,
        },
    )
}

fn hive_bin() -> BTreeSet<String> {
    BTreeSet::from(["hive".to_owned()])
}

#[test]
fn the_files_of_the_repository_pass() {
    assert_eq!(check_compose(&read("docker/compose.yml")), Vec::<String>::new());
    assert_eq!(
        dockerfile::check(&read("docker/Dockerfile"), &hive_bin()),
        Vec::<String>::new()
    );
}

#[test]
fn the_variables_hive_server_reads_are_found_in_its_sources() {
    let env = real_hive_env();
    for key in [
        "HIVE_STORE",
        "HIVE_SEARCH",
        "HIVE_CACHE",
        "HIVE_MONGODB_URI",
        "HIVE_ELASTICSEARCH_URL",
        "HIVE_REDIS_URL",
        "HIVE_POSTGRES_URL",
        "HIVE_POSTGRES_SCHEMA",
        "HIVE_NATS_URL",
        "HIVE_CONFIG",
    ] {
        assert!(env.contains(key), "{key} in {env:?}");
    }
    assert_eq!(
        hive_env_keys(&["get(\"HIVE_A\"); eprintln!(\"export HIVE_TOKEN=\"); f(\"HIVE_b\")".into()]),
        BTreeSet::from(["HIVE_A".to_owned()])
    );
}

const GOOD: &str = r#"
services:
  mongo:
    image: mongo:7.0
    healthcheck: {test: ["CMD", "true"]}
  elasticsearch:
    image: docker.elastic.co/elasticsearch/elasticsearch:8.15.5
    environment:
      discovery.type: single-node
      xpack.security.enabled: "false"
    healthcheck: {test: ["CMD", "true"]}
  redis:
    image: redis:7.4-alpine
    healthcheck: {test: ["CMD", "true"]}
  postgres:
    image: postgres:16.6
    healthcheck: {test: ["CMD", "true"]}
  nats:
    image: nats:2.10-alpine
    healthcheck: {test: ["CMD", "true"]}
  hive:
    build: {context: .., dockerfile: docker/Dockerfile}
    environment:
      - HIVE_MONGODB_URI=mongodb://mongo:27017/?replicaSet=rs0
      - HIVE_ELASTICSEARCH_URL=http://elastic:pw@elasticsearch:9200
      - HIVE_REDIS_URL=redis://redis:6379
      - HIVE_POSTGRES_URL=postgres://hive:pw@postgres:5432/hive
      - HIVE_NATS_URL=nats://nats:4222
    volumes: ["hive-data:/var/lib/hive"]
    depends_on: [mongo, elasticsearch, redis, postgres, nats]
volumes:
  hive-data:
"#;

#[test]
fn a_minimal_stack_passes_and_each_fault_is_named() {
    assert_eq!(check_compose(GOOD), Vec::<String>::new());
    let cases = [
        (
            "image: redis:7.4-alpine",
            "image: redis",
            "redis: image `redis` is not pinned",
        ),
        (
            "image: mongo:7.0",
            "image: mongo:latest",
            "mongo: image `mongo:latest` is not pinned",
        ),
        (
            "HIVE_REDIS_URL=",
            "HIVE_REDIS_ADDR=",
            "hive: `HIVE_REDIS_ADDR` is not a variable hive-server reads",
        ),
        (
            "[mongo, elasticsearch, redis, postgres, nats]",
            "[mongo, elastic, redis, postgres, nats]",
            "depends on `elastic`, which is not a service",
        ),
        (
            "[mongo, elasticsearch, redis, postgres, nats]",
            "[mongo, redis, postgres, nats]",
            "hive: does not depend on `elasticsearch`",
        ),
        (
            "[mongo, elasticsearch, redis, postgres, nats]",
            "[mongo, elasticsearch, redis, nats]",
            "hive: does not depend on `postgres`",
        ),
        (
            "@postgres:5432",
            "@127.0.0.1:5432",
            "`HIVE_POSTGRES_URL` points at `127.0.0.1`",
        ),
        (
            "image: postgres:16.6",
            "image: postgres",
            "postgres: image `postgres` is not pinned",
        ),
        (
            "redis://redis:6379",
            "redis://localhost:6379",
            "`HIVE_REDIS_URL` points at `localhost`",
        ),
        ("hive-data:/var", "other:/var", "volume `other` is not declared"),
        (
            "elasticsearch:8.15.5",
            "elasticsearch:7.17.0",
            "expected an Elasticsearch 8.x image",
        ),
        (
            "discovery.type: single-node",
            "discovery.type: multi-node",
            "`discovery.type` must be `single-node`",
        ),
        (
            "docker/Dockerfile}",
            "docker/Containerfile}",
            "build file `../docker/Containerfile` does not exist",
        ),
        ("  redis:\n    image", "  cache:\n    image", "no `redis` service"),
    ];
    for (from, to, expected) in cases {
        assert!(GOOD.contains(from), "{from}");
        let problems = check_compose(&GOOD.replacen(from, to, 1));
        assert!(
            problems.iter().any(|p| p.contains(expected)),
            "{expected}: {problems:?}"
        );
    }
    let waits_healthy = GOOD.replace(
        "depends_on: [mongo, elasticsearch, redis, postgres, nats]",
        "depends_on: {mongo: {condition: service_healthy}, elasticsearch: {condition: service_healthy}, \
         redis: {condition: service_started}, postgres: {condition: service_healthy}, nats: {condition: service_healthy}}",
    );
    assert_eq!(check_compose(&waits_healthy), Vec::<String>::new());
    let no_health = waits_healthy.replacen("    healthcheck: {test: [\"CMD\", \"true\"]}\n", "", 1);
    let problems = check_compose(&no_health);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("`mongo` to be healthy, which has no healthcheck")),
        "{problems:?}"
    );
    let problems = check_compose("services: [not, a, map]");
    assert!(problems[0].starts_with("not a valid compose file"), "{problems:?}");
}

#[test]
fn url_hosts_skip_scheme_credentials_port_and_path() {
    assert_eq!(url_host("mongodb://mongo:27017/?replicaSet=rs0"), "mongo");
    assert_eq!(url_host("http://elastic:p@ss@elasticsearch:9200/"), "elasticsearch");
    assert_eq!(url_host("redis://redis"), "redis");
}

const DOCKERFILE: &str = "\
# syntax=docker/dockerfile:1
ARG RUST=1.95
FROM rust:1.95-slim AS builder
RUN cargo build --release \\
    # a comment inside a continuation
    --bin hive
FROM debian:trixie-slim
COPY --from=builder /build/target/release/hive /usr/local/bin/hive
USER hive
EXPOSE 8080
HEALTHCHECK CMD [\"true\"]
";

#[test]
fn a_dockerfile_is_split_into_instructions_with_continuations_joined() {
    let parsed = instructions(DOCKERFILE).unwrap();
    let keywords: Vec<&str> = parsed.iter().map(|i| i.keyword.as_str()).collect();
    assert_eq!(
        keywords,
        ["ARG", "FROM", "RUN", "FROM", "COPY", "USER", "EXPOSE", "HEALTHCHECK"]
    );
    assert_eq!(parsed[2].args, "cargo build --release --bin hive");
    assert_eq!(parsed[2].line, 4);
    assert!(instructions("FROM a:1\nRUN x \\\n")
        .unwrap_err()
        .contains("continuation"));
    assert!(instructions("FROM a:1\n=oops\n")
        .unwrap_err()
        .contains("not an instruction"));
    assert!(is_pinned("rust:1.95-slim") && is_pinned("img@sha256:abc") && is_pinned("localhost:5000/x:1"));
    assert!(!is_pinned("rust") && !is_pinned("rust:latest") && !is_pinned("localhost:5000/x"));
}

#[test]
fn a_dockerfile_passes_and_each_fault_is_named() {
    assert_eq!(dockerfile::check(DOCKERFILE, &hive_bin()), Vec::<String>::new());
    let cases = [
        ("USER hive", "USER root", "runs as root"),
        ("USER hive\n", "", "no USER"),
        ("EXPOSE 8080\n", "", "EXPOSEs no port"),
        ("HEALTHCHECK", "LABEL", "no HEALTHCHECK"),
        ("FROM debian:trixie-slim", "FROM debian", "`debian` is not pinned"),
        ("release/hive /usr", "release/hived /usr", "`hived` is not a bin target"),
        (
            "--bin hive",
            "--bin other",
            "no build stage runs `cargo build … --bin hive`",
        ),
    ];
    for (from, to, expected) in cases {
        assert!(DOCKERFILE.contains(from), "{from}");
        let problems = dockerfile::check(&DOCKERFILE.replacen(from, to, 1), &hive_bin());
        assert!(
            problems.iter().any(|p| p.contains(expected)),
            "{expected}: {problems:?}"
        );
    }
    let single = "FROM rust:1.95\nUSER app\nEXPOSE 1\nHEALTHCHECK NONE\n";
    let problems = dockerfile::check(single, &hive_bin());
    assert!(problems.iter().any(|p| p.contains("multi-stage")), "{problems:?}");
}

#[test]
fn bin_targets_are_read_from_cargo_metadata() {
    let metadata = serde_json::json!({"packages": [
        {"targets": [{"kind": ["lib"], "name": "hive_server"}, {"kind": ["bin"], "name": "hive"}]},
        {"targets": [{"kind": ["bin"], "name": "xtask"}]}
    ]});
    assert_eq!(
        super::bins(&metadata),
        BTreeSet::from(["hive".to_owned(), "xtask".to_owned()])
    );
}
