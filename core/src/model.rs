//! The public data types of the API: what a caller sends and what the service answers.
//!
//! Field names are the wire names (snake_case) in every language, so one JSON vector means the same
//! thing everywhere. Parsing is tolerant: unknown fields are ignored and an unknown job status is kept
//! as [`JobStatus::Unknown`], never an error.

use crate::json::Json;
use std::borrow::Cow;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// How a video is generated.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Mode {
    /// From a prompt alone.
    TextToVideo,
    /// From a prompt and a start image (`image_url`).
    ImageToVideo,
    /// From a prompt and a reference image (`reference_url`).
    Reference,
}

impl Mode {
    /// Every mode, in the reference's order.
    pub const ALL: [Mode; 3] = [Mode::TextToVideo, Mode::ImageToVideo, Mode::Reference];

    /// The wire string.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::TextToVideo => "text_to_video",
            Mode::ImageToVideo => "image_to_video",
            Mode::Reference => "reference",
        }
    }

    /// Parses the exact wire string.
    #[must_use]
    pub fn parse(s: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// Output resolution. Wire strings `720p`, `1080p`, `2k`, matched exactly (`2K` is refused).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Resolution {
    /// 720p, the default.
    #[default]
    #[serde(rename = "720p")]
    P720,
    /// 1080p.
    #[serde(rename = "1080p")]
    P1080,
    /// 2K.
    #[serde(rename = "2k")]
    K2,
}

impl Resolution {
    /// Every resolution, cheapest first.
    pub const ALL: [Resolution; 3] = [Resolution::P720, Resolution::P1080, Resolution::K2];

    /// The wire string.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::P720 => "720p",
            Resolution::P1080 => "1080p",
            Resolution::K2 => "2k",
        }
    }

    /// Parses the exact wire string.
    #[must_use]
    pub fn parse(s: &str) -> Option<Resolution> {
        Resolution::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl fmt::Display for Resolution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Default video length in seconds when a request leaves `duration` out.
pub const DEFAULT_DURATION: u32 = 5;
/// Shortest video, in seconds.
pub const MIN_DURATION: u32 = 1;
/// Longest video, in seconds.
pub const MAX_DURATION: u32 = 10;
/// Largest seed (*assumption*: an unsigned 32-bit integer).
pub const MAX_SEED: u64 = 4_294_967_295;

/// The body of `POST /v1/videos`. Build one directly, or from loose data with
/// [`crate::validate::create_request_from_json`], which also refuses unknown fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CreateVideoRequest {
    /// What the video shows. Required, non-empty after trimming.
    pub prompt: String,
    /// How it is generated.
    pub mode: Mode,
    /// Output resolution; the service's default (720p) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub resolution: Option<Resolution>,
    /// Length in whole seconds, 1 to 10; 5 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub duration: Option<u32>,
    /// Start image: required for, and only allowed with, `image_to_video`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub image_url: Option<String>,
    /// Reference image: required for, and only allowed with, `reference`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub reference_url: Option<String>,
    /// Seed for reproducible results, 0 to 4294967295.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub seed: Option<u64>,
}

impl CreateVideoRequest {
    /// The request as the service's JSON body, the fields it does not set left out.
    #[must_use]
    pub fn to_json(&self) -> Json<'_> {
        let text = |s| Json::String(Cow::Borrowed(s));
        let number = |n: u64| Json::Number(Cow::Owned(n.to_string()));
        let members = [
            Some(("prompt", text(&self.prompt))),
            Some(("mode", text(self.mode.as_str()))),
            self.resolution.map(|r| ("resolution", text(r.as_str()))),
            self.duration.map(|d| ("duration", number(u64::from(d)))),
            self.image_url.as_deref().map(|u| ("image_url", text(u))),
            self.reference_url.as_deref().map(|u| ("reference_url", text(u))),
            self.seed.map(|s| ("seed", number(s))),
        ];
        Json::Object(members.into_iter().flatten().map(|(k, v)| (Cow::Borrowed(k), v)).collect())
    }

    /// A text-to-video request with the service's defaults.
    #[must_use]
    pub fn text(prompt: impl Into<String>) -> Self {
        CreateVideoRequest { prompt: prompt.into(), mode: Mode::TextToVideo, resolution: None, duration: None, image_url: None, reference_url: None, seed: None }
    }

    /// The resolution the service will use (the default when absent).
    #[must_use]
    pub fn effective_resolution(&self) -> Resolution {
        self.resolution.unwrap_or_default()
    }

    /// The duration the service will use (the default when absent).
    #[must_use]
    pub fn effective_duration(&self) -> u32 {
        self.duration.unwrap_or(DEFAULT_DURATION)
    }
}

