//! `docker/compose.yml` read with serde (YAML), and the checks `cargo xtask docker` makes on it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;
use serde_yaml_ng::Value;

/// The parts of a compose file checked here (unknown keys are allowed: compose has many).
#[derive(Debug, Deserialize)]
pub(crate) struct Compose {
    #[serde(default)]
    pub(crate) services: BTreeMap<String, Service>,
    #[serde(default)]
    pub(crate) volumes: BTreeMap<String, Option<Value>>,
}

/// One service.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Service {
    pub(crate) image: Option<String>,
    pub(crate) build: Option<Build>,
    pub(crate) environment: Environment,
    pub(crate) depends_on: DependsOn,
    pub(crate) healthcheck: Option<Value>,
    pub(crate) volumes: Vec<String>,
}

/// `build:` as a context path or as a map.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Build {
    Context(String),
    Full {
        context: Option<String>,
        dockerfile: Option<String>,
    },
}

/// `environment:` as a map or as a list of `KEY=value`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Environment {
    Map(BTreeMap<String, Option<Value>>),
    List(Vec<String>),
}

impl Default for Environment {
    fn default() -> Self {
        Self::Map(BTreeMap::new())
    }
}

impl Environment {
    /// Every variable and its value as text (`""` when unset).
    pub(crate) fn pairs(&self) -> Vec<(String, String)> {
        match self {
            Self::Map(map) => map
                .iter()
                .map(|(k, v)| (k.clone(), v.as_ref().map(scalar_text).unwrap_or_default()))
                .collect(),
            Self::List(list) => list
                .iter()
                .map(|entry| match entry.split_once('=') {
                    Some((k, v)) => (k.to_owned(), v.to_owned()),
                    None => (entry.clone(), String::new()),
                })
                .collect(),
        }
    }
}

/// `depends_on:` as a list of names or a map of name → `{condition}`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum DependsOn {
    List(Vec<String>),
    Map(BTreeMap<String, Dependency>),
}

impl Default for DependsOn {
    fn default() -> Self {
        Self::List(Vec::new())
    }
}

/// One entry of the long `depends_on` form.
#[derive(Debug, Deserialize)]
pub(crate) struct Dependency {
    #[serde(default)]
    pub(crate) condition: Option<String>,
}

impl DependsOn {
    /// Every dependency and its condition (`service_started` for the short form).
    pub(crate) fn entries(&self) -> Vec<(String, String)> {
        match self {
            Self::List(list) => list.iter().map(|n| (n.clone(), "service_started".to_owned())).collect(),
            Self::Map(map) => map
                .iter()
                .map(|(n, d)| {
                    (
                        n.clone(),
                        d.condition.clone().unwrap_or_else(|| "service_started".into()),
                    )
                })
                .collect(),
        }
    }
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => format!("{other:?}"),
    }
}

/// The services the stack must have, and the variable that wires `hive` to each server.
pub(crate) const SERVERS: [(&str, &str); 5] = [
    ("mongo", "HIVE_MONGODB_URI"),
    ("elasticsearch", "HIVE_ELASTICSEARCH_URL"),
    ("redis", "HIVE_REDIS_URL"),
    ("postgres", "HIVE_POSTGRES_URL"),
    ("nats", "HIVE_NATS_URL"),
];

/// What the checks need to know beyond the file.
pub(crate) struct Context<'a> {
    /// The `HIVE_…` variables hive-server reads.
    pub(crate) hive_env: &'a BTreeSet<String>,
    /// Whether a path (relative to the compose file's folder) is a file.
    pub(crate) is_file: &'a dyn Fn(&Path) -> bool,
}

/// Every problem of the compose file `text`.
pub(crate) fn check(text: &str, context: &Context<'_>) -> Vec<String> {
    let compose: Compose = match serde_yaml_ng::from_str(text) {
        Ok(compose) => compose,
        Err(error) => return vec![format!("not a valid compose file: {error}")],
    };
    let mut problems = Vec::new();
    for name in SERVERS.iter().map(|(s, _)| *s).chain(["hive"]) {
        if !compose.services.contains_key(name) {
            problems.push(format!("no `{name}` service"));
        }
    }
    for (name, service) in &compose.services {
        check_service(name, service, &compose, context, &mut problems);
    }
    if let Some(es) = compose.services.get("elasticsearch") {
        check_elasticsearch(es, &mut problems);
    }
    if let Some(hive) = compose.services.get("hive") {
        check_hive(hive, &compose, &mut problems);
    }
    problems
}

