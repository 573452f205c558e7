//! A TCP proxy in front of Redis, to cut one process off from it (a partition) while Redis
//! and the other processes go on.

use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

pub struct Proxy {
    pub port: u16,
    target: u16,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    pub async fn start(target: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let proxy = Self {
            port,
            target,
            tasks: Arc::default(),
        };
        proxy.serve(listener);
        proxy
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn serve(&self, listener: TcpListener) {
        let (target, tasks) = (self.target, Arc::clone(&self.tasks));
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let forward = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(("127.0.0.1", target)).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                tasks.lock().unwrap().push(forward);
            }
        });
        self.tasks.lock().unwrap().push(accept);
    }

    /// Closes every connection and refuses new ones.
    ///
    /// Returns once every connection is closed: `abort` only asks, and a forwarding task
    /// running on another worker could still carry a command through after it.
    pub async fn cut(&self) {
        loop {
            // A connection accepted while the accept task was being cancelled is caught on
            // the next round.
            let tasks: Vec<_> = self.tasks.lock().unwrap().drain(..).collect();
            if tasks.is_empty() {
                return;
            }
            for task in &tasks {
                task.abort();
            }
            for task in tasks {
                let _ = task.await;
            }
        }
    }

    /// Accepts connections again, on the same port.
    pub async fn restore(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        self.serve(listener);
    }
}
