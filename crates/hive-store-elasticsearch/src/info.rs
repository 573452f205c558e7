//! Which engine answers: Elasticsearch or OpenSearch, and its version (`GET /`).

use std::fmt;

use elasticsearch::http::Method;
use serde_json::Value;

use crate::http::EsClient;
use crate::{EsError, EsResult};

/// The search engine behind the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Distribution {
    /// Elasticsearch (its root answer has no `version.distribution`).
    Elasticsearch,
    /// OpenSearch (`version.distribution: "opensearch"`).
    OpenSearch,
}

impl fmt::Display for Distribution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Elasticsearch => "elasticsearch",
            Self::OpenSearch => "opensearch",
        })
    }
}

/// The engine and version a store talks to, from the root endpoint.
///
/// Every request Hive sends has the same form on Elasticsearch 8 and OpenSearch 2 (index
/// templates, `op_type=create`, realtime GET, bulk, `search_after` without a point in time,
/// `match`/`multi_match`, aggregations, completion suggesters, `_delete_by_query`), so nothing
/// branches on it yet; it is reported by `/readyz` and in logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterInfo {
    /// Elasticsearch or OpenSearch.
    pub distribution: Distribution,
    /// `version.number`, e.g. `8.15.5` or `2.19.6`.
    pub version: String,
}

impl ClusterInfo {
    /// Reads the answer of `GET /`.
    pub fn from_root(body: &Value) -> EsResult<Self> {
        let version = body
            .pointer("/version/number")
            .and_then(Value::as_str)
            .ok_or_else(|| EsError::decode("GET /", "no `version.number`"))?
            .to_owned();
        let distribution = match body.pointer("/version/distribution").and_then(Value::as_str) {
            Some(name) if name.eq_ignore_ascii_case("opensearch") => Distribution::OpenSearch,
            _ => Distribution::Elasticsearch,
        };
        Ok(Self { distribution, version })
    }

    /// `GET /` on `client`'s cluster.
    pub(crate) async fn fetch(client: &EsClient) -> EsResult<Self> {
        let reply = client.send_checked(Method::Get, "/", &[], None, &[]).await?;
        Self::from_root(&reply.body)
    }
}

impl fmt::Display for ClusterInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.distribution, self.version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_distribution_key_tells_opensearch_from_elasticsearch() {
        let es = ClusterInfo::from_root(&json!({"version": {"number": "8.15.5", "build_flavor": "default"}}));
        let os = ClusterInfo::from_root(&json!({"version": {"number": "2.19.6", "distribution": "opensearch"}}));
        assert_eq!(es.map(|i| i.to_string()).ok().as_deref(), Some("elasticsearch 8.15.5"));
        assert_eq!(os.map(|i| i.to_string()).ok().as_deref(), Some("opensearch 2.19.6"));
        assert!(ClusterInfo::from_root(&json!({"tagline": "?"})).is_err());
    }
}
