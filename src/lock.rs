//! The cluster lock: two `apply` or `delete` runs on one cluster must not both change it.
//!
//! The lock is the SSM parameter `/ekspec/<cluster>/lock`, created by the run that changes the
//! cluster and deleted when it ends. Its value (JSON, [`LockInfo`]) names the holder (caller
//! ARN, host, pid), when it started and when the lock expires. SSM's `PutParameter` without
//! Overwrite is an atomic create-if-absent, so of two runs only one creates it.
//!
//! A run renews its lock while it works (every [`RENEW_EVERY`], to [`LOCK_TTL`] from then), so
//! a lock left by a killed run expires soon, while a long apply keeps its lock.
//!
//! Taking over an expired lock is where SSM gets hard: it has no conditional delete or
//! compare-and-swap, so "delete it if it still holds the expired value, then create mine" is
//! two calls that two runs could interleave (the second deleting the first's new lock). The
//! takeover is therefore serialised by a second atomic create: only the run that creates the
//! claim `/ekspec/<cluster>/lock-takeover-<expired token>` may delete the lock, and only if
//! it still holds that token (each lock value has a unique token, so a lock deleted and
//! created again in between never looks unchanged). It then deletes the claim and competes
//! for the lock with an ordinary create, which only one run wins. A run that loses the claim
//! reports the lock as being taken over. A claim is only stale if its run was killed between
//! two calls; `--break-lock` removes it with the lock.

use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::cloud::{CloudError, Parameters, Tags};
use crate::naming::{CLUSTER_TAG, RESOURCE_TAG};

/// How long a lock holds without being renewed.
pub const LOCK_TTL: Duration = Duration::from_secs(10 * 60);
/// How often a run renews its lock while it works.
pub const RENEW_EVERY: Duration = Duration::from_secs(3 * 60);
/// How many times acquiring starts over when the lock changes under it.
const ATTEMPTS: usize = 5;

/// The name of a cluster's lock parameter.
pub fn parameter_name(cluster: &str) -> String {
    format!("/ekspec/{cluster}/lock")
}

/// The name of the claim that lets one run take over the expired lock with `token`.
fn claim_name(cluster: &str, token: &str) -> String {
    format!("/ekspec/{cluster}/lock-takeover-{token}")
}

/// Who holds a lock and until when: the lock parameter's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LockInfo {
    /// The caller's ARN.
    pub holder: String,
    /// The host the run is on.
    pub host: String,
    /// The run's process id.
    pub pid: u32,
    /// `apply` or `delete`.
    pub command: String,
    /// Unique to this lock: tells it from a later lock of the same holder.
    pub token: String,
    /// When the run took the lock (RFC 3339, UTC).
    pub started: String,
    /// When the lock expires unless renewed (RFC 3339, UTC).
    pub expires: String,
}

impl LockInfo {
    /// `ARN (host H, pid P)`.
    pub fn who(&self) -> String {
        format!("{} (host {}, pid {})", self.holder, self.host, self.pid)
    }

    /// Whether the lock has expired at `now`. An expiry that cannot be read never expires:
    /// only `--break-lock` removes such a lock.
    pub fn expired(&self, now: SystemTime) -> bool {
        humantime::parse_rfc3339(&self.expires).is_ok_and(|expires| expires <= now)
    }

    fn parse(cluster: &str, text: &str) -> Result<Self, LockError> {
        serde_json::from_str(text).map_err(|error| LockError::Unreadable {
            cluster: cluster.to_owned(),
            name: parameter_name(cluster),
            reason: error.to_string(),
        })
    }

