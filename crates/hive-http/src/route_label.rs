//! The `route` label of the request metrics: the route template a path matches, found without
//! the router (the metrics layer wraps the router as a whole, so axum's `MatchedPath` is not
//! set yet when it runs).

use std::sync::LazyLock;

use crate::dashboard::DASHBOARD_ROUTES;
use crate::metrics::UNMATCHED_ROUTE;
use crate::ROUTES;

/// One template: its segments, `None` for a `{capture}`.
struct Template {
    path: &'static str,
    segments: Vec<Option<&'static str>>,
    literals: usize,
}

impl Template {
    fn new(path: &'static str) -> Self {
        let segments: Vec<Option<&'static str>> = path
            .split('/')
            .map(|s| (!(s.starts_with('{') && s.ends_with('}'))).then_some(s))
            .collect();
        let literals = segments.iter().filter(|s| s.is_some()).count();
        Self {
            path,
            segments,
            literals,
        }
    }

    /// Whether `path` (split on `/`) matches: same number of segments, literals equal,
    /// captures non-empty (as axum matches).
    fn matches(&self, path: &[&str]) -> bool {
        self.segments.len() == path.len()
            && self
                .segments
                .iter()
                .zip(path)
                .all(|(template, segment)| match template {
                    Some(literal) => literal == segment,
                    None => !segment.is_empty(),
                })
    }
}

static TEMPLATES: LazyLock<Vec<Template>> = LazyLock::new(|| {
    let mut paths: Vec<&'static str> = ROUTES.iter().map(|route| route.path).collect();
    paths.extend(DASHBOARD_ROUTES.iter().map(|(path, _)| *path));
    paths.sort_unstable();
    paths.dedup();
    paths.into_iter().map(Template::new).collect()
});

/// The template of the route `path` belongs to (the most literal one when several match, as
/// axum prefers `/payments/search` to `/payments/{id}`), or [`UNMATCHED_ROUTE`].
pub(crate) fn route_label(path: &str) -> &'static str {
    let segments: Vec<&str> = path.split('/').collect();
    TEMPLATES
        .iter()
        .filter(|t| t.matches(&segments))
        .max_by_key(|t| t.literals)
        .map_or(UNMATCHED_ROUTE, |t| t.path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A concrete path of `template`: each capture replaced by a value.
    fn example(template: &str) -> String {
        template
            .split('/')
            .map(|s| if s.starts_with('{') { "pay-1" } else { s })
            .collect::<Vec<_>>()
            .join("/")
    }

    #[test]
    fn every_route_is_labelled_with_its_own_template() {
        let all = ROUTES
            .iter()
            .map(|route| route.path)
            .chain(DASHBOARD_ROUTES.iter().map(|(p, _)| *p));
        for template in all {
            assert_eq!(route_label(&example(template)), template, "{template}");
        }
    }

    #[test]
    fn literals_win_over_captures_and_unknown_paths_are_unmatched() {
        assert_eq!(route_label("/payments/search"), "/payments/search");
        assert_eq!(route_label("/payments/pay-9"), "/payments/{id}");
        assert_eq!(route_label("/payments/pay-9/refund"), "/payments/{id}/refund");
        for unknown in ["/", "/nope", "/payments/", "/payments/x/y/z", "/payments//process", ""] {
            assert_eq!(route_label(unknown), UNMATCHED_ROUTE, "{unknown:?}");
        }
    }
}
