//! Structured input from raw fuzz bytes: a cursor that never fails (it reads zeros once the bytes
//! run out), and the decoders of an HTTP response and of a JSON value built from it.
//!
//! The response encoding (also written by `scripts/fuzz-seeds.py`-style seeders, see
//! `fuzz/README.md`): one byte `s`; if `s & 0x80` the status follows as a big-endian `u16`, else it
//! is 200. Then one byte `n` (headers: `n % 8`), each header a name (one byte `i`: a known name
//! `KNOWN_HEADERS[i]` when `i < KNOWN_HEADERS.len()`, else a length byte and the name's bytes)
//! and a value (a length byte and the bytes, read as lossy UTF-8). The rest is the body.

use usvideo_core::{Header, HttpResponse};

/// A forgiving reader over the fuzz input.
pub struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Cursor { data, pos: 0 }
    }

    /// The input's whole length.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether every byte was read.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// The next byte (0 past the end).
    pub fn u8(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos = (self.pos + 1).min(self.data.len());
        b
    }

    /// The next two bytes, big-endian.
    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }

    /// The next four bytes, big-endian.
    pub fn u32(&mut self) -> u32 {
        u32::from_be_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    /// The next eight bytes, big-endian.
    pub fn u64(&mut self) -> u64 {
        (u64::from(self.u32()) << 32) | u64::from(self.u32())
    }

    /// A coin.
    pub fn bool(&mut self) -> bool {
        self.u8() & 1 == 1
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { usize::from(self.u8()) % n }
    }

    /// One of `items` (which must not be empty).
    pub fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        let i = self.below(items.len());
        items[i].clone()
    }

    /// Up to `n` bytes.
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let end = self.pos.saturating_add(n).min(self.data.len());
        let out = &self.data[self.pos..end];
        self.pos = end;
        out
    }

    /// A length byte, then that many bytes.
    pub fn short_bytes(&mut self) -> &'a [u8] {
        let n = usize::from(self.u8());
        self.bytes(n)
    }

    /// A length byte, then that many bytes as lossy UTF-8.
    pub fn short_str(&mut self) -> String {
        String::from_utf8_lossy(self.short_bytes()).into_owned()
    }

    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        let out = &self.data[self.pos..];
        self.pos = self.data.len();
        out
    }
}

/// Header names worth hitting often (one byte picks one).
pub const KNOWN_HEADERS: &[&str] = &["retry-after", "Retry-After", "date", "Date", "x-request-id", "X-Request-Id", "content-type", "RETRY-AFTER", "DATE"];

/// An HTTP response (see the module docs for the encoding).
pub fn response(c: &mut Cursor<'_>) -> HttpResponse {
    let s = c.u8();
    let status = if s & 0x80 != 0 { c.u16() } else { 200 };
    let n = c.u8() % 8;
    let headers = (0..n)
        .map(|_| {
            let i = usize::from(c.u8());
            let name = KNOWN_HEADERS.get(i).map_or_else(|| c.short_str(), |n| (*n).to_owned());
            Header::new(name, c.short_str())
        })
        .collect();
    HttpResponse { status, headers, body: c.rest().to_vec() }
}

/// The encoding of a response, as [`response`] reads it (for seeds and tests).
pub fn encode_response(resp: &HttpResponse) -> Vec<u8> {
    let mut out = Vec::new();
    if resp.status == 200 {
        out.push(0);
    } else {
        out.push(0x80);
        out.extend_from_slice(&resp.status.to_be_bytes());
    }
    let headers: Vec<&Header> = resp.headers.iter().take(7).collect();
    out.push(u8::try_from(headers.len()).unwrap_or(0));
    for h in headers {
        match KNOWN_HEADERS.iter().position(|k| *k == h.name) {
            Some(i) => out.push(u8::try_from(i).unwrap_or(0)),
            None => {
                out.push(0xFF);
                push_short(&mut out, h.name.as_bytes());
            }
        }
        push_short(&mut out, h.value.as_bytes());
    }
    out.extend_from_slice(&resp.body);
    out
}

fn push_short(out: &mut Vec<u8>, bytes: &[u8]) {
    let bytes = &bytes[..bytes.len().min(255)];
    out.push(u8::try_from(bytes.len()).unwrap_or(0));
    out.extend_from_slice(bytes);
}

/// A JSON value built from the input, biased towards the shapes the SDK reads: objects keyed by
/// `keys`, numbers at the edges of every integer type, strings, nesting up to `depth`.
pub fn json_value(c: &mut Cursor<'_>, keys: &[&str], depth: u32) -> serde_json::Value {
    use serde_json::{Map, Number, Value};
    let kind = c.u8() % if depth == 0 { 8 } else { 10 };
    match kind {
        0 => Value::Null,
        1 => Value::Bool(c.bool()),
        2 => Value::Number(Number::from(c.pick(&[0u64, 1, 5, 10, 11, 100, 101, 4_294_967_295, 4_294_967_296, u64::MAX]))),
        3 => Value::Number(Number::from(c.pick(&[-1i64, i64::MIN, -5]))),
        4 => Number::from_f64(c.pick(&[5.0, 5.5, 0.06, 1e20, -1e20, 1e300, 0.0, -0.0, 2.5e-1])).map_or(Value::Null, Value::Number),
        5 => Value::Number(Number::from(c.u64() >> c.below(64))),
        6 => Value::String(c.pick(&["", " ", "a lake at dawn", "text_to_video", "image_to_video", "reference", "720p", "1080p", "2k", "2K", "https://example.com/a.png", "ftp://x", "5"]).to_owned()),
        7 => Value::String(c.short_str()),
        8 => Value::Array((0..c.below(4)).map(|_| json_value(c, keys, depth - 1)).collect()),
        _ => {
            let mut m = Map::new();
            for _ in 0..c.below(8) {
                let k = if keys.is_empty() || c.u8() >= 224 { c.short_str() } else { c.pick(keys).to_owned() };
                let v = json_value(c, keys, depth - 1);
                m.insert(k, v);
            }
            Value::Object(m)
        }
    }
}
