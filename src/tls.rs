//! TLS client settings shared by IMAP and SMTP: the system's roots plus an optional private CA.
//! Certificates are always verified; there is no switch to turn that off.

use std::path::Path;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

use crate::error::{ConfigError, Error, Result};

/// The certificates nudge trusts: the system's roots and the certificates in `ca_file`.
pub fn root_store(ca_file: Option<&Path>) -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    // A machine without system roots still works with a private CA, so errors here are not fatal.
    let native = rustls_native_certs::load_native_certs();
    for cert in native.certs {
        let _ = roots.add(cert);
    }
    if let Some(path) = ca_file {
        for cert in ca_certificates(path)? {
            roots.add(cert).map_err(|e| ca_error(path, e))?;
        }
    }
    Ok(roots)
}

/// Reads every PEM certificate in `path`; an empty or unreadable file is a configuration error.
pub fn ca_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| ca_error(path, e))?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| ca_error(path, e))?;
    if certs.is_empty() {
        return Err(ca_error(path, "it holds no PEM certificate"));
    }
    Ok(certs)
}

fn ca_error(path: &Path, reason: impl std::fmt::Display) -> Error {
    Error::Config(ConfigError {
        path: None,
        key: "ca_file".into(),
        line: None,
        message: format!("cannot use {} as a CA file: {reason}", path.display()),
    })
}

/// A rustls client configuration that verifies servers against [`root_store`].
pub fn client_config(ca_file: Option<&Path>) -> Result<Arc<rustls::ClientConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Data(format!("TLS setup: {e}")))?
        .with_root_certificates(root_store(ca_file)?)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// True when a TLS handshake failed because the server's certificate was not trusted.
pub fn is_certificate_error(error: &std::io::Error) -> bool {
    match error
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
    {
        Some(rustls::Error::InvalidCertificate(_)) => true,
        Some(rustls::Error::AlertReceived(alert)) => matches!(
            alert,
            rustls::AlertDescription::BadCertificate
                | rustls::AlertDescription::UnknownCA
                | rustls::AlertDescription::CertificateExpired
        ),
        _ => false,
    }
}
