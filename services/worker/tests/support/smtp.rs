//! A small SMTP server for the tests, on a loopback port: it speaks enough of RFC 5321 for
//! lettre (EHLO, AUTH PLAIN and LOGIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT), keeps every
//! message it accepts, and can be told to refuse messages with a transient `451`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// A message the sink accepted.
#[derive(Debug, Clone)]
pub struct Received {
    /// The envelope sender.
    pub from: String,
    /// The envelope recipients.
    pub to: Vec<String>,
    /// The user that authenticated, if any.
    pub auth: Option<String>,
    /// The message as transmitted (headers and body, dot-stuffing removed).
    pub data: String,
}

fn b64(s: &str) -> String {
    STANDARD
        .decode(s.split_whitespace().collect::<String>())
        .ok()
        .and_then(|v| String::from_utf8(v).ok())
        .unwrap_or_default()
}

impl Received {
    fn head(&self) -> &str {
        self.data.split("\r\n\r\n").next().unwrap_or("")
    }

    /// A header's raw value, unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let unfolded = self.head().replace("\r\n ", " ").replace("\r\n\t", " ");
        unfolded.split("\r\n").find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    }

    /// The Message-ID.
    pub fn message_id(&self) -> String {
        self.header("Message-ID").unwrap_or_default()
    }

    /// The subject, with RFC 2047 `B` encoded words decoded (white space between two
    /// encoded words is dropped, as the RFC says).
    pub fn subject(&self) -> String {
        let raw = self.header("Subject").unwrap_or_default();
        let mut out = String::new();
        let mut previous_encoded = None;
        for word in raw.split_whitespace() {
            let lower = word.to_ascii_lowercase();
            let encoded = lower.starts_with("=?utf-8?b?") && word.ends_with("?=");
            if previous_encoded.is_some() && !(encoded && previous_encoded == Some(true)) {
                out.push(' ');
            }
            if encoded {
                out.push_str(&b64(&word[10..word.len() - 2]));
            } else {
                out.push_str(word);
            }
            previous_encoded = Some(encoded);
        }
        out
    }

    /// The plain-text body, decoded from base64 when so encoded (the `text/plain` part of a
    /// `multipart/alternative` message).
    pub fn body(&self) -> String {
        self.part("text/plain")
    }

    /// The HTML alternative, if the message has one.
    pub fn html(&self) -> String {
        self.part("text/html")
    }

    fn part(&self, mime: &str) -> String {
        let body = self.data.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        let content_type = self.header("Content-Type").unwrap_or_default();
        let Some(boundary) = content_type
            .split(';')
            .find_map(|p| p.trim().strip_prefix("boundary="))
            .map(|b| b.trim_matches('"').to_owned())
        else {
            return match self.header("Content-Transfer-Encoding") {
                Some(e) if e.eq_ignore_ascii_case("base64") => b64(body),
                _ if content_type.is_empty() || content_type.starts_with(mime) => body.to_owned(),
                _ => String::new(),
            };
        };
        for part in body.split(&format!("--{boundary}")) {
            let Some((head, content)) = part.split_once("\r\n\r\n") else {
                continue;
            };
            let head = head.to_ascii_lowercase();
            if head.contains(&format!("content-type: {mime}")) {
                return if head.contains("content-transfer-encoding: base64") {
                    b64(content)
                } else {
                    content.to_owned()
                };
            }
        }
        String::new()
    }
}

#[derive(Default)]
struct State {
    messages: std::sync::Mutex<Vec<Received>>,
    arrived: Notify,
    fail_next: AtomicUsize,
    fail_always: AtomicBool,
    rejected: AtomicUsize,
    /// Milliseconds to wait before answering a transmitted message.
    delay_ms: std::sync::atomic::AtomicU64,
    credentials: Option<(String, String)>,
}

/// The running sink; it stops when dropped.
pub struct SmtpSink {
    addr: SocketAddr,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SmtpSink {
    /// A sink that accepts everything, without authentication.
    pub async fn start() -> Self {
        Self::start_inner(None).await
    }

    /// A sink that requires `AUTH` with these credentials.
    pub async fn with_credentials(user: &str, password: &str) -> Self {
        Self::start_inner(Some((user.to_owned(), password.to_owned()))).await
    }

    async fn start_inner(credentials: Option<(String, String)>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State {
            credentials,
            ..State::default()
        });
        let s = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let s = s.clone();
                tokio::spawn(async move {
                    let _ = session(stream, s).await;
                });
            }
        });
        Self { addr, state, task }
    }

    /// `smtp://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Refuses the next `n` messages with `451`.
    pub fn fail_next(&self, n: usize) {
        self.state.fail_next.store(n, Ordering::SeqCst);
    }

    /// Refuses every message with `451` while set.
    pub fn fail_always(&self, on: bool) {
        self.state.fail_always.store(on, Ordering::SeqCst);
    }

    /// Answers each message only `delay` after it was transmitted: a slow server.
    pub fn slow(&self, delay: Duration) {
        let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.state.delay_ms.store(ms, Ordering::SeqCst);
    }

    /// How many messages were refused.
    pub fn rejected(&self) -> usize {
        self.state.rejected.load(Ordering::SeqCst)
    }

    /// The messages accepted so far.
    pub fn messages(&self) -> Vec<Received> {
        self.state.messages.lock().unwrap().clone()
    }

    /// Waits, at most `limit`, until `n` messages were accepted, and returns them all.
    pub async fn wait_for(&self, n: usize, limit: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let arrived = self.state.arrived.notified();
            let now = self.messages();
            if now.len() >= n {
                return now;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return self.messages();
            }
        }
    }
}

