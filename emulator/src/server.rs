//! The HTTP layer: accepts connections, applies faults (delay, status, drop, malformed,
//! truncated, huge), reads bodies with a size cap, adds the headers every answer carries (request id,
//! CORS) and logs one line per request on stderr.
//!
//! hyper is used directly because a dropped connection is a service that returns an error: hyper
//! then closes the connection without writing anything, which is exactly the fault to inject.

use crate::faults::{Drop, Fault};
use crate::reply::{Reply, default_code};
use crate::routes::{self, BodyError, Incoming, MAX_BODY};
use crate::state::State;
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::{Frame, SizeHint};
use hyper::header::{HeaderName, HeaderValue};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

/// Headers a browser may read from a cross-origin answer.
const EXPOSE_HEADERS: &str = "date, x-request-id, retry-after, idempotent-replayed, x-ratelimit-limit, x-ratelimit-remaining";
/// A body bigger than the cap is still read (and thrown away) up to this much, so the client
/// sees the `413` rather than a connection reset while it is still sending.
const DRAIN_CAP: usize = 64 * 1024 * 1024;
/// The largest request head (request line and headers); a longer one is answered `431`.
/// hyper's only default bound is its ~400 KB read buffer, which lets a 100 KB header line through;
/// no client of this API needs 64 KiB.
const MAX_HEAD: usize = 64 * 1024;
/// The chunk a huge body is streamed in.
const HUGE_CHUNK: usize = 64 * 1024;
static PAD: [u8; HUGE_CHUNK] = [b'x'; HUGE_CHUNK];

/// What every connection shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) state: Mutex<State>,
    pub(crate) cors_origin: String,
    pub(crate) log: bool,
    /// The last request number handed out; shared with the state file, which saves it.
    requests: Arc<AtomicU64>,
}

impl Shared {
    pub(crate) fn new(state: State, cors_origin: String, log: bool, requests: Arc<AtomicU64>) -> Shared {
        Shared { state: Mutex::new(state), cors_origin, log, requests }
    }

    /// The state; a panic in another request (a poisoned mutex) must not take the server down.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Accepts connections until the task is aborted; dropping the task drops every connection.
pub(crate) async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let shared = shared.clone();
                    connections.spawn(async move {
                        let service = service_fn(move |req| respond(req, shared.clone()));
                        // Errors here are dropped connections (injected or by the peer).
                        // Malformed requests are hyper's to answer (400, 431, …) or to close.
                        let _ = hyper::server::conn::http1::Builder::new().max_header_size(MAX_HEAD).serve_connection(TokioIo::new(stream), service).await;
                    });
                }
                // Out of file descriptors and the like: wait a little rather than spin.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// The error that makes hyper close the connection with no answer.
#[derive(Debug)]
pub(crate) struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}

impl std::error::Error for DropConnection {}