/// Where a job is in its life. Any status the SDK does not know is kept as `Unknown` and treated
/// as not finished, so a new server status never crashes a client or ends a wait early.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum JobStatus {
    /// Queued.
    Pending,
    /// Being generated.
    Processing,
    /// Done: `video_url` and `cost_cents` are set.
    Completed,
    /// Generation failed; the charge was refunded.
    Failed,
    /// A status this SDK does not know (kept verbatim). Never terminal.
    Unknown(String),
}

impl JobStatus {
    /// The wire string.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Processing => "processing",
            JobStatus::Completed => "completed",
            JobStatus::Failed => "failed",
            JobStatus::Unknown(s) => s,
        }
    }

    /// Reads a wire string; anything unknown becomes [`JobStatus::Unknown`].
    #[must_use]
    pub fn parse(s: &str) -> JobStatus {
        match s {
            "pending" => JobStatus::Pending,
            "processing" => JobStatus::Processing,
            "completed" => JobStatus::Completed,
            "failed" => JobStatus::Failed,
            other => JobStatus::Unknown(other.to_owned()),
        }
    }

    /// `completed` or `failed`: nothing more will happen to the job.
    #[must_use]
    pub fn is_terminal(&self) -> bool {
        matches!(self, JobStatus::Completed | JobStatus::Failed)
    }
}

impl Serialize for JobStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for JobStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(JobStatus::parse(&s))
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a job failed, as the service reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct JobError {
    /// Machine-readable reason.
    #[serde(default)]
    pub code: String,
    /// Human-readable reason.
    #[serde(default)]
    pub message: String,
}

/// A video-generation job as the service reports it. Fields the service did not send are `None`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Job {
    /// The job's id (`job_…`).
    pub id: String,
    /// Where the job is.
    pub status: JobStatus,
    /// The prompt, when the service echoes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// The mode (`None` if absent or not one this SDK knows).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient")]
    pub mode: Option<Mode>,
    /// The resolution (`None` if absent or not one this SDK knows).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient")]
    pub resolution: Option<Resolution>,
    /// Length in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient")]
    pub duration: Option<u32>,
    /// The seed, when given and echoed.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient")]
    pub seed: Option<u64>,
    /// Start image, for `image_to_video`.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient")]
    pub image_url: Option<String>,
    /// Reference image, for `reference`.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient")]
    pub reference_url: Option<String>,
    /// The charge held at creation, in cents.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient")]
    pub estimated_cost_cents: Option<u64>,
    /// The final charge in cents (completed jobs).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient")]
    pub cost_cents: Option<u64>,
    /// Where to download the video (completed jobs).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient")]
    pub video_url: Option<String>,
    /// Why it failed (failed jobs).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient")]
    pub error: Option<JobError>,
    /// Creation time as the service wrote it (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient")]
    pub created_at: Option<String>,
    /// Progress 0–100 when the service reports one (*assumption*: not in the reference).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient")]
    pub progress: Option<u8>,
}

/// Deserializes an optional field, turning a value of the wrong shape into `None` instead of
/// failing the whole response: a server that changes one field must not break every client.
///
/// It reads the value once, as it comes, into a [`Loose`] (no `serde_json::Value` in between: a
/// job has a dozen such fields and this is on every poll's path); one visitor serves every field
/// type, so the wasm and mobile builds carry one copy of it per deserializer, not one per type.
fn lenient<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Lenient,
{
    Ok(T::from_loose(d.deserialize_any(LooseVisitor)?))
}

/// What [`lenient`] keeps of a value: a string, a non-negative integer, an object read as a
/// [`JobError`] (`None` when it is not one), or nothing usable.
enum Loose {
    Str(String),
    Int(u64),
    Bool(bool),
    Error(Option<JobError>),
    Other,
}

/// A field type [`lenient`] can read; anything else (and a value out of range) is `None`.
trait Lenient: Sized {
    fn from_loose(v: Loose) -> Option<Self>;
}

impl Lenient for String {
    fn from_loose(v: Loose) -> Option<Self> {
        if let Loose::Str(s) = v { Some(s) } else { None }
    }
}
impl Lenient for Mode {
    fn from_loose(v: Loose) -> Option<Self> {
        if let Loose::Str(s) = v { Mode::parse(&s) } else { None }
    }
}
impl Lenient for Resolution {
    fn from_loose(v: Loose) -> Option<Self> {
        if let Loose::Str(s) = v { Resolution::parse(&s) } else { None }
    }
}
impl Lenient for u64 {
    fn from_loose(v: Loose) -> Option<Self> {
        if let Loose::Int(n) = v { Some(n) } else { None }
    }
}
impl Lenient for u32 {
    fn from_loose(v: Loose) -> Option<Self> {
        if let Loose::Int(n) = v { u32::try_from(n).ok() } else { None }
    }
}
impl Lenient for u8 {
    fn from_loose(v: Loose) -> Option<Self> {
        if let Loose::Int(n) = v { u8::try_from(n).ok() } else { None }
    }
}
impl Lenient for bool {
    fn from_loose(v: Loose) -> Option<Self> {
        if let Loose::Bool(b) = v { Some(b) } else { None }
    }
}
impl Lenient for JobError {
    fn from_loose(v: Loose) -> Option<Self> {
        if let Loose::Error(e) = v { e } else { None }
    }
}

