//! Every value a binding hands to its host language, written as a [`Json`] tree by hand.
//!
//! Why not serde's `Serialize` (which these types also derive, for Rust users): in the npm
//! package the derived writers and serde_json's serializer behind them were ~10 % of the
//! WebAssembly module, for a dozen record shapes. Each writer here is a few lines over one small
//! builder, and the tree is written by the core's own [`Json::write`].
//!
//! Rules:
//! - The JSON is the serde derive's, member for member and in the same order (`tests/writers.rs`
//!   compares the two on full and empty values of every type): an `Option` the derive skips when
//!   `None` is left out here too; one it does not skip is written as `null`.
//! - Floats are written as serde_json writes them (shortest text that reads back the same,
//!   `1.0` for a whole number, `null` for NaN and infinities), with the same formatter (zmij).

use crate::batch::{BatchProgress, BatchSnapshot, BatchSummary, ItemResult, SnapshotItem};
use crate::error::Error;
use crate::json::Json;
use crate::model::{Account, CreatedApiKey, DeleteResult, Job, JobError, JobPage, ListParams};
use crate::output::{Event, Progress};
use crate::validate::Issue;
use std::borrow::Cow;

/// A value a binding can hand over as JSON.
pub trait ToJson {
    /// This value as a tree borrowing from it.
    fn to_json(&self) -> Json<'_>;

    /// This value as compact JSON text.
    fn to_json_string(&self) -> String {
        let mut out = String::new();
        self.to_json().write(&mut out);
        out
    }
}

/// Text borrowed into a tree.
#[must_use]
pub fn text(s: &str) -> Json<'_> {
    Json::String(Cow::Borrowed(s))
}

/// An unsigned integer.
#[must_use]
pub fn uint(n: u64) -> Json<'static> {
    Json::Number(Cow::Owned(n.to_string()))
}

/// A float as serde_json writes it.
#[must_use]
pub fn float(f: f64) -> Json<'static> {
    if f.is_finite() { Json::Number(Cow::Owned(zmij::Buffer::new().format_finite(f).to_owned())) } else { Json::Null }
}

/// An object built member by member (the order of the calls is the order written).
#[derive(Default)]
pub struct Object<'a>(Vec<(Cow<'a, str>, Json<'a>)>);

impl<'a> Object<'a> {
    /// An empty object.
    #[must_use]
    pub fn new() -> Self {
        Object(Vec::new())
    }

    /// Adds `key`.
    #[must_use]
    pub fn with(mut self, key: &'static str, value: Json<'a>) -> Self {
        self.0.push((Cow::Borrowed(key), value));
        self
    }

    /// Adds `key` when there is a value (the derive's `skip_serializing_if = "Option::is_none"`).
    #[must_use]
    pub fn maybe(self, key: &'static str, value: Option<Json<'a>>) -> Self {
        match value {
            Some(v) => self.with(key, v),
            None => self,
        }
    }

    /// Adds every member of `other`, an object (how serde writes a flattened or internally tagged
    /// value); anything else is ignored.
    #[must_use]
    pub fn extend(mut self, other: Json<'a>) -> Self {
        if let Json::Object(members) = other {
            self.0.extend(members);
        }
        self
    }

    /// The object.
    #[must_use]
    pub fn done(self) -> Json<'a> {
        Json::Object(self.0)
    }
}

fn opt_text(s: Option<&str>) -> Option<Json<'_>> {
    s.map(text)
}

fn or_null(v: Option<Json<'_>>) -> Json<'_> {
    v.unwrap_or(Json::Null)
}

fn list<T: ToJson>(items: &[T]) -> Json<'_> {
    Json::Array(items.iter().map(ToJson::to_json).collect())
}

impl ToJson for JobError {
    fn to_json(&self) -> Json<'_> {
        Object::new().with("code", text(&self.code)).with("message", text(&self.message)).done()
    }
}

impl ToJson for Job {
    fn to_json(&self) -> Json<'_> {
        Object::new()
            .with("id", text(&self.id))
            .with("status", text(self.status.as_str()))
            .maybe("prompt", opt_text(self.prompt.as_deref()))
            .maybe("mode", self.mode.map(|m| text(m.as_str())))
            .maybe("resolution", self.resolution.map(|r| text(r.as_str())))
            .maybe("duration", self.duration.map(|d| uint(d.into())))
            .maybe("seed", self.seed.map(uint))
            .maybe("image_url", opt_text(self.image_url.as_deref()))
            .maybe("reference_url", opt_text(self.reference_url.as_deref()))
            .maybe("estimated_cost_cents", self.estimated_cost_cents.map(uint))
            .maybe("cost_cents", self.cost_cents.map(uint))
            .maybe("video_url", opt_text(self.video_url.as_deref()))
            .maybe("error", self.error.as_ref().map(ToJson::to_json))
            .maybe("created_at", opt_text(self.created_at.as_deref()))
            .maybe("progress", self.progress.map(|p| uint(p.into())))
            .done()
    }
}

impl ToJson for JobPage {
    fn to_json(&self) -> Json<'_> {
        Object::new()
            .with("data", list(&self.data))
            .with("limit", uint(self.limit.into()))
            .with("offset", uint(self.offset))
            .maybe("total", self.total.map(uint))
            .with("has_more", Json::Bool(self.has_more))
            .done()
    }
}

