//! `client.videos()`: create, retrieve, list, delete, wait, create-and-wait, download.

use crate::{BatchRun, CancelToken, Client, Error};
use futures::stream::{self, Stream};
use std::path::Path;
use tokio::io::AsyncWriteExt;
use usvideo_core::{
    response, validate, BatchOptions, BatchSnapshot, Create, CreateVideoRequest, DeleteResult, Endpoint, ErrorKind, Event, IdempotencyKey, Job, JobPage, JobRun, ListParams, WaitOptions,
};

/// Jobs. Get one with [`Client::videos`].
#[derive(Debug)]
pub struct Videos<'a> {
    pub(crate) client: &'a Client,
}

/// Options of one create.
#[derive(Clone, Debug, Default)]
pub struct CreateOptions {
    /// Your own idempotency key (default: a fresh random one per call).
    pub idempotency_key: Option<IdempotencyKey>,
}

impl Videos<'_> {
    /// Submits a job and returns it as created (`pending`). The create is made at most once: it
    /// carries an idempotency key, and if its outcome is unknown the SDK lists recent jobs and
    /// adopts the match before it would ever send it again.
    ///
    /// Dropping the future after its request went out (a `select!`, a timeout around it) may
    /// leave a job the service made, charged if it completes, that nothing then names: to be able
    /// to get it back, pass your own key ([`Videos::create_with`], [`CreateOptions`]) and create
    /// the same request again under it (the service answers with that job instead of a second).
    ///
    /// # Errors
    /// A validation error (every violated rule), or any API or connection error.
    pub async fn create(&self, req: &CreateVideoRequest) -> Result<Job, Error> {
        self.create_with(req, CreateOptions::default()).await
    }

    /// [`Videos::create`] with options.
    ///
    /// # Errors
    /// As [`Videos::create`].
    pub async fn create_with(&self, req: &CreateVideoRequest, options: CreateOptions) -> Result<Job, Error> {
        let c = &self.client.inner;
        let key = match options.idempotency_key {
            Some(k) => k,
            None => crate::new_idempotency_key()?,
        };
        let mut create = Create::new(&c.config, self.client.key(), req.clone(), &key, c.retry, c.jitter_seed(), None, 0)?.sharing(&c.claims);
        c.drive(&mut create, &mut |_| {}, None).await;
        create.take_result()
    }

    /// A create request from loose JSON (refuses unknown fields, naming them). Numbers are read
    /// as serde_json holds them: `5.0` stays a float and is refused for `duration`.
    ///
    /// # Errors
    /// A validation error listing every violated rule.
    pub fn request_from_json(value: &serde_json::Value) -> Result<CreateVideoRequest, Error> {
        let text = value.to_string();
        let loose = usvideo_core::json::parse(text.as_bytes()).map_err(|e| Error::usage(format!("not a JSON value: {e}")))?;
        validate::create_request_from_json(&loose).map_err(Error::validation)
    }

    /// One job.
    ///
    /// # Errors
    /// A validation error on `id`, `not_found`, any API or connection error, or `decode` naming
    /// the job when the answer is no job or another job's.
    pub async fn retrieve(&self, id: &str) -> Result<Job, Error> {
        let req = self.client.inner.config.retrieve_video(self.client.key(), id)?;
        response::parse_job_of(&self.client.call(Endpoint::RetrieveVideo, req).await?, id)
    }

    /// One page of jobs, most recent first.
    ///
    /// # Errors
    /// A validation error on `limit`, or any API or connection error.
    pub async fn list(&self, params: ListParams) -> Result<JobPage, Error> {
        let req = self.client.inner.config.list_videos(self.client.key(), &params)?;
        response::parse_job_page(&self.client.call(Endpoint::ListVideos, req).await?, &params)
    }

    /// Every job, page after page (100 a page), as a stream. Ends at the last page, or at a page
    /// that starts with the job the one before started with (a server that ignores `offset`);
    /// a job the page before held (pushed down by a newer one) is not yielded twice: the core's
    /// [`PageWalk`](usvideo_core::PageWalk) decides.
    pub fn list_all(&self) -> impl Stream<Item = Result<Job, Error>> + '_ {
        let pages = stream::unfold(usvideo_core::PageWalk::new(usvideo_core::model::MAX_PAGE_LIMIT), move |mut walk| async move {
            let params = walk.next_page()?;
            match self.list(params).await {
                Ok(page) => {
                    let ids: Vec<&str> = page.data.iter().map(|j| j.id.as_str()).collect();
                    let keep = walk.take(&ids, page.has_more);
                    let jobs = keep.into_iter().filter_map(|i| page.data.get(i as usize).cloned().map(Ok)).collect::<Vec<_>>();
                    Some((jobs, walk))
                }
                Err(e) => Some((vec![Err(e)], usvideo_core::PageWalk::done())),
            }
        });
        futures::StreamExt::flat_map(pages, stream::iter)
    }

    /// Cancels a pending job (refunding it) or deletes a finished job's record.
    ///
    /// # Errors
    /// `conflict` for a processing job, `not_found`, or any API or connection error.
    pub async fn delete(&self, id: &str) -> Result<DeleteResult, Error> {
        let req = self.client.inner.config.delete_video(self.client.key(), id)?;
        response::parse_delete(&self.client.call(Endpoint::DeleteVideo, req).await?, id)
    }

    /// Waits until the job completes. Ends by `options.timeout_ms` at the latest (default
    /// 10 minutes) with a `wait_timeout` error while the job goes on. Dropping the future stops
    /// polling at once.
    ///
    /// # Errors
    /// `job_failed`, `wait_timeout`, or any API or connection error.
    pub async fn wait(&self, id: &str, options: WaitOptions) -> Result<Job, Error> {
        self.wait_with(id, options, &mut |_| {}, None).await
    }

    /// [`Videos::wait`] with a progress callback (every event of the run) and a cancel token
    /// (cancelling ends with a `cancelled` error; the job goes on, unless `cancel_on_timeout` is
    /// set: then a still-pending job is deleted first, see [`CancelToken`]).
    ///
    /// # Errors
    /// As [`Videos::wait`], and `cancelled`.
    pub async fn wait_with(&self, id: &str, options: WaitOptions, on_event: &mut (dyn FnMut(&Event) + Send), cancel: Option<&CancelToken>) -> Result<Job, Error> {
        let c = &self.client.inner;
        let run = JobRun::wait(&c.config, self.client.key(), id, options, c.jitter_seed(), c.now())?.sharing(&c.claims).learning(&c.pace);
        c.run_job(run, on_event, cancel).await
    }

    /// Creates a job (at most once) and waits for it.
    ///
    /// # Errors
    /// As [`Videos::create`] and [`Videos::wait`].
    pub async fn create_and_wait(&self, req: &CreateVideoRequest, options: WaitOptions) -> Result<Job, Error> {
        self.create_and_wait_with(req, options, &mut |_| {}, None).await
    }

    /// [`Videos::create_and_wait`] with a progress callback and a cancel token.
    ///
    /// # Errors
    /// As [`Videos::create_and_wait`], and `cancelled`.
    pub async fn create_and_wait_with(&self, req: &CreateVideoRequest, options: WaitOptions, on_event: &mut (dyn FnMut(&Event) + Send), cancel: Option<&CancelToken>) -> Result<Job, Error> {
        let c = &self.client.inner;
        let key = crate::new_idempotency_key()?;
        let run = JobRun::create_and_wait(&c.config, self.client.key(), req.clone(), &key, options, c.jitter_seed(), c.now())?.sharing(&c.claims).learning(&c.pace);
        c.run_job(run, on_event, cancel).await
    }

    /// Runs many creates within the account's limits (see [`usvideo_core::batch`]): estimates the
    /// total first and refuses beyond `options.max_spend_cents` or the balance, keeps at most
    /// `concurrent_jobs` in flight, shares one request budget so it never causes a 429, and yields
    /// results as jobs finish.
    ///
    /// # Errors
    /// A validation error naming every bad request, or a total above `max_spend_cents`.
    pub fn batch(&self, requests: Vec<CreateVideoRequest>, options: BatchOptions) -> Result<BatchRun, Error> {
        BatchRun::start(self.client, requests, options)
    }

    /// Continues a batch from [`BatchRun::snapshot`] (possibly in another process): items whose
    /// create may have been sent are reconciled first, so none is submitted twice; from a snapshot
    /// more than 23 h older than the service's `Date`, nothing is sent again (core `batch` rule 9:
    /// queued items end `snapshot_too_old`).
    ///
    /// # Errors
    /// A validation error for an unreadable snapshot.
    pub fn resume_batch(&self, snapshot: BatchSnapshot, options: BatchOptions) -> Result<BatchRun, Error> {
        BatchRun::resume(self.client, snapshot, options)
    }

    /// Downloads a completed job's video to `path`, calling `on_progress(bytes_so_far, total)`.
    /// The `video_url` is a signed URL: no API key is sent with it (it may be another host).
    ///
    /// # Errors
    /// `usage` when the job has no `video_url`; any HTTP status or I/O error.
    pub async fn download(&self, job: &Job, path: &Path, on_progress: &mut (dyn FnMut(u64, Option<u64>) + Send)) -> Result<u64, Error> {
        let url = job.video_url.as_deref().ok_or_else(|| Error::usage(format!("job {} has no video_url (status {})", job.id, job.status)))?;
        let c = &self.client.inner;
        let mut resp = c.http.get(url).timeout(c.request_timeout * 10).send().await.map_err(|e| {
            let (kind, message) = crate::driver::transport_error(e);
            Error::transport(kind, &message)
        })?;
        if !resp.status().is_success() {
            let mut e = Error::new(ErrorKind::from_status(resp.status().as_u16()), format!("downloading the video failed with HTTP {}", resp.status().as_u16()));
            e.status = Some(resp.status().as_u16());
            return Err(e);
        }
        let total = resp.content_length();
        let io = |e: std::io::Error| Error::usage(format!("cannot write {}: {e}", path.display()));
        let (part, target) = part_file(path).await;
        let mut file = tokio::fs::File::create(&part).await.map_err(io)?;
        // Removes the `.part` unless the download got through: also when this future is dropped.
        let mut leftover = Leftover((part != target).then(|| part.clone()));
        let mut written = 0u64;
        while let Some(chunk) = resp.chunk().await.map_err(|e| {
            let (kind, message) = crate::driver::transport_error(e);
            Error::transport(kind, &message)
        })? {
            file.write_all(&chunk).await.map_err(io)?;
            written += chunk.len() as u64;
            on_progress(written, total);
        }
        file.flush().await.map_err(io)?;
        drop(file);
        if part != target {
            tokio::fs::rename(&part, &target).await.map_err(io)?;
        }
        leftover.0 = None;
        Ok(written)
    }
}

