//! Smoke tests for the integration-test harness in `tests/support/`: every server and helper
//! there does what the other integration tests rely on, against the real servers.

mod support;

use std::time::Duration;

use async_imap::error::Error as ImapError;
use async_imap::types::NameAttribute;
use futures::TryStreamExt;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use support::tls::{imaps_client, imaps_login, starttls_client, tls_handshake, ImapTls};
use support::{Dovecot, DovecotOptions, Layout, SmtpSecurity, SmtpServer, TestCa};

const USER: &str = "kari@fjordsalg.no";
const PASS: &str = "secret-pass";

/// Bounds every IMAP round trip in these tests.
async fn bounded<T>(what: &str, fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(30), fut)
        .await
        .unwrap_or_else(|_| panic!("timed out: {what}"))
}

type Session = async_imap::Session<ImapTls>;

async fn login_imaps(dovecot: &Dovecot, user: &str, password: &str) -> Session {
    imaps_login(dovecot.imaps_port(), dovecot.ca(), user, password).await
}

/// (name, delimiter, attributes) of LIST "" "*".
async fn list_all(session: &mut Session) -> Vec<(String, Option<String>, Vec<String>)> {
    let names: Vec<_> = bounded("LIST", async {
        session
            .list(Some(""), Some("*"))
            .await
            .expect("LIST")
            .try_collect::<Vec<_>>()
            .await
            .expect("LIST responses")
    })
    .await;
    names
        .iter()
        .map(|n| {
            (
                n.name().to_string(),
                n.delimiter().map(str::to_string),
                n.attributes().iter().map(attribute_name).collect(),
            )
        })
        .collect()
}

fn attribute_name(a: &NameAttribute<'_>) -> String {
    match a {
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
        NameAttribute::Extension(s) => s.to_string(),
        other => format!("{other:?}"),
    }
}

const SPECIAL_USE: [&str; 7] = [
    "\\All",
    "\\Archive",
    "\\Drafts",
    "\\Flagged",
    "\\Junk",
    "\\Sent",
    "\\Trash",
];

async fn check_layout(layout: Layout) {
    let dovecot = Dovecot::start(DovecotOptions {
        layout,
        ..Default::default()
    });
    let mut session = login_imaps(&dovecot, USER, PASS).await;
    let list = list_all(&mut session).await;

    let mut names: Vec<&str> = list.iter().map(|(n, _, _)| n.as_str()).collect();
    names.sort_unstable();
    let mut expected = layout.folders();
    expected.sort_unstable();
    assert_eq!(names, expected, "{layout:?}: LIST gave {list:?}");
    for (name, delimiter, _) in &list {
        assert_eq!(
            delimiter.as_deref(),
            Some(layout.separator()),
            "{layout:?}: delimiter of {name}"
        );
    }

    let attrs_of = |folder: &str| -> Vec<String> {
        list.iter()
            .find(|(n, _, _)| n == folder)
            .map(|(_, _, a)| a.clone())
            .unwrap_or_default()
    };
    match layout {
        Layout::SpecialUse => {
            for (folder, attr) in [
                ("Sent", "\\Sent"),
                ("Drafts", "\\Drafts"),
                ("Trash", "\\Trash"),
                ("Archive", "\\Archive"),
                ("All Mail", "\\All"),
            ] {
                assert!(
                    attrs_of(folder).iter().any(|a| a == attr),
                    "{folder} lacks {attr}: {list:?}"
                );
            }
            assert!(!attrs_of("INBOX")
                .iter()
                .any(|a| SPECIAL_USE.contains(&a.as_str())));
        }
        Layout::NorwegianNames | Layout::NestedDot => {
            for (name, _, attrs) in &list {
                assert!(
                    !attrs.iter().any(|a| SPECIAL_USE.contains(&a.as_str())),
                    "{layout:?}: {name} has a special-use attribute: {attrs:?}"
                );
            }
        }
    }

    // Every listed folder can be selected (the names are real, not just listed).
    for folder in layout.folders() {
        bounded("SELECT", session.select(folder))
            .await
            .unwrap_or_else(|e| panic!("{layout:?}: SELECT {folder:?}: {e}"));
    }
    bounded("LOGOUT", session.logout()).await.expect("LOGOUT");
    // The log records the IMAP commands.
    let log = dovecot.log();
    assert!(
        log.contains("Command finished: LIST"),
        "commands are not logged:\n{log}"
    );
}

