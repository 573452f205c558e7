//! Elasticsearch in the service: the adapter's options from the configuration, the connection
//! opened at start when `store` or `search` is `elasticsearch`, and the `/readyz` check of the
//! cluster's health.

use async_trait::async_trait;
use hive_domain::EventStoreError;
use hive_http::{Readiness, ReadinessCheck};
use hive_store_elasticsearch::{EsError, EsOptions, EsStore};

use crate::app::StartError;
use crate::config::{Config, SearchKind, StoreKind};

/// The adapter's options: `elasticsearch.url` and, when set, `elasticsearch.index_prefix`
/// (`None` when neither the store nor the search index is on Elasticsearch).
pub fn options(config: &Config) -> Option<EsOptions> {
    let used = config.store == StoreKind::Elasticsearch || config.search == SearchKind::Elasticsearch;
    let url = config.elasticsearch_url.as_deref().filter(|_| used)?;
    let options = EsOptions::new(url.trim());
    Some(match &config.elasticsearch_index_prefix {
        Some(prefix) => options.with_prefix(prefix),
        None => options,
    })
}

/// Connects when the configuration uses Elasticsearch: puts the index templates and creates
/// the indices that are missing (the event-side ones, which hold the projections'
/// checkpoints too, and the payments index when the read model or the search index is there).
pub async fn connect(config: &Config) -> Result<Option<EsStore>, StartError> {
    let Some(options) = options(config) else {
        return Ok(None);
    };
    let url = options.url.clone();
    let store = EsStore::connect(options)
        .await
        .map_err(|e| start_error("Elasticsearch indices", &url, &e))?;
    if config.search == SearchKind::Elasticsearch || config.store == StoreKind::Elasticsearch {
        store
            .payment_search_index()
            .ensure_index()
            .await
            .map_err(|e| start_error("Elasticsearch payments index", &url, &e))?;
    }
    Ok(Some(store))
}

/// A start error naming `what`, the password of `url` (if any) masked.
fn start_error(what: &'static str, url: &str, error: &EsError) -> StartError {
    let text = redact(&error.to_string(), url);
    let source = if error.is_transient() {
        EventStoreError::Unavailable(text)
    } else {
        EventStoreError::Backend(text)
    };
    StartError::Store { what, source }
}

/// `text` with the password of `url` (`http://user:password@host`) replaced by `***`, so
/// error messages and `/readyz` never show it.
pub fn redact(text: &str, url: &str) -> String {
    let authority = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = authority.split('/').next().unwrap_or_default();
    match authority
        .rsplit_once('@')
        .and_then(|(userinfo, _)| userinfo.split_once(':'))
    {
        Some((_, password)) if !password.is_empty() => text.replace(&format!(":{password}@"), ":***@"),
        _ => text.to_owned(),
    }
}

/// `/readyz` entry `elasticsearch`: `GET _cluster/health`. Green is up; yellow (a replica
/// unassigned, every primary shard working) is ready but reported `degraded`; red or no
/// answer is down, with the reason. Its `backend` names the engine and version
/// (`elasticsearch 8.15.5`, `opensearch 2.19.6`).
pub struct ClusterHealth {
    store: EsStore,
}

impl ClusterHealth {
    /// The check of `store`'s cluster.
    pub fn new(store: EsStore) -> Self {
        Self { store }
    }
}

#[async_trait]
impl ReadinessCheck for ClusterHealth {
    fn name(&self) -> &str {
        "elasticsearch"
    }

    async fn check(&self) -> Readiness {
        match self.store.health().await {
            Ok(status) if status == "green" => Readiness::Up,
            Ok(status) => Readiness::Degraded(format!(
                "cluster health is {status}: every primary shard is assigned, some replicas are not"
            )),
            Err(error) => Readiness::Down(redact(&error.to_string(), self.store.client().url())),
        }
    }

    fn backend(&self) -> Option<String> {
        self.store.cluster_info().map(ToString::to_string)
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_in_the_url_are_masked() {
        let url = "http://elastic:s3cret@es:9200";
        let text = format!("cannot connect to Elasticsearch at {url}/: refused");
        assert_eq!(
            redact(&text, url),
            "cannot connect to Elasticsearch at http://elastic:***@es:9200/: refused"
        );
        assert_eq!(redact("no password", "http://es:9200"), "no password");
        assert_eq!(
            redact("at http://user@es:9200", "http://user@es:9200"),
            "at http://user@es:9200"
        );
    }
}
