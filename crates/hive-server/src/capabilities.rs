//! What the service can answer on its event store: the optional capabilities the store lacks
//! and the routes that answer `501 capability_unsupported` for them, said once at start.

use hive_domain::{Capability, StoreCapabilities};

/// Every route the service serves: the API's and the dashboard's.
fn served_routes() -> impl Iterator<Item = &'static hive_http::Route> {
    hive_http::ROUTES.iter().chain(hive_dashboard::ROUTES)
}

/// The routes that answer `501` without `capability`, as the route tables declare them.
pub fn routes_needing(capability: Capability) -> Vec<&'static str> {
    served_routes()
        .filter(|route| route.needs == Some(capability))
        .map(|route| route.path)
        .collect()
}

/// The routes that answer `501` on a store with `capabilities`, in [`Capability::ALL`] order.
pub fn unsupported_routes(capabilities: &StoreCapabilities) -> Vec<&'static str> {
    capabilities.missing().into_iter().flat_map(routes_needing).collect()
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
    fn every_capability_is_needed_by_some_route() {
        for capability in Capability::ALL {
            assert!(!routes_needing(capability).is_empty(), "{capability}");
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
