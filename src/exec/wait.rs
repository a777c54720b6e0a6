//! Polling AWS until a resource settles, with backoff and a deadline.

use std::future::Future;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;

use super::{Event, ExecError};

/// A wait still pending reports its state at least this often, so a CI log shows a long
/// wait is alive (and a stalled one is visible) even when AWS reports no new state.
pub const REPORT_EVERY: Duration = Duration::from_secs(60);

/// The state of a wait whose call AWS refused because something is in use; tried again.
pub const RETRY_IN_USE: &str = "in use: ";
/// The state of a wait whose create EKS refused while busy with another operation.
pub const RETRY_EKS_BUSY: &str = "EKS is busy: ";
/// The state of a wait whose create EKS refused because a new IAM role is not usable yet.
pub const RETRY_NEW_ROLE: &str = "the IAM role is not usable by EKS yet";
/// The state of a wait whose queue create SQS refused while a deleted queue's name is held.
pub const RETRY_NAME_HELD: &str = "name held: ";

/// How the pending state of a refused call that is being tried again begins, as opposed to a
/// state AWS reports. Timelines mark these as retries ([`is_retry`]).
pub const RETRY_STATES: [&str; 4] = [
    RETRY_IN_USE,
    RETRY_EKS_BUSY,
    RETRY_NEW_ROLE,
    RETRY_NAME_HELD,
];

/// Whether a wait's state is a refused call being tried again (see [`RETRY_STATES`]).
pub fn is_retry(state: &str) -> bool {
    RETRY_STATES.iter().any(|prefix| state.starts_with(prefix))
}

tokio::task_local! {
    /// Where waits of the change a task runs report to: set by the executor per change.
    static REPORTER: Reporter;
}

/// Sends the waits of one change to the executor as [`Event::Waiting`].
#[derive(Clone)]
pub struct Reporter {
    /// The change's resource.
    pub resource: String,
    /// The executor's event channel.
    pub events: UnboundedSender<Event>,
}

impl Reporter {
    /// Runs `work` with its waits reporting here.
    pub async fn scope<F: Future>(self, work: F) -> F::Output {
        REPORTER.scope(self, work).await
    }
}

/// Reports a pending wait to the change's reporter, when there is one.
fn report(what: &str, state: &str, waited: Duration) {
    let _ = REPORTER.try_with(|reporter| {
        let _ = reporter.events.send(Event::Waiting {
            resource: reporter.resource.clone(),
            what: what.to_owned(),
            state: state.to_owned(),
            waited,
        });
    });
}

/// The longest one batch of a managed node group's rolling update may take: EKS gives each
/// node's pods 15 minutes to leave before failing the update with PodEvictionFailure (EKS
/// user guide, "Understand each phase of node updates"), plus a few minutes for the new
/// node to launch and join.
pub const ROLLOUT_BATCH: Duration = Duration::from_secs(20 * 60);

/// The default bound of one wait: a control plane's create or update, a NAT gateway, ...
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(40 * 60);

/// A pause between polls is the time waited so far divided by this: the most a wait can
/// overrun the resource settling, as a fraction of the wait (1/20 = 5%).
const PAUSE_DIVISOR: u32 = 20;

/// One look at a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poll {
    /// It reached the wanted state.
    Done,
    /// Still in this state.
    Pending(String),
    /// It will never get there; why.
    Failed(String),
}

/// How waits poll: each pause is a twentieth of the time waited so far, kept between `initial`
/// and `max`. So a wait ends at most about 5% after the resource settles (a NAT gateway's
/// 90 s is noticed within 5 s, not 20 s), while a long wait is not polled every 2 s.
#[derive(Debug, Clone, Copy)]
pub struct Waiter {
    /// Shortest pause between polls (the first ones).
    pub initial: Duration,
    /// Longest pause between polls.
    pub max: Duration,
    /// Give up after this long.
    pub timeout: Duration,
    /// Whether a node group's rolling update may take longer than `timeout`:
    /// [`ROLLOUT_BATCH`] per batch of nodes (off when the user set the timeout).
    pub scale_rollouts: bool,
}

