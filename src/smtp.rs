//! Sending the weekly summary over SMTP: implicit TLS or STARTTLS, authenticated, with the
//! same secret sources as IMAP. Only this module knows lettre's transport. nudge sends mail
//! to the seller only: the recipient is `summary.to`, checked against the seller's addresses
//! before anything is sent.
//!
//! The dialogue is driven step by step so that a failure can be told apart by when it
//! happened (SPEC 8): anything that goes wrong before the end of DATA, and a refusal (4xx or
//! 5xx) of the message itself, means the server certainly did not take the message, and it
//! may be sent again; a connection lost or a reply that never came once the whole message was
//! handed over may have delivered it, and it is never sent again.

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use lettre::Message;
use tracing::Instrument;

use crate::config::{Auth, Security, SmtpConfig};
use crate::error::{Error, Result};

/// How long the polite QUIT after a delivered message may take.
const QUIT_TIMEOUT: Duration = Duration::from_secs(2);

/// Why a summary did not go out, and whether sending it again could make a duplicate.
#[derive(Debug)]
pub enum Undelivered {
    /// The server certainly did not take the message: no connection, TLS, login or secret,
    /// a refusal before the end of DATA, or a 4xx/5xx for the message itself. Sending it again
    /// cannot make a second copy.
    Refused(Error),
    /// The whole message was handed over, then the connection was lost or the final reply
    /// never came: the server may have taken it. It is never sent again.
    Unknown(Error),
}

impl Undelivered {
    /// The error, whichever way it ended.
    pub fn error(&self) -> &Error {
        match self {
            Undelivered::Refused(e) | Undelivered::Unknown(e) => e,
        }
    }

    /// The error, whichever way it ended.
    pub fn into_error(self) -> Error {
        match self {
            Undelivered::Refused(e) | Undelivered::Unknown(e) => e,
        }
    }
}

/// Where in the dialogue a step failed, for the error's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// TCP connect, implicit TLS, greeting and EHLO.
    Connect,
    /// STARTTLS and the EHLO after it.
    StartTls,
    /// AUTH.
    Login,
    /// MAIL FROM, RCPT TO and DATA.
    Envelope,
    /// The message and the final reply.
    Message,
}

/// lettre's error with the server's words, which lettre keeps in its source chain.
fn describe(error: &lettre::transport::smtp::Error) -> String {
    let mut reason = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        let text = inner.to_string();
        if !reason.contains(&text) {
            reason.push_str(": ");
            reason.push_str(&text);
        }
        source = inner.source();
    }
    reason
}

/// nudge's error for lettre's error at `stage`.
fn smtp_error(config: &SmtpConfig, stage: Stage, error: &lettre::transport::smtp::Error) -> Error {
    let reason = describe(error);
    let server = &config.server;
    let lower = reason.to_lowercase();
    if error.is_tls() || (stage == Stage::StartTls && error.status().is_none()) {
        if lower.contains("certificate")
            || lower.contains("unknownissuer")
            || lower.contains("invalid peer")
        {
            return Error::Certificate {
                server: "SMTP",
                host: server.host.clone(),
                port: server.port,
                reason,
            };
        }
        return Error::Tls {
            server: "SMTP",
            host: server.host.clone(),
            port: server.port,
            reason,
        };
    }
    match stage {
        Stage::Login if error.status().is_some() || error.is_client() => Error::Authentication {
            server: "SMTP",
            host: server.host.clone(),
            user: server.username.clone(),
            reason,
        },
        Stage::Connect | Stage::StartTls | Stage::Login => Error::Connect {
            server: "SMTP",
            host: server.host.clone(),
            port: server.port,
            source: std::io::Error::other(reason),
        },
        Stage::Envelope => Error::Smtp {
            context: "server refused the summary before its text".into(),
            reason,
        },
        Stage::Message if error.status().is_some() => Error::Smtp {
            context: "server refused the summary's text".into(),
            reason,
        },
        Stage::Message => Error::Smtp {
            context: "connection lost after the summary's text".into(),
            reason,
        },
    }
}

fn timeout_error(config: &SmtpConfig, what: &str) -> Error {
    let server = &config.server;
    Error::Timeout {
        what: format!("{what} at SMTP server {}:{}", server.host, server.port),
        seconds: server.timeout.as_secs(),
    }
}

/// The TLS parameters for the server, with `ca_file` trusted besides the system roots.
fn tls_parameters(config: &SmtpConfig) -> Result<TlsParameters> {
    let server = &config.server;
    let tls_error = |reason: String| Error::Tls {
        server: "SMTP",
        host: server.host.clone(),
        port: server.port,
        reason,
    };
    let mut builder = TlsParameters::builder(server.host.clone());
    if let Some(path) = &server.ca_file {
        let pem = std::fs::read(path)
            .map_err(|e| tls_error(format!("ca_file {}: {e}", path.display())))?;
        let certificate = Certificate::from_pem(&pem)
            .map_err(|e| tls_error(format!("ca_file {}: {e}", path.display())))?;
        builder = builder.add_root_certificate(certificate);
    }
    builder.build_rustls().map_err(|e| tls_error(e.to_string()))
}

