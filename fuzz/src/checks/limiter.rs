//! The rate limiter and its line (`usvideo_core::ratelimit`) under any sequence of calls: waiting
//! calls joining and asking again (at their turn or at any other time), leaving, plain
//! `try_acquire`s, `Retry-After` pauses, and time standing still or jumping forward.
//!
//! Invariants, whatever the input:
//! - nothing panics;
//! - no more than the limit is granted within a window (61 s: the service's minute and the margin);
//! - a refused call is told a turn after now, and holds a ticket; a granted one holds none.

use super::input::Cursor;
use usvideo_core::ratelimit::{WINDOW_MARGIN_MS, WINDOW_MS};
use usvideo_core::{Millis, RateLimiter};

/// Waiting calls a sequence juggles.
const CALLS: usize = 6;

/// Runs one sequence (see the module docs).
pub fn line(data: &[u8]) {
    let mut c = Cursor::new(data);
    let limit = u32::from(c.u8() % 5); // 0: unlimited
    let mut limiter = RateLimiter::new(limit);
    let mut tickets: [Option<u64>; CALLS] = [None; CALLS];
    let mut granted: Vec<u64> = Vec::new();
    let mut now = 0u64;
    for _ in 0..300 {
        if c.is_empty() {
            break;
        }
        let op = c.u8();
        let Some(ticket) = tickets.get_mut(usize::from(op >> 4) % CALLS) else { continue };
        match op % 5 {
            0 => now += u64::from(c.u16()) * 10, // up to ~11 minutes
            1 | 2 => match limiter.acquire_in_line(ticket, Millis(now)) {
                Ok(()) => {
                    assert!(ticket.is_none(), "a granted call holds no ticket");
                    granted.push(now);
                }
                Err(turn) => {
                    assert!(turn.0 > now, "told a turn at {} at {now}", turn.0);
                    assert!(ticket.is_some(), "a refused call holds a ticket");
                }
            },
            3 => {
                if let Some(t) = ticket.take() {
                    limiter.leave(t);
                }
            }
            _ => {
                if c.bool() {
                    limiter.on_retry_after(Millis(now), u64::from(c.u16()));
                } else if limiter.try_acquire(Millis(now)).is_ok() {
                    granted.push(now);
                }
            }
        }
    }
    if limit > 0 {
        for (i, t) in granted.iter().enumerate() {
            let in_window = granted.iter().skip(i).take_while(|u| **u - t < WINDOW_MS + WINDOW_MARGIN_MS).count();
            assert!(in_window <= limit as usize, "{in_window} granted within a window from {t} (limit {limit}): {granted:?}");
        }
    }
}
