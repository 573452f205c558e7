//! A minimal HTTP/1.1 client for the benchmarks that drive the `hive` service on loopback: one
//! request per connection (`Connection: close`), no library needed.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use crate::services::process::Server;
use crate::{signals, Failure, TaskResult};

/// How long a connection may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// A server's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    /// The status code.
    pub(crate) status: u16,
    /// The body (de-chunked), as text.
    pub(crate) body: String,
}

impl Answer {
    /// Whether the status is 2xx.
    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// An address on 127.0.0.1 with a port that was free a moment ago.
pub(crate) fn free_addr() -> TaskResult<SocketAddr> {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map_err(|e| Failure::new(format!("xtask: cannot find a free port on 127.0.0.1: {e}")))
}

/// Waits until `server` answers `request_line` with a 2xx status, for at most `timeout`.
pub(crate) fn wait_until(
    server: &mut Server,
    addr: SocketAddr,
    request_line: &str,
    headers: &[String],
    timeout: Duration,
) -> TaskResult {
    let deadline = Instant::now() + timeout;
    loop {
        if server.has_exited() {
            return Err(server.failure("exited before answering"));
        }
        if signals::interrupted() {
            return Err(Failure::with_code(
                format!("xtask: interrupted while waiting for `{request_line}`"),
                130,
            ));
        }
        match request(addr, request_line, headers, None, CONNECT_TIMEOUT) {
            Ok(answer) if answer.is_success() => return Ok(()),
            Ok(answer) if Instant::now() >= deadline => {
                return Err(server.failure(&format!("still answers {} to `{request_line}`", answer.status)))
            }
            Err(_) if Instant::now() >= deadline => {
                return Err(server.failure(&format!("did not answer `{request_line}` within {timeout:?}")))
            }
            _ => thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// Sends one HTTP/1.1 request (`Connection: close`) and reads the whole answer, waiting at most
/// `timeout` for each read.
pub(crate) fn request(
    addr: SocketAddr,
    request_line: &str,
    headers: &[String],
    body: Option<&str>,
    timeout: Duration,
) -> TaskResult<Answer> {
    let io = |e: std::io::Error| Failure::new(format!("xtask: {request_line} to {addr}: {e}"));
    let mut stream = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT).map_err(io)?;
    stream.set_read_timeout(Some(timeout)).map_err(io)?;
    let mut text = format!("{request_line}\r\nHost: {addr}\r\nConnection: close\r\n");
    for header in headers {
        text.push_str(header);
        text.push_str("\r\n");
    }
    if let Some(body) = body {
        text.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    text.push_str("\r\n");
    text.push_str(body.unwrap_or_default());
    stream.write_all(text.as_bytes()).map_err(io)?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).map_err(io)?;
    parse(&answer).ok_or_else(|| Failure::new(format!("xtask: {request_line} to {addr}: not an HTTP/1.x answer")))
}

/// Reads a raw HTTP/1.x answer: its status and its body (de-chunked when sent in chunks).
pub(crate) fn parse(answer: &[u8]) -> Option<Answer> {
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n");
    let (head, body) = match split {
        Some(at) => (&answer[..at], &answer[at + 4..]),
        None => (answer, &[][..]),
    };
    let head = String::from_utf8_lossy(head);
    let status = status(&head)?;
    let chunked = head.lines().skip(1).any(|line| {
        line.split_once(':').is_some_and(|(name, value)| {
            name.trim().eq_ignore_ascii_case("transfer-encoding") && value.trim().eq_ignore_ascii_case("chunked")
        })
    });
    let body = if chunked { dechunk(body)? } else { body.to_vec() };
    Some(Answer {
        status,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// The status code of an HTTP/1.x answer.
fn status(answer: &str) -> Option<u16> {
    let line = answer.lines().next()?;
    let mut words = line.split_whitespace();
    words.next().filter(|v| v.starts_with("HTTP/1."))?;
    words.next()?.parse().ok()
}

/// A chunked body's content.
fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = body.windows(2).position(|w| w == b"\r\n")?;
        let size = std::str::from_utf8(&body[..line_end]).ok()?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        if size == 0 {
            return Some(out);
        }
        let rest = &body[line_end + 2..];
        out.extend_from_slice(rest.get(..size)?);
        body = rest.get(size..)?.strip_prefix(b"\r\n")?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_line_is_read() {
        assert_eq!(status("HTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n"), Some(201));
        assert_eq!(status("SSH-2.0-OpenSSH\r\n"), None);
        assert_eq!(status(""), None);
    }

    #[test]
    fn an_answer_gives_its_status_and_body() {
        let answer =
            parse(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{\"total\":3}");
        assert_eq!(
            answer,
            Some(Answer {
                status: 200,
                body: "{\"total\":3}".into()
            })
        );
        let empty = parse(b"HTTP/1.1 503 Service Unavailable\r\n\r\n");
        assert_eq!(empty.map(|a| (a.status, a.is_success())), Some((503, false)));
        assert_eq!(parse(b"garbage"), None);
    }

    #[test]
    fn a_chunked_body_is_joined() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3;x=y\r\n:1}\r\n0\r\n\r\n";
        assert_eq!(parse(raw).map(|a| a.body), Some("{\"a\":1}".to_string()));
        let truncated = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nff\r\nshort";
        assert_eq!(parse(truncated), None);
    }
}
