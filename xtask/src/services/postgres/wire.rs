//! Whether a PostgreSQL server accepts connections: a real startup handshake over TCP (protocol
//! 3.0), as a client's first exchange, up to the server's `ReadyForQuery`.
//!
//! A port that accepts a TCP connection is not yet a server that takes sessions: while it starts
//! (or recovers) PostgreSQL answers the startup message with an error ("the database system is
//! starting up"). Only the throwaway cluster's trust authentication is handled: a server that
//! asks for a password counts as not ready, with the reason.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// The protocol version of the startup message: 3.0.
const PROTOCOL: u32 = 3 << 16;

/// The largest message read here (error and parameter messages are far smaller).
const MAX_MESSAGE: usize = 64 * 1024;

/// How long the connection and each read may take.
const TIMEOUT: Duration = Duration::from_millis(1000);

/// Connects to `addr` and starts a session as `user` on `database`; `Ok` once the server says
/// it is ready for queries (the session is ended then), else why not (refused, an error
/// message, a password asked for…).
pub(crate) fn handshake(addr: SocketAddr, user: &str, database: &str) -> Result<(), String> {
    let mut stream = open(addr, user, database)?;
    // Terminate: a polite goodbye, so the server logs no "unexpected EOF".
    let _ = stream.write_all(b"X\0\0\0\x04");
    Ok(())
}

/// Connects to `addr` and starts a session as `user` on `database`: the connection, once the
/// server says it is ready for queries, with the session still open.
pub(crate) fn open(addr: SocketAddr, user: &str, database: &str) -> Result<TcpStream, String> {
    let mut stream = TcpStream::connect_timeout(&addr, TIMEOUT).map_err(|e| format!("cannot connect: {e}"))?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(TIMEOUT)))
        .map_err(|e| e.to_string())?;
    session(&mut stream, user, database)?;
    Ok(stream)
}

/// The startup exchange on `stream`: the startup message, then the server's messages until
/// `ReadyForQuery` (`Ok`) or the first that says no.
fn session(stream: &mut (impl Read + Write), user: &str, database: &str) -> Result<(), String> {
    stream
        .write_all(&startup_message(user, database))
        .map_err(|e| format!("cannot send the startup message: {e}"))?;
    loop {
        let (kind, body) = read_message(stream)?;
        match kind {
            b'Z' => return Ok(()),
            b'E' => return Err(error_text(&body)),
            b'R' => match body
                .get(..4)
                .map(|code| u32::from_be_bytes([code[0], code[1], code[2], code[3]]))
            {
                Some(0) => {}
                Some(code) => return Err(format!("it asks for authentication (method {code}), not trust")),
                None => return Err("a malformed authentication message".to_string()),
            },
            // ParameterStatus, BackendKeyData, notices: nothing to check.
            _ => {}
        }
    }
}

/// The startup message: length, protocol, then `user` and `database` as name/value pairs.
fn startup_message(user: &str, database: &str) -> Vec<u8> {
    let mut body = PROTOCOL.to_be_bytes().to_vec();
    for text in ["user", user, "database", database] {
        body.extend_from_slice(text.as_bytes());
        body.push(0);
    }
    body.push(0);
    let length = u32::try_from(body.len() + 4).unwrap_or(u32::MAX);
    let mut message = length.to_be_bytes().to_vec();
    message.append(&mut body);
    message
}

/// One message from the server: its type byte and its body.
fn read_message(stream: &mut impl Read) -> Result<(u8, Vec<u8>), String> {
    let mut header = [0u8; 5];
    stream
        .read_exact(&mut header)
        .map_err(|e| format!("the connection ended before the server was ready: {e}"))?;
    let length = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
    if !(4..=MAX_MESSAGE).contains(&length) {
        return Err(format!("not a PostgreSQL server (a message of {length} bytes)"));
    }
    let mut body = vec![0u8; length - 4];
    stream
        .read_exact(&mut body)
        .map_err(|e| format!("a message was cut short: {e}"))?;
    Ok((header[0], body))
}

/// The text of an `ErrorResponse`: its message field (`M`), with the SQLSTATE (`C`).
fn error_text(body: &[u8]) -> String {
    let mut message = None;
    let mut code = None;
    for field in body.split(|b| *b == 0).filter(|f| !f.is_empty()) {
        let text = String::from_utf8_lossy(&field[1..]).into_owned();
        match field[0] {
            b'M' => message = Some(text),
            b'C' => code = Some(text),
            _ => {}
        }
    }
    match (message, code) {
        (Some(message), Some(code)) => format!("{message} (SQLSTATE {code})"),
        (Some(message), None) => message,
        _ => "an error without a message".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::thread;

    /// A message of type `kind` with `body`, as the server sends it.
    fn message(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![kind];
        out.extend_from_slice(&u32::try_from(body.len() + 4).unwrap().to_be_bytes());
        out.extend_from_slice(body);
        out
    }

    /// A fake server that reads one startup message and answers `reply`.
    fn fake(reply: Vec<u8>) -> SocketAddr {
        let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let addr = listener.local_addr().unwrap();
        thread::spawn(move || {
            if let Ok((mut stream, _)) = listener.accept() {
                let mut length = [0u8; 4];
                let _ = stream.read_exact(&mut length);
                let mut rest = vec![0u8; u32::from_be_bytes(length) as usize - 4];
                let _ = stream.read_exact(&mut rest);
                let _ = stream.write_all(&reply);
                let _ = stream.read(&mut [0u8; 5]);
            }
        });
        addr
    }

    #[test]
    fn the_startup_message_is_length_protocol_and_pairs() {
        let message = startup_message("postgres", "db");
        assert_eq!(&message[..4], &(message.len() as u32).to_be_bytes());
        assert_eq!(&message[4..8], &[0, 3, 0, 0]);
        assert_eq!(&message[8..], b"user\0postgres\0database\0db\0\0");
    }

    #[test]
    fn trust_then_ready_for_query_is_ready() {
        let mut reply = message(b'R', &0u32.to_be_bytes());
        reply.extend(message(b'S', b"server_version\x0016.4\0"));
        reply.extend(message(b'K', &[0; 8]));
        reply.extend(message(b'Z', b"I"));
        assert_eq!(handshake(fake(reply), "postgres", "postgres"), Ok(()));
    }

    #[test]
    fn starting_up_and_a_password_are_not_ready() {
        let starting = message(b'E', b"SFATAL\0C57P03\0Mthe database system is starting up\0\0");
        assert_eq!(
            handshake(fake(starting), "postgres", "postgres"),
            Err("the database system is starting up (SQLSTATE 57P03)".to_string())
        );
        let password = message(b'R', &3u32.to_be_bytes());
        let Err(why) = handshake(fake(password), "postgres", "postgres") else {
            panic!("a server asking for a password was ready");
        };
        assert!(why.contains("method 3"), "{why}");
    }

    #[test]
    fn something_else_on_the_port_is_not_postgres() {
        let Err(why) = handshake(
            fake(b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec()),
            "postgres",
            "postgres",
        ) else {
            panic!("an HTTP server passed the handshake");
        };
        assert!(why.contains("not a PostgreSQL server"), "{why}");
        let closed = TcpListener::bind(("127.0.0.1", 0)).unwrap().local_addr().unwrap();
        assert!(handshake(closed, "postgres", "postgres").is_err());
    }
}