    fn to_json(&self) -> String {
        // A struct of strings and a number always serialises.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Who this run is, as a lock names it.
#[derive(Debug, Clone)]
pub struct Holder {
    /// The caller's ARN (from STS).
    pub arn: String,
    /// This host's name.
    pub host: String,
    /// This process's id.
    pub pid: u32,
    /// `apply` or `delete`.
    pub command: String,
}

impl Holder {
    /// This process, running `command` as the caller `arn`.
    pub fn this_process(arn: String, command: &str) -> Self {
        Self {
            arn,
            host: gethostname::gethostname().to_string_lossy().into_owned(),
            pid: std::process::id(),
            command: command.to_owned(),
        }
    }
}

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another run holds it.
    #[error(
        "cluster `{cluster}` is being changed by {} since {} (lock expires {}); wait for it, or pass --break-lock if that run is dead",
        info.who(), info.started, info.expires
    )]
    Held {
        /// The cluster.
        cluster: String,
        /// The lock.
        info: Box<LockInfo>,
    },
    /// The lock expired and another run is taking it over.
    #[error(
        "cluster `{cluster}`: the expired lock of {} (since {}) is being taken over by another run; wait for it, or pass --break-lock if that run is dead",
        info.who(), info.started
    )]
    TakeoverInProgress {
        /// The cluster.
        cluster: String,
        /// The expired lock.
        info: Box<LockInfo>,
    },
    /// The lock parameter holds something ekspec did not write.
    #[error(
        "cluster `{cluster}` is locked by the SSM parameter {name}, whose value ekspec cannot read ({reason}); pass --break-lock to remove it"
    )]
    Unreadable {
        /// The cluster.
        cluster: String,
        /// The parameter.
        name: String,
        /// What is wrong with the value.
        reason: String,
    },
    /// The lock changed under every attempt.
    #[error(
        "cluster `{cluster}`: the lock kept changing while this run tried to take it; try again"
    )]
    Contended {
        /// The cluster.
        cluster: String,
    },
    /// AWS failed.
    #[error(transparent)]
    Cloud(#[from] CloudError),
}

/// A lock this run holds.
#[derive(Debug, Clone)]
pub struct Acquired {
    /// The lock as written.
    pub info: LockInfo,
    /// The lock `--break-lock` removed, if there was one.
    pub broken: Option<BrokenLock>,
    /// The expired lock this run took over, if any.
    pub took_over: Option<LockInfo>,
}

/// A lock removed by `--break-lock`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrokenLock {
    /// A lock ekspec wrote.
    Held(LockInfo),
    /// A value ekspec could not read.
    Unreadable(String),
}

impl fmt::Display for BrokenLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Held(info) => write!(
                f,
                "the lock of {} since {} (expires {})",
                info.who(),
                info.started,
                info.expires
            ),
            Self::Unreadable(value) => write!(f, "a lock with the unreadable value {value:?}"),
        }
    }
}

/// What releasing found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Released {
    /// The lock was this run's and is gone.
    Released,
    /// Someone else holds it now (it expired and was taken over, or was broken and taken):
    /// left alone.
    HeldByOther(LockInfo),
    /// It was already gone (broken with `--break-lock`).
    AlreadyGone,
}

/// What renewing found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Renewal {
    /// The lock is this run's and expires later now.
    Renewed,
    /// The lock is no longer this run's: someone else's, or gone.
    Lost(Option<LockInfo>),
}

/// The clock the lock reads; tests pass their own.
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// The lock of one cluster.
pub struct ClusterLock<'a> {
    store: &'a dyn Parameters,
    cluster: String,
    clock: Clock,
}

impl<'a> ClusterLock<'a> {
    /// The lock of `cluster`, kept in `store`.
    pub fn new(store: &'a dyn Parameters, cluster: &str) -> Self {
        Self {
            store,
            cluster: cluster.to_owned(),
            clock: Arc::new(SystemTime::now),
        }
    }

    /// The same lock read with another clock.
    pub fn with_clock(self, clock: Clock) -> Self {
        Self { clock, ..self }
    }

    fn name(&self) -> String {
        parameter_name(&self.cluster)
    }

    fn tags(&self, resource: &str) -> Tags {
        Tags::from([
            (CLUSTER_TAG.to_owned(), self.cluster.clone()),
            (RESOURCE_TAG.to_owned(), resource.to_owned()),
        ])
    }

    fn lock_for(&self, holder: &Holder, token: &str) -> LockInfo {
        let now = (self.clock)();
        LockInfo {
            holder: holder.arn.clone(),
            host: holder.host.clone(),
            pid: holder.pid,
            command: holder.command.clone(),
            token: token.to_owned(),
            started: humantime::format_rfc3339_seconds(now).to_string(),
            expires: humantime::format_rfc3339_seconds(now + LOCK_TTL).to_string(),
        }
    }