struct LooseVisitor;

impl<'de> serde::de::Visitor<'de> for LooseVisitor {
    type Value = Loose;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Loose, E> {
        Ok(Loose::Str(v.to_owned()))
    }
    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Loose, E> {
        Ok(Loose::Str(v))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Loose, E> {
        Ok(Loose::Int(v))
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Loose, E> {
        Ok(u64::try_from(v).map_or(Loose::Other, Loose::Int))
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Loose, E> {
        Ok(Loose::Other)
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Loose, E> {
        Ok(Loose::Bool(v))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Loose, E> {
        Ok(Loose::Other)
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<Loose, E> {
        Ok(Loose::Other)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Loose, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Loose, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(Loose::Other)
    }
    /// An object can only be a [`JobError`]: `{"code": "...", "message": "..."}`, a missing member
    /// empty, unknown members skipped; a member of another type, or one given twice, makes it
    /// unreadable.
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Loose, A::Error> {
        let (mut code, mut message, mut ok) = (None, None, true);
        while let Some(key) = map.next_key::<String>()? {
            let slot = match key.as_str() {
                "code" => &mut code,
                "message" => &mut message,
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    continue;
                }
            };
            match map.next_value_seed(LooseSeed)? {
                Loose::Str(v) if slot.is_none() => *slot = Some(v),
                _ => ok = false,
            }
        }
        Ok(Loose::Error(ok.then(|| JobError { code: code.unwrap_or_default(), message: message.unwrap_or_default() })))
    }
}

/// [`LooseVisitor`] for a member read inside a map.
struct LooseSeed;

impl<'de> serde::de::DeserializeSeed<'de> for LooseSeed {
    type Value = Loose;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Loose, D::Error> {
        d.deserialize_any(LooseVisitor)
    }
}

/// One page of `GET /v1/videos`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct JobPage {
    /// The jobs, most recent first.
    pub data: Vec<Job>,
    /// The page size asked for (echoed by the service, or the request's).
    pub limit: u32,
    /// How many jobs were skipped.
    pub offset: u64,
    /// All jobs on the account, when the service says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// Whether another page follows.
    pub has_more: bool,
}

/// `GET /v1/videos` as sent: every member optional and read leniently (a `limit` that is not a
/// count is as good as absent); [`crate::response::parse_job_page`] fills the gaps.
#[derive(Deserialize)]
pub(crate) struct PageWire {
    pub(crate) data: Option<Vec<Job>>,
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) limit: Option<u64>,
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) offset: Option<u64>,
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) total: Option<u64>,
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) has_more: Option<bool>,
}

/// Paging for `GET /v1/videos`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ListParams {
    /// Page size, 1 to 100 (service default 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub limit: Option<u32>,
    /// Jobs to skip (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub offset: Option<u64>,
}

/// Default page size of `GET /v1/videos`.
pub const DEFAULT_PAGE_LIMIT: u32 = 20;
/// Largest page size of `GET /v1/videos`.
pub const MAX_PAGE_LIMIT: u32 = 100;

/// The answer to `DELETE /v1/videos/{id}` (*assumption*: the reference shows no body).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct DeleteResult {
    /// The deleted job.
    pub id: String,
    /// Always true on success.
    #[serde(default = "yes")]
    pub deleted: bool,
    /// Cents given back (a pending job's hold; 0 for completed or failed jobs).
    #[serde(default)]
    pub refunded_cents: u64,
}

fn yes() -> bool {
    true
}

/// `GET /v1/account`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Account {
    /// The account's email.
    #[serde(default)]
    pub email: String,
    /// Prepaid balance in cents.
    pub balance_cents: u64,
    /// Every job ever created.
    #[serde(default)]
    pub total_jobs: u64,
    /// Charges net of refunds, in cents.
    #[serde(default)]
    pub total_spent_cents: u64,
    /// `standard` or `enterprise`, when the service says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
}

/// A key made by `POST /v1/api-keys`. The `key` is shown once: store it now.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "uniffi", uniffi::export(Debug))]
pub struct CreatedApiKey {
    /// The key's id.
    #[serde(default)]
    pub id: String,
    /// Its name, if given.
    #[serde(default)]
    pub name: Option<String>,
    /// The secret key itself (`sd_…`). `Debug` redacts it.
    pub key: String,
    /// Creation time (RFC 3339).
    #[serde(default)]
    pub created_at: Option<String>,
}

impl fmt::Debug for CreatedApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreatedApiKey")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("key", &crate::secret::redact_text(&self.key))
            .field("created_at", &self.created_at)
            .finish()
    }
}
