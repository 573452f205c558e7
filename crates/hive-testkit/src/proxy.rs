//! [`Proxy`]: a TCP proxy between a client and a server (Redis, MongoDB, …) that a test cuts and
//! restores — an outage, or one process partitioned off, while the server itself goes on.
//! With the `proxy` feature.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

type Connections = Arc<Mutex<Vec<JoinHandle<()>>>>;

/// A running proxy on `127.0.0.1`; stops when dropped.
#[derive(Debug)]
pub struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    connections: Connections,
    accept: JoinHandle<()>,
}

impl Proxy {
    /// Listens on a free port and forwards every connection to `127.0.0.1:upstream`.
    pub async fn start(upstream: u16) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap_or_else(|e| panic!("the proxy could not listen: {e}"));
        let port = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("the proxy has no address: {e}"))
            .port();
        let up = Arc::new(AtomicBool::new(true));
        let connections = Connections::default();
        let accept = {
            let (up, connections) = (Arc::clone(&up), Arc::clone(&connections));
            tokio::spawn(async move {
                while let Ok((mut client, _)) = listener.accept().await {
                    if !up.load(Ordering::SeqCst) {
                        drop(client);
                        continue;
                    }
                    let forward = tokio::spawn(async move {
                        if let Ok(mut server) = TcpStream::connect(("127.0.0.1", upstream)).await {
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                        }
                    });
                    lock(&connections).push(forward);
                }
            })
        };
        Self {
            port,
            up,
            connections,
            accept,
        }
    }

    /// The port it listens on (`127.0.0.1`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The outage: drops every open connection and closes new ones as soon as they are accepted.
    ///
    /// Returns once every connection is closed: `abort` only asks, and a forwarding task
    /// running on another worker could still carry a request through after it.
    pub async fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        loop {
            // A connection accepted just before the switch is caught on the next round.
            let tasks = self.abort_connections();
            if tasks.is_empty() {
                return;
            }
            for task in tasks {
                let _ = task.await;
            }
        }
    }

    /// The end of the outage: new connections go through again, on the same port.
    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }

    /// Asks every forwarding task to stop; their handles, to wait for them.
    fn abort_connections(&self) -> Vec<JoinHandle<()>> {
        let tasks: Vec<_> = lock(&self.connections).drain(..).collect();
        for task in &tasks {
            task.abort();
        }
        tasks
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.up.store(false, Ordering::SeqCst);
        self.abort_connections();
        self.accept.abort();
    }
}

fn lock(connections: &Connections) -> std::sync::MutexGuard<'_, Vec<JoinHandle<()>>> {
    connections.lock().unwrap_or_else(PoisonError::into_inner)
}