    /// The lock as it is now: `None` when nobody holds it.
    pub async fn describe(&self) -> Result<Option<LockInfo>, LockError> {
        match self.store.get_parameter(&self.name()).await? {
            Some(text) => LockInfo::parse(&self.cluster, &text).map(Some),
            None => Ok(None),
        }
    }

    /// Takes the lock for `holder`: creates it, or takes over an expired one. With
    /// `break_lock`, first removes whatever lock there is.
    pub async fn acquire(&self, holder: &Holder, break_lock: bool) -> Result<Acquired, LockError> {
        let name = self.name();
        let broken = if break_lock {
            self.break_lock().await?
        } else {
            None
        };
        let token = format!("{:016x}", fastrand::u64(..));
        let mut took_over = None;
        for _ in 0..ATTEMPTS {
            let mine = self.lock_for(holder, &token);
            if self
                .store
                .create_parameter(&name, &mine.to_json(), &self.tags("lock"))
                .await?
            {
                return Ok(Acquired {
                    info: mine,
                    broken,
                    took_over,
                });
            }
            let Some(text) = self.store.get_parameter(&name).await? else {
                continue; // released in between: try to create it again
            };
            let current = LockInfo::parse(&self.cluster, &text)?;
            if current.token == token {
                // A retried create whose first attempt had worked.
                return Ok(Acquired {
                    info: current,
                    broken,
                    took_over,
                });
            }
            if !current.expired((self.clock)()) {
                return Err(LockError::Held {
                    cluster: self.cluster.clone(),
                    info: Box::new(current),
                });
            }
            if self.remove_expired(&current, &token).await? {
                took_over = Some(current);
            }
        }
        Err(LockError::Contended {
            cluster: self.cluster.clone(),
        })
    }

    /// Deletes the expired lock `expired` if this run wins the claim to it and the lock still
    /// is that one; returns whether it deleted it. See the module comment for why.
    async fn remove_expired(&self, expired: &LockInfo, token: &str) -> Result<bool, LockError> {
        let claim = claim_name(&self.cluster, &expired.token);
        if !self
            .store
            .create_parameter(&claim, token, &self.tags("lock-takeover"))
            .await?
        {
            return Err(LockError::TakeoverInProgress {
                cluster: self.cluster.clone(),
                info: Box::new(expired.clone()),
            });
        }
        let removed = async {
            let still_expired = match self.store.get_parameter(&self.name()).await? {
                Some(text) => LockInfo::parse(&self.cluster, &text)
                    .is_ok_and(|current| current.token == expired.token),
                None => false,
            };
            if still_expired {
                self.store.delete_parameter(&self.name()).await?;
            }
            Ok::<_, LockError>(still_expired)
        }
        .await;
        // The claim goes whatever happened, so it never blocks a later takeover.
        let released = self.store.delete_parameter(&claim).await;
        let removed = removed?;
        released?;
        Ok(removed)
    }

    /// Removes the lock whoever holds it (and a takeover claim left on it); returns what it
    /// removed.
    pub async fn break_lock(&self) -> Result<Option<BrokenLock>, LockError> {
        let name = self.name();
        let Some(text) = self.store.get_parameter(&name).await? else {
            return Ok(None);
        };
        let broken = match LockInfo::parse(&self.cluster, &text) {
            Ok(info) => {
                self.store
                    .delete_parameter(&claim_name(&self.cluster, &info.token))
                    .await?;
                BrokenLock::Held(info)
            }
            Err(_) => BrokenLock::Unreadable(text),
        };
        self.store.delete_parameter(&name).await?;
        Ok(Some(broken))
    }