impl Default for Waiter {
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(2),
            max: Duration::from_secs(20),
            timeout: DEFAULT_TIMEOUT,
            scale_rollouts: true,
        }
    }
}

impl Waiter {
    /// The waiter for a rolling update of `nodes` nodes, `at_once` of them at a time: at
    /// least [`ROLLOUT_BATCH`] per batch, so a group of hundreds of nodes is not given up on
    /// an hour into a rollout that takes many.
    pub fn rollout(&self, nodes: u32, at_once: u32) -> Self {
        if !self.scale_rollouts {
            return *self;
        }
        let batches = nodes.max(1).div_ceil(at_once.max(1));
        Self {
            timeout: self.timeout.max(ROLLOUT_BATCH.saturating_mul(batches)),
            ..*self
        }
    }

    /// Polls `look` until done, failed or out of time. A pending state is reported when it
    /// is first seen, when it changes, and every [`REPORT_EVERY`] while it lasts.
    pub async fn wait<F, Fut>(&self, what: &str, mut look: F) -> Result<(), ExecError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Poll, ExecError>>,
    {
        let started = Instant::now();
        let deadline = started + self.timeout;
        let mut reported: Option<(String, Instant)> = None;
        loop {
            let pause = self.pause(started.elapsed());
            match look().await? {
                Poll::Done => return Ok(()),
                Poll::Failed(reason) => {
                    return Err(ExecError::Failed {
                        what: what.to_owned(),
                        reason,
                    });
                }
                Poll::Pending(state) => {
                    if Instant::now() + pause > deadline {
                        return Err(ExecError::Timeout {
                            what: what.to_owned(),
                            state,
                            after: self.timeout,
                        });
                    }
                    tracing::debug!(%what, %state, "waiting");
                    let due = reported
                        .as_ref()
                        .is_none_or(|(last, at)| *last != state || at.elapsed() >= REPORT_EVERY);
                    if due {
                        report(what, &state, started.elapsed());
                        reported = Some((state, Instant::now()));
                    }
                    tokio::time::sleep(pause).await;
                }
            }
        }
    }

    /// The pause after a poll, `waited` into the wait.
    fn pause(&self, waited: Duration) -> Duration {
        (waited / PAUSE_DIVISOR).clamp(self.initial, self.max.max(self.initial))
    }

