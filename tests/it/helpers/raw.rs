//! HTTP/1.1 over a bare TCP socket, for what a well-behaved client never sends: bodies that
//! stop short or trickle in, malformed requests. Plus the server's own descriptors for the
//! connections on its port, read from /proc.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{PASSWORD, TestApp, cookie_value, csrf_from};

/// A signed-in browser's cookies and CSRF token, for requests written by hand.
#[derive(Clone)]
pub struct RawSession {
    /// The value of a `Cookie` header: session and CSRF cookies.
    pub cookie: String,
    pub csrf_token: String,
}

/// What a raw request got back within the time the test allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A status line, and the server closed the connection after it.
    AnsweredAndClosed(u16),
    /// A status line, the connection still open when the time was up.
    AnsweredOpen(u16),
    /// Closed (or reset) without an answer.
    Closed,
    /// Neither an answer nor a close.
    Hung,
}

impl Outcome {
    pub fn status(&self) -> Option<u16> {
        match self {
            Outcome::AnsweredAndClosed(s) | Outcome::AnsweredOpen(s) => Some(*s),
            _ => None,
        }
    }
}

impl TestApp {
    pub fn port(&self) -> u16 {
        self.address.rsplit(':').next().unwrap().parse().unwrap()
    }

    pub fn socket_addr(&self) -> String {
        self.address.trim_start_matches("http://").to_string()
    }

