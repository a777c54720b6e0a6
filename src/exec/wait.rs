//! Polling AWS until a resource settles, with backoff and a deadline.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use super::ExecError;

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

/// How waits poll.
#[derive(Debug, Clone, Copy)]
pub struct Waiter {
    /// First pause between polls.
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
        let deadline = Instant::now() + self.timeout;
        let mut pause = self.initial;
        loop {
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
                    pause = (pause * 3 / 2).min(self.max);
                }
            }
        }
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
        // 2 s + 3 s + 4.5 s of simulated time.
        assert_eq!(started.elapsed(), Duration::from_millis(9500));
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
