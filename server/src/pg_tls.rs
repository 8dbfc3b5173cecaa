//! TLS to PostgreSQL, through rustls: asked for with `sslmode=require` in
//! the connection string. The server's certificate is always verified, name
//! included (what libpq calls `verify-full`): against the public roots
//! (webpki-roots) and, when `PGSSLROOTCERT` names a PEM file, the
//! certificates in it (a private CA, or a database's own self-signed
//! certificate). `prefer` (the default) and `disable` connect without TLS:
//! unverified TLS is not offered.

use postgres::config::SslMode;
use std::sync::Arc;
use tokio_postgres_rustls::MakeRustlsConnect;

/// The variable naming extra trusted certificates, as for libpq.
pub const ROOT_CERT_ENV: &str = "PGSSLROOTCERT";

/// The TLS connector a connection string's `sslmode` asks for: `None` to
/// connect without TLS.
pub fn connector(mode: SslMode) -> Result<Option<MakeRustlsConnect>, String> {
    if mode != SslMode::Require {
        return Ok(None);
    }
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(file) = std::env::var_os(ROOT_CERT_ENV) {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let shown = std::path::Path::new(&file).display().to_string();
        let certs = CertificateDer::pem_file_iter(&file)
            .map_err(|e| format!("{ROOT_CERT_ENV} {shown}: {e}"))?;
        let mut added = 0;
        for cert in certs {
            let cert = cert.map_err(|e| format!("{ROOT_CERT_ENV} {shown}: {e}"))?;
            roots
                .add(cert)
                .map_err(|e| format!("{ROOT_CERT_ENV} {shown}: {e}"))?;
            added += 1;
        }
        if added == 0 {
            return Err(format!("{ROOT_CERT_ENV} {shown}: no certificate in it"));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS to PostgreSQL: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Some(MakeRustlsConnect::new(tls)))
}