async fn session(stream: TcpStream, state: Arc<State>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink.test ESMTP ready\r\n").await?;
    let mut from = String::new();
    let mut to = Vec::new();
    let mut authed: Option<String> = None;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end_matches(['\r', '\n']).to_owned();
        let upper = cmd.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") {
            "250-sink.test\r\n250-8BITMIME\r\n250-AUTH PLAIN LOGIN\r\n250 SIZE 10485760\r\n".into()
        } else if upper.starts_with("HELO") {
            "250 sink.test\r\n".into()
        } else if upper.starts_with("AUTH PLAIN") {
            let initial = cmd[10..].trim().to_owned();
            let response = if initial.is_empty() {
                write.write_all(b"334 \r\n").await?;
                line.clear();
                lines.read_line(&mut line).await?;
                line.trim().to_owned()
            } else {
                initial
            };
            let decoded = b64(&response);
            let mut parts = decoded.split('\0');
            let _authzid = parts.next();
            let user = parts.next().unwrap_or_default().to_owned();
            let pass = parts.next().unwrap_or_default().to_owned();
            check_auth(&state, user, pass, &mut authed)
        } else if upper.starts_with("AUTH LOGIN") {
            write.write_all(b"334 VXNlcm5hbWU6\r\n").await?;
            line.clear();
            lines.read_line(&mut line).await?;
            let user = b64(line.trim());
            write.write_all(b"334 UGFzc3dvcmQ6\r\n").await?;
            line.clear();
            lines.read_line(&mut line).await?;
            let pass = b64(line.trim());
            check_auth(&state, user, pass, &mut authed)
        } else if upper.starts_with("MAIL FROM:") {
            if state.credentials.is_some() && authed.is_none() {
                "530 5.7.0 Authentication required\r\n".into()
            } else {
                from = cmd[10..].trim().trim_matches(['<', '>']).to_owned();
                to.clear();
                "250 2.1.0 OK\r\n".into()
            }
        } else if upper.starts_with("RCPT TO:") {
            to.push(cmd[8..].trim().trim_matches(['<', '>']).to_owned());
            "250 2.1.5 OK\r\n".into()
        } else if upper == "DATA" {
            write
                .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                .await?;
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                let l = line.strip_prefix('.').unwrap_or(&line);
                data.push_str(l);
            }
            let delay = state.delay_ms.load(Ordering::SeqCst);
            if delay > 0 {
                tokio::time::sleep(Duration::from_millis(delay)).await;
            }
            let refuse = state.fail_always.load(Ordering::SeqCst)
                || state
                    .fail_next
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
            if refuse {
                state.rejected.fetch_add(1, Ordering::SeqCst);
                "451 4.3.0 Try again later\r\n".into()
            } else {
                state.messages.lock().unwrap().push(Received {
                    from: from.clone(),
                    to: to.clone(),
                    auth: authed.clone(),
                    data: data.trim_end_matches("\r\n").to_owned(),
                });
                state.arrived.notify_waiters();
                "250 2.0.0 OK queued\r\n".into()
            }
        } else if upper == "RSET" {
            from.clear();
            to.clear();
            "250 2.0.0 OK\r\n".into()
        } else if upper == "NOOP" {
            "250 2.0.0 OK\r\n".into()
        } else if upper == "QUIT" {
            write.write_all(b"221 2.0.0 Bye\r\n").await?;
            return Ok(());
        } else {
            "502 5.5.2 Command not recognized\r\n".into()
        };
        write.write_all(reply.as_bytes()).await?;
    }
}

fn check_auth(state: &State, user: String, pass: String, authed: &mut Option<String>) -> String {
    match &state.credentials {
        Some((u, p)) if *u == user && *p == pass => {
            *authed = Some(user);
            "235 2.7.0 Authentication successful\r\n".into()
        }
        _ => "535 5.7.8 Authentication credentials invalid\r\n".into(),
    }
}
