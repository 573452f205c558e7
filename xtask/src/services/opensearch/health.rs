//! OpenSearch's cluster health over plain HTTP/1.0 (no client library needed for one GET).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde::Deserialize;

/// A cluster's health, as `GET /_cluster/health` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Health {
    /// Every shard assigned.
    Green,
    /// Every primary assigned (replicas may not be, as on a single node).
    Yellow,
    /// A primary is unassigned.
    Red,
}

impl Health {
    /// Whether the node is ready for the tests: green or yellow.
    pub(crate) fn is_ready(self) -> bool {
        matches!(self, Health::Green | Health::Yellow)
    }
}

/// The part of the health body that is read.
#[derive(Debug, Deserialize)]
struct Body {
    /// `green`, `yellow` or `red`.
    status: String,
}

/// The cluster health at `addr`, `None` when it does not answer (yet) or answers otherwise than
/// with a 200 and a health body.
pub(crate) fn get(addr: SocketAddr) -> Option<Health> {
    parse(&request(addr, "/_cluster/health")?)
}

/// The raw response to `GET path` at `addr` (HTTP/1.0: the server closes the connection after
/// it), within two seconds.
fn request(addr: SocketAddr, path: &str) -> Option<Vec<u8>> {
    let timeout = Duration::from_secs(2);
    let mut stream = TcpStream::connect_timeout(&addr, timeout).ok()?;
    stream.set_read_timeout(Some(timeout)).ok()?;
    stream.set_write_timeout(Some(timeout)).ok()?;
    let request = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\nAccept: application/json\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = Vec::new();
    stream.take(1 << 20).read_to_end(&mut response).ok()?;
    Some(response)
}

/// The health in a raw HTTP response: status 200 and a JSON body with `status`.
pub(crate) fn parse(response: &[u8]) -> Option<Health> {
    let text = std::str::from_utf8(response).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let code = head.lines().next()?.split_whitespace().nth(1)?;
    if code != "200" {
        return None;
    }
    match serde_json::from_str::<Body>(body).ok()?.status.as_str() {
        "green" => Some(Health::Green),
        "yellow" => Some(Health::Yellow),
        "red" => Some(Health::Red),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::thread;

    /// A response with `status_line` and `body`.
    fn response(status_line: &str, body: &str) -> Vec<u8> {
        format!(
            "{status_line}\r\ncontent-type: application/json; charset=UTF-8\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }

    #[test]
    fn parse_reads_the_status_of_a_200() {
        let body = r#"{"cluster_name":"hive-test","status":"green","timed_out":false,"number_of_nodes":1}"#;
        assert_eq!(parse(&response("HTTP/1.1 200 OK", body)), Some(Health::Green));
        let yellow = r#"{"status":"yellow"}"#;
        assert_eq!(parse(&response("HTTP/1.0 200 OK", yellow)), Some(Health::Yellow));
        assert_eq!(
            parse(&response("HTTP/1.1 200 OK", r#"{"status":"red"}"#)),
            Some(Health::Red)
        );
        assert!(Health::Green.is_ready() && Health::Yellow.is_ready() && !Health::Red.is_ready());
    }

    #[test]
    fn parse_rejects_errors_and_other_bodies() {
        let unavailable = r#"{"error":{"type":"cluster_manager_not_discovered_exception"},"status":503}"#;
        assert_eq!(parse(&response("HTTP/1.1 503 Service Unavailable", unavailable)), None);
        assert_eq!(parse(&response("HTTP/1.1 200 OK", r#"{"status":"blue"}"#)), None);
        assert_eq!(parse(&response("HTTP/1.1 200 OK", "not json")), None);
        assert_eq!(parse(b"HTTP/1.1 200 OK\r\n"), None);
        assert_eq!(parse(b""), None);
    }

    #[test]
    fn get_asks_a_server_over_http() {
        let Ok(listener) = TcpListener::bind(("127.0.0.1", 0)) else {
            panic!("cannot bind a port on 127.0.0.1");
        };
        let Ok(addr) = listener.local_addr() else {
            panic!("the listener has no address");
        };
        let server = thread::spawn(move || {
            let (mut stream, _) = listener.accept().ok()?;
            let mut request = Vec::new();
            let mut chunk = [0u8; 256];
            while !request.ends_with(b"\r\n\r\n") {
                let read = stream.read(&mut chunk).ok().filter(|&n| n > 0)?;
                request.extend_from_slice(&chunk[..read]);
            }
            let answered = request.starts_with(b"GET /_cluster/health HTTP/1.0\r\n");
            if answered {
                stream
                    .write_all(&response("HTTP/1.1 200 OK", r#"{"status":"yellow"}"#))
                    .ok()?;
            }
            Some(answered)
        });
        assert_eq!(get(addr), Some(Health::Yellow));
        assert_eq!(server.join().ok().flatten(), Some(true));
    }
}
