//! `hive projections rebuild`: empty a read model and replay the log into it, with progress,
//! refusing to do it to a shared read model while another instance serves it.
//!
//! A rebuild empties the read model first: every instance reading it would answer from a
//! half-filled model until the replay ends. Where the read model is the process's own (the
//! embedded stores, the durable log locked by one process) nobody else reads it. Where it is
//! shared (MongoDB, Elasticsearch, PostgreSQL) the rebuild runs only when no instance serves it:
//!
//! - with `cache = "moka+redis"` the instance feeding a shared read model holds its projection
//!   lease in Redis (ADR 0008), renewed every few seconds while it serves. The rebuild takes
//!   that lease itself: if another process holds it, it refuses; otherwise it keeps it for the
//!   whole rebuild (no instance starting meanwhile feeds the read model) and gives it back;
//! - without Redis there is no lease, nothing tells whether an instance serves: it refuses
//!   unless the operator says every instance is stopped (`--offline`).

use std::sync::Arc;
use std::time::Duration;

use hive_application::{Lease, LeaseGrant, ProjectionRunner};
use tokio::sync::oneshot;

use super::{CommandResult, Progress};
use crate::app::App;
use crate::caches::LEASE_TTL;

/// A plain progress line at least every this many events.
const EVENTS_PER_LINE: u64 = 1000;

/// How often the progress reads the checkpoint.
const PROGRESS_POLL: Duration = Duration::from_millis(100);

/// What allows rebuilding one projection.
enum Clearance {
    /// Its read model is this process's own, or the operator said no instance serves it.
    Free,
    /// This process holds the projection's lease until the rebuild ends.
    Leased(HeldLease),
}

/// A projection lease taken for a rebuild, renewed in the background.
struct HeldLease {
    lease: Arc<dyn Lease>,
    name: String,
    grant: LeaseGrant,
    renewer: tokio::task::JoinHandle<()>,
    lost: oneshot::Receiver<String>,
}

impl HeldLease {
    fn take(lease: Arc<dyn Lease>, name: &str, grant: LeaseGrant) -> Self {
        let (tell, lost) = oneshot::channel();
        let renewer = {
            let (lease, name, grant) = (Arc::clone(&lease), name.to_owned(), grant.clone());
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(LEASE_TTL / 3).await;
                    let why = match lease.renew(&name, &grant, LEASE_TTL).await {
                        Ok(true) => continue,
                        Ok(false) => "another process took it".to_owned(),
                        Err(error) => error.to_string(),
                    };
                    let _ = tell.send(why);
                    return;
                }
            })
        };
        Self {
            lease,
            name: name.to_owned(),
            grant,
            renewer,
            lost,
        }
    }

    async fn release(self) {
        self.renewer.abort();
        if let Err(error) = self.lease.release(&self.name, &self.grant).await {
            tracing::warn!(projection = %self.name, %error, "the rebuild's projection lease was not released: it expires on its own");
        }
    }
}

/// `hive projections rebuild [NAME] [--offline]`: every selected projection is cleared first
/// (none is rebuilt when one is refused), then each is rebuilt in turn.
pub(crate) async fn rebuild(app: &App, selected: Vec<&Arc<ProjectionRunner>>, offline: bool) -> CommandResult {
    let mut clearances = Vec::new();
    for runner in &selected {
        match clearance(app, runner.name(), offline).await {
            Ok(clearance) => clearances.push(clearance),
            Err(refusal) => {
                release_all(clearances).await;
                return Err(refusal);
            }
        }
    }
    let mut result = Ok(());
    for (runner, clearance) in selected.into_iter().zip(clearances) {
        let Clearance::Leased(mut held) = clearance else {
            if result.is_ok() {
                result = rebuild_one(runner).await;
            }
            continue;
        };
        if result.is_ok() {
            result = tokio::select! {
                outcome = rebuild_one(runner) => outcome,
                Ok(why) = &mut held.lost => Err(format!(
                    "the projection lease of `{}` was lost during its rebuild ({why}): the read model is partly \
                     rebuilt; run `hive projections rebuild` again",
                    runner.name()
                )),
            };
        }
        held.release().await;
    }
    result
}

async fn release_all(clearances: Vec<Clearance>) {
    for clearance in clearances {
        if let Clearance::Leased(held) = clearance {
            held.release().await;
        }
    }
}

/// Whether `projection` may be rebuilt now, and the lease that keeps it so.
async fn clearance(app: &App, projection: &str, offline: bool) -> Result<Clearance, String> {
    if !app.is_shared(projection) {
        return Ok(Clearance::Free);
    }
    let store = app.config.store.as_str();
    let stop_first = format!(
        "Its read model is shared by every instance on this store (store = {store}): a rebuild empties it, and until the \
         replay ends their queries would see it half-filled. Stop every `hive serve` on this store"
    );
    let Some(lease) = app.lease() else {
        if offline {
            tracing::warn!(
                projection,
                "rebuilding a shared read model without a lease check (--offline)"
            );
            return Ok(Clearance::Free);
        }
        return Err(format!(
            "refusing to rebuild `{projection}`: hive cannot tell whether another instance is serving it (without \
             cache = \"moka+redis\" there is no projection lease to check). {stop_first}, then run \
             `hive projections rebuild --offline`."
        ));
    };
    match lease.acquire(projection, LEASE_TTL).await {
        Ok(Some(grant)) => Ok(Clearance::Leased(HeldLease::take(lease, projection, grant))),
        Ok(None) => Err(format!(
            "refusing to rebuild `{projection}`: another instance is serving it (it holds the projection's lease in \
             Redis). {stop_first} (a stopped instance gives its lease back at once, a killed one's expires within {} s), \
             then run `hive projections rebuild` again.",
            LEASE_TTL.as_secs()
        )),
        Err(error) if offline => {
            tracing::warn!(projection, %error, "the projection lease cannot be checked; rebuilding anyway (--offline)");
            Ok(Clearance::Free)
        }
        Err(error) => Err(format!(
            "refusing to rebuild `{projection}`: its projection lease in Redis cannot be checked ({error}), so hive \
             cannot tell whether another instance is serving it. {stop_first}, then run \
             `hive projections rebuild --offline`."
        )),
    }
}

/// Rebuilds one projection, showing its checkpoint against the log's head as it goes.
async fn rebuild_one(runner: &Arc<ProjectionRunner>) -> CommandResult {
    let head = runner.status().await.map_err(|e| e.to_string())?.head;
    let progress = Arc::new(Progress::new(runner.name(), "events", head, EVENTS_PER_LINE));
    let watcher = {
        let (runner, progress) = (Arc::clone(runner), Arc::clone(&progress));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(PROGRESS_POLL).await;
                if let Ok(position) = runner.position().await {
                    progress.set(position);
                }
            }
        })
    };
    let report = runner.rebuild().await;
    watcher.abort();
    let report = report.map_err(|e| e.to_string())?;
    progress.finish(report.position);
    println!(
        "{}: {} events applied, {} dead-lettered, checkpoint at {}",
        runner.name(),
        report.applied,
        report.dead_lettered,
        report.position
    );
    Ok(())
}
