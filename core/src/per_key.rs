//! Process-wide state of a key (its rate limiter, its claims), shared by every client made with
//! it: the service counts a key's requests, not a client's, and a server that makes a client per
//! request must still have them see each other's.
//!
//! # Rules
//! 1. One value per base URL and key (and whatever else the caller adds to the slot, such as a
//!    rate limiter's budget), made on first use.
//! 2. The newest [`KEPT`] slots are kept, the least recently asked for dropped first: a server
//!    with its customers' keys must not grow for ever. A client keeps the value it got however
//!    many came after; a key's value must outlive a short-lived client, so it is kept past its
//!    clients.
//! 3. Slots hold a digest of the key, never the key (FNV-1a: to tell keys apart, not to hide
//!    them; a few instructions, where std's SipHash and its random keys would add to the wasm).
//!
//! Global state, but no I/O, clock or thread: times are still passed to every call of the values.

use std::sync::{Mutex, PoisonError};

/// How many slots a [`Table`] keeps (rule 2).
pub const KEPT: usize = 64;

/// A table of per-key values (rules at the top). `S` is the slot: a base URL, a key digest and
/// what else tells values apart.
pub(crate) struct Table<S, V>(Mutex<Vec<(S, V)>>);

impl<S: PartialEq, V: Clone> Table<S, V> {
    pub(crate) const fn new() -> Self {
        Table(Mutex::new(Vec::new()))
    }

    /// The value of `slot`, made by `make` if the table has none (rules 1 and 2).
    pub(crate) fn get(&self, slot: S, make: impl FnOnce() -> V) -> V {
        // A panic elsewhere while the lock was held leaves plain data: still usable.
        let mut all = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = match all.iter().position(|(s, _)| *s == slot) {
            Some(at) => all.remove(at),
            None => (slot, make()),
        };
        let value = entry.1.clone();
        all.push(entry); // the most recently asked for last
        if all.len() > KEPT {
            all.remove(0);
        }
        value
    }

    /// How many slots are kept.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

/// A digest of `key` for a slot (rule 3); `None` (no key) has its own.
pub(crate) fn digest(key: Option<&str>) -> u64 {
    key.map_or(0, |k| k.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_value_a_slot_the_newest_kept() {
        let t: Table<(String, u64), std::sync::Arc<u8>> = Table::new();
        let a = t.get(("h".into(), digest(Some("sd_a"))), || std::sync::Arc::new(1));
        let again = t.get(("h".into(), digest(Some("sd_a"))), || std::sync::Arc::new(2));
        assert!(std::sync::Arc::ptr_eq(&a, &again));
        assert_ne!(digest(Some("sd_a")), digest(Some("sd_b")));
        assert_ne!(digest(None), digest(Some("")));
        for i in 0..3 * KEPT {
            let _ = t.get(("h".into(), digest(Some(&format!("sd_many_{i}")))), || std::sync::Arc::new(3));
        }
        assert_eq!(t.len(), KEPT);
        let later = t.get(("h".into(), digest(Some("sd_a"))), || std::sync::Arc::new(4));
        assert!(!std::sync::Arc::ptr_eq(&a, &later), "the oldest slot was dropped");
    }
}