#[tokio::test]
async fn imaps_layout_special_use() {
    check_layout(Layout::SpecialUse).await;
}

#[tokio::test]
async fn imaps_layout_norwegian_names() {
    check_layout(Layout::NorwegianNames).await;
}

#[tokio::test]
async fn imaps_layout_nested_dot() {
    check_layout(Layout::NestedDot).await;
}

#[tokio::test]
async fn tls_trusts_only_the_generated_ca() {
    let dovecot = Dovecot::start(DovecotOptions::default());
    // The CA file is a PEM certificate nudge's `ca_file` can read.
    let pem = std::fs::read_to_string(dovecot.ca().ca_path()).expect("read ca.pem");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    assert!(dovecot.ca().cert_path().is_file() && dovecot.ca().key_path().is_file());

    // A client that trusts another (also freshly generated) CA refuses the server.
    let other_dir = tempfile::tempdir().expect("temp dir");
    let other = TestCa::new(other_dir.path());
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", dovecot.imaps_port()))
        .await
        .expect("connect");
    let err = bounded("handshake", tls_handshake(&other, tcp))
        .await
        .expect_err("a foreign CA must not verify the server");
    assert!(
        err.to_string().to_lowercase().contains("certificate"),
        "unexpected error: {err}"
    );

    // The certificate is valid for 127.0.0.1 too.
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", dovecot.imaps_port()))
        .await
        .expect("connect");
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").expect("ip name");
    bounded(
        "handshake by IP",
        dovecot.ca().connector().connect(name, tcp),
    )
    .await
    .expect("certificate valid for 127.0.0.1");
}

#[tokio::test]
async fn starttls_on_plain_port() {
    let dovecot = Dovecot::start(DovecotOptions::default());
    assert_ne!(dovecot.imap_port(), dovecot.imaps_port());
    let client = starttls_client(dovecot.imap_port(), dovecot.ca()).await;
    let mut session = bounded("LOGIN", client.login(USER, PASS))
        .await
        .map_err(|(e, _)| e)
        .expect("LOGIN after STARTTLS");
    let inbox = bounded("SELECT", session.select("INBOX"))
        .await
        .expect("SELECT INBOX");
    assert_eq!(inbox.exists, 0);
    bounded("LOGOUT", session.logout()).await.expect("LOGOUT");

    // Plaintext login on loopback is allowed too (disable_plaintext_auth = no).
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", dovecot.imap_port()))
        .await
        .expect("connect");
    let mut client = async_imap::Client::new(tcp);
    support::tls::read_greeting(&mut client).await;
    let mut session = bounded("plain LOGIN", client.login(USER, PASS))
        .await
        .map_err(|(e, _)| e)
        .expect("plaintext LOGIN");
    bounded("LOGOUT", session.logout()).await.expect("LOGOUT");
    let log = dovecot.log();
    assert!(log.contains("method=PLAIN") && log.contains("TLS"), "{log}");
}

#[tokio::test]
async fn wrong_password_gets_no() {
    let dovecot = Dovecot::start(DovecotOptions {
        users: vec![
            (USER.to_string(), PASS.to_string()),
            ("ola@fjordsalg.no".to_string(), "other-pass".to_string()),
        ],
        ..Default::default()
    });
    let client = imaps_client(dovecot.imaps_port(), dovecot.ca()).await;
    let (err, client) = match bounded("LOGIN", client.login(USER, "wrong-pass")).await {
        Ok(_) => panic!("LOGIN with a wrong password succeeded"),
        Err(e) => e,
    };
    assert!(matches!(err, ImapError::No(_)), "expected NO, got {err:?}");
    // The same connection can still log in with the right password; a second user works too.
    let mut session = bounded("LOGIN", client.login(USER, PASS))
        .await
        .map_err(|(e, _)| e)
        .expect("LOGIN after a failed one");
    bounded("LOGOUT", session.logout()).await.expect("LOGOUT");
    let mut session = login_imaps(&dovecot, "ola@fjordsalg.no", "other-pass").await;
    bounded("LOGOUT", session.logout()).await.expect("LOGOUT");
    // An unknown user gets NO as well.
    let client = imaps_client(dovecot.imaps_port(), dovecot.ca()).await;
    let err = bounded("LOGIN", client.login("nobody@fjordsalg.no", PASS))
        .await
        .err()
        .map(|(e, _)| e);
    assert!(matches!(err, Some(ImapError::No(_))), "{err:?}");
}

