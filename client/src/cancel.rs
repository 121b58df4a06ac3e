//! A cancellation token: `cancel()` from anywhere, and a wait notices at once.

use std::sync::Arc;
use tokio::sync::watch;

/// Cancels a wait from another task. Clone it freely; all clones cancel the same wait.
///
/// Dropping a wait's future also stops it (no more requests are sent), but cannot clean up; a
/// token lets the wait delete a still-pending job (refunding it: a `create_and_wait`'s own, or a
/// `wait`'s with `cancel_on_timeout`; a plain `wait` leaves the job it watches) before it returns
/// `cancelled`, or hand that delete to a task of its own when it takes longer than 10 s.
#[derive(Clone, Debug)]
pub struct CancelToken {
    tx: Arc<watch::Sender<bool>>,
}

impl Default for CancelToken {
    fn default() -> Self {
        Self::new()
    }
}

impl CancelToken {
    /// A token that is not cancelled.
    #[must_use]
    pub fn new() -> Self {
        CancelToken { tx: Arc::new(watch::channel(false).0) }
    }

    /// Cancels every wait that holds this token.
    pub fn cancel(&self) {
        self.tx.send_replace(true);
    }

    /// Whether `cancel` was called.
    #[must_use]
    pub fn is_cancelled(&self) -> bool {
        *self.tx.borrow()
    }

    /// Resolves once cancelled.
    pub(crate) async fn cancelled(&self) {
        let mut rx = self.tx.subscribe();
        // `wait_for` checks the current value first, so a cancel before this call is seen.
        let _ = rx.wait_for(|c| *c).await;
    }
}