async fn respond(req: Request<hyper::body::Incoming>, shared: Arc<Shared>) -> Result<Response<Body>, DropConnection> {
    let started = Instant::now();
    let n = shared.requests.fetch_add(1, Ordering::Relaxed) + 1;
    let request_id = format!("req_{n:012x}");
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(str::to_owned);
    let shown = match &query {
        Some(q) => format!("{path}?{q}"),
        None => path.clone(),
    };
    let log = |outcome: &str| {
        if shared.log {
            eprintln!("{method} {shown} {outcome} {}ms", started.elapsed().as_millis());
        }
    };

    // Preflights: no auth, no limiter, no faults.
    if method == "OPTIONS" {
        let reply = Reply::empty(204)
            .header("access-control-allow-methods", "GET, POST, DELETE, OPTIONS")
            .header("access-control-allow-headers", "authorization, content-type, idempotency-key")
            .header("access-control-max-age", "600");
        log("204");
        return Ok(finish(reply, &request_id, &shared, Shape::Whole));
    }

    let fault: Option<Fault> = if path.starts_with("/_emulator") { None } else { shared.lock().faults.take_request_fault(&method, &path) };
    if let Some(f) = &fault {
        if f.delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(f.delay_ms)).await;
        }
        if f.drop == Some(Drop::Before) {
            log("dropped (before)");
            return Err(DropConnection);
        }
        if f.status.is_some() || f.huge_body.is_some() {
            let status = f.status.unwrap_or(200);
            let reply = fault_reply(f, status);
            log(&format!("{status} (fault)"));
            let shape = f.huge_body.map_or(Shape::Whole, Shape::Huge);
            return Ok(finish(reply, &request_id, &shared, shape));
        }
    }

    let header = |name: &str| -> Option<String> {
        // A value that is not visible ASCII is kept as garbage, so auth refuses it (401).
        req.headers().get(name).map(|v| v.to_str().map(str::to_owned).unwrap_or_else(|_| "\u{0}".to_owned()))
    };
    let authorization = header("authorization");
    let idempotency_key = header("idempotency-key").map(|k| k.trim().to_owned()).filter(|k| !k.is_empty());
    let declared_len = req.headers().get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let body = read_body(req.into_body(), declared_len).await;
    let incoming = Incoming { method: method.clone(), path: path.clone(), query, authorization, idempotency_key, body };
    let mut reply = routes::handle(&mut shared.lock(), &incoming);

    let mut shape = Shape::Whole;
    if let Some(f) = &fault {
        if f.drop == Some(Drop::After) {
            log(&format!("{} dropped (after)", reply.status));
            return Err(DropConnection);
        }
        if f.malformed {
            reply.body = Bytes::from(format!("{{\"id\": \"job_{}<<malformed", &request_id[4..]));
        }
        if f.truncate {
            shape = Shape::Truncated;
        }
    }
    log(&format!("{}{}", reply.status, if shape == Shape::Truncated { " (truncated)" } else if fault.is_some() { " (fault)" } else { "" }));
    Ok(finish(reply, &request_id, &shared, shape))
}

/// The answer of a fault with a `status` or a `huge_body`: its body (JSON or text), or a
/// standard error body (a huge body is made later, by `finish`).
fn fault_reply(f: &Fault, status: u16) -> Reply {
    let mut reply = match &f.body {
        _ if f.huge_body.is_some() => Reply { status, content_type: Some("application/json".into()), headers: Vec::new(), body: Bytes::new() },
        Some(Value::String(text)) => Reply { status, content_type: Some("text/plain; charset=utf-8".into()), headers: Vec::new(), body: Bytes::from(text.clone()) },
        Some(other) => Reply::json(status, other),
        None => Reply::json(status, &json!({"error": {"code": default_code(status), "message": format!("injected fault: HTTP {status}")}})),
    };
    if let Some(ct) = &f.content_type {
        reply.content_type = Some(ct.clone());
    }
    if let Some(s) = f.retry_after {
        reply = reply.header("retry-after", s.to_string());
    }
    reply
}

/// Reads a request body up to `MAX_BODY`; beyond, drains (up to a cap) and reports `TooLarge`.
async fn read_body(mut body: hyper::body::Incoming, declared_len: Option<u64>) -> Result<Bytes, BodyError> {
    if declared_len.is_some_and(|n| n > DRAIN_CAP as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut buf = BytesMut::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| BodyError::Unreadable)?;
        if let Ok(data) = frame.into_data() {
            seen = seen.saturating_add(data.len());
            if seen > DRAIN_CAP {
                return Err(BodyError::TooLarge);
            }
            if seen <= MAX_BODY {
                buf.extend_from_slice(&data);
            }
        }
    }
    if seen > MAX_BODY { Err(BodyError::TooLarge) } else { Ok(buf.freeze()) }
}

/// How the body of an answer goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Whole,
    /// Half of it, then the connection closes (the `truncate` fault).
    Truncated,
    /// This many bytes of padded JSON instead (the `huge_body` fault).
    Huge(u64),
}

