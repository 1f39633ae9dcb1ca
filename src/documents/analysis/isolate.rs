//! Runs [`analyse`](super::analyse) in a child process: this same binary, started as
//! `vecinal analyse-document`, with the file on standard input and the findings as JSON on
//! standard output.
//!
//! A thread cannot be stopped from outside, and a renderer stuck in a hostile PDF's content
//! stream, or inflating a decompression bomb, would keep its core and its memory for as long
//! as it likes. A process can: the child limits its own address space and CPU time before
//! reading anything ([`MEMORY_LIMIT`], the deadline), and the parent kills it at the
//! deadline. Whatever happens in the child — a panic, an abort on allocation failure, a
//! signal — the parent sees a failed reading and carries on.

use std::io::{Read, Write};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use super::Findings;
use super::render::NotRendered;
use crate::documents::sniff::MediaType;
use crate::domain::application::DocumentKind;

/// The child's address space: room for a 64-megapixel photo decoded and a few pages drawn.
pub const MEMORY_LIMIT: u64 = 1536 * 1024 * 1024;
/// The largest input the child reads, and the largest answer the parent reads.
const MAX_INPUT: u64 = 64 * 1024 * 1024;
const MAX_OUTPUT: u64 = 64 * 1024 * 1024;

/// The subcommand the child runs.
pub const SUBCOMMAND: &str = "analyse-document";

/// Analyses `bytes` in a child process started from `program`, killed after `timeout`.
/// The waiting happens on the blocking pool.
pub async fn analyse(
    program: &Path,
    kind: DocumentKind,
    media: MediaType,
    bytes: Vec<u8>,
    timeout: Duration,
) -> Findings {
    let program = program.to_path_buf();
    let ran = tokio::task::spawn_blocking(move || run_child(&program, kind, media, bytes, timeout)).await;
    match ran {
        Ok(Ok(findings)) => findings,
        Ok(Err(Failure::TimedOut)) => {
            tracing::warn!(kind = kind.as_str(), "document analysis ran out of time");
            Findings::failed(media, NotRendered::TooSlow)
        }
        Ok(Err(Failure::Other(e))) => {
            tracing::warn!(error = %e, kind = kind.as_str(), "document analysis failed");
            Findings::failed(media, NotRendered::Unreadable)
        }
        Err(e) => {
            tracing::warn!(error = %e, kind = kind.as_str(), "document analysis failed");
            Findings::failed(media, NotRendered::Unreadable)
        }
    }
}

enum Failure {
    TimedOut,
    Other(anyhow::Error),
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure::Other(e.into())
    }
}

/// Kills the child when dropped, whatever path leaves [`run_child`].
struct Reaper(std::process::Child);

impl Drop for Reaper {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

fn run_child(
    program: &Path,
    kind: DocumentKind,
    media: MediaType,
    bytes: Vec<u8>,
    timeout: Duration,
) -> Result<Findings, Failure> {
    let deadline = Instant::now() + timeout;
    let child = std::process::Command::new(program)
        .arg(SUBCOMMAND)
        .args(["--kind", kind.as_str(), "--media", media.as_str()])
        .arg("--seconds")
        .arg(timeout.as_secs().max(1).to_string())
        .env("RUST_LOG", "off")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut child = Reaper(child);
    let mut stdin = child.0.stdin.take().ok_or_else(|| anyhow::anyhow!("no stdin"))?;
    let mut stdout = child.0.stdout.take().ok_or_else(|| anyhow::anyhow!("no stdout"))?;
    // Writing and reading on their own threads: a child that stops reading its input, or
    // writes its answer before reading all of it, cannot block the other side.
    let writer = std::thread::spawn(move || stdin.write_all(&bytes));
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        (&mut stdout).take(MAX_OUTPUT).read_to_end(&mut out).map(|_| out)
    });
    let status = loop {
        if let Some(status) = child.0.try_wait()? {
            break status;
        }
        if Instant::now() >= deadline {
            // Killing the child closes its pipes, which ends both threads.
            drop(child);
            let _ = writer.join();
            let _ = reader.join();
            return Err(Failure::TimedOut);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = writer.join();
    let out = reader.join().map_err(|_| anyhow::anyhow!("the reader thread panicked"))??;
    if !status.success() {
        return Err(anyhow::anyhow!("the analysis process ended with {status}").into());
    }
    Ok(serde_json::from_slice(&out)?)
}

/// The child's side: limits itself, reads the file from standard input, writes the findings.
pub fn child_main(kind: &str, media: &str, seconds: u64) -> std::process::ExitCode {
    let (Ok(kind), Some(media)) = (kind.parse::<DocumentKind>(), MediaType::parse(media)) else {
        return std::process::ExitCode::from(2);
    };
    let deadline = Instant::now() + Duration::from_secs(seconds);
    // The CPU limit backs the parent's kill: the kernel stops a child the parent no longer
    // watches. The memory limit makes an allocation past it fail (an abort in Rust).
    if rlimit::setrlimit(rlimit::Resource::AS, MEMORY_LIMIT, MEMORY_LIMIT).is_err()
        || rlimit::setrlimit(rlimit::Resource::CPU, seconds + 2, seconds + 2).is_err()
    {
        return std::process::ExitCode::from(3);
    }
    let mut bytes = Vec::new();
    if std::io::stdin().lock().take(MAX_INPUT).read_to_end(&mut bytes).is_err() {
        return std::process::ExitCode::from(4);
    }
    let findings = super::analyse(kind, media, &bytes, deadline);
    let Ok(json) = serde_json::to_vec(&findings) else { return std::process::ExitCode::from(5) };
    let mut out = std::io::stdout().lock();
    if out.write_all(&json).and_then(|()| out.flush()).is_err() {
        return std::process::ExitCode::from(6);
    }
    std::process::ExitCode::SUCCESS
}
