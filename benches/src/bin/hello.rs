//! The reference of P8: an axum hello-world, the least an HTTP service on this stack can do.
//!
//! `hello 127.0.0.1:8081` serves `GET /` with `Hello, World!` (text/plain) on that address, on
//! tokio's multi-thread runtime like the `hive` binary, until it is stopped (SIGTERM or Ctrl-C).
//! `cargo xtask bench http` drives it with `wrk`, next to `GET /payments/{id}` of the service.

// Links hive-benches' global allocator (mimalloc, as in the `hive` binary).
use hive_benches as _;
use std::net::SocketAddr;
use std::process::ExitCode;

use axum::routing::get;
use axum::Router;

#[tokio::main]
async fn main() -> ExitCode {
    let Some(addr) = std::env::args().nth(1) else {
        eprintln!("usage: hello <ADDR>   (e.g. hello 127.0.0.1:8081)");
        return ExitCode::from(2);
    };
    let addr: SocketAddr = match addr.parse() {
        Ok(addr) => addr,
        Err(e) => {
            eprintln!("hello: `{addr}` is not a socket address: {e}");
            return ExitCode::from(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("hello: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let app = Router::new().route("/", get(|| async { "Hello, World!" }));
    eprintln!("hello: listening on {addr}");
    match axum::serve(listener, app).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hello: {e}");
            ExitCode::FAILURE
        }
    }
}
