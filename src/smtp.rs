//! Sending the weekly summary over SMTP: implicit TLS or STARTTLS, authenticated, with the
//! same secret sources as IMAP. Only this module knows lettre's transport. nudge sends mail
//! to the seller only: the recipient is `summary.to`, checked against the seller's addresses
//! before anything is sent.

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{Auth, Security, SmtpConfig};
use crate::error::{Error, Result};

fn smtp_error(config: &SmtpConfig, reason: impl std::fmt::Display) -> Error {
    let reason = reason.to_string();
    let server = &config.server;
    let lower = reason.to_lowercase();
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
    if lower.contains("535") || lower.contains("authentication") || lower.contains("credentials") {
        return Error::Authentication {
            server: "SMTP",
            host: server.host.clone(),
            user: server.username.clone(),
            reason,
        };
    }
    Error::Connect {
        server: "SMTP",
        host: server.host.clone(),
        port: server.port,
        source: std::io::Error::other(reason),
    }
}

/// Sends `message` through the configured server.
pub async fn send(config: &SmtpConfig, message: Message) -> Result<()> {
    let server = &config.server;
    let tls = || -> Result<TlsParameters> {
        let mut builder = TlsParameters::builder(server.host.clone());
        if let Some(path) = &server.ca_file {
            let pem = std::fs::read(path)
                .map_err(|e| smtp_error(config, format!("ca_file {}: {e}", path.display())))?;
            builder = builder.add_root_certificate(
                Certificate::from_pem(&pem).map_err(|e| smtp_error(config, e))?,
            );
        }
        builder.build_rustls().map_err(|e| smtp_error(config, e))
    };
    let builder = match server.security {
        Security::Tls => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&server.host)
            .tls(Tls::Wrapper(tls()?)),
        Security::Starttls => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&server.host)
            .tls(Tls::Required(tls()?)),
        // Validated to be loopback only.
        Security::Plain => {
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&server.host).tls(Tls::None)
        }
    };
    let secret = server.credential().await?;
    let mechanisms = match server.auth {
        Auth::Password(_) => vec![Mechanism::Plain, Mechanism::Login],
        Auth::XOAuth2 { .. } => vec![Mechanism::Xoauth2],
    };
    let transport = builder
        .port(server.port)
        .timeout(Some(server.timeout))
        .credentials(Credentials::new(server.username.clone(), secret))
        .authentication(mechanisms)
        .build();
    let sending = transport.send(message);
    match tokio::time::timeout(server.timeout * 2, sending).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => {
            // lettre's error hides the server's words in its source chain.
            let mut reason = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(inner) = source {
                reason.push_str(": ");
                reason.push_str(&inner.to_string());
                source = inner.source();
            }
            Err(smtp_error(config, reason))
        }
        Err(_) => Err(Error::Timeout {
            what: format!(
                "sending the summary through {}:{}",
                server.host, server.port
            ),
            seconds: (server.timeout * 2).as_secs(),
        }),
    }
}

/// Parses an address for a header.
pub fn mailbox(name: Option<&str>, address: &str) -> Result<Mailbox> {
    let email = address
        .parse()
        .map_err(|e| Error::Data(format!("\"{address}\" is not a usable address: {e}")))?;
    Ok(Mailbox::new(name.map(str::to_string), email))
}
