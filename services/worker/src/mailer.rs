//! Sending mail over SMTP with lettre.
//!
//! The server is given as one URL (`MEMBERFLOW_SMTP_URL`):
//!
//! - `smtp://host:25` plain SMTP (a local relay or a test sink);
//! - `smtp://user:password@host:587?tls=starttls` STARTTLS, required (`tls=required` is the
//!   same; `tls=opportunistic` upgrades only when the server offers it);
//! - `smtps://user:password@host:465` TLS from the first byte.
//!
//! User and password are percent-decoded and used for `AUTH` when both are given. The URL is
//! never logged: only `host:port` is. TLS uses rustls with the Mozilla roots (no OpenSSL).
//!
//! Every mail gets a stable Message-ID, `<outbox-{id}@{domain of the sender}>`: a row retried
//! after an uncertain failure is sent again with the same id, so that mail clients and
//! archives can recognise the duplicate (SMTP delivery is at least once).

use std::time::Duration;

use lettre::message::header::{ContentTransferEncoding, ContentType, HeaderName, HeaderValue};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use memberflow_workflow::text::Lang;

use crate::error::{Result, WorkerError};

/// One mail, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// The outbox row it comes from: its Message-ID.
    pub outbox_id: i64,
    /// The recipients (the holders of the role it is addressed to).
    pub to: Vec<Mailbox>,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
    /// The same as HTML, sent as an alternative to the text.
    pub html: Option<String>,
    /// The language it is written in (the `Content-Language` header).
    pub lang: Lang,
}

/// Why a mail was not sent, in English, without secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    /// What happened.
    pub message: String,
    /// Whether the server refused for good (a 5xx reply); otherwise it may work later.
    pub permanent: bool,
}

/// The SMTP transport, the sender and the Message-ID domain.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    domain: String,
    endpoint: String,
}

impl std::fmt::Debug for Mailer {
    // The transport holds the credentials: show only where it sends.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("endpoint", &self.endpoint)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

/// The URL lettre understands, and `host:port` for the logs.
fn normalize(url: &str) -> std::result::Result<(String, String), Vec<String>> {
    let url = url.trim();
    let mut problems = Vec::new();
    let (scheme, rest) = match url.split_once("://") {
        Some((s @ ("smtp" | "smtps"), rest)) => (s, rest),
        _ => {
            return Err(vec![
                "smtp_url (MEMBERFLOW_SMTP_URL) must start with smtp:// or smtps://".into(),
            ]);
        }
    };
    let (base, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let authority = base.split('/').next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    if host_port.is_empty() || host_port.starts_with(':') {
        problems.push("smtp_url (MEMBERFLOW_SMTP_URL) has no host".into());
    }
    let mut tls: Option<&str> = None;
    for pair in query.into_iter().flat_map(|q| q.split('&')) {
        if pair.is_empty() {
            continue;
        }
        match pair.split_once('=') {
            Some(("tls", v)) => match (scheme, v) {
                ("smtp", "none") => tls = None,
                ("smtp", "starttls" | "required") => tls = Some("required"),
                ("smtp", "opportunistic") => tls = Some("opportunistic"),
                ("smtps", _) => problems.push(
                    "smtp_url: smtps:// is TLS from the start; leave out the tls parameter".into(),
                ),
                (_, other) => problems.push(format!(
                    "smtp_url: tls={other} is not one of none, starttls, required, opportunistic"
                )),
            },
            _ => {
                let name = pair.split('=').next().unwrap_or(pair);
                problems.push(format!("smtp_url: unknown parameter `{name}` (only tls)"));
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let default_port = match (scheme, tls) {
        ("smtps", _) => 465,
        (_, Some(_)) => 587,
        _ => 25,
    };
    let endpoint = if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:{default_port}")
    };
    let normalized = match tls {
        Some(t) => format!("{scheme}://{base}?tls={t}"),
        None => format!("{scheme}://{base}"),
    };
    Ok((normalized, endpoint))
}

impl Mailer {
    /// A mailer for `smtp_url`, sending as `mail_from` (`Name <address>` or a bare address),
    /// with a 30-second timeout per SMTP command.
    pub fn new(smtp_url: &str, mail_from: &str) -> Result<Self> {
        Self::with_timeout(smtp_url, mail_from, Duration::from_secs(30))
    }

    /// The same with another timeout.
    pub fn with_timeout(smtp_url: &str, mail_from: &str, timeout: Duration) -> Result<Self> {
        let mut problems = Vec::new();
        let from = match mail_from.trim().parse::<Mailbox>() {
            Ok(m) => Some(m),
            Err(e) => {
                problems.push(format!(
                    "mail_from (MEMBERFLOW_MAIL_FROM): `{mail_from}` is not an e-mail address ({e})"
                ));
                None
            }
        };
        let transport = match normalize(smtp_url) {
            Ok((url, endpoint)) => match AsyncSmtpTransport::<Tokio1Executor>::from_url(&url) {
                Ok(b) => Some((b.timeout(Some(timeout)).build(), endpoint)),
                Err(e) => {
                    problems.push(format!("smtp_url (MEMBERFLOW_SMTP_URL): {e}"));
                    None
                }
            },
            Err(ps) => {
                problems.extend(ps);
                None
            }
        };
        match (transport, from) {
            (Some((transport, endpoint)), Some(from)) if problems.is_empty() => {
                let domain = from.email.domain().to_owned();
                Ok(Self {
                    transport,
                    from,
                    domain,
                    endpoint,
                })
            }
            _ => Err(WorkerError::MailConfig(problems)),
        }
    }

    /// `host:port` of the SMTP server (for logs).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The sender.
    pub fn from(&self) -> &Mailbox {
        &self.from
    }

    /// The Message-ID of the mail of outbox row `id`: the same on every attempt.
    pub fn message_id(&self, outbox_id: i64) -> String {
        format!("<outbox-{outbox_id}@{}>", self.domain)
    }

    /// Builds the message: plain text in UTF-8, base64-encoded (with an HTML alternative when
    /// the mail has one), with its stable Message-ID and the headers that tell auto-responders
    /// to stay quiet.
    pub fn message(&self, mail: &Mail) -> std::result::Result<Message, SendError> {
        let encode = |text: &str| {
            Body::new_with_encoding(text.to_owned(), ContentTransferEncoding::Base64).map_err(
                |_| SendError {
                    message: "the body cannot be encoded".into(),
                    permanent: true,
                },
            )
        };
        let lang = match mail.lang {
            Lang::Vi => "vi",
            Lang::En => "en",
        };
        if mail.to.is_empty() {
            return Err(SendError {
                message: "the mail has no recipient".into(),
                permanent: true,
            });
        }
        let mut b = Message::builder()
            .message_id(Some(self.message_id(mail.outbox_id)))
            .from(self.from.clone())
            .subject(mail.subject.clone())
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Content-Language"),
                lang.into(),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                "auto-generated".into(),
            ));
        for to in &mail.to {
            b = b.to(to.clone());
        }
        let built = match &mail.html {
            None => b.header(ContentType::TEXT_PLAIN).body(encode(&mail.body)?),
            Some(html) => b.multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(encode(&mail.body)?),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(encode(html)?),
                    ),
            ),
        };
        built.map_err(|e| SendError {
            message: format!("the message cannot be built: {e}"),
            permanent: true,
        })
    }

