//! `docs/api.md` is checked against the route table and the OpenAPI document: every route of
//! `hive_http::ROUTES` has a section there, every section and every `curl` example names an
//! operation the OpenAPI document has (or, for the dashboard, a path under `/dashboard`: those
//! are `hive-dashboard`'s routes, not API operations, and its tests check that docs/api.md lists
//! them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use serde_json::Value;

const API_DOC: &str = include_str!("../../../docs/api.md");

/// The `(METHOD, /path)` of every section heading written ``### `METHOD /path` — …``.
fn documented_routes(doc: &str) -> Vec<(String, String)> {
    doc.lines()
        .filter_map(|line| line.strip_prefix("### `"))
        .filter_map(|rest| rest.split_once('`').map(|(route, _)| route))
        .filter_map(|route| route.split_once(' '))
        .map(|(method, path)| (method.to_owned(), path.to_owned()))
        .collect()
}

/// The shell commands of the ```sh blocks, continuation lines joined.
fn shell_commands(doc: &str) -> Vec<String> {
    let mut commands = Vec::new();
    let mut in_sh = false;
    let mut current = String::new();
    for line in doc.lines() {
        if line.starts_with("```") {
            in_sh = line == "```sh";
            continue;
        }
        if !in_sh {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(head) => current.push_str(head),
            None => {
                current.push_str(line);
                commands.push(std::mem::take(&mut current));
            }
        }
    }
    commands
}

/// The `(METHOD, /path)` of every `curl` request to `$HIVE_URL` in `command`.
fn curl_requests(command: &str) -> Vec<(String, String)> {
    command
        .split('|')
        .filter(|part| part.trim_start().starts_with("curl "))
        .filter_map(|curl| {
            let start = curl.find("\"$HIVE_URL")? + "\"$HIVE_URL".len();
            let rest = &curl[start..];
            let path = rest[..rest.find(['"', '?']).unwrap_or(rest.len())].to_owned();
            let method = if curl.contains("-X POST") { "POST" } else { "GET" };
            Some((method.to_owned(), path))
        })
        .collect()
}

/// Whether a concrete `path` fits an OpenAPI path `template` (`{name}` matches one segment).
fn fits(template: &str, path: &str) -> bool {
    let (template, path): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    template.len() == path.len()
        && template
            .iter()
            .zip(&path)
            .all(|(t, p)| t == p || (t.starts_with('{') && t.ends_with('}') && !p.is_empty()))
}

fn openapi_operations() -> BTreeSet<(String, String)> {
    let document = hive_http::openapi_document();
    let Value::Object(paths) = &document["paths"] else {
        panic!("the OpenAPI document has no paths object");
    };
    paths
        .iter()
        .flat_map(|(path, operations)| {
            operations
                .as_object()
                .into_iter()
                .flat_map(|ops| ops.keys())
                .map(move |method| (method.to_ascii_uppercase(), path.clone()))
        })
        .collect()
}

#[test]
fn every_route_is_documented() {
    let documented: BTreeSet<(String, String)> = documented_routes(API_DOC).into_iter().collect();
    let missing: Vec<String> = hive_http::ROUTES
        .iter()
        .map(|route| (route.method.as_str().to_owned(), route.path.to_owned()))
        .filter(|route| !documented.contains(route))
        .map(|(method, path)| format!("{method} {path}"))
        .collect();
    assert!(missing.is_empty(), "docs/api.md has no section for: {missing:?}");
}

#[test]
fn every_documented_route_is_in_the_openapi_document() {
    let operations = openapi_operations();
    let documented = documented_routes(API_DOC);
    assert!(
        documented.len() >= hive_http::ROUTES.len(),
        "too few sections: {documented:?}"
    );
    let unknown: Vec<String> = documented
        .iter()
        .filter(|route| !operations.contains(*route))
        .map(|(method, path)| format!("{method} {path}"))
        .collect();
    assert!(
        unknown.is_empty(),
        "docs/api.md documents operations OpenAPI lacks: {unknown:?}"
    );
}

/// Whether `(method, path)` is a page, asset or chart of the dashboard (`hive-dashboard`).
fn is_dashboard(method: &str, path: &str) -> bool {
    method == "GET" && (path == "/dashboard" || path.starts_with("/dashboard/"))
}

#[test]
fn every_curl_example_calls_an_openapi_operation() {
    let operations = openapi_operations();
    let requests: Vec<(String, String)> = shell_commands(API_DOC)
        .iter()
        .flat_map(|c| curl_requests(c))
        .filter(|(method, path)| !is_dashboard(method, path))
        .collect();
    assert!(
        requests.len() >= hive_http::ROUTES.len(),
        "too few examples: {requests:?}"
    );
    let unknown: Vec<String> = requests
        .iter()
        .filter(|(method, path)| {
            !operations
                .iter()
                .any(|(m, template)| m == method && fits(template, path))
        })
        .map(|(method, path)| format!("{method} {path}"))
        .collect();
    assert!(
        unknown.is_empty(),
        "curl examples of docs/api.md call unknown operations: {unknown:?}"
    );
}

#[test]
fn every_documented_route_has_an_example() {
    let requests: Vec<(String, String)> = shell_commands(API_DOC).iter().flat_map(|c| curl_requests(c)).collect();
    let without: Vec<String> = documented_routes(API_DOC)
        .into_iter()
        .filter(|(method, template)| !requests.iter().any(|(m, path)| m == method && fits(template, path)))
        .map(|(method, path)| format!("{method} {path}"))
        .collect();
    assert!(
        without.is_empty(),
        "sections of docs/api.md without a curl example: {without:?}"
    );
}

#[test]
fn the_checks_see_a_wrong_document() {
    let doc = "### `GET /nowhere` — x\n\n```sh\ncurl -s \"$HIVE_URL/payments/p-1/refund\" -X POST \\\n  -d '{}'\n```\n";
    assert_eq!(documented_routes(doc), vec![("GET".to_owned(), "/nowhere".to_owned())]);
    let requests: Vec<_> = shell_commands(doc).iter().flat_map(|c| curl_requests(c)).collect();
    assert_eq!(requests, vec![("POST".to_owned(), "/payments/p-1/refund".to_owned())]);
    assert!(fits("/payments/{id}/refund", "/payments/p-1/refund"));
    assert!(!fits("/payments/{id}", "/payments/p-1/refund"));
    assert!(!openapi_operations().contains(&("GET".to_owned(), "/nowhere".to_owned())));
    assert!(is_dashboard("GET", "/dashboard") && !is_dashboard("POST", "/dashboard"));
    assert!(!is_dashboard("GET", "/payments"));
}
