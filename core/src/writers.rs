//! Every value a binding hands to its host language, written as JSON text by hand.
//!
//! Why not serde's `Serialize` (which these types also derive, for Rust users): in the npm
//! package the derived writers and serde_json's serializer behind them were ~10 % of the
//! WebAssembly module, for a dozen record shapes. Each writer here is a few lines over one small
//! streaming writer ([`Members`]) that appends straight to the output text: no tree, no
//! allocation but the text's own (every value handed to JS on every call goes through here).
//!
//! Rules:
//! - The JSON is the serde derive's, member for member and in the same order (`tests/writers.rs`
//!   compares the two on full and empty values of every type): an `Option` the derive skips when
//!   `None` is left out here too; one it does not skip is written as `null`.
//! - The one float member, a batch's learned scale (within [0.001, 20]), is written to nine
//!   decimals (`0.7`, `1.0` for a whole number as serde_json writes it, `null` for NaN and
//!   infinities): no float printer in the module (see [`crate::decimal`]), and read back exactly.

use crate::batch::{BatchProgress, BatchSnapshot, BatchSummary, ItemResult, SnapshotItem};
use crate::error::Error;
use crate::json::{write_str, Json};
use crate::model::{Account, CreatedApiKey, DeleteResult, Job, JobError, JobPage, ListParams};
use crate::output::{Event, Progress};
use crate::validate::Issue;
use std::borrow::Cow;

/// A value a binding can hand over as JSON.
pub trait ToJson {
    /// Appends this value's JSON text to `out`.
    fn write_json(&self, out: &mut String);

    /// This value as compact JSON text.
    fn to_json_string(&self) -> String {
        let mut out = String::with_capacity(128);
        self.write_json(&mut out);
        out
    }
}

/// A record: its members are written into an enclosing object (how serde writes a flattened or
/// an internally tagged value), or as an object of their own.
pub trait Record {
    /// Appends this record's members.
    fn write_members(&self, m: &mut Members<'_>);
}

impl<T: Record> ToJson for T {
    fn write_json(&self, out: &mut String) {
        let mut m = Members::open(out);
        self.write_members(&mut m);
        m.close();
    }
}

impl ToJson for Json<'_> {
    fn write_json(&self, out: &mut String) {
        self.write(out);
    }
}

/// Appends an unsigned integer's digits (no formatting machinery: this is on every call's path).
pub fn write_uint(mut n: u64, out: &mut String) {
    let mut digits = [0u8; 20];
    let mut len = 0;
    for d in digits.iter_mut().rev() {
        // `n % 10` is a digit, so the cast is exact.
        #[allow(clippy::cast_possible_truncation)]
        let digit = (n % 10) as u8;
        *d = b'0' + digit;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in digits.iter().skip(20 - len) {
        out.push(char::from(d));
    }
}

/// A float as a tree's number: the shortest text that reads back the same (zmij, as serde_json
/// writes it; `1.0` for a whole number), `null` for NaN and infinities. For the serde path only
/// (`Json` built from any `Serialize`): no hand-written writer prints a float this way.
#[must_use]
pub fn float(f: f64) -> Json<'static> {
    if f.is_finite() { Json::Number(Cow::Owned(zmij::Buffer::new().format_finite(f).to_owned())) } else { Json::Null }
}

/// The members of an object being written, in the order of the calls.
pub struct Members<'o> {
    out: &'o mut String,
    first: bool,
}

impl<'o> Members<'o> {
    /// Opens an object in `out`.
    pub fn open(out: &'o mut String) -> Self {
        out.push('{');
        Members { out, first: true }
    }

    /// Closes the object.
    pub fn close(self) {
        self.out.push('}');
    }

    /// Starts member `key` (a name of ours: plain text, never escaped) and returns the text to
    /// append its value to.
    pub fn key(&mut self, key: &str) -> &mut String {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        self.out.push('"');
        self.out.push_str(key);
        self.out.push_str("\":");
        self.out
    }

    /// A text member.
    pub fn text(&mut self, key: &str, v: &str) -> &mut Self {
        write_str(v, self.key(key));
        self
    }

    /// A text member, left out when absent (the derive's `skip_serializing_if = "Option::is_none"`).
    pub fn maybe_text(&mut self, key: &str, v: Option<&str>) -> &mut Self {
        if let Some(v) = v {
            self.text(key, v);
        }
        self
    }

    /// A text member written `null` when absent (an `Option` the derive does not skip).
    pub fn text_or_null(&mut self, key: &str, v: Option<&str>) -> &mut Self {
        match v {
            Some(v) => self.text(key, v),
            None => {
                self.key(key).push_str("null");
                self
            }
        }
    }

