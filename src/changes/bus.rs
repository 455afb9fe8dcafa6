//! The in-process change bus: committed changes fanned out to whoever listens in this process
//! (realtime delivery first). A consumer of the [`Pipeline`](super::Pipeline).
//!
//! A listener that falls more than [`CAPACITY`] changes behind loses the oldest ones and is told
//! how many (`RecvError::Lagged`); the bus never grows.

use super::{Change, Consumer};
use std::sync::Arc;
use tokio::sync::broadcast;

/// Changes kept for the slowest listener.
pub const CAPACITY: usize = 4096;

pub struct Bus {
    tx: broadcast::Sender<Arc<Change>>,
}

impl Default for Bus {
    fn default() -> Self {
        Bus { tx: broadcast::channel(CAPACITY).0 }
    }
}

impl Bus {
    /// Committed changes from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Change>> {
        self.tx.subscribe()
    }

    /// Hands a committed change to this process's listeners.
    pub fn send(&self, change: Arc<Change>) {
        // No listener is fine: nothing to deliver to.
        let _ = self.tx.send(change);
    }
}

impl Consumer for Bus {
    fn name(&self) -> &'static str {
        "bus"
    }
    fn after_commit(&self, change: &Arc<Change>) {
        self.send(change.clone());
    }
}
