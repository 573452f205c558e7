//! `cargo xtask arch-check`: the dependency rules of ARCHITECTURE.md, checked from `cargo metadata`.

mod rules;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::metadata::{self, Metadata};
use crate::{Failure, TaskResult};

use rules::{check, Dep, Model};

/// Runs the check on the workspace and reports: one line per violation, or one line of success.
pub(crate) fn run() -> TaskResult {
    let model = model(&metadata::load(false)?);
    let violations = check(&model);
    if violations.is_empty() {
        println!("arch-check: {} crates, all dependency rules hold", model.len());
        return Ok(());
    }
    let lines: Vec<String> = violations.iter().map(ToString::to_string).collect();
    Err(Failure::new(format!(
        "{}\narch-check: {} violation(s) of the dependency rules in {} crates",
        lines.join("\n"),
        violations.len(),
        model.len()
    )))
}

/// The model of the workspace's Hive crates: each one's declared normal dependencies, then
/// (from the resolved graph, when there is one) the packages those pull in.
pub(crate) fn model(meta: &Metadata) -> Model {
    let names: BTreeMap<&str, &str> = meta.packages.iter().map(|p| (p.id.as_str(), p.name.as_str())).collect();
    let edges: BTreeMap<&str, Vec<&str>> = meta
        .resolve
        .iter()
        .flat_map(|resolve| &resolve.nodes)
        .map(|node| {
            (
                node.id.as_str(),
                node.deps
                    .iter()
                    .filter(|d| d.is_normal())
                    .map(|d| d.pkg.as_str())
                    .collect(),
            )
        })
        .collect();
    let members: BTreeSet<&str> = meta.workspace_members.iter().map(String::as_str).collect();
    let mut model = Model::new();
    for package in meta
        .packages
        .iter()
        .filter(|p| members.contains(p.id.as_str()) && p.name.starts_with("hive-"))
    {
        let mut deps: Vec<Dep> = Vec::new();
        for dep in package.dependencies.iter().filter(|d| d.kind.is_none()) {
            match deps.iter_mut().find(|d| d.name == dep.name) {
                // Declared twice (per target): optional only if optional everywhere.
                Some(seen) => seen.optional &= dep.optional,
                None => deps.push(Dep::direct(&dep.name, dep.optional)),
            }
        }
        deps.extend(indirect(package.id.as_str(), &edges, &names));
        model.insert(package.name.clone(), deps);
    }
    model
}

/// The packages that `root`'s direct normal dependencies pull in (breadth first, so each is
/// named with the direct dependency on its shortest path), not counting the direct ones.
fn indirect(root: &str, edges: &BTreeMap<&str, Vec<&str>>, names: &BTreeMap<&str, &str>) -> Vec<Dep> {
    let name = |id: &str| names.get(id).copied().unwrap_or(id).to_string();
    let direct = edges.get(root).cloned().unwrap_or_default();
    let mut seen: BTreeSet<&str> = direct.iter().copied().collect();
    seen.insert(root);
    let mut queue: VecDeque<(&str, &str)> = direct.iter().map(|&id| (id, id)).collect();
    let mut found = Vec::new();
    while let Some((id, via)) = queue.pop_front() {
        for &next in edges.get(id).into_iter().flatten() {
            if seen.insert(next) {
                found.push(Dep::through(&name(next), &name(via)));
                queue.push_back((next, via));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests;
