//! IMAP: connecting (TLS, STARTTLS, plain to loopback), logging in (LOGIN or XOAUTH2) and
//! discovering folders. Only this module knows async-imap; every network await is bounded by
//! the configured timeout.

pub mod drafts;
pub mod folders;
pub mod idle;
pub mod stream;
pub mod sync;
pub mod utf7;

use std::future::Future;
use std::time::Duration;

use async_imap::imap_proto::{MailboxDatum, NameAttribute, Response, Status};
use tokio::net::TcpStream;

use crate::config::{Auth, ImapConfig, Security, ServerConfig};
use crate::error::{Error, Result};
use folders::{Folders, ListedFolder, Overrides};
use stream::MailStream;

/// An authenticated IMAP session.
pub type Session = async_imap::Session<MailStream>;
type Client = async_imap::Client<MailStream>;

/// A logged-in connection with what the server said about itself.
pub struct Connection {
    /// The async-imap session.
    session: Session,
    /// Upper bound for every command.
    timeout: Duration,
    /// Capabilities after login, upper-case (servers may add some once authenticated).
    capabilities: Vec<String>,
    /// The server, for messages.
    host: String,
    /// Messages whose headers were fetched, counted so a no-change sync can be verified.
    header_fetches: u64,
    /// Messages whose text was fetched.
    body_fetches: u64,
    /// The folder EXAMINE opened last and what it told, while nothing else was opened since.
    examined: Option<(String, sync::FolderStatus)>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("host", &self.host)
            .field("capabilities", &self.capabilities)
            .finish()
    }
}

/// Runs `future` under `timeout`, turning a timeout into [`Error::Timeout`].
async fn bounded<T>(
    timeout: Duration,
    what: impl Into<String>,
    future: impl Future<Output = Result<T>>,
) -> Result<T> {
    match tokio::time::timeout(timeout, future).await {
        Ok(result) => result,
        Err(_) => Err(Error::Timeout {
            what: what.into(),
            seconds: timeout.as_secs(),
        }),
    }
}

fn imap_error(context: &str, error: impl std::fmt::Display) -> Error {
    Error::Imap {
        context: context.to_string(),
        reason: error.to_string(),
    }
}

/// The SASL XOAUTH2 initial response (before base64): `user=U^Aauth=Bearer T^A^A`.
pub fn xoauth2_string(user: &str, token: &str) -> String {
    format!("user={user}\x01auth=Bearer {token}\x01\x01")
}

/// Answers the XOAUTH2 exchange: the token first; to the server's JSON error, an empty line.
struct XOAuth2 {
    /// The initial response, taken on first use.
    initial: Option<String>,
}

impl async_imap::Authenticator for XOAuth2 {
    type Response = String;

    fn process(&mut self, _challenge: &[u8]) -> String {
        self.initial.take().unwrap_or_default()
    }
}

impl Connection {
    /// Connects, secures the connection as configured and logs in.
    pub async fn open(server: &ServerConfig) -> Result<Connection> {
        let timeout = server.timeout;
        let client = bounded(
            timeout,
            format!("connecting to IMAP server {}:{}", server.host, server.port),
            connect(server),
        )
        .await?;
        let secret = server.credential().await?;
        let mut session = bounded(
            timeout,
            format!("logging in to IMAP server {}", server.host),
            login(client, server, &secret),
        )
        .await?;
        let capabilities = bounded(timeout, "CAPABILITY", async {
            let caps = session
                .capabilities()
                .await
                .map_err(|e| imap_error("CAPABILITY", e))?;
            Ok(caps.iter().map(capability_name).collect::<Vec<_>>())
        })
        .await?;
        let mut connection = Connection {
            session,
            timeout,
            capabilities,
            host: server.host.clone(),
            header_fetches: 0,
            body_fetches: 0,
            examined: None,
        };
        if connection.has_capability("CONDSTORE") && connection.has_capability("ENABLE") {
            // HIGHESTMODSEQ then comes with every EXAMINE: an optimisation, so a refusal is fine.
            if let Err(e) = connection.raw_command("ENABLE CONDSTORE", |_| {}).await {
                tracing::debug!("ENABLE CONDSTORE refused: {e}");
            }
        }
        Ok(connection)
    }

    /// Capabilities the server announced after login, upper-case.
    pub fn capabilities(&self) -> &[String] {
        &self.capabilities
    }

    /// True when the server announced `name` (case-insensitive).
    pub fn has_capability(&self, name: &str) -> bool {
        self.capabilities
            .iter()
            .any(|c| c.eq_ignore_ascii_case(name))
    }

