//! The parts of `cargo metadata --format-version 1` that xtask reads.

use std::path::PathBuf;
use std::process::Stdio;

use serde::Deserialize;

use crate::{cmd, Failure, TaskResult};

/// The output of `cargo metadata --format-version 1`.
#[derive(Debug, Deserialize)]
pub(crate) struct Metadata {
    /// Every package in the graph (only the workspace's with `--no-deps`).
    pub(crate) packages: Vec<Package>,
    /// The package ids of the workspace members.
    pub(crate) workspace_members: Vec<String>,
    /// The resolved dependency graph (absent with `--no-deps`).
    #[serde(default)]
    pub(crate) resolve: Option<Resolve>,
    /// Where cargo builds (`target/` unless configured otherwise).
    pub(crate) target_directory: PathBuf,
}

/// One package.
#[derive(Debug, Deserialize)]
pub(crate) struct Package {
    /// Its package id (matches [`Node::id`]).
    pub(crate) id: String,
    /// Its name.
    pub(crate) name: String,
    /// Its declared dependencies, of every kind.
    pub(crate) dependencies: Vec<Dependency>,
}

/// One declared dependency of a package.
#[derive(Debug, Deserialize)]
pub(crate) struct Dependency {
    /// The depended-on package's name (not the `rename`).
    pub(crate) name: String,
    /// `None` for a normal dependency, `"dev"` or `"build"` otherwise.
    pub(crate) kind: Option<String>,
    /// Whether it is optional (enabled by a cargo feature).
    #[serde(default)]
    pub(crate) optional: bool,
}

/// The resolved graph.
#[derive(Debug, Deserialize)]
pub(crate) struct Resolve {
    /// One node per package in the build.
    pub(crate) nodes: Vec<Node>,
}

/// One resolved package and its edges.
#[derive(Debug, Deserialize)]
pub(crate) struct Node {
    /// Its package id.
    pub(crate) id: String,
    /// Its resolved dependencies.
    #[serde(default)]
    pub(crate) deps: Vec<NodeDep>,
}

/// One resolved edge.
#[derive(Debug, Deserialize)]
pub(crate) struct NodeDep {
    /// The package id depended on.
    pub(crate) pkg: String,
    /// The kinds of the edge (normal, dev, build, per target).
    #[serde(default)]
    pub(crate) dep_kinds: Vec<DepKind>,
}

/// One kind of a resolved edge.
#[derive(Debug, Deserialize)]
pub(crate) struct DepKind {
    /// `None` for normal, `"dev"` or `"build"` otherwise.
    pub(crate) kind: Option<String>,
}

impl NodeDep {
    /// Whether this edge is a normal (not dev, not build) dependency for some target.
    pub(crate) fn is_normal(&self) -> bool {
        self.dep_kinds.iter().any(|k| k.kind.is_none())
    }
}

/// Runs `cargo metadata --format-version 1` in the workspace root, resolving dependencies
/// unless `no_deps`.
pub(crate) fn load(no_deps: bool) -> TaskResult<Metadata> {
    let mut command = cmd::cargo(["metadata", "--format-version", "1"]);
    if no_deps {
        command.arg("--no-deps");
    }
    let output = command
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| Failure::new(format!("xtask: could not run `cargo metadata`: {e}")))?;
    cmd::check("cargo metadata", output.status)?;
    parse(&output.stdout)
}

/// Parses the JSON that `cargo metadata --format-version 1` prints.
pub(crate) fn parse(json: &[u8]) -> TaskResult<Metadata> {
    serde_json::from_slice(json).map_err(|e| Failure::new(format!("xtask: cannot read `cargo metadata` output: {e}")))
}

/// The target directory of the workspace, from `cargo metadata --no-deps`.
pub(crate) fn target_dir() -> TaskResult<PathBuf> {
    Ok(load(true)?.target_directory)
}
