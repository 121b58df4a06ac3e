//! `usvideo-emulator`: the emulator as a process, for SDK tests in any language.
//!
//! The first line on stdout is exactly `usvideo-emulator listening on http://HOST:PORT`; logs go
//! to stderr. Stops on SIGTERM/SIGINT, and when stdin closes with `--exit-on-stdin-close` (so a
//! test harness that dies never leaves an orphan behind).

use std::io::Write;
use usvideo_emulator::{Emulator, LimiterMode};

const USAGE: &str = "usage: usvideo-emulator [--host 127.0.0.1] [--port 8080] [--time-scale F] [--seed N] \
[--limiter lenient|strict] [--exit-on-stdin-close] [--cors-origin ORIGIN] [--state-file PATH]";

struct Options {
    host: String,
    port: u16,
    time_scale: f64,
    seed: u64,
    limiter: LimiterMode,
    exit_on_stdin_close: bool,
    cors_origin: String,
    state_file: Option<String>,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Options, String> {
    let mut o = Options { host: "127.0.0.1".into(), port: 8080, time_scale: 1.0, seed: 1, limiter: LimiterMode::Lenient, exit_on_stdin_close: false, cors_origin: "*".into(), state_file: None };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        // Both `--flag value` and `--flag=value`.
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |what: &str| inline.clone().or_else(|| args.next()).ok_or_else(|| format!("{name} needs {what}"));
        match name.as_str() {
            "--host" => o.host = value("a host")?,
            "--port" => o.port = value("a port")?.parse().map_err(|_| "--port needs a number from 0 to 65535".to_owned())?,
            "--time-scale" => {
                o.time_scale = value("a number")?.parse().map_err(|_| "--time-scale needs a number".to_owned())?;
                if !(o.time_scale.is_finite() && o.time_scale >= 0.0) {
                    return Err("--time-scale needs a number of 0 or more".into());
                }
            }
            "--seed" => o.seed = value("a number")?.parse().map_err(|_| "--seed needs a non-negative integer".to_owned())?,
            "--limiter" => o.limiter = value("lenient or strict")?.parse()?,
            "--cors-origin" => o.cors_origin = value("an origin")?,
            "--state-file" => {
                let path = value("a path")?;
                if path.is_empty() {
                    return Err("--state-file needs a path".into());
                }
                o.state_file = Some(path);
            }
            "--exit-on-stdin-close" if inline.is_none() => o.exit_on_stdin_close = true,
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(o)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return;
    }
    let o = match parse_args(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("usvideo-emulator: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let mut builder = Emulator::builder()
        .host(o.host)
        .port(o.port)
        .time_scale(o.time_scale)
        .seed(o.seed)
        .limiter(o.limiter)
        .cors_origin(o.cors_origin)
        .log_requests(true);
    if let Some(path) = o.state_file {
        builder = builder.state_file(path);
    }
    let started = builder.start().await;
    let emu = match started {
        Ok(e) => e,
        Err(e) => {
            eprintln!("usvideo-emulator: cannot start: {e}");
            std::process::exit(1);
        }
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "usvideo-emulator listening on {}", emu.url());
    let _ = out.flush();
    drop(out);

    let reason = wait_for_stop(o.exit_on_stdin_close).await;
    eprintln!("usvideo-emulator: stopping ({reason})");
    emu.shutdown().await;
    // Exit at once: a thread blocked reading stdin must not keep the process alive.
    std::process::exit(0);
}

/// Waits for SIGINT, SIGTERM, or (if asked) the end of stdin.
async fn wait_for_stop(watch_stdin: bool) -> &'static str {
    let (tx, stdin_closed) = tokio::sync::oneshot::channel::<()>();
    if watch_stdin {
        // A plain thread: tokio's stdin would hold the runtime open on exit.
        std::thread::spawn(move || {
            let mut sink = [0u8; 1024];
            let mut stdin = std::io::stdin().lock();
            while let Ok(n) = std::io::Read::read(&mut stdin, &mut sink) {
                if n == 0 {
                    break;
                }
            }
            let _ = tx.send(());
        });
    } else {
        std::mem::forget(tx); // never fires
    }
    let stdin = async {
        if stdin_closed.await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "SIGINT",
        _ = sigterm() => "SIGTERM",
        _ = stdin => "stdin closed",
    }
}

#[cfg(unix)]
async fn sigterm() {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut s) => {
            s.recv().await;
        }
        Err(_) => std::future::pending().await,
    }
}

#[cfg(not(unix))]
async fn sigterm() {
    std::future::pending().await
}