    /// Pushes the expiry of this run's lock to [`LOCK_TTL`] from now, if it still is this
    /// run's.
    pub async fn renew(&self, held: &LockInfo) -> Result<Renewal, LockError> {
        let name = self.name();
        let current = match self.store.get_parameter(&name).await? {
            Some(text) => LockInfo::parse(&self.cluster, &text)?,
            None => return Ok(Renewal::Lost(None)),
        };
        if current.token != held.token {
            return Ok(Renewal::Lost(Some(current)));
        }
        let renewed = LockInfo {
            expires: humantime::format_rfc3339_seconds((self.clock)() + LOCK_TTL).to_string(),
            ..current
        };
        // Not atomic with the read above, but only a run that found this lock expired (a
        // holder stalled for a whole TTL) or `--break-lock` changes it in between.
        self.store
            .overwrite_parameter(&name, &renewed.to_json())
            .await?;
        Ok(Renewal::Renewed)
    }

    /// Runs `work` while renewing the lock every [`RENEW_EVERY`]; a failed renewal is logged
    /// and the work goes on (the lock still holds until it expires).
    pub async fn hold_while<F: Future>(&self, held: &LockInfo, work: F) -> F::Output {
        let renewing = async {
            loop {
                tokio::time::sleep(RENEW_EVERY).await;
                match self.renew(held).await {
                    Ok(Renewal::Renewed) => {
                        tracing::debug!(cluster = %self.cluster, "lock renewed");
                    }
                    Ok(Renewal::Lost(other)) => {
                        tracing::warn!(
                            "cluster `{}`: this run no longer holds the lock ({})",
                            self.cluster,
                            other.map_or_else(
                                || "it was removed with --break-lock".to_owned(),
                                |o| format!("now held by {}", o.who())
                            )
                        );
                        break;
                    }
                    Err(error) => {
                        tracing::warn!("cluster `{}`: cannot renew the lock: {error}", self.cluster)
                    }
                }
            }
        };
        match futures::future::select(pin!(work), pin!(renewing)).await {
            futures::future::Either::Left((output, _)) => output,
            futures::future::Either::Right(((), work)) => work.await,
        }
    }