/// Builds the hyper answer with the headers every answer carries.
fn finish(reply: Reply, request_id: &str, shared: &Shared, shape: Shape) -> Response<Body> {
    // The virtual clock's date, not hyper's wall-clock one (`clock::http_date`).
    let date = {
        let state = shared.lock();
        crate::clock::http_date(state.clock.wall_ms(state.clock.now_ms()))
    };
    let cors_origin = shared.cors_origin.as_str();
    let announced = match shape {
        Shape::Whole => None,
        Shape::Truncated => Some(reply.body.len() as u64),
        Shape::Huge(n) => Some(n),
    };
    let body = match shape {
        Shape::Whole => Body::full(reply.body),
        Shape::Truncated => Body::truncated(reply.body),
        Shape::Huge(n) => Body::huge(n),
    };
    let mut res = Response::new(body);
    *res.status_mut() = hyper::StatusCode::from_u16(reply.status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    let h = res.headers_mut();
    let mut put = |name: &str, value: &str| {
        // A value that cannot be a header (from a fault's content_type, say) is left out.
        if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
            h.append(n, v);
        }
    };
    put("date", &date);
    put("x-request-id", request_id);
    put("access-control-allow-origin", cors_origin);
    put("access-control-expose-headers", EXPOSE_HEADERS);
    if let Some(ct) = &reply.content_type {
        put("content-type", ct);
    }
    if let Some(n) = announced {
        // Truncated: the full length is announced and half is sent, so the client sees the
        // connection end mid-body, as with a real cut. Huge: the length is the whole point.
        put("content-length", &n.to_string());
    }
    for (name, value) in &reply.headers {
        put(name, value);
    }
    res
}

/// A response body: whole, cut in half then failed (which makes hyper close the connection),
/// or a huge padded JSON object made as it is sent (never held in memory at once).
#[derive(Debug)]
pub(crate) enum Body {
    Full(Option<Bytes>),
    Truncated { half: Option<Bytes>, pause: Option<Pin<Box<tokio::time::Sleep>>> },
    /// `{"pad": "xxx…"}`: the head not yet sent, the `x`s left, the tail not yet sent.
    Huge { head: bool, pad: u64, tail: bool },
}

const HUGE_HEAD: &[u8] = b"{\"pad\": \"";
const HUGE_TAIL: &[u8] = b"\"}";

impl Body {
    fn full(b: Bytes) -> Body {
        Body::Full(if b.is_empty() { None } else { Some(b) })
    }

    fn truncated(b: Bytes) -> Body {
        let half = b.slice(..b.len() / 2);
        // The pause lets hyper flush the half before the error closes the connection.
        Body::Truncated { half: Some(half), pause: Some(Box::pin(tokio::time::sleep(Duration::from_millis(50)))) }
    }

    /// `n` bytes in all (the fault's parser made sure `n` holds the head and tail).
    fn huge(n: u64) -> Body {
        Body::Huge { head: true, pad: n.saturating_sub((HUGE_HEAD.len() + HUGE_TAIL.len()) as u64), tail: true }
    }
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.get_mut() {
            Body::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            Body::Truncated { half, pause } => {
                if let Some(h) = half.take().filter(|h| !h.is_empty()) {
                    return Poll::Ready(Some(Ok(Frame::data(h))));
                }
                if let Some(p) = pause
                    && p.as_mut().poll(cx).is_pending()
                {
                    return Poll::Pending;
                }
                Poll::Ready(Some(Err(std::io::Error::other("truncated by an injected fault"))))
            }
            Body::Huge { head, pad, tail } => {
                let chunk = if std::mem::take(head) {
                    Bytes::from_static(HUGE_HEAD)
                } else if *pad > 0 {
                    let n = (*pad).min(HUGE_CHUNK as u64) as usize;
                    *pad -= n as u64;
                    Bytes::from_static(&PAD[..n])
                } else if std::mem::take(tail) {
                    Bytes::from_static(HUGE_TAIL)
                } else {
                    return Poll::Ready(None);
                };
                Poll::Ready(Some(Ok(Frame::data(chunk))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Body::Full(None) | Body::Huge { head: false, pad: 0, tail: false })
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            Body::Truncated { .. } => SizeHint::default(),
            Body::Huge { head, pad, tail } => {
                SizeHint::with_exact(*pad + if *head { HUGE_HEAD.len() as u64 } else { 0 } + if *tail { HUGE_TAIL.len() as u64 } else { 0 })
            }
        }
    }
}
