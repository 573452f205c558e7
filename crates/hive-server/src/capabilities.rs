//! What the service can answer on its event store: the optional capabilities the store lacks
//! and the routes that answer `501 capability_unsupported` for them, said once at start.

use hive_domain::{Capability, StoreCapabilities};

/// The routes (`GET`) whose queries need each optional capability of the event store.
pub const CAPABILITY_ROUTES: &[(Capability, &[&str])] = &[
    (
        Capability::Search,
        &[
            "/events/search",
            "/events/timeline/{correlationId}",
            "/events/correlations/{correlationId}",
        ],
    ),
    (Capability::Lookup, &["/events/{eventId}"]),
    (
        Capability::Analytics,
        &[
            "/events/statistics",
            "/events/trends",
            "/events/heatmap",
            "/dashboard/charts/heatmap.svg",
        ],
    ),
];

/// The routes that answer `501` without `capability`.
pub fn routes_needing(capability: Capability) -> &'static [&'static str] {
    CAPABILITY_ROUTES
        .iter()
        .find(|(c, _)| *c == capability)
        .map_or(&[], |(_, routes)| routes)
}

/// The routes that answer `501` on a store with `capabilities`, in [`Capability::ALL`] order.
pub fn unsupported_routes(capabilities: &StoreCapabilities) -> Vec<&'static str> {
    capabilities
        .missing()
        .into_iter()
        .flat_map(|c| routes_needing(c).iter().copied())
        .collect()
}

/// Logs which capabilities the event store lacks and which routes answer `501` for them (a
/// warning), or that it has them all.
pub fn log_at_start(capabilities: &StoreCapabilities) {
    let missing = capabilities.missing();
    if missing.is_empty() {
        tracing::info!("the event store has every optional capability (event_lookup, event_search, event_analytics)");
        return;
    }
    let missing: Vec<&str> = missing.into_iter().map(Capability::name).collect();
    let routes = unsupported_routes(capabilities);
    tracing::warn!(
        missing = %missing.join(", "),
        routes = %routes.join(", "),
        "the event store lacks optional capabilities: these GET routes answer 501 capability_unsupported"
    );
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use hive_store_memory::MemoryEventStore;

    use super::*;

    #[test]
    fn every_capability_names_routes_of_the_api() {
        for capability in Capability::ALL {
            let routes = routes_needing(capability);
            assert!(!routes.is_empty(), "{capability}");
            for route in routes {
                let known = hive_http::ROUTES.iter().any(|r| r.path == *route)
                    || hive_http::DASHBOARD_ROUTES.iter().any(|(path, _)| path == route);
                assert!(known, "{route} is not a route of the API");
            }
        }
    }

    #[test]
    fn a_core_only_store_lists_every_route_of_every_capability() {
        let store = MemoryEventStore::new();
        assert!(unsupported_routes(&store.capabilities()).is_empty());
        let core = StoreCapabilities::core(Arc::new(store.clone()));
        let routes = unsupported_routes(&core);
        assert_eq!(routes.len(), 8);
        assert!(routes.contains(&"/events/{eventId}") && routes.contains(&"/events/heatmap"));
        let without_analytics = store.capabilities();
        let without_analytics = StoreCapabilities {
            analytics: None,
            ..without_analytics
        };
        assert_eq!(
            unsupported_routes(&without_analytics),
            routes_needing(Capability::Analytics)
        );
    }
}
