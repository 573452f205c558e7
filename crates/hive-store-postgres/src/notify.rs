//! [`Notifications`]: the committed head of the global log as it moves, woken by
//! `LISTEN`/`NOTIFY`, with polling as the fallback.
//!
//! Every append runs `pg_notify('<schema>_events', last_position)` in its transaction, so the
//! notification is delivered when (and only if) the append commits, in commit order. A task
//! keeps one dedicated connection (not from the pool) listening on that channel; it also
//! reads the head every [`crate::PostgresOptions::notification_poll`], which covers what a
//! lost connection or a store without a listen address ([`crate::PostgresStore::with_pool`])
//! would miss. After a lost connection it reconnects, reading the head again once it listens.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::stream::{BoxStream, Stream, StreamExt};
use tokio::sync::{mpsc, watch};
use tokio_postgres::{AsyncMessage, NoTls};

use crate::options::quote_identifier;
use crate::store::Shared;

/// The committed head position of the global log: first once the subscription is in place,
/// then each time it moves (positions only grow; several appends in quick succession may be
/// seen as one step). A projection runner catches up to it with `read_all`; nothing is lost
/// if it reads less often than it is woken, as the head is the only thing it needs.
///
/// The stream ends only when the store's runtime shuts down; dropping it stops the listener.
///
/// ```no_run
/// use futures::StreamExt;
/// # async fn run(store: hive_store_postgres::PostgresStore) {
/// let mut heads = store.notifications();
/// while let Some(head) = heads.next().await {
///     println!("the log now ends at {head}");
/// }
/// # }
/// ```
pub struct Notifications {
    heads: BoxStream<'static, u64>,
}

impl std::fmt::Debug for Notifications {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifications").finish_non_exhaustive()
    }
}

impl Stream for Notifications {
    type Item = u64;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<u64>> {
        self.heads.poll_next_unpin(cx)
    }
}

impl Notifications {
    /// Starts the listener task of `shared`'s store.
    pub(crate) fn spawn(shared: Arc<Shared>) -> Self {
        let (sender, receiver) = watch::channel(None::<u64>);
        tokio::spawn(follow(shared, sender));
        let heads = futures::stream::unfold((receiver, 0_u64), |(mut receiver, last)| async move {
            loop {
                receiver.changed().await.ok()?;
                let head = (*receiver.borrow_and_update())?;
                if head >= last {
                    return Some((head, (receiver, head + 1)));
                }
            }
        });
        Self { heads: heads.boxed() }
    }
}

/// Publishes `head` if it moves the known head forward.
fn publish(sender: &watch::Sender<Option<u64>>, head: u64) {
    sender.send_if_modified(|known| {
        let moved = known.is_none_or(|k| head > k);
        if moved {
            *known = Some(head);
        }
        moved
    });
}

/// The listener task: listens while it can, polls always, until every receiver is gone.
async fn follow(shared: Arc<Shared>, sender: watch::Sender<Option<u64>>) {
    let poll = shared.options.notification_poll;
    let channel = quote_identifier(&shared.options.notification_channel());
    loop {
        let listening = match &shared.listen {
            Some(config) => listen(config, &channel).await,
            None => None,
        };
        match listening {
            Some((client, mut notified)) => {
                tracing::debug!(%channel, "listening for appends");
                let head = format!("SELECT last FROM {}", shared.table("global_position"));
                // Read once LISTEN is in place, then on every poll: nothing is missed.
                let mut read_head = true;
                loop {
                    if read_head {
                        match client.query_one(&head, &[]).await.map(|row| row.try_get::<_, i64>(0)) {
                            Ok(Ok(last)) => publish(&sender, u64::try_from(last).unwrap_or_default()),
                            _ => break,
                        }
                    }
                    tokio::select! {
                        () = sender.closed() => return,
                        () = tokio::time::sleep(poll) => read_head = true,
                        woken = drain(&mut notified) => match woken {
                            Some(position) => {
                                publish(&sender, position);
                                read_head = false;
                            }
                            None => break,
                        },
                    }
                }
                tracing::debug!(%channel, "the listening connection was lost; reconnecting");
            }
            None => {
                if let Ok(head) = crate::PostgresEventStore::new(Arc::clone(&shared))
                    .committed_position()
                    .await
                {
                    publish(&sender, head);
                }
            }
        }
        // Without a listen address, the next poll; else the next attempt to listen.
        let pause = match shared.listen {
            Some(_) => poll.min(Duration::from_secs(1)),
            None => poll,
        };
        tokio::select! {
            () = sender.closed() => return,
            () = tokio::time::sleep(pause) => {}
        }
    }
}

/// Waits for a notification, then takes the others already there: the largest position, or
/// `None` when the connection is gone.
async fn drain(notified: &mut mpsc::UnboundedReceiver<u64>) -> Option<u64> {
    let mut head = notified.recv().await?;
    while let Ok(more) = notified.try_recv() {
        head = head.max(more);
    }
    Some(head)
}

/// A dedicated connection listening on `channel`, its notifications' positions forwarded by a
/// task driving the connection (the channel closes when the connection ends).
async fn listen(
    config: &tokio_postgres::Config,
    channel: &str,
) -> Option<(tokio_postgres::Client, mpsc::UnboundedReceiver<u64>)> {
    let (client, mut connection) = match config.connect(NoTls).await {
        Ok(connected) => connected,
        Err(error) => {
            tracing::debug!(%error, "cannot open the listening connection; polling");
            return None;
        }
    };
    let (sender, receiver) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(message) = futures::future::poll_fn(|cx| connection.poll_message(cx)).await {
            match message {
                Ok(AsyncMessage::Notification(notification)) => {
                    if let Ok(position) = notification.payload().parse::<u64>() {
                        if sender.send(position).is_err() {
                            return;
                        }
                    }
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    });
    match client.batch_execute(&format!("LISTEN {channel}")).await {
        Ok(()) => Some((client, receiver)),
        Err(error) => {
            tracing::debug!(%error, "LISTEN failed; polling");
            None
        }
    }
}