    /// An unsigned integer member.
    pub fn uint(&mut self, key: &str, v: u64) -> &mut Self {
        write_uint(v, self.key(key));
        self
    }

    /// An unsigned integer member, left out when absent.
    pub fn maybe_uint(&mut self, key: &str, v: Option<u64>) -> &mut Self {
        if let Some(v) = v {
            self.uint(key, v);
        }
        self
    }

    /// A boolean member.
    pub fn bool(&mut self, key: &str, v: bool) -> &mut Self {
        self.key(key).push_str(if v { "true" } else { "false" });
        self
    }

    /// A float member, to nine decimals (see the rules at the top): `0.7`, `1.0`, `-0.25`.
    pub fn float(&mut self, key: &str, v: f64) -> &mut Self {
        let out = self.key(key);
        if !v.is_finite() {
            out.push_str("null");
            return self;
        }
        // `as` saturates: a float beyond 18 billion (never a scale) is written as that bound.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let nanos = (v.abs() * 1e9 + 0.5) as u64;
        if v < 0.0 && nanos != 0 {
            out.push('-');
        }
        let text = crate::decimal::format_decimal_nanos(nanos);
        out.push_str(&text);
        if !text.contains('.') {
            out.push_str(".0");
        }
        self
    }

    /// A member holding any value.
    pub fn value(&mut self, key: &str, v: &(impl ToJson + ?Sized)) -> &mut Self {
        v.write_json(self.key(key));
        self
    }

    /// A member holding any value, left out when absent.
    pub fn maybe_value(&mut self, key: &str, v: Option<&impl ToJson>) -> &mut Self {
        if let Some(v) = v {
            self.value(key, v);
        }
        self
    }

    /// A member holding an array.
    pub fn list<T: ToJson>(&mut self, key: &str, items: &[T]) -> &mut Self {
        write_list(items, self.key(key));
        self
    }
}

/// Appends `items` as an array.
pub fn write_list<T: ToJson>(items: &[T], out: &mut String) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        item.write_json(out);
    }
    out.push(']');
}

impl Record for JobError {
    fn write_members(&self, m: &mut Members<'_>) {
        m.text("code", &self.code).text("message", &self.message);
    }
}

impl Record for Job {
    fn write_members(&self, m: &mut Members<'_>) {
        m.text("id", &self.id)
            .text("status", self.status.as_str())
            .maybe_text("prompt", self.prompt.as_deref())
            .maybe_text("mode", self.mode.map(|x| x.as_str()))
            .maybe_text("resolution", self.resolution.map(|r| r.as_str()))
            .maybe_uint("duration", self.duration.map(u64::from))
            .maybe_uint("seed", self.seed)
            .maybe_text("image_url", self.image_url.as_deref())
            .maybe_text("reference_url", self.reference_url.as_deref())
            .maybe_uint("estimated_cost_cents", self.estimated_cost_cents)
            .maybe_uint("cost_cents", self.cost_cents)
            .maybe_text("video_url", self.video_url.as_deref())
            .maybe_value("error", self.error.as_ref())
            .maybe_text("created_at", self.created_at.as_deref())
            .maybe_uint("progress", self.progress.map(u64::from));
    }
}

impl Record for JobPage {
    fn write_members(&self, m: &mut Members<'_>) {
        m.list("data", &self.data).uint("limit", self.limit.into()).uint("offset", self.offset).maybe_uint("total", self.total).bool("has_more", self.has_more);
    }
}

impl Record for DeleteResult {
    fn write_members(&self, m: &mut Members<'_>) {
        m.text("id", &self.id).bool("deleted", self.deleted).uint("refunded_cents", self.refunded_cents);
    }
}

impl Record for Account {
    fn write_members(&self, m: &mut Members<'_>) {
        m.text("email", &self.email)
            .uint("balance_cents", self.balance_cents)
            .uint("total_jobs", self.total_jobs)
            .uint("total_spent_cents", self.total_spent_cents)
            .maybe_text("plan", self.plan.as_deref());
    }
}

impl Record for CreatedApiKey {
    fn write_members(&self, m: &mut Members<'_>) {
        m.text("id", &self.id).text_or_null("name", self.name.as_deref()).text("key", &self.key).text_or_null("created_at", self.created_at.as_deref());
    }
}

impl Record for ListParams {
    fn write_members(&self, m: &mut Members<'_>) {
        m.maybe_uint("limit", self.limit.map(u64::from)).maybe_uint("offset", self.offset);
    }
}

