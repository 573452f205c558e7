//! Index templates and indices, created idempotently.

use elasticsearch::http::Method;
use serde_json::{json, Value};

use crate::http::{Body, EsClient};
use crate::{EsError, EsOptions, EsResult};

/// The body of `PUT _index_template/{name}`: the pattern `{name}*` (so rollover indices
/// `{name}-000002`… get the same mapping), the settings and the mapping.
pub(crate) fn template_body(name: &str, options: &EsOptions, mappings: Value) -> Value {
    json!({
        "index_patterns": [format!("{name}*")],
        "priority": 200,
        "template": {
            "settings": {
                "number_of_shards": options.shards,
                "number_of_replicas": options.replicas,
                "refresh_interval": options.refresh_interval
            },
            "mappings": mappings
        }
    })
}

/// Puts the template of `name` and creates the index unless it exists.
pub(crate) async fn ensure_index(client: &EsClient, name: &str, options: &EsOptions, mappings: Value) -> EsResult<()> {
    ensure_index_with(client, name, template_body(name, options, mappings)).await
}

/// Puts the template `template` of `name` and creates the index unless it exists.
pub(crate) async fn ensure_index_with(client: &EsClient, name: &str, template: Value) -> EsResult<()> {
    client
        .send_checked(
            Method::Put,
            &format!("/_index_template/{name}"),
            &[],
            Some(Body::Json(template)),
            &[],
        )
        .await?;
    let reply = client.send(Method::Put, &format!("/{name}"), &[], None).await?;
    match reply.status {
        200..=299 => Ok(()),
        400 if reply.error_type() == "resource_already_exists_exception" => Ok(()),
        _ => Err(crate::http::status_error("PUT", &format!("/{name}"), &reply)),
    }
}

/// Every index of the event-sourcing side.
pub(crate) async fn ensure_event_indices(client: &EsClient, options: &EsOptions) -> EsResult<()> {
    use crate::mapping as m;
    let mut events = template_body(&options.events_index, options, m::events());
    events["template"]["settings"]["analysis"] = m::events_analysis();
    ensure_index_with(client, &options.events_index, events).await?;
    ensure_index(client, &options.commits_index, options, m::commits()).await?;
    ensure_index(client, &options.sequence_index, options, m::sequence()).await?;
    ensure_index(client, &options.snapshots_index, options, m::snapshots()).await?;
    ensure_index(client, &options.checkpoints_index, options, m::checkpoints()).await?;
    ensure_index(client, &options.dead_letters_index, options, m::dead_letters()).await
}

/// The payments index, its template carrying the analyzers of [`crate::mapping::payments_analysis`].
#[cfg(feature = "billing")]
pub(crate) async fn ensure_payments_index(client: &EsClient, options: &EsOptions) -> EsResult<()> {
    let name = &options.payments_index;
    let mut template = template_body(name, options, crate::mapping::payments());
    template["template"]["settings"]["analysis"] = crate::mapping::payments_analysis();
    ensure_index_with(client, name, template).await
}

/// `GET _cluster/health`: `Ok(status)` for green or yellow, an error for red or no answer.
pub(crate) async fn cluster_health(client: &EsClient) -> EsResult<String> {
    let reply = client
        .send_checked(Method::Get, "/_cluster/health", &[], None, &[])
        .await?;
    let status = reply
        .body
        .get("status")
        .and_then(Value::as_str)
        .ok_or_else(|| EsError::decode("GET /_cluster/health", "no `status`"))?
        .to_owned();
    if status == "red" {
        return Err(EsError::Unavailable {
            kind: "cluster_health".into(),
            reason: "the cluster is red: some primary shards are unassigned".into(),
        });
    }
    Ok(status)
}

/// Deletes indices (test clean-up); a missing index is fine.
pub(crate) async fn delete_indices(client: &EsClient, names: &[&str]) -> EsResult<()> {
    for name in names {
        client
            .send_checked(Method::Delete, &format!("/{name}"), &[], None, &[404])
            .await?;
        client
            .send_checked(Method::Delete, &format!("/_index_template/{name}"), &[], None, &[404])
            .await?;
    }
    Ok(())
}