    /// Deletes the lock if it is still `held` (this run's).
    pub async fn release(&self, held: &LockInfo) -> Result<Released, LockError> {
        let name = self.name();
        let Some(text) = self.store.get_parameter(&name).await? else {
            return Ok(Released::AlreadyGone);
        };
        match LockInfo::parse(&self.cluster, &text) {
            Ok(current) if current.token == held.token => {
                self.store.delete_parameter(&name).await?;
                Ok(Released::Released)
            }
            Ok(current) => Ok(Released::HeldByOther(current)),
            Err(error) => Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Mutex;

    use super::*;
    use crate::cloud::CloudResult;
    use crate::cloud::memory::MemoryCloud;

    const T0: u64 = 1_795_000_000;

    fn holder(pid: u32) -> Holder {
        Holder {
            arn: "arn:aws:sts::111122223333:assumed-role/ci/gha".to_owned(),
            host: "runner-1".to_owned(),
            pid,
            command: "apply".to_owned(),
        }
    }

    /// A clock the test moves.
    fn clock(at: &Arc<Mutex<SystemTime>>) -> Clock {
        let at = Arc::clone(at);
        Arc::new(move || *at.lock().unwrap())
    }

    fn start() -> Arc<Mutex<SystemTime>> {
        Arc::new(Mutex::new(SystemTime::UNIX_EPOCH + Duration::from_secs(T0)))
    }

    fn advance(at: &Arc<Mutex<SystemTime>>, by: Duration) {
        *at.lock().unwrap() += by;
    }

    #[tokio::test]
    async fn the_first_run_takes_the_lock_tagged_and_the_second_is_told_who_has_it() {
        let memory = MemoryCloud::new();
        let now = start();
        let lock = ClusterLock::new(&memory, "prod").with_clock(clock(&now));
        let first = lock.acquire(&holder(4242), false).await.unwrap();
        assert_eq!(first.info.started, "2026-11-18T11:06:40Z");
        assert_eq!(first.info.expires, "2026-11-18T11:16:40Z");
        assert_eq!(first.broken, None);
        let tags = memory.parameter_tags("/ekspec/prod/lock").unwrap();
        assert_eq!(tags[CLUSTER_TAG], "prod");
        assert_eq!(tags[RESOURCE_TAG], "lock");

        advance(&now, Duration::from_secs(60));
        let error = lock.acquire(&holder(7), false).await.unwrap_err();
        assert_eq!(
            error.to_string(),
            "cluster `prod` is being changed by arn:aws:sts::111122223333:assumed-role/ci/gha (host runner-1, pid 4242) since 2026-11-18T11:06:40Z (lock expires 2026-11-18T11:16:40Z); wait for it, or pass --break-lock if that run is dead"
        );
        assert_eq!(lock.describe().await.unwrap(), Some(first.info));
    }

    #[tokio::test]
    async fn an_expired_lock_is_taken_over_and_the_claim_is_cleaned_up() {
        let memory = MemoryCloud::new();
        let now = start();
        let lock = ClusterLock::new(&memory, "prod").with_clock(clock(&now));
        let dead = lock.acquire(&holder(1), false).await.unwrap();
        advance(&now, LOCK_TTL);
        let next = lock.acquire(&holder(2), false).await.unwrap();
        assert_eq!(next.took_over, Some(dead.info.clone()));
        assert_eq!(next.info.pid, 2);
        assert_eq!(memory.parameter_names(), vec!["/ekspec/prod/lock"]);
        // The dead run, if it was only slow, must not delete the new holder's lock.
        assert_eq!(
            lock.release(&dead.info).await.unwrap(),
            Released::HeldByOther(next.info.clone())
        );
        assert_eq!(lock.describe().await.unwrap(), Some(next.info.clone()));
        assert_eq!(lock.release(&next.info).await.unwrap(), Released::Released);
        assert_eq!(memory.parameter_names(), Vec::<String>::new());
        assert_eq!(
            lock.release(&next.info).await.unwrap(),
            Released::AlreadyGone
        );
    }

    /// The memory store with a random delay before each call, as a network would add, so
    /// that concurrent runs interleave their calls in every order.
    #[derive(Clone)]
    struct Jittery(MemoryCloud);

    async fn jitter() {
        tokio::time::sleep(Duration::from_micros(fastrand::u64(0..3000))).await;
    }

    #[async_trait::async_trait]
    impl Parameters for Jittery {
        async fn create_parameter(
            &self,
            name: &str,
            value: &str,
            tags: &Tags,
        ) -> CloudResult<bool> {
            jitter().await;
            self.0.create_parameter(name, value, tags).await
        }
        async fn get_parameter(&self, name: &str) -> CloudResult<Option<String>> {
            jitter().await;
            self.0.get_parameter(name).await
        }
        async fn overwrite_parameter(&self, name: &str, value: &str) -> CloudResult<()> {
            jitter().await;
            self.0.overwrite_parameter(name, value).await
        }
        async fn delete_parameter(&self, name: &str) -> CloudResult<()> {
            jitter().await;
            self.0.delete_parameter(name).await
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn of_many_runs_taking_over_one_expired_lock_exactly_one_wins() {
        for round in 0..100 {
            let memory = MemoryCloud::new();
            let now = start();
            let dead = ClusterLock::new(&memory, "prod")
                .with_clock(clock(&now))
                .acquire(&holder(1), false)
                .await
                .unwrap();
            advance(&now, LOCK_TTL * 2);
            let runs = (2..10).map(|pid| {
                let store = Jittery(memory.clone());
                let clock = clock(&now);
                tokio::spawn(async move {
                    ClusterLock::new(&store, "prod")
                        .with_clock(clock)
                        .acquire(&holder(pid), false)
                        .await
                })
            });
            let results = futures::future::join_all(runs).await;
            let winners: Vec<LockInfo> = results
                .into_iter()
                .filter_map(|r| r.unwrap().ok())
                .map(|a| a.info)
                .collect();
            assert_eq!(winners.len(), 1, "round {round}: {winners:?}");
            let lock = ClusterLock::new(&memory, "prod");
            let current = lock.describe().await.unwrap().unwrap();
            assert_eq!(current, winners[0], "round {round}");
            assert_ne!(current.token, dead.info.token);
            assert_eq!(memory.parameter_names(), vec!["/ekspec/prod/lock"]);
        }
    }

    #[tokio::test]
    async fn a_stale_takeover_claim_blocks_until_the_lock_is_broken() {
        let memory = MemoryCloud::new();
        let now = start();
        let lock = ClusterLock::new(&memory, "prod").with_clock(clock(&now));
        let dead = lock.acquire(&holder(1), false).await.unwrap();
        advance(&now, LOCK_TTL);
        // A run that claimed the takeover and was killed before finishing it.
        let claim = claim_name("prod", &dead.info.token);
        memory
            .create_parameter(&claim, "x", &Tags::new())
            .await
            .unwrap();
        let error = lock.acquire(&holder(2), false).await.unwrap_err();
        assert!(
            matches!(&error, LockError::TakeoverInProgress { info, .. } if **info == dead.info),
            "{error}"
        );
        assert!(error.to_string().contains("pass --break-lock"), "{error}");

        let taken = lock.acquire(&holder(2), true).await.unwrap();
        assert_eq!(taken.broken, Some(BrokenLock::Held(dead.info)));
        assert_eq!(memory.parameter_names(), vec!["/ekspec/prod/lock"]);
    }

    #[tokio::test]
    async fn break_lock_removes_a_live_lock_and_says_whose_it_was() {
        let memory = MemoryCloud::new();
        let lock = ClusterLock::new(&memory, "prod");
        let other = lock.acquire(&holder(1), false).await.unwrap();
        let mine = lock.acquire(&holder(2), true).await.unwrap();
        let broken = mine.broken.unwrap();
        assert_eq!(broken, BrokenLock::Held(other.info.clone()));
        assert!(
            broken.to_string().starts_with(
                "the lock of arn:aws:sts::111122223333:assumed-role/ci/gha (host runner-1, pid 1) since "
            ),
            "{broken}"
        );
        assert_eq!(lock.describe().await.unwrap(), Some(mine.info));
        // Nothing to break: nothing broken.
        let memory = MemoryCloud::new();
        let lock = ClusterLock::new(&memory, "prod");
        assert_eq!(lock.acquire(&holder(3), true).await.unwrap().broken, None);
    }

    #[tokio::test]
    async fn a_value_ekspec_did_not_write_holds_until_broken() {
        let memory = MemoryCloud::new();
        memory
            .create_parameter("/ekspec/prod/lock", "locked by hand", &Tags::new())
            .await
            .unwrap();
        let lock = ClusterLock::new(&memory, "prod");
        let error = lock.acquire(&holder(1), false).await.unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("cluster `prod` is locked by the SSM parameter /ekspec/prod/lock, whose value ekspec cannot read"),
            "{error}"
        );
        let taken = lock.acquire(&holder(1), true).await.unwrap();
        assert_eq!(
            taken.broken,
            Some(BrokenLock::Unreadable("locked by hand".to_owned()))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_long_run_keeps_its_lock_by_renewing_it() {
        let memory = MemoryCloud::new();
        let now = start();
        let lock = ClusterLock::new(&memory, "prod").with_clock(clock(&now));
        let held = lock.acquire(&holder(1), false).await.unwrap().info;
        let ticking = Arc::clone(&now);
        // The work takes three TTLs; the wall clock the lock reads moves with tokio's.
        let work = async {
            for _ in 0..30 {
                tokio::time::sleep(LOCK_TTL / 10).await;
                advance(&ticking, LOCK_TTL / 10);
            }
            "done"
        };
        assert_eq!(lock.hold_while(&held, work).await, "done");
        let current = lock.describe().await.unwrap().unwrap();
        assert_eq!(current.token, held.token);
        assert!(!current.expired(*now.lock().unwrap()), "{current:?}");
        let error = lock.acquire(&holder(2), false).await.unwrap_err();
        assert!(matches!(error, LockError::Held { .. }), "{error}");
    }

    #[tokio::test]
    async fn renewing_a_lock_someone_else_holds_changes_nothing() {
        let memory = MemoryCloud::new();
        let lock = ClusterLock::new(&memory, "prod");
        let old = lock.acquire(&holder(1), false).await.unwrap().info;
        let new = lock.acquire(&holder(2), true).await.unwrap().info;
        assert_eq!(
            lock.renew(&old).await.unwrap(),
            Renewal::Lost(Some(new.clone()))
        );
        assert_eq!(lock.describe().await.unwrap(), Some(new));
    }
}