impl Record for Issue {
    fn write_members(&self, m: &mut Members<'_>) {
        m.text("field", &self.field).text("code", self.code.as_str()).text("message", &self.message);
    }
}

impl Record for Error {
    fn write_members(&self, m: &mut Members<'_>) {
        m.text("kind", self.kind.as_str())
            .text("code", &self.code)
            .text("message", &self.message)
            .maybe_uint("status", self.status.map(u64::from))
            .maybe_text("field", self.field.as_deref())
            .maybe_text("request_id", self.request_id.as_deref())
            .maybe_uint("retry_after_ms", self.retry_after_ms)
            .maybe_text("job_id", self.job_id.as_deref())
            .maybe_text("job_status", self.job_status.as_deref())
            .maybe_text("idempotency_key", self.idempotency_key.as_deref());
        if !self.issues.is_empty() {
            m.list("issues", &self.issues);
        }
        m.maybe_text("transport", self.transport.map(|t| t.as_str()));
    }
}

impl Record for Progress {
    fn write_members(&self, m: &mut Members<'_>) {
        m.text("job_id", &self.job_id).text("status", self.status.as_str()).uint("percent", self.percent.into()).uint("elapsed_ms", self.elapsed_ms).uint("expected_ms", self.expected_ms);
    }
}

impl Record for Event {
    /// Tagged by `type` (serde's internally tagged enum: a newtype variant's members sit beside it).
    fn write_members(&self, m: &mut Members<'_>) {
        match self {
            Event::Created { job } => m.text("type", "created").value("job", job),
            Event::StatusChanged { job } => m.text("type", "status_changed").value("job", job),
            Event::Progress(p) => {
                p.write_members(m.text("type", "progress"));
                m
            }
            Event::Retrying { attempt, after_ms, error } => m.text("type", "retrying").uint("attempt", (*attempt).into()).uint("after_ms", *after_ms).value("error", error),
            Event::Reconciling { error } => m.text("type", "reconciling").value("error", error),
            Event::Reconciled { job } => m.text("type", "reconciled").value("job", job),
            Event::ItemDone(r) => {
                r.write_members(m.text("type", "item_done"));
                m
            }
            Event::BatchProgress(p) => {
                p.write_members(m.text("type", "batch_progress"));
                m
            }
            Event::CleaningUp { error } => m.text("type", "cleaning_up").value("error", error),
            Event::Warning { message } => m.text("type", "warning").text("message", message),
        };
    }
}

impl Record for ItemResult {
    fn write_members(&self, m: &mut Members<'_>) {
        m.uint("index", self.index.into()).maybe_value("job", self.job.as_ref()).maybe_value("error", self.error.as_ref());
    }
}

impl Record for BatchProgress {
    fn write_members(&self, m: &mut Members<'_>) {
        m.uint("total", self.total.into())
            .uint("queued", self.queued.into())
            .uint("in_flight", self.in_flight.into())
            .uint("completed", self.completed.into())
            .uint("failed", self.failed.into())
            .uint("cancelled", self.cancelled.into())
            .uint("requests", self.requests);
    }
}

impl Record for BatchSummary {
    fn write_members(&self, m: &mut Members<'_>) {
        m.list("results", &self.results).value("progress", &self.progress).uint("spent_cents", self.spent_cents);
    }
}

impl Record for SnapshotItem {
    fn write_members(&self, m: &mut Members<'_>) {
        m.value("request", &self.request.to_json())
            .text("idempotency_key", self.idempotency_key.as_str())
            .text("state", &self.state)
            .maybe_text("job_id", self.job_id.as_deref())
            .maybe_value("result", self.result.as_ref());
        if self.unreported {
            m.bool("unreported", true);
        }
    }
}

impl Record for BatchSnapshot {
    fn write_members(&self, m: &mut Members<'_>) {
        m.uint("version", self.version.into()).list("items", &self.items).float("scale", self.scale);
        if let Some(owner) = &self.owner {
            m.text("owner", owner);
        }
        if let Some(date) = self.service_date_ms.and_then(|d| u64::try_from(d).ok()) {
            m.uint("service_date_ms", date);
        }
        if self.cancelled {
            m.bool("cancelled", true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_written_whole() {
        for n in [0, 7, 10, 99, 100, 12_345, u64::from(u32::MAX), u64::MAX - 1, u64::MAX] {
            let mut s = String::new();
            write_uint(n, &mut s);
            assert_eq!(s, n.to_string());
        }
    }
}
