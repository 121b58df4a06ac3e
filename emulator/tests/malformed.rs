//! Malformed HTTP over raw TCP: each case gets a 4xx (hyper's 400 / 431, or the emulator's own
//! 400 / 413) or a clean close; nothing panics, and a normal request is answered afterwards.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use usvideo_emulator::Emulator;

static PANICS: AtomicUsize = AtomicUsize::new(0);

/// What the emulator did with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Status(u16),
    /// EOF with no answer.
    Closed,
    /// A reset: the emulator closed while bytes it never read were still arriving.
    Reset,
}

/// Sends `bytes` (then half-closes if asked) and reads one answer, or the end of the connection.
fn exchange(addr: &str, bytes: &[u8], half_close: bool) -> Outcome {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // The emulator may answer and close before all is sent: a failed write is not a failure.
    let _ = s.write_all(bytes);
    if half_close {
        let _ = s.shutdown(Shutdown::Write);
    }
    let mut got = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                got.extend_from_slice(&buf[..n]);
                if answer_complete(&got) {
                    break;
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => panic!("neither answered nor closed: {:?}", String::from_utf8_lossy(&got)),
            Err(_) if got.is_empty() => return Outcome::Reset,
            Err(_) => break,
        }
    }
    let text = String::from_utf8_lossy(&got);
    match text.strip_prefix("HTTP/1.1 ").and_then(|t| t.get(..3)).and_then(|c| c.parse().ok()) {
        Some(code) => Outcome::Status(code),
        None if got.is_empty() => Outcome::Closed,
        None => panic!("not HTTP: {text:?}"),
    }
}

/// A head and as much body as its `content-length` says.
fn answer_complete(got: &[u8]) -> bool {
    let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") else { return false };
    let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
    let len: usize = head.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse().ok()).unwrap_or(0);
    got.len() >= end + 4 + len
}

fn post(path: &str, key: &str, extra_headers: &str, body: &[u8]) -> Vec<u8> {
    let mut v = format!("POST {path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {key}\r\nconnection: close\r\n{extra_headers}\r\n").into_bytes();
    v.extend_from_slice(body);
    v
}

#[test]
fn malformed_requests_get_a_4xx_or_a_close_and_never_take_it_down() {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        hook(info);
    }));
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let emu = rt.block_on(Emulator::builder().time_scale(0.0).start()).unwrap();
    let key = emu.create_account("raw@example.com", 5_000).api_key;
    let addr = emu.url().trim_start_matches("http://").to_owned();

    let mut junk = vec![0u8; 4096];
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for b in &mut junk {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    let big_header = format!("GET /v1/pricing HTTP/1.1\r\nhost: x\r\nx-big: {}\r\n\r\n", "a".repeat(100_000));
    let big_target = format!("GET /v1/{} HTTP/1.1\r\nhost: x\r\n\r\n", "a".repeat(100_000));
    let many_headers = format!("GET /v1/pricing HTTP/1.1\r\nhost: x\r\n{}\r\n", (0..200).map(|i| format!("x-h{i}: v\r\n")).collect::<String>());
    let over_a_mib = post("/v1/videos", &key, "content-type: application/json\r\ncontent-length: 2097152\r\n", &vec![b' '; 2 * 1024 * 1024]);

    // (case, bytes, half-close after sending, the answer expected: Some(status) or None for
    // "a 4xx or a close").
    let cases: Vec<(&str, Vec<u8>, bool, Option<u16>)> = vec![
        ("a bad request line", b"GARBAGE\r\n\r\n".to_vec(), false, Some(400)),
        ("a header without a colon", b"GET /v1/pricing HTTP/1.1\r\nhost: x\r\nNoColonHere\r\n\r\n".to_vec(), false, Some(400)),
        ("a 100 KB header line", big_header.into_bytes(), false, Some(431)),
        ("a 100 KB request target", big_target.into_bytes(), false, Some(431)),
        ("200 headers", many_headers.into_bytes(), false, Some(431)),
        ("a control character in a header value", b"GET /v1/pricing HTTP/1.1\r\nhost: x\r\nx-a: b\x01c\r\n\r\n".to_vec(), false, Some(400)),
        ("a NUL in the path", b"GET /v1/\x00 HTTP/1.1\r\nhost: x\r\n\r\n".to_vec(), false, Some(400)),
        ("an unknown HTTP version", b"GET /v1/pricing HTTP/9.9\r\nhost: x\r\n\r\n".to_vec(), false, Some(400)),
        ("the HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec(), false, None),
        ("binary junk", junk, false, Some(400)),
        ("a head cut short, then closed", b"GET /v1/pri".to_vec(), true, None),
        ("an invalid chunked body", post("/v1/videos", &key, "transfer-encoding: chunked\r\n", b"ZZZ\r\nhello\r\n0\r\n\r\n"), false, Some(400)),
        ("a chunk size that overflows", post("/v1/videos", &key, "transfer-encoding: chunked\r\n", b"FFFFFFFFFFFFFFFFFFFFFF\r\nx\r\n0\r\n\r\n"), false, Some(400)),
        ("a Content-Length that lies, then a close", post("/v1/videos", &key, "content-length: 1000\r\n", br#"{"prompt": "#), true, Some(400)),
        ("two different Content-Lengths", post("/v1/videos", &key, "content-length: 2\r\ncontent-length: 3\r\n", b"{}"), false, Some(400)),
        ("a Content-Length that is not a number", post("/v1/videos", &key, "content-length: abc\r\n", b"{}"), false, Some(400)),
        ("a Content-Length beyond u64", post("/v1/videos", &key, "content-length: 99999999999999999999999\r\n", b"{}"), false, Some(400)),
        ("a body over 1 MiB", over_a_mib, false, Some(413)),
    ];
    let normal = b"GET /v1/pricing HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n";
    for (name, bytes, half_close, expected) in cases {
        let got = exchange(&addr, &bytes, half_close);
        match (expected, got) {
            (Some(code), got) => assert_eq!(got, Outcome::Status(code), "{name}"),
            (None, Outcome::Status(code)) => assert!((400..500).contains(&code), "{name}: {code}"),
            (None, Outcome::Closed | Outcome::Reset) => {}
        }
        assert_eq!(exchange(&addr, normal, false), Outcome::Status(200), "a normal request after {name}");
    }
    // Nothing was charged by any of it.
    assert_eq!(emu.ledger()["accounts"][0]["jobs_created"], 0);
    assert_eq!(PANICS.load(Ordering::SeqCst), 0, "a panic in the emulator");
    drop(emu);
}