/// Sends `message` through the configured server, telling a certain refusal from an unknown
/// outcome (see [`Undelivered`]).
///
/// The dialogue runs in a task of its own: should a server's reply make the mail library
/// panic (lettre 0.11.23 did on a whitespace-only EHLO line, RUSTSEC-2026-0562, patched in
/// `vendor/lettre`), that task ends with an error instead of taking nudge down. Where it
/// panicked is not known, so the outcome is unknown and the summary is not sent again.
pub async fn send(config: &SmtpConfig, message: Message) -> std::result::Result<(), Undelivered> {
    let owned = config.clone();
    match tokio::spawn(async move { dialogue(&owned, message).await }.in_current_span()).await {
        Ok(outcome) => outcome,
        Err(e) => Err(Undelivered::Unknown(Error::Smtp {
            context: format!(
                "the mail library failed on a reply of SMTP server {}:{}",
                config.server.host, config.server.port
            ),
            reason: if e.is_panic() {
                "it panicked (a malformed server reply)".into()
            } else {
                e.to_string()
            },
        })),
    }
}

async fn dialogue(config: &SmtpConfig, message: Message) -> std::result::Result<(), Undelivered> {
    let server = &config.server;
    let refused = Undelivered::Refused;
    let tls = match server.security {
        Security::Tls | Security::Starttls => Some(tls_parameters(config).map_err(refused)?),
        // Validated to be loopback only.
        Security::Plain => None,
    };
    let secret = server.credential().await.map_err(refused)?;
    let credentials = Credentials::new(server.username.clone(), secret);
    let mechanisms = match server.auth {
        Auth::Password(_) => vec![Mechanism::Plain, Mechanism::Login],
        Auth::XOAuth2 { .. } => vec![Mechanism::Xoauth2],
    };
    let hello = ClientId::default();
    let limit = server.timeout;
    // Every step before the end of DATA: a failure is a certain refusal.
    macro_rules! step {
        ($stage:expr, $what:expr, $future:expr) => {
            match tokio::time::timeout(limit, $future).await {
                Ok(Ok(value)) => value,
                Ok(Err(e)) => return Err(refused(smtp_error(config, $stage, &e))),
                Err(_) => return Err(refused(timeout_error(config, $what))),
            }
        };
    }
    let implicit = match server.security {
        Security::Tls => tls.clone(),
        _ => None,
    };
    // `plain` goes only to the loopback addresses that were checked, never a second resolution.
    let plain_addresses = match server.security {
        Security::Plain => Some(crate::config::plain_socket_addresses(server).map_err(refused)?),
        _ => None,
    };
    let mut connection = match &plain_addresses {
        Some(addresses) => step!(
            Stage::Connect,
            "connecting",
            AsyncSmtpConnection::connect_tokio1(
                addresses.as_slice(),
                Some(limit),
                &hello,
                None,
                None,
            )
        ),
        None => step!(
            Stage::Connect,
            "connecting",
            AsyncSmtpConnection::connect_tokio1(
                (server.host.as_str(), server.port),
                Some(limit),
                &hello,
                implicit,
                None,
            )
        ),
    };
    if let (Security::Starttls, Some(tls)) = (server.security, tls) {
        step!(
            Stage::StartTls,
            "STARTTLS",
            connection.starttls(tls, &hello)
        );
    }
    step!(
        Stage::Login,
        "logging in",
        connection.auth(&mechanisms, &credentials)
    );

    let envelope = message.envelope().clone();
    let body = message.formatted();
    let mut options = Vec::new();
    let info = connection.server_info();
    let addresses_ascii = envelope
        .from()
        .into_iter()
        .chain(envelope.to())
        .all(|a| AsRef::<str>::as_ref(a).is_ascii());
    if !addresses_ascii {
        if !info.supports_feature(Extension::SmtpUtfEight) {
            return Err(refused(Error::Smtp {
                context: "server refused the summary before its text".into(),
                reason: "the addresses are not ASCII and the server has no SMTPUTF8".into(),
            }));
        }
        options.push(MailParameter::SmtpUtfEight);
    }
    if !body.is_ascii() {
        if !info.supports_feature(Extension::EightBitMime) {
            return Err(refused(Error::Smtp {
                context: "server refused the summary before its text".into(),
                reason: "the message is not ASCII and the server has no 8BITMIME".into(),
            }));
        }
        options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    step!(
        Stage::Envelope,
        "MAIL FROM",
        connection.command(Mail::new(envelope.from().cloned(), options))
    );
    for recipient in envelope.to() {
        step!(
            Stage::Envelope,
            "RCPT TO",
            connection.command(Rcpt::new(recipient.clone(), vec![]))
        );
    }
    step!(Stage::Envelope, "DATA", connection.command(Data));

    // From here on the server may take the message: only its refusal is certain.
    match tokio::time::timeout(limit, connection.message(&body)).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) if e.status().is_some() => {
            return Err(refused(smtp_error(config, Stage::Message, &e)));
        }
        Ok(Err(e)) => {
            return Err(Undelivered::Unknown(smtp_error(config, Stage::Message, &e)));
        }
        Err(_) => {
            return Err(Undelivered::Unknown(timeout_error(
                config,
                "waiting for the reply to the summary's text",
            )));
        }
    }
    // Delivered: the goodbye is a courtesy.
    let _ = tokio::time::timeout(QUIT_TIMEOUT, connection.quit()).await;
    Ok(())
}

/// Parses an address for a header.
pub fn mailbox(name: Option<&str>, address: &str) -> Result<Mailbox> {
    let email = address
        .parse()
        .map_err(|e| Error::Data(format!("\"{address}\" is not a usable address: {e}")))?;
    Ok(Mailbox::new(name.map(str::to_string), email))
}