/// A download's `.part` file, removed when dropped unless taken (the download got through): a
/// download cut short, failed or dropped leaves neither half a video at its path nor the `.part`.
struct Leftover(Option<std::path::PathBuf>);

impl Drop for Leftover {
    fn drop(&mut self) {
        if let Some(part) = self.0.take() {
            let _ = std::fs::remove_file(part);
        }
    }
}

/// Where a download is written, and what it is moved onto once whole: `<path>.part` beside
/// `path`, so that one cut short leaves no half video at `path` and the file that was there whole
/// (as Python's `PartFile`); a symlink's by the same rule beside its target, the link kept; a
/// path that is there but no regular file (`/dev/null`, a pipe) as it is.
async fn part_file(path: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let linked = tokio::fs::symlink_metadata(path).await.is_ok_and(|m| m.file_type().is_symlink());
    let target = match linked {
        // A dangling link's target is made where it points (as Python's `realpath` does).
        true => match tokio::fs::canonicalize(path).await {
            Ok(t) => t,
            Err(_) => match tokio::fs::read_link(path).await {
                Ok(t) => path.parent().map_or(t.clone(), |dir| dir.join(&t)),
                Err(_) => path.to_path_buf(),
            },
        },
        false => path.to_path_buf(),
    };
    match tokio::fs::metadata(&target).await {
        Ok(m) if !m.is_file() => (target.clone(), target),
        _ => {
            let mut part = target.clone().into_os_string();
            part.push(".part");
            (part.into(), target)
        }
    }
}