    /// Sleeps (on tokio's clock, so tests can pause it).
    pub async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test(start_paused = true)]
    async fn polls_with_backoff_until_done() {
        let polls = AtomicU32::new(0);
        let waiter = Waiter::default();
        let started = Instant::now();
        waiter
            .wait("thing", || async {
                let n = polls.fetch_add(1, Ordering::SeqCst);
                Ok(if n < 3 {
                    Poll::Pending("CREATING".into())
                } else {
                    Poll::Done
                })
            })
            .await
            .unwrap();
        assert_eq!(polls.load(Ordering::SeqCst), 4);
        // Three pauses of `initial` (2 s): a twentieth of 4 s waited is still less.
        assert_eq!(started.elapsed(), Duration::from_secs(6));
    }

    /// Waits a resource that settles `after` into the wait; returns how long the wait took
    /// and how many polls it made.
    async fn wait_for(after: Duration) -> (Duration, u32) {
        let polls = AtomicU32::new(0);
        let started = Instant::now();
        Waiter::default()
            .wait("thing", || async {
                polls.fetch_add(1, Ordering::SeqCst);
                Ok(if started.elapsed() < after {
                    Poll::Pending("CREATING".into())
                } else {
                    Poll::Done
                })
            })
            .await
            .unwrap();
        (started.elapsed(), polls.load(Ordering::SeqCst))
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_ends_within_five_percent_of_the_resource_settling() {
        // AWS's typical times: NAT gateway, node group, control plane, node group update.
        for seconds in [90, 180, 540, 600] {
            let settles = Duration::from_secs(seconds);
            let (waited, polls) = wait_for(settles).await;
            assert!(
                waited <= settles.mul_f64(1.05),
                "settled at {seconds} s, noticed at {waited:?}"
            );
            // ... without polling every 2 s all along.
            assert!(polls <= 80, "{polls} polls for {seconds} s");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_reports_new_states_and_a_heartbeat_to_its_change() {
        let (events, mut received) = tokio::sync::mpsc::unbounded_channel();
        let reporter = Reporter {
            resource: "nodegroup.workers".to_owned(),
            events,
        };
        let started = Instant::now();
        reporter
            .scope(Waiter::default().wait("node group workers", || async {
                let waited = started.elapsed();
                Ok(if waited < Duration::from_secs(150) {
                    Poll::Pending("CREATING".into())
                } else if waited < Duration::from_secs(200) {
                    Poll::Pending("UPDATING".into())
                } else {
                    Poll::Done
                })
            }))
            .await
            .unwrap();
        let mut seen = Vec::new();
        while let Ok(event) = received.try_recv() {
            let Event::Waiting {
                resource,
                what,
                state,
                waited,
            } = event
            else {
                panic!("not a waiting event: {event:?}");
            };
            assert_eq!(
                (resource.as_str(), what.as_str()),
                ("nodegroup.workers", "node group workers")
            );
            seen.push((state, waited.as_secs()));
        }
        let states: Vec<&str> = seen.iter().map(|(s, _)| s.as_str()).collect();
        // First sight, two heartbeats a minute apart at most, then the new state.
        assert_eq!(
            states,
            ["CREATING", "CREATING", "CREATING", "UPDATING"],
            "{seen:?}"
        );
        assert_eq!(seen[0].1, 0);
        for pair in seen.windows(2) {
            assert!(pair[1].1 - pair[0].1 <= 60 + 10, "{seen:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_outside_a_change_reports_nowhere() {
        // No reporter in scope (a wait in a test or a tool): nothing to send to, no panic.
        let polls = AtomicU32::new(0);
        Waiter::default()
            .wait("thing", || async {
                Ok(if polls.fetch_add(1, Ordering::SeqCst) < 2 {
                    Poll::Pending("CREATING".into())
                } else {
                    Poll::Done
                })
            })
            .await
            .unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn long_waits_poll_at_most_every_max() {
        let (waited, polls) = wait_for(Duration::from_secs(40 * 60 - 100)).await;
        assert!(waited < Duration::from_secs(40 * 60));
        // 20 s pauses once 400 s have passed: about 100 polls for the rest.
        assert!(polls < 200, "{polls} polls");
    }

    #[test]
    fn a_rollout_gets_twenty_minutes_per_batch_of_nodes() {
        let waiter = Waiter::default();
        // Small groups keep the default bound.
        assert_eq!(waiter.rollout(2, 1).timeout, DEFAULT_TIMEOUT);
        // 300 nodes one at a time: 100 hours; ten at a time: 10 hours.
        assert_eq!(waiter.rollout(300, 1).timeout, ROLLOUT_BATCH * 300);
        assert_eq!(waiter.rollout(300, 10).timeout, ROLLOUT_BATCH * 30);
        assert_eq!(waiter.rollout(0, 0).timeout, DEFAULT_TIMEOUT);
        // A timeout the user chose holds for rollouts too.
        let chosen = Waiter {
            timeout: Duration::from_secs(600),
            scale_rollouts: false,
            ..Waiter::default()
        };
        assert_eq!(chosen.rollout(300, 1).timeout, Duration::from_secs(600));
    }

    #[tokio::test(start_paused = true)]
    async fn times_out_with_the_last_state() {
        let waiter = Waiter {
            timeout: Duration::from_secs(30),
            ..Waiter::default()
        };
        let error = waiter
            .wait("cluster demo", || async {
                Ok(Poll::Pending("CREATING".into()))
            })
            .await
            .unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("cluster demo") && text.contains("CREATING"),
            "{text}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn failure_stops_waiting() {
        let error = Waiter::default()
            .wait("node group a", || async {
                Ok(Poll::Failed(
                    "CREATE_FAILED: AsgInstanceLaunchFailures".into(),
                ))
            })
            .await
            .unwrap_err();
        assert!(error.to_string().contains("AsgInstanceLaunchFailures"));
    }
}