/// SASL XOAUTH2: the initial response, then an empty response to the error challenge.
struct XOAuth2 {
    user: String,
    token: String,
    sent: bool,
}

impl async_imap::Authenticator for &mut XOAuth2 {
    type Response = String;
    fn process(&mut self, _challenge: &[u8]) -> String {
        if self.sent {
            String::new()
        } else {
            self.sent = true;
            format!("user={}\x01auth=Bearer {}\x01\x01", self.user, self.token)
        }
    }
}

#[tokio::test]
async fn xoauth2_with_introspection() {
    let dovecot = Dovecot::start(DovecotOptions {
        oauth2: true,
        ..Default::default()
    });
    let token = dovecot.oauth_token(USER);

    let client = imaps_client(dovecot.imaps_port(), dovecot.ca()).await;
    let mut auth = XOAuth2 {
        user: USER.into(),
        token: token.clone(),
        sent: false,
    };
    let mut session = bounded("AUTHENTICATE", client.authenticate("XOAUTH2", &mut auth))
        .await
        .map_err(|(e, _)| e)
        .unwrap_or_else(|e| panic!("XOAUTH2 with a good token: {e}\n{}", dovecot.log()));
    bounded("SELECT", session.select("INBOX"))
        .await
        .expect("SELECT INBOX");
    bounded("LOGOUT", session.logout()).await.expect("LOGOUT");
    assert!(dovecot.oauth().requests() >= 1);

    // A bad token: NO after the error challenge.
    let client = imaps_client(dovecot.imaps_port(), dovecot.ca()).await;
    let mut bad = XOAuth2 {
        user: USER.into(),
        token: "not-a-token".into(),
        sent: false,
    };
    let err = bounded("AUTHENTICATE", client.authenticate("XOAUTH2", &mut bad))
        .await
        .err()
        .map(|(e, _)| e);
    assert!(matches!(err, Some(ImapError::No(_))), "{err:?}");
    assert!(bad.sent);

    // A revoked token fails; its replacement works (over STARTTLS this time).
    let new_token = dovecot.oauth().rotate(USER);
    assert_ne!(new_token, token);
    let client = imaps_client(dovecot.imaps_port(), dovecot.ca()).await;
    let mut old = XOAuth2 {
        user: USER.into(),
        token,
        sent: false,
    };
    let err = bounded("AUTHENTICATE", client.authenticate("XOAUTH2", &mut old))
        .await
        .err();
    assert!(err.is_some(), "a rotated-out token still works");
    let client = starttls_client(dovecot.imap_port(), dovecot.ca()).await;
    let mut fresh = XOAuth2 {
        user: USER.into(),
        token: dovecot.oauth_token(USER),
        sent: false,
    };
    let mut session = bounded("AUTHENTICATE", client.authenticate("XOAUTH2", &mut fresh))
        .await
        .map_err(|(e, _)| e)
        .expect("XOAUTH2 with the new token");
    bounded("LOGOUT", session.logout()).await.expect("LOGOUT");

    // OAUTHBEARER (RFC 7628) with the same token works too.
    struct OAuthBearer(String);
    impl async_imap::Authenticator for &OAuthBearer {
        type Response = String;
        fn process(&mut self, _challenge: &[u8]) -> String {
            self.0.clone()
        }
    }
    let bearer = OAuthBearer(format!(
        "n,a={USER},\x01auth=Bearer {}\x01\x01",
        dovecot.oauth_token(USER)
    ));
    let client = imaps_client(dovecot.imaps_port(), dovecot.ca()).await;
    let mut session = bounded("AUTHENTICATE", client.authenticate("OAUTHBEARER", &bearer))
        .await
        .map_err(|(e, _)| e)
        .expect("OAUTHBEARER with the current token");
    bounded("LOGOUT", session.logout()).await.expect("LOGOUT");

    // Password login keeps working next to OAuth2.
    let mut session = login_imaps(&dovecot, USER, PASS).await;
    bounded("LOGOUT", session.logout()).await.expect("LOGOUT");
}