impl ToJson for DeleteResult {
    fn to_json(&self) -> Json<'_> {
        Object::new().with("id", text(&self.id)).with("deleted", Json::Bool(self.deleted)).with("refunded_cents", uint(self.refunded_cents)).done()
    }
}

impl ToJson for Account {
    fn to_json(&self) -> Json<'_> {
        Object::new()
            .with("email", text(&self.email))
            .with("balance_cents", uint(self.balance_cents))
            .with("total_jobs", uint(self.total_jobs))
            .with("total_spent_cents", uint(self.total_spent_cents))
            .maybe("plan", opt_text(self.plan.as_deref()))
            .done()
    }
}

impl ToJson for CreatedApiKey {
    fn to_json(&self) -> Json<'_> {
        Object::new()
            .with("id", text(&self.id))
            .with("name", or_null(opt_text(self.name.as_deref())))
            .with("key", text(&self.key))
            .with("created_at", or_null(opt_text(self.created_at.as_deref())))
            .done()
    }
}

impl ToJson for ListParams {
    fn to_json(&self) -> Json<'_> {
        Object::new().maybe("limit", self.limit.map(|l| uint(l.into()))).maybe("offset", self.offset.map(uint)).done()
    }
}

impl ToJson for Issue {
    fn to_json(&self) -> Json<'_> {
        Object::new().with("field", text(&self.field)).with("code", text(self.code.as_str())).with("message", text(&self.message)).done()
    }
}

impl ToJson for Error {
    fn to_json(&self) -> Json<'_> {
        Object::new()
            .with("kind", text(self.kind.as_str()))
            .with("code", text(&self.code))
            .with("message", text(&self.message))
            .maybe("status", self.status.map(|s| uint(s.into())))
            .maybe("field", opt_text(self.field.as_deref()))
            .maybe("request_id", opt_text(self.request_id.as_deref()))
            .maybe("retry_after_ms", self.retry_after_ms.map(uint))
            .maybe("job_id", opt_text(self.job_id.as_deref()))
            .maybe("job_status", opt_text(self.job_status.as_deref()))
            .maybe("issues", (!self.issues.is_empty()).then(|| list(&self.issues)))
            .maybe("transport", self.transport.map(|t| text(t.as_str())))
            .done()
    }
}

impl ToJson for Progress {
    fn to_json(&self) -> Json<'_> {
        Object::new()
            .with("job_id", text(&self.job_id))
            .with("status", text(&self.status))
            .with("percent", uint(self.percent.into()))
            .with("elapsed_ms", uint(self.elapsed_ms))
            .with("expected_ms", uint(self.expected_ms))
            .done()
    }
}

impl ToJson for Event {
    /// Tagged by `type` (serde's internally tagged enum: a newtype variant's fields sit beside it).
    fn to_json(&self) -> Json<'_> {
        let tagged = |t: &'static str| Object::new().with("type", text(t));
        match self {
            Event::Created { job } => tagged("created").with("job", job.to_json()).done(),
            Event::StatusChanged { job } => tagged("status_changed").with("job", job.to_json()).done(),
            Event::Progress(p) => tagged("progress").extend(p.to_json()).done(),
            Event::Retrying { attempt, after_ms, error } => {
                tagged("retrying").with("attempt", uint((*attempt).into())).with("after_ms", uint(*after_ms)).with("error", error.to_json()).done()
            }
            Event::Reconciling { error } => tagged("reconciling").with("error", error.to_json()).done(),
            Event::Reconciled { job } => tagged("reconciled").with("job", job.to_json()).done(),
            Event::ItemDone(r) => tagged("item_done").extend(r.to_json()).done(),
            Event::BatchProgress(p) => tagged("batch_progress").extend(p.to_json()).done(),
            Event::Warning { message } => tagged("warning").with("message", text(message)).done(),
        }
    }
}

impl ToJson for ItemResult {
    fn to_json(&self) -> Json<'_> {
        Object::new()
            .with("index", uint(self.index.into()))
            .maybe("job", self.job.as_ref().map(ToJson::to_json))
            .maybe("error", self.error.as_ref().map(ToJson::to_json))
            .done()
    }
}

impl ToJson for BatchProgress {
    fn to_json(&self) -> Json<'_> {
        Object::new()
            .with("total", uint(self.total.into()))
            .with("queued", uint(self.queued.into()))
            .with("in_flight", uint(self.in_flight.into()))
            .with("completed", uint(self.completed.into()))
            .with("failed", uint(self.failed.into()))
            .with("requests", uint(self.requests))
            .done()
    }
}

impl ToJson for BatchSummary {
    fn to_json(&self) -> Json<'_> {
        Object::new().with("results", list(&self.results)).with("progress", self.progress.to_json()).with("spent_cents", uint(self.spent_cents)).done()
    }
}

impl ToJson for SnapshotItem {
    fn to_json(&self) -> Json<'_> {
        Object::new()
            .with("request", self.request.to_json())
            .with("idempotency_key", text(self.idempotency_key.as_str()))
            .with("state", text(&self.state))
            .maybe("job_id", opt_text(self.job_id.as_deref()))
            .maybe("result", self.result.as_ref().map(ToJson::to_json))
            .done()
    }
}

impl ToJson for BatchSnapshot {
    fn to_json(&self) -> Json<'_> {
        Object::new().with("version", uint(self.version.into())).with("items", list(&self.items)).with("scale", float(self.scale)).done()
    }
}