fn check_service(name: &str, service: &Service, compose: &Compose, context: &Context<'_>, problems: &mut Vec<String>) {
    match (&service.image, &service.build) {
        (None, None) => problems.push(format!("{name}: neither `image` nor `build`")),
        (Some(image), None) if !super::dockerfile::is_pinned(image) => {
            problems.push(format!("{name}: image `{image}` is not pinned to a version"));
        }
        _ => {}
    }
    if let Some(build) = &service.build {
        let (build_context, dockerfile) = match build {
            Build::Context(c) => (c.as_str(), "Dockerfile"),
            Build::Full { context, dockerfile } => (
                context.as_deref().unwrap_or("."),
                dockerfile.as_deref().unwrap_or("Dockerfile"),
            ),
        };
        let path = Path::new(build_context).join(dockerfile);
        if !(context.is_file)(&path) {
            problems.push(format!("{name}: build file `{}` does not exist", path.display()));
        }
    }
    for (key, _) in service.environment.pairs() {
        if key.starts_with("HIVE_") && !context.hive_env.contains(&key) {
            problems.push(format!("{name}: `{key}` is not a variable hive-server reads"));
        }
    }
    for (target, condition) in service.depends_on.entries() {
        let Some(dependency) = compose.services.get(&target) else {
            problems.push(format!("{name}: depends on `{target}`, which is not a service"));
            continue;
        };
        match condition.as_str() {
            "service_started" | "service_completed_successfully" => {}
            "service_healthy" if dependency.healthcheck.is_some() => {}
            "service_healthy" => problems.push(format!(
                "{name}: waits for `{target}` to be healthy, which has no healthcheck"
            )),
            other => problems.push(format!("{name}: unknown depends_on condition `{other}`")),
        }
    }
    for volume in &service.volumes {
        let source = volume.split(':').next().unwrap_or_default();
        let named = !source.is_empty() && !source.contains('/') && !source.starts_with('.') && volume.contains(':');
        if named && !compose.volumes.contains_key(source) {
            problems.push(format!("{name}: volume `{source}` is not declared under `volumes`"));
        }
    }
}

fn check_elasticsearch(es: &Service, problems: &mut Vec<String>) {
    let tag = es
        .image
        .as_deref()
        .and_then(|i| i.rsplit(':').next())
        .unwrap_or_default();
    if !tag.starts_with("8.") {
        problems.push(format!(
            "elasticsearch: expected an Elasticsearch 8.x image, got tag `{tag}`"
        ));
    }
    let env: BTreeMap<String, String> = es.environment.pairs().into_iter().collect();
    if env.get("discovery.type").map(String::as_str) != Some("single-node") {
        problems.push("elasticsearch: `discovery.type` must be `single-node`".into());
    }
    if !env.contains_key("xpack.security.enabled") {
        problems.push("elasticsearch: `xpack.security.enabled` must be set explicitly (and documented)".into());
    }
}

fn check_hive(hive: &Service, compose: &Compose, problems: &mut Vec<String>) {
    let env: BTreeMap<String, String> = hive.environment.pairs().into_iter().collect();
    let dependencies: BTreeSet<String> = hive.depends_on.entries().into_iter().map(|(n, _)| n).collect();
    for (server, variable) in SERVERS {
        let Some(url) = env.get(variable) else {
            problems.push(format!("hive: `{variable}` is not set"));
            continue;
        };
        let host = url_host(url);
        if host != server {
            problems.push(format!(
                "hive: `{variable}` points at `{host}`, not the `{server}` service"
            ));
        }
        let waits = dependencies.contains(server)
            || compose
                .services
                .iter()
                .any(|(n, s)| dependencies.contains(n) && s.depends_on.entries().iter().any(|(t, _)| t == server));
        if !waits {
            problems.push(format!("hive: does not depend on `{server}`"));
        }
    }
}

/// The host of a URL (`scheme://user:pw@host:port/path?query` → `host`).
pub(crate) fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    host_port.split(':').next().unwrap_or_default()
}

/// The `HIVE_…` variables read in hive-server's configuration sources: every `("HIVE_…")`
/// string literal passed to a call (`get("HIVE_STORE")`, `var_os("HIVE_CONFIG")`…).
pub(crate) fn hive_env_keys(sources: &[String]) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for source in sources {
        for (at, _) in source.match_indices("(\"HIVE_") {
            let rest = &source[at + 2..];
            if let Some(end) = rest.find('"') {
                let key = &rest[..end];
                if key
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                {
                    keys.insert(key.to_owned());
                }
            }
        }
    }
    keys
}
