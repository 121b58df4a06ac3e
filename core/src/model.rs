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
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
// `Deserialize` reads a tree and calls the hand-written reader (crate::readers).
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
// Kotlin's `toString()` and Swift's `description`: the wire string, not `JobStatus$Pending@1b2c`.
#[cfg_attr(feature = "uniffi", uniffi::export(Display))]
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
// `Deserialize` reads a tree and calls the hand-written reader (crate::readers).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
    /// The resolution (`None` if absent or not one this SDK knows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Resolution>,
    /// Length in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<u32>,
    /// The seed, when given and echoed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Start image, for `image_to_video`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    /// Reference image, for `reference`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_url: Option<String>,
    /// The charge held at creation, in cents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_cost_cents: Option<u64>,
    /// The final charge in cents (completed jobs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_cents: Option<u64>,
    /// Where to download the video (completed jobs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_url: Option<String>,
    /// Why it failed (failed jobs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<JobError>,
    /// Creation time as the service wrote it (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Progress 0–100 when the service reports one (*assumption*: not in the reference); a value
    /// beyond 100 is dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<u8>,
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

/// Paging for `GET /v1/videos`.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct DeleteResult {
    /// The deleted job.
    pub id: String,
    /// Always true on success.
    pub deleted: bool,
    /// Cents given back (a pending job's hold; 0 for completed or failed jobs).
    #[serde(default)]
    pub refunded_cents: u64,
}

/// `GET /v1/account`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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
#[derive(Clone, PartialEq, Eq, Serialize)]
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