    /// Sends `mail`. An error says whether trying again may help.
    pub async fn send(&self, mail: &Mail) -> std::result::Result<(), SendError> {
        let message = self.message(mail)?;
        match self.transport.send(message).await {
            Ok(_) => {
                tracing::debug!(outbox = mail.outbox_id, smtp = %self.endpoint, "mail accepted");
                Ok(())
            }
            Err(e) => Err(SendError {
                message: format!("SMTP {}: {e}", self.endpoint),
                permanent: e.is_permanent(),
            }),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_normalized_for_lettre_and_logged_without_credentials() {
        let (u, e) = normalize("smtp://127.0.0.1:2525").unwrap();
        assert_eq!(
            (u.as_str(), e.as_str()),
            ("smtp://127.0.0.1:2525", "127.0.0.1:2525")
        );
        let (u, e) = normalize("smtp://me:s%40cret@mail.example.vn?tls=starttls").unwrap();
        assert_eq!(u, "smtp://me:s%40cret@mail.example.vn?tls=required");
        assert_eq!(e, "mail.example.vn:587");
        let (u, e) = normalize("smtps://me:pw@mail.example.vn").unwrap();
        assert_eq!(u, "smtps://me:pw@mail.example.vn");
        assert_eq!(e, "mail.example.vn:465");
    }

    #[test]
    fn bad_urls_are_refused_without_echoing_them() {
        for bad in [
            "http://x",
            "smtp://",
            "smtp://h?tls=maybe",
            "smtp://h?port=2",
            "smtps://h?tls=starttls",
        ] {
            let e = normalize(bad).unwrap_err();
            assert!(!e.is_empty(), "{bad}");
        }
        let e = Mailer::new("smtp://user:hunter2@?tls=bogus", "not an address").unwrap_err();
        let text = e.to_string();
        assert!(!text.contains("hunter2"), "{text}");
        assert!(
            text.contains("mail_from") && text.contains("smtp_url"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn the_message_id_is_stable_and_uses_the_sender_domain() {
        let m = Mailer::new("smtp://127.0.0.1:1", "Memberflow <noreply@dang.example.vn>").unwrap();
        assert_eq!(m.message_id(42), "<outbox-42@dang.example.vn>");
        let mut mail = Mail {
            outbox_id: 42,
            to: vec![
                "bt@example.vn".parse().unwrap(),
                "pbt@example.vn".parse().unwrap(),
            ],
            subject: "Nhắc việc".into(),
            body: "Xin chào".into(),
            html: None,
            lang: Lang::Vi,
        };
        let a = String::from_utf8(m.message(&mail).unwrap().formatted()).unwrap();
        let b = String::from_utf8(m.message(&mail).unwrap().formatted()).unwrap();
        assert!(a.contains("Message-ID: <outbox-42@dang.example.vn>"), "{a}");
        assert!(b.contains("Message-ID: <outbox-42@dang.example.vn>"), "{b}");
        assert!(a.contains("Content-Language: vi"), "{a}");
        assert!(a.contains("bt@example.vn, pbt@example.vn"), "{a}");
        // With HTML: one message, the text and the HTML as alternatives.
        mail.html = Some("<p>Xin chào</p>".into());
        let c = String::from_utf8(m.message(&mail).unwrap().formatted()).unwrap();
        assert!(c.contains("multipart/alternative"), "{c}");
        assert!(c.contains("text/plain") && c.contains("text/html"), "{c}");
        // No recipient at all is refused, for good.
        mail.to.clear();
        assert!(m.message(&mail).unwrap_err().permanent);
    }
}