    /// Every folder, with special-use attributes asked for explicitly where the server
    /// supports it (some servers send them only then).
    pub async fn list_folders(&mut self) -> Result<Vec<ListedFolder>> {
        let command = if self.has_capability("SPECIAL-USE") {
            "LIST \"\" \"*\" RETURN (SPECIAL-USE)"
        } else {
            "LIST \"\" \"*\""
        };
        let session = &mut self.session;
        bounded(self.timeout, "LIST", async move {
            let id = session
                .run_command(command)
                .await
                .map_err(|e| imap_error("LIST", e))?;
            let mut folders = Vec::new();
            loop {
                let response = session
                    .read_response()
                    .await
                    .map_err(|e| imap_error("LIST", e))?
                    .ok_or_else(|| imap_error("LIST", "the server closed the connection"))?;
                match response.parsed() {
                    Response::MailboxData(MailboxDatum::List(data)) => {
                        let attributes: Vec<String> =
                            data.name_attributes.iter().map(attribute_name).collect();
                        let attributes: Vec<&str> = attributes.iter().map(String::as_str).collect();
                        folders.push(ListedFolder::new(
                            &data.name,
                            data.delimiter.as_deref(),
                            &attributes,
                        ));
                    }
                    Response::Done {
                        tag,
                        status,
                        outcome,
                        ..
                    } if *tag == id => {
                        return match status {
                            Status::Ok => Ok(folders),
                            _ => Err(imap_error(
                                "LIST",
                                outcome.information.as_deref().unwrap_or("refused"),
                            )),
                        };
                    }
                    _ => {}
                }
            }
        })
        .await
    }

    /// Lists the folders and chooses INBOX, Sent, Drafts and Trash.
    pub async fn discover_folders(&mut self, imap: &ImapConfig) -> Result<Folders> {
        let listed = self.list_folders().await?;
        folders::choose(
            &listed,
            &Overrides {
                sent: imap.sent_folder.as_deref(),
                drafts: imap.drafts_folder.as_deref(),
                trash: imap.trash_folder.as_deref(),
            },
        )
    }

    /// The underlying session, for the sync and draft modules.
    pub fn session(&mut self) -> &mut Session {
        &mut self.session
    }

    /// Gives up the wrapper for the raw session (the IDLE watcher needs to own it).
    pub fn into_session(self) -> Session {
        self.session
    }

    /// The bound on every command.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Says goodbye politely; errors do not matter any more at this point.
    pub async fn logout(mut self) {
        let _ = tokio::time::timeout(self.timeout, self.session.logout()).await;
    }
}

fn capability_name(capability: &async_imap::types::Capability) -> String {
    use async_imap::types::Capability;
    match capability {
        Capability::Imap4rev1 => "IMAP4REV1".to_string(),
        Capability::Auth(mechanism) => format!("AUTH={}", mechanism.to_ascii_uppercase()),
        Capability::Atom(atom) => atom.to_ascii_uppercase(),
    }
}

fn attribute_name(attribute: &NameAttribute<'_>) -> String {
    match attribute {
        NameAttribute::NoInferiors => "\\Noinferiors".into(),
        NameAttribute::NoSelect => "\\Noselect".into(),
        NameAttribute::Marked => "\\Marked".into(),
        NameAttribute::Unmarked => "\\Unmarked".into(),
        NameAttribute::All => "\\All".into(),
        NameAttribute::Archive => "\\Archive".into(),
        NameAttribute::Drafts => "\\Drafts".into(),
        NameAttribute::Flagged => "\\Flagged".into(),
        NameAttribute::Junk => "\\Junk".into(),
        NameAttribute::Sent => "\\Sent".into(),
        NameAttribute::Trash => "\\Trash".into(),
        NameAttribute::Extension(other) => other.to_string(),
        // imap-proto's list of attributes is not exhaustive.
        #[allow(unreachable_patterns)]
        _ => String::new(),
    }
}

/// Opens the TCP connection, reads the greeting, and applies TLS or STARTTLS.
async fn connect(server: &ServerConfig) -> Result<Client> {
    let tcp = tcp_connect(server).await?;
    match server.security {
        Security::Tls => {
            let tls = tls_handshake(server, tcp).await?;
            let mut client = Client::new(MailStream::Tls(Box::new(tls)));
            read_greeting(&mut client).await?;
            Ok(client)
        }
        Security::Plain => {
            let mut client = Client::new(MailStream::Plain(tcp));
            read_greeting(&mut client).await?;
            Ok(client)
        }
        Security::Starttls => {
            let mut client = Client::new(MailStream::Plain(tcp));
            read_greeting(&mut client).await?;
            client
                .run_command_and_check_ok("STARTTLS", None)
                .await
                .map_err(|e| Error::Tls {
                    server: "IMAP",
                    host: server.host.clone(),
                    port: server.port,
                    reason: format!("the server refused STARTTLS: {e}"),
                })?;
            let MailStream::Plain(tcp) = client.into_inner() else {
                unreachable!("STARTTLS starts on a plain stream");
            };
            let tls = tls_handshake(server, tcp).await?;
            Ok(Client::new(MailStream::Tls(Box::new(tls))))
        }
    }
}

