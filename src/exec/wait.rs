//! Polling AWS until a resource settles, with backoff and a deadline.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use super::ExecError;

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
}

impl Default for Waiter {
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(2),
            max: Duration::from_secs(20),
            timeout: Duration::from_secs(40 * 60),
        }
    }
}

impl Waiter {
    /// Polls `look` until done, failed or out of time.
    pub async fn wait<F, Fut>(&self, what: &str, mut look: F) -> Result<(), ExecError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Poll, ExecError>>,
    {
        let started = Instant::now();
        let deadline = started + self.timeout;
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
    async fn long_waits_poll_at_most_every_max() {
        let (waited, polls) = wait_for(Duration::from_secs(40 * 60 - 100)).await;
        assert!(waited < Duration::from_secs(40 * 60));
        // 20 s pauses once 400 s have passed: about 100 polls for the rest.
        assert!(polls < 200, "{polls} polls");
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
