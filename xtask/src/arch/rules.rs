//! The dependency rules of ARCHITECTURE.md, as a pure function over a small model.

use std::collections::BTreeMap;
use std::fmt;

/// Each workspace crate (by name) and its normal dependencies: direct ones as declared, then
/// the ones that come in through them.
pub(crate) type Model = BTreeMap<String, Vec<Dep>>;

/// One normal (not dev, not build) dependency of a workspace crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Dep {
    /// The depended-on package's name.
    pub(crate) name: String,
    /// Whether the dependency is optional (enabled by a cargo feature).
    pub(crate) optional: bool,
    /// `None` for a direct dependency; for an indirect one, the direct dependency it comes through.
    pub(crate) via: Option<String>,
}

impl Dep {
    /// A dependency declared in the crate's own manifest.
    pub(crate) fn direct(name: &str, optional: bool) -> Self {
        Self {
            name: name.to_string(),
            optional,
            via: None,
        }
    }

    /// A dependency that comes in through the direct dependency `via`.
    pub(crate) fn through(name: &str, via: &str) -> Self {
        Self {
            name: name.to_string(),
            optional: false,
            via: Some(via.to_string()),
        }
    }
}

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Violation {
    /// The crate that breaks the rule.
    pub(crate) krate: String,
    /// What it must not depend on.
    pub(crate) dep: String,
    /// The direct dependency an indirect `dep` comes through.
    pub(crate) via: Option<String>,
    /// The rule, as ARCHITECTURE.md words it.
    pub(crate) rule: &'static str,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "arch-check: {} must not depend on {}", self.krate, self.dep)?;
        if let Some(via) = &self.via {
            write!(f, ", even through {via}")?;
        }
        write!(f, " (ARCHITECTURE.md: {})", self.rule)
    }
}

/// I/O, runtime and driver crates that `hive-domain` must not depend on, even indirectly.
const RUNTIME_AND_DRIVERS: &[&str] = &[
    "tokio",
    "mongodb",
    "bson",
    "elasticsearch",
    "redis",
    "moka",
    "axum",
    "hyper",
    "reqwest",
    "sqlx",
    "tower-http",
    "actix-web",
    "async-std",
];

/// Driver crates that `hive-application` and `hive-billing` must not depend on, even indirectly.
const DRIVERS: &[&str] = &[
    "mongodb",
    "bson",
    "elasticsearch",
    "redis",
    "moka",
    "axum",
    "hyper",
    "reqwest",
    "sqlx",
    "tower-http",
];

/// The composition root.
const SERVER: &str = "hive-server";

/// The driving adapters: they call the buses.
const DRIVING: &[&str] = &["hive-http", "hive-dashboard", "hive-cli"];

/// Whether `name` is a Hive crate.
fn is_hive(name: &str) -> bool {
    name.starts_with("hive-")
}

/// Whether `name` is a driven adapter crate (a store, a cache or a broker connector).
fn is_adapter(name: &str) -> bool {
    name.starts_with("hive-store-") || name.starts_with("hive-cache-") || name.starts_with("hive-connector-")
}

/// Checks every rule over `model`; returns the violations, sorted, one per crate and dependency
/// and rule.
pub(crate) fn check(model: &Model) -> Vec<Violation> {
    let mut found = Vec::new();
    for (krate, deps) in model {
        let mut forbid = |dep: &Dep, rule: &'static str| {
            found.push(Violation {
                krate: krate.clone(),
                dep: dep.name.clone(),
                via: dep.via.clone(),
                rule,
            });
        };
        let direct = || deps.iter().filter(|d| d.via.is_none());
        let krate = krate.as_str();
        for dep in direct().filter(|d| d.name == SERVER && krate != SERVER) {
            forbid(dep, "hive-server is the composition root; nothing depends on it");
        }
        match krate {
            "hive-domain" => {
                for dep in direct().filter(|d| is_hive(&d.name) && d.name != SERVER) {
                    forbid(dep, "hive-domain depends on no other hive crate");
                }
                for dep in deps.iter().filter(|d| RUNTIME_AND_DRIVERS.contains(&d.name.as_str())) {
                    forbid(dep, "hive-domain depends on no I/O, runtime or driver crate");
                }
            }
            "hive-application" => {
                for dep in direct().filter(|d| is_hive(&d.name) && d.name != "hive-domain" && d.name != SERVER) {
                    forbid(dep, "hive-application depends only on hive-domain among hive crates");
                }
                for dep in deps.iter().filter(|d| DRIVERS.contains(&d.name.as_str())) {
                    forbid(dep, "hive-application depends on no driver crate");
                }
            }
            "hive-billing" => {
                let allowed = ["hive-domain", "hive-application", SERVER];
                for dep in direct().filter(|d| is_hive(&d.name) && !allowed.contains(&d.name.as_str())) {
                    forbid(
                        dep,
                        "hive-billing depends only on hive-domain and hive-application among hive crates",
                    );
                }
                for dep in deps.iter().filter(|d| DRIVERS.contains(&d.name.as_str())) {
                    forbid(dep, "hive-billing depends on no driver crate");
                }
            }
            adapter if is_adapter(adapter) => {
                for dep in direct() {
                    if is_adapter(&dep.name) && dep.name != adapter {
                        forbid(dep, "adapter crates never depend on each other");
                    } else if DRIVING.contains(&dep.name.as_str()) {
                        forbid(
                            dep,
                            "adapter crates never depend on the driving adapters (hive-http, hive-dashboard, hive-cli)",
                        );
                    } else if dep.name == "hive-billing" && !dep.optional {
                        forbid(
                            dep,
                            "billing-specific adapter code sits behind an optional `billing` cargo feature, \
                             so the generic adapter stays importable without it",
                        );
                    }
                }
            }
            driving if DRIVING.contains(&driving) => {
                for dep in direct().filter(|d| is_adapter(&d.name)) {
                    forbid(
                        dep,
                        "driving adapters call the buses; they never touch a store or cache directly",
                    );
                }
            }
            SERVER => {}
            _ => {
                let adapters: Vec<&Dep> = direct().filter(|d| is_adapter(&d.name)).collect();
                if adapters.len() > 1 {
                    for dep in adapters {
                        forbid(
                            dep,
                            "only hive-server, the composition root, wires several adapters together",
                        );
                    }
                }
            }
        }
    }
    found.sort();
    found.dedup();
    found
}
