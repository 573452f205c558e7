//! The client side of the `hive` commands that talk to a running service over HTTP (`hive
//! events follow`, `hive subscriptions …`): the service's address, a bearer token, and the
//! reading of a Server-Sent Events body.

use clap::Args;
use serde_json::Value;

/// Where the service runs and how to authenticate.
#[derive(Debug, Clone, Args)]
pub struct Remote {
    /// The service's base URL.
    #[arg(long, env = "HIVE_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// A bearer token of the service (`tokens` in its configuration).
    #[arg(long, env = "HIVE_TOKEN", hide_env_values = true)]
    pub token: String,
    /// Follow every organization's events (`scope=platform`: the token needs the `platform` role).
    #[arg(long)]
    pub platform: bool,
}

impl Remote {
    /// `{url}/{path}` with the token's scope in the query.
    pub(super) fn url(&self, path: &str, query: &[(&str, String)]) -> Result<reqwest::Url, String> {
        let base = self.url.trim_end_matches('/');
        let mut url = reqwest::Url::parse(&format!("{base}{path}")).map_err(|e| format!("--url {base}: {e}"))?;
        {
            let mut pairs = url.query_pairs_mut();
            for (key, value) in query {
                pairs.append_pair(key, value);
            }
            if self.platform {
                pairs.append_pair("scope", "platform");
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        Ok(url)
    }

    /// Sends a request and answers its JSON body, or the problem the service answered.
    pub(super) async fn call(
        &self,
        client: &reqwest::Client,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let mut request = client.request(method, self.url(path, &[])?).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(|e| format!("{}: {e}", self.url))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            Ok(body)
        } else {
            let detail = body["detail"].as_str().unwrap_or("no detail");
            let code = body["code"].as_str().unwrap_or("?");
            Err(format!("the service answered {status} ({code}): {detail}"))
        }
    }
}

/// One Server-Sent Event: `id`, `event` and `data` fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `id` field.
    pub id: Option<String>,
    /// The `event` field (`message` when absent).
    pub event: Option<String>,
    /// The `data` lines, joined by `\n`.
    pub data: String,
}

/// Cuts the complete events off the front of `buffer` (what arrived so far); comments and
/// keep-alives give no event.
pub fn take_sse_events(buffer: &mut String) -> Vec<SseEvent> {
    let mut events = Vec::new();
    while let Some(end) = buffer.find("\n\n") {
        let block: String = buffer.drain(..end + 2).collect();
        let mut event = SseEvent::default();
        let mut data: Vec<&str> = Vec::new();
        for line in block.lines() {
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "id" => event.id = Some(value.to_owned()),
                "event" => event.event = Some(value.to_owned()),
                "data" => data.push(value),
                _ => {}
            }
        }
        if event.id.is_some() || event.event.is_some() || !data.is_empty() {
            event.data = data.join("\n");
            events.push(event);
        }
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_events_are_cut_off_and_a_partial_one_waits() {
        let mut buffer = String::from(": keep-alive\n\nid: 7\nevent: PaymentCreated\ndata: {\"a\":1}\n\nid: 8\nda");
        let events = take_sse_events(&mut buffer);
        assert_eq!(
            events,
            [SseEvent {
                id: Some("7".into()),
                event: Some("PaymentCreated".into()),
                data: "{\"a\":1}".into()
            }]
        );
        assert_eq!(buffer, "id: 8\nda");
        buffer.push_str("ta: x\ndata: y\n\n");
        assert_eq!(take_sse_events(&mut buffer)[0].data, "x\ny");
    }
}