async fn tcp_connect(server: &ServerConfig) -> Result<TcpStream> {
    let addresses: Vec<std::net::SocketAddr> = if server.security == Security::Plain {
        // Only the loopback addresses that were checked, never a second (DNS) resolution.
        crate::config::plain_socket_addresses(server)?
    } else {
        tokio::net::lookup_host((server.host.as_str(), server.port))
            .await
            .map_err(|source| Error::Resolve {
                host: server.host.clone(),
                source,
            })?
            .collect()
    };
    let mut last_error = std::io::Error::new(
        std::io::ErrorKind::NotFound,
        "the name resolved to no address",
    );
    for address in addresses {
        match TcpStream::connect(address).await {
            Ok(tcp) => {
                let _ = tcp.set_nodelay(true);
                return Ok(tcp);
            }
            Err(e) => last_error = e,
        }
    }
    Err(Error::Connect {
        server: "IMAP",
        host: server.host.clone(),
        port: server.port,
        source: last_error,
    })
}

async fn tls_handshake(
    server: &ServerConfig,
    tcp: TcpStream,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let config = crate::tls::client_config(server.ca_file.as_deref())?;
    let name =
        rustls_pki_types::ServerName::try_from(server.host.clone()).map_err(|e| Error::Tls {
            server: "IMAP",
            host: server.host.clone(),
            port: server.port,
            reason: format!("invalid server name: {e}"),
        })?;
    tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|e| {
            if crate::tls::is_certificate_error(&e) {
                Error::Certificate {
                    server: "IMAP",
                    host: server.host.clone(),
                    port: server.port,
                    reason: e.to_string(),
                }
            } else {
                Error::Tls {
                    server: "IMAP",
                    host: server.host.clone(),
                    port: server.port,
                    reason: e.to_string(),
                }
            }
        })
}

async fn read_greeting(client: &mut Client) -> Result<()> {
    let greeting = client
        .read_response()
        .await
        .map_err(|e| imap_error("greeting", e))?
        .ok_or_else(|| imap_error("greeting", "the server closed the connection at once"))?;
    match greeting.parsed() {
        Response::Data {
            status: Status::Ok | Status::PreAuth,
            ..
        } => Ok(()),
        Response::Data {
            status: Status::Bye,
            outcome,
            ..
        } => Err(imap_error(
            "greeting",
            format!(
                "the server said BYE: {}",
                outcome.information.as_deref().unwrap_or("")
            ),
        )),
        other => Err(imap_error("greeting", format!("unexpected {other:?}"))),
    }
}

async fn login(client: Client, server: &ServerConfig, secret: &str) -> Result<Session> {
    let result = match &server.auth {
        Auth::Password(_) => client.login(&server.username, secret).await,
        Auth::XOAuth2 { .. } => {
            let authenticator = XOAuth2 {
                initial: Some(xoauth2_string(&server.username, secret)),
            };
            client.authenticate("XOAUTH2", authenticator).await
        }
    };
    result.map_err(|(error, _client)| match error {
        async_imap::error::Error::No(reason) | async_imap::error::Error::Bad(reason) => {
            Error::Authentication {
                server: "IMAP",
                host: server.host.clone(),
                user: server.username.clone(),
                reason: clean_reason(&reason),
            }
        }
        other => imap_error("login", other),
    })
}

/// async-imap formats NO answers as `code: …, info: Some("…")`: keep the server's words.
fn clean_reason(reason: &str) -> String {
    match reason.split_once("info: Some(\"") {
        Some((_, rest)) => rest.trim_end_matches("\")").to_string(),
        None => reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xoauth2_string_matches_the_spec() {
        assert_eq!(
            xoauth2_string("someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"),
            "user=someuser@example.com\x01auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\x01\x01"
        );
    }

    #[test]
    fn xoauth2_answers_the_error_challenge_with_an_empty_line() {
        use async_imap::Authenticator;
        let mut auth = XOAuth2 {
            initial: Some("first".into()),
        };
        assert_eq!(auth.process(b""), "first");
        assert_eq!(auth.process(br#"{"status":"401"}"#), "");
    }

    #[test]
    fn login_reasons_keep_the_server_words() {
        assert_eq!(
            clean_reason(
                "code: Some(AuthenticationFailed), info: Some(\"Authentication failed.\")"
            ),
            "Authentication failed."
        );
        assert_eq!(clean_reason("plain"), "plain");
    }
}
