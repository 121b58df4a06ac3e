//! The one driving contract every state machine here follows, as a trait, so that each binding
//! writes a single driver loop for all of them.

use crate::http::{HttpResponse, TransportKind};
use crate::output::{Output, RequestId};
use crate::time::Millis;

/// Why a request was not sent ([`Machine::handle_not_sent`]). A wait that ends on it says so, where
/// a connection failure would mislead.
pub const NOT_SENT: &str = "not sent: no slot of the client's rate limit (its budget spent, or the key paused by a 429's Retry-After) before the request's time ran out";

/// A sans-IO state machine: feed it inputs with a non-decreasing `now`, then drain [`poll`](Machine::poll)
/// until it returns [`Output::WaitUntil`], [`Output::Pending`] or [`Output::Done`].
pub trait Machine {
    /// What to do next.
    fn poll(&mut self, now: Millis) -> Output;
    /// The response to request `id`.
    fn handle_response(&mut self, id: RequestId, resp: HttpResponse, now: Millis);
    /// Request `id` got no answer.
    fn handle_transport_error(&mut self, id: RequestId, kind: TransportKind, message: &str, now: Millis);
    /// Request `id` was not sent: the driver found no slot of the client's rate limit before the
    /// request's time ran out. Nothing reached the service, so it is a `connect` failure (a create
    /// made no job), told in the core's words ([`NOT_SENT`]), the same in every binding.
    fn handle_not_sent(&mut self, id: RequestId, now: Millis) {
        self.handle_transport_error(id, TransportKind::Connect, NOT_SENT, now);
    }
    /// Time passed (spurious calls are harmless).
    fn handle_timeout(&mut self, now: Millis);
    /// The caller wants to stop; drain `poll` afterwards (a cleanup request may follow).
    fn cancel(&mut self, now: Millis);
    /// While a clean-up its caller gave the job up for is under way, the error it will end with
    /// ([`crate::job::JobRun::cleaning_up`]); `None` for every other machine.
    fn cleaning_up(&self) -> Option<&crate::error::Error> {
        None
    }
}

macro_rules! impl_machine {
    ($t:ty, |$s:ident, $now:ident| $cancel:expr $(, cleaning_up: $cleaning:path)? $(, not_sent: $not_sent:path)?) => {
        impl Machine for $t {
            fn poll(&mut self, now: Millis) -> Output {
                <$t>::poll(self, now)
            }
            fn handle_response(&mut self, id: RequestId, resp: HttpResponse, now: Millis) {
                <$t>::handle_response(self, id, resp, now);
            }
            fn handle_transport_error(&mut self, id: RequestId, kind: TransportKind, message: &str, now: Millis) {
                <$t>::handle_transport_error(self, id, kind, message, now);
            }
            fn handle_timeout(&mut self, now: Millis) {
                <$t>::handle_timeout(self, now);
            }
            fn cancel(&mut $s, $now: Millis) {
                $cancel
            }
            $(fn cleaning_up(&self) -> Option<&crate::error::Error> {
                $cleaning(self)
            })?
            $(fn handle_not_sent(&mut self, id: RequestId, now: Millis) {
                $not_sent(self, id, now);
            })?
        }
    };
}

impl_machine!(crate::call::Call, |self, _now| self.cancel());
impl_machine!(crate::create::Create, |self, _now| self.cancel());
impl_machine!(crate::job::JobRun, |self, now| crate::job::JobRun::cancel(self, now), cleaning_up: crate::job::JobRun::cleaning_up);
impl_machine!(crate::batch::Batch, |self, now| crate::batch::Batch::cancel(self, now), not_sent: crate::batch::Batch::handle_not_sent);
