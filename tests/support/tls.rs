//! A per-run test CA, and TLS/IMAP client helpers that trust only that CA.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// A CA generated with rcgen for this run, and a server certificate it signed for
/// `localhost`, `127.0.0.1` and `::1`. Files (PEM): `ca.pem`, `server.pem`, `server.key`.
pub struct TestCa {
    dir: PathBuf,
    ca_pem: String,
}

impl TestCa {
    /// Generates the CA and the server certificate and writes them into `dir` (which must exist).
    pub fn new(dir: &Path) -> TestCa {
        std::fs::create_dir_all(dir).expect("create the CA folder");
        let ca_key = KeyPair::generate().expect("generate CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "nudge test CA");
        ca_params
            .distinguished_name
            .push(DnType::OrganizationName, "nudge tests");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca_params.self_signed(&ca_key).expect("self-sign the CA");

        let server_key = KeyPair::generate().expect("generate server key");
        let mut params =
            CertificateParams::new(vec!["localhost".to_string()]).expect("server cert params");
        params
            .subject_alt_names
            .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        params
            .subject_alt_names
            .push(SanType::IpAddress(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let server_cert = params
            .signed_by(&server_key, &ca_cert, &ca_key)
            .expect("sign the server certificate");

        let ca = TestCa {
            dir: dir.to_path_buf(),
            ca_pem: ca_cert.pem(),
        };
        std::fs::write(ca.ca_path(), &ca.ca_pem).expect("write ca.pem");
        std::fs::write(ca.cert_path(), server_cert.pem()).expect("write server.pem");
        std::fs::write(ca.key_path(), server_key.serialize_pem()).expect("write server.key");
        ca
    }

    /// PEM of the CA certificate (for nudge's `ca_file`).
    pub fn ca_path(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// PEM of the server certificate (leaf only).
    pub fn cert_path(&self) -> PathBuf {
        self.dir.join("server.pem")
    }

    /// PEM (PKCS#8) of the server's private key.
    pub fn key_path(&self) -> PathBuf {
        self.dir.join("server.key")
    }

    /// The CA certificate as PEM text.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// A rustls client config (ring provider) whose only trust anchor is this CA, read back
    /// from `ca.pem`.
    pub fn client_config(&self) -> Arc<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        let ca = CertificateDer::from_pem_file(self.ca_path()).expect("read ca.pem");
        roots.add(ca).expect("add the test CA to the root store");
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
        Arc::new(config)
    }

    /// A tokio-rustls connector that trusts only this CA.
    pub fn connector(&self) -> TlsConnector {
        TlsConnector::from(self.client_config())
    }
}

/// The TLS stream type the IMAP helpers return.
pub type ImapTls = TlsStream<TcpStream>;

/// Bound for a single connect/handshake/greeting step in the helpers.
const STEP: Duration = Duration::from_secs(20);

async fn step<T>(what: &str, fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(STEP, fut)
        .await
        .unwrap_or_else(|_| panic!("timed out after {STEP:?}: {what}"))
}

/// TLS handshake over `tcp`, verifying the server as `localhost` against `ca` only.
pub async fn tls_handshake(ca: &TestCa, tcp: TcpStream) -> std::io::Result<ImapTls> {
    let name = ServerName::try_from("localhost").expect("server name");
    ca.connector().connect(name, tcp).await
}

/// Connects to an implicit-TLS IMAP port on 127.0.0.1 and reads the server greeting.
pub async fn imaps_client(port: u16, ca: &TestCa) -> async_imap::Client<ImapTls> {
    let tcp = step("connect", TcpStream::connect(("127.0.0.1", port)))
        .await
        .unwrap_or_else(|e| panic!("connect to 127.0.0.1:{port}: {e}"));
    let tls = step("TLS handshake", tls_handshake(ca, tcp))
        .await
        .unwrap_or_else(|e| panic!("TLS handshake with 127.0.0.1:{port}: {e}"));
    let mut client = async_imap::Client::new(tls);
    read_greeting(&mut client).await;
    client
}

/// [`imaps_client`] + LOGIN; panics (with the server's answer) if the login fails.
pub async fn imaps_login(
    port: u16,
    ca: &TestCa,
    user: &str,
    password: &str,
) -> async_imap::Session<ImapTls> {
    let client = imaps_client(port, ca).await;
    step("LOGIN", client.login(user, password))
        .await
        .map_err(|(e, _)| e)
        .unwrap_or_else(|e| panic!("LOGIN {user} on 127.0.0.1:{port}: {e}"))
}

/// Connects to a plain IMAP port, reads the greeting, sends STARTTLS, and upgrades to TLS
/// (trusting only `ca`). The returned client is ready for LOGIN/AUTHENTICATE.
pub async fn starttls_client(port: u16, ca: &TestCa) -> async_imap::Client<ImapTls> {
    let tcp = step("connect", TcpStream::connect(("127.0.0.1", port)))
        .await
        .unwrap_or_else(|e| panic!("connect to 127.0.0.1:{port}: {e}"));
    let mut plain = async_imap::Client::new(tcp);
    read_greeting(&mut plain).await;
    step("STARTTLS", plain.run_command_and_check_ok("STARTTLS", None))
        .await
        .unwrap_or_else(|e| panic!("STARTTLS on 127.0.0.1:{port}: {e}"));
    let tcp = plain.into_inner();
    let tls = step("TLS handshake after STARTTLS", tls_handshake(ca, tcp))
        .await
        .unwrap_or_else(|e| panic!("TLS handshake after STARTTLS on 127.0.0.1:{port}: {e}"));
    async_imap::Client::new(tls)
}

/// Reads responses until the real greeting: Dovecot may first send
/// `* OK Waiting for authentication process to respond..` while its auth process starts.
pub async fn read_greeting<T>(client: &mut async_imap::Client<T>)
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    loop {
        let response = step("IMAP greeting", client.read_response())
            .await
            .expect("read the IMAP greeting")
            .expect("connection closed before the IMAP greeting");
        let text = format!("{:?}", response.parsed());
        if !text.contains("Waiting for authentication") {
            return;
        }
    }
}
