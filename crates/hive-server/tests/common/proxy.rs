//! A TCP proxy between the service and a server, which a test can cut (every connection
//! dropped, new ones refused) and restore: an outage without stopping the server.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A running proxy; stops when dropped.
pub struct Proxy {
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    up: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl Proxy {
    /// Listens on a free port and forwards to `127.0.0.1:upstream`.
    pub async fn start(upstream: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let connections: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let accept = {
            let (up, connections) = (Arc::clone(&up), Arc::clone(&connections));
            tokio::spawn(async move {
                while let Ok((mut client, _)) = listener.accept().await {
                    if !up.load(Ordering::SeqCst) {
                        drop(client);
                        continue;
                    }
                    let task = tokio::spawn(async move {
                        if let Ok(mut server) = TcpStream::connect(("127.0.0.1", upstream)).await {
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                        }
                    });
                    connections.lock().unwrap().push(task);
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

    /// The outage: drops every open connection and refuses new ones. Returns once every
    /// connection is closed (`abort` only asks: a forwarding task running on another worker
    /// could still carry a request through after it).
    pub async fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        let tasks = self.abort_connections();
        for task in tasks {
            let _ = task.await;
        }
    }

    /// Asks every forwarding task to stop; their handles, to wait for them.
    fn abort_connections(&self) -> Vec<JoinHandle<()>> {
        let tasks: Vec<_> = self.connections.lock().unwrap().drain(..).collect();
        for task in &tasks {
            task.abort();
        }
        tasks
    }

    /// The end of the outage: new connections go through again.
    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.up.store(false, Ordering::SeqCst);
        self.abort_connections();
        self.accept.abort();
    }
}