const MESSAGE: &[u8] = b"From: Ola Kunde <ola@kunde.no>\r\n\
To: Kari Nordmann <kari@fjordsalg.no>\r\n\
Subject: Tilbud\r\n\
Message-ID: <harness-1@kunde.no>\r\n\
Date: Mon, 2 Nov 2026 10:00:00 +0100\r\n\
\r\n\
Hei Kari!\r\n";

#[tokio::test]
async fn append_survives_stop_and_restart_on_same_ports() {
    let mut dovecot = Dovecot::start(DovecotOptions::default());
    let (imap_port, imaps_port) = (dovecot.imap_port(), dovecot.imaps_port());
    let pid = dovecot.pid().expect("running");

    let mut session = login_imaps(&dovecot, USER, PASS).await;
    bounded(
        "APPEND",
        session.append("INBOX", Some("(\\Seen)"), None, MESSAGE),
    )
    .await
    .expect("APPEND");
    let inbox = bounded("SELECT", session.select("INBOX"))
        .await
        .expect("SELECT");
    assert_eq!(inbox.exists, 1);
    bounded("LOGOUT", session.logout()).await.expect("LOGOUT");
    assert!(dovecot.maildir_of(USER).join("cur").is_dir());

    dovecot.stop();
    assert!(!dovecot.is_running());
    for port in [imap_port, imaps_port] {
        let refused = tokio::net::TcpStream::connect(("127.0.0.1", port)).await;
        assert!(refused.is_err(), "port {port} still accepts after stop()");
    }
    assert_eq!(leftover_processes(pid), Vec::<u32>::new());

    dovecot.restart();
    assert_eq!(
        (dovecot.imap_port(), dovecot.imaps_port()),
        (imap_port, imaps_port)
    );
    let mut session = login_imaps(&dovecot, USER, PASS).await;
    let inbox = bounded("SELECT", session.select("INBOX"))
        .await
        .expect("SELECT");
    assert_eq!(inbox.exists, 1, "the message survived the restart");
    let fetched: Vec<_> = bounded("FETCH", async {
        session
            .fetch("1", "BODY.PEEK[HEADER.FIELDS (SUBJECT)]")
            .await
            .expect("FETCH")
            .try_collect::<Vec<_>>()
            .await
            .expect("FETCH responses")
    })
    .await;
    let header = String::from_utf8_lossy(fetched[0].header().unwrap_or_default()).into_owned();
    assert!(header.contains("Subject: Tilbud"), "{header}");
    bounded("LOGOUT", session.logout()).await.expect("LOGOUT");

    // restart() also works while running, and the log spans all runs.
    dovecot.restart();
    let mut session = login_imaps(&dovecot, USER, PASS).await;
    bounded("LOGOUT", session.logout()).await.expect("LOGOUT");
    assert!(dovecot.log().matches("starting up").count() >= 3);

    let pid = dovecot.pid().expect("running");
    drop(dovecot);
    assert_eq!(leftover_processes(pid), Vec::<u32>::new());
}

#[tokio::test]
async fn doveadm_seeds_a_folder() {
    let dovecot = Dovecot::start(DovecotOptions {
        layout: Layout::NestedDot,
        ..Default::default()
    });
    dovecot.save_message(USER, "INBOX.Drafts", MESSAGE);
    let mut session = login_imaps(&dovecot, USER, PASS).await;
    let drafts = bounded("SELECT", session.select("INBOX.Drafts"))
        .await
        .expect("SELECT");
    assert_eq!(drafts.exists, 1);
    bounded("LOGOUT", session.logout()).await.expect("LOGOUT");
    let found = dovecot.doveadm(&["search", "-u", USER, "mailbox", "INBOX.Drafts", "ALL"]);
    assert_eq!(found.lines().count(), 1, "{found}");
}

/// Pids of live (non-zombie) processes in process group `pgid`.
fn leftover_processes(pgid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("read /proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid pgrp ...; comm may contain spaces, so split after ')'.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.len() > 2 && fields[2] == pgid.to_string() && fields[0] != "Z" {
            found.push(pid);
        }
    }
    found
}