    /// Signs in the existing account `email` with a client that keeps no cookies, and returns
    /// the cookies and token a browser would then hold.
    pub async fn raw_session(&self, email: &str) -> RawSession {
        let c = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let res = c.get(self.url("/login")).send().await.unwrap();
        let csrf = cookie_value(res.headers(), "vecinal_csrf").expect("a CSRF cookie");
        let token = csrf_from(&res.text().await.unwrap()).expect("a CSRF token");
        let res = c
            .post(self.url("/login"))
            .header("cookie", format!("vecinal_csrf={csrf}"))
            .form(&[("csrf_token", token.as_str()), ("email", email), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{email} signs in");
        let session = cookie_value(res.headers(), "vecinal_session").expect("a session cookie");
        let csrf = cookie_value(res.headers(), "vecinal_csrf").unwrap_or(csrf);
        let cookie = format!("vecinal_session={session}; vecinal_csrf={csrf}");
        let html = c.get(self.url("/me")).header("cookie", &cookie).send().await.unwrap().text().await.unwrap();
        let csrf_token = csrf_from(&html).expect("a CSRF token on /me");
        RawSession { cookie, csrf_token }
    }

    /// Sends `request` as is on a new connection and waits up to `wait` for an answer and the
    /// server's close. The time is until the answer, or until the close when there was none.
    pub async fn raw(&self, request: &[u8], wait: Duration) -> (Outcome, Duration) {
        let start = Instant::now();
        let mut s = TcpStream::connect(self.socket_addr()).await.expect("connect");
        // A server may answer and close before reading all of it; that is fine.
        let _ = s.write_all(request).await;
        read_outcome(&mut s, start, wait).await
    }

    /// Sends `head`, then `body` in pieces of `piece` bytes every `every`, until the server
    /// answers or closes, or `wait` is up.
    pub async fn raw_drip(
        &self,
        head: &[u8],
        body: &[u8],
        piece: usize,
        every: Duration,
        wait: Duration,
    ) -> (Outcome, Duration) {
        let start = Instant::now();
        let s = TcpStream::connect(self.socket_addr()).await.expect("connect");
        let (mut r, mut w) = s.into_split();
        w.write_all(head).await.expect("send the head");
        let body = body.to_vec();
        let writer = tokio::spawn(async move {
            for chunk in body.chunks(piece.max(1)) {
                if w.write_all(chunk).await.is_err() {
                    return w;
                }
                tokio::time::sleep(every).await;
            }
            w
        });
        let outcome = read_outcome(&mut r, start, wait).await;
        writer.abort();
        outcome
    }
}

async fn read_outcome(r: &mut (impl AsyncReadExt + Unpin), start: Instant, wait: Duration) -> (Outcome, Duration) {
    let deadline = tokio::time::Instant::from_std(start + wait);
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let mut answered_at = None;
    loop {
        match tokio::time::timeout_at(deadline, r.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                return match status_of(&got) {
                    Some(s) => (Outcome::AnsweredAndClosed(s), answered_at.unwrap_or_else(|| start.elapsed())),
                    None => (Outcome::Closed, start.elapsed()),
                };
            }
            Ok(Ok(n)) => {
                got.extend_from_slice(&buf[..n]);
                if answered_at.is_none() && status_of(&got).is_some() {
                    answered_at = Some(start.elapsed());
                }
            }
            Err(_) => {
                return match status_of(&got) {
                    Some(s) => (Outcome::AnsweredOpen(s), answered_at.unwrap_or(wait)),
                    None => (Outcome::Hung, start.elapsed()),
                };
            }
        }
    }
}

/// The status code of the first response in `bytes`, once its status line is complete.
pub fn status_of(bytes: &[u8]) -> Option<u16> {
    let line_end = bytes.windows(2).position(|w| w == b"\r\n")?;
    let line = std::str::from_utf8(&bytes[..line_end]).ok()?;
    let mut parts = line.split(' ');
    if !parts.next()?.starts_with("HTTP/1.") {
        return None;
    }
    parts.next()?.parse().ok()
}

/// How many open descriptors of this process are the server's end of a TCP connection on
/// `port` (the listening socket not counted). The tests run in one process with many
/// servers; counting only this server's port keeps the others' sockets out of the count.
pub fn server_connection_fds(port: u16) -> usize {
    // 0A is LISTEN.
    let inodes = server_sockets(port, |state| state != "0A");
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter_map(|target| {
            let t = target.to_string_lossy().into_owned();
            Some(t.strip_prefix("socket:[")?.strip_suffix(']')?.to_string())
        })
        .filter(|inode| inodes.contains(inode))
        .count()
}

/// How many of the server's connections on `port` are in CLOSE-WAIT: the client has gone
/// and the server still holds the socket.
pub fn server_close_wait(port: u16) -> usize {
    // 08 is CLOSE_WAIT.
    server_sockets(port, |state| state == "08").len()
}

/// Waits up to `within` for no connection on `port` to be in CLOSE-WAIT; the count at the end.
pub async fn close_wait_settles(port: u16, within: Duration) -> usize {
    let end = Instant::now() + within;
    loop {
        let n = server_close_wait(port);
        if n == 0 || Instant::now() >= end {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The inodes of the sockets whose local port is `port`, in a TCP state `wanted` accepts
/// (the hexadecimal state column of /proc/net/tcp).
fn server_sockets(port: u16, wanted: impl Fn(&str) -> bool) -> HashSet<String> {
    let mut inodes = HashSet::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else { continue };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 10 {
                continue;
            }
            let local_port = f[1].rsplit(':').next().and_then(|p| u16::from_str_radix(p, 16).ok());
            if local_port == Some(port) && wanted(f[3]) {
                inodes.insert(f[9].to_string());
            }
        }
    }
    inodes
}

/// Waits up to `within` for the server's connections on `port` to fall to `level`; the
/// count at the end.
pub async fn connections_settle(port: u16, level: usize, within: Duration) -> usize {
    let end = Instant::now() + within;
    loop {
        let n = server_connection_fds(port);
        if n <= level || Instant::now() >= end {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A multipart body with `boundary`: the CSRF token first, then `fields` as text parts,
/// then `files` (name, filename, bytes), then the closing boundary.
pub fn multipart_body(boundary: &str, token: &str, fields: &[(&str, &str)], files: &[(&str, &str, &[u8])]) -> Vec<u8> {
    let mut b = Vec::new();
    let mut text = |name: &str, value: &str| {
        b.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    };
    text("csrf_token", token);
    for (n, v) in fields {
        text(n, v);
    }
    for (n, filename, bytes) in files {
        b.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{n}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        b.extend_from_slice(bytes);
        b.extend_from_slice(b"\r\n");
    }
    b.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    b
}

/// A POST of `body` to `path` with an exact Content-Length, as `session`.
pub fn raw_post(app: &TestApp, session: &RawSession, path: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nContent-Type: {content_type}\r\nContent-Length: {len}\r\n\r\n",
        host = app.socket_addr(),
        cookie = session.cookie,
        len = body.len(),
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}