async fn send_mail(
    server: &SmtpServer,
    ca: &TestCa,
    user: &str,
    password: &str,
    subject: &str,
) -> Result<lettre::transport::smtp::response::Response, lettre::transport::smtp::Error> {
    let pem = std::fs::read(ca.ca_path()).expect("read ca.pem");
    let tls = TlsParameters::builder("localhost".to_string())
        .certificate_store(CertificateStore::None)
        .add_root_certificate(Certificate::from_pem(&pem).expect("CA pem"))
        .build_rustls()
        .expect("TLS parameters");
    let tls = match server.security() {
        SmtpSecurity::StartTls => Tls::Required(tls),
        SmtpSecurity::ImplicitTls => Tls::Wrapper(tls),
    };
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(server.port())
        .tls(tls)
        .credentials(Credentials::new(user.to_string(), password.to_string()))
        .timeout(Some(Duration::from_secs(20)))
        .build();
    let message = Message::builder()
        .from(
            "Kari Nordmann <kari@fjordsalg.no>"
                .parse::<Mailbox>()
                .unwrap(),
        )
        .to("Ola Kunde <ola@kunde.no>".parse::<Mailbox>().unwrap())
        .cc("per@kunde.no".parse::<Mailbox>().unwrap())
        .subject(subject)
        .body("Hei Ola!\r\n".to_string())
        .expect("build message");
    bounded("SMTP send", transport.send(message)).await
}

async fn check_smtp(security: SmtpSecurity) {
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = TestCa::new(dir.path());
    let server = SmtpServer::start(security, USER, "smtp-pass", &ca);

    let err = send_mail(&server, &ca, USER, "wrong", "Bad")
        .await
        .expect_err("bad credentials must fail");
    assert!(err.is_permanent(), "{security:?}: {err:?}");
    assert!(server.received().is_empty());

    let response = send_mail(&server, &ca, USER, "smtp-pass", "Oppfølging")
        .await
        .unwrap_or_else(|e| panic!("{security:?}: send: {e:?}\n{}", server.log()));
    assert!(response.is_positive());
    let received = server.wait_for(1, Duration::from_secs(10));
    assert_eq!(received.len(), 1, "{security:?}: {received:?}");
    let mail = &received[0];
    assert_eq!(mail.mail_from, "kari@fjordsalg.no");
    assert_eq!(mail.rcpt_to, vec!["ola@kunde.no", "per@kunde.no"]);
    let data = String::from_utf8_lossy(&mail.data);
    assert!(data.contains("Subject: =?utf-8?"), "{data}");
    assert!(data.contains("Hei Ola!"), "{data}");

    // A client that only trusts a foreign CA fails before AUTH.
    let other_dir = tempfile::tempdir().expect("temp dir");
    let other = TestCa::new(other_dir.path());
    assert!(send_mail(&server, &other, USER, "smtp-pass", "x")
        .await
        .is_err());
    assert_eq!(server.received().len(), 1);
}

#[tokio::test]
async fn smtp_starttls_requires_auth() {
    check_smtp(SmtpSecurity::StartTls).await;
}

#[tokio::test]
async fn smtp_implicit_tls_requires_auth() {
    check_smtp(SmtpSecurity::ImplicitTls).await;
}

#[tokio::test]
async fn smtp_starttls_refuses_plaintext_auth() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = TestCa::new(dir.path());
    let server = SmtpServer::start(SmtpSecurity::StartTls, USER, "smtp-pass", &ca);
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(server.port())
        .tls(Tls::None)
        .credentials(Credentials::new(USER.to_string(), "smtp-pass".to_string()))
        .timeout(Some(Duration::from_secs(20)))
        .build();
    let message = Message::builder()
        .from(USER.parse::<Mailbox>().unwrap())
        .to("ola@kunde.no".parse::<Mailbox>().unwrap())
        .subject("plain")
        .body("x".to_string())
        .expect("message");
    let result = bounded("SMTP send", transport.send(message)).await;
    assert!(result.is_err(), "mail accepted without TLS: {result:?}");
    assert!(server.received().is_empty());
    let pid = server.pid().expect("running");
    drop(server);
    assert_eq!(leftover_processes(pid), Vec::<u32>::new());
}
