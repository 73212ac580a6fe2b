//! The TLS configuration of vouch's Sigstore client: the operating system's verifier, as
//! reqwest would build it, but built at the first TLS handshake rather than with the client.
//!
//! Building the platform verifier reads and parses the whole system certificate store (on
//! Debian, every file of `/etc/ssl/certs`): several milliseconds of CPU at every `vouch sign`.
//! A command whose services are all plain HTTP (a devstack on loopback) never needs it; one
//! that speaks HTTPS pays the same cost as before, once, at its first connection.

use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};
use rustls_platform_verifier::Verifier;

/// A rustls client configuration whose server certificates are checked by the platform
/// verifier, made when first needed; ALPN offers what reqwest offers (HTTP/2, then 1.1).
pub(crate) fn client_config() -> Result<rustls::ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(LazyPlatformVerifier {
            provider,
            verifier: OnceLock::new(),
        }))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// The platform verifier, built on first use. A failure to build it (an unreadable
/// certificate store) is kept and fails every handshake with the same error: closed, never
/// open.
#[derive(Debug)]
struct LazyPlatformVerifier {
    provider: Arc<CryptoProvider>,
    verifier: OnceLock<Result<Verifier, rustls::Error>>,
}

impl LazyPlatformVerifier {
    fn get(&self) -> Result<&Verifier, rustls::Error> {
        self.verifier
            .get_or_init(|| Verifier::new(Arc::clone(&self.provider)))
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl ServerCertVerifier for LazyPlatformVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.get()?
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.get()?.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.get()?.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        // Asked when the client hello is written; it depends on the crypto provider only, so
        // it needs no certificate store.
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }

    fn root_hint_subjects(&self) -> Option<&[DistinguishedName]> {
        self.get().ok()?.root_hint_subjects()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_certificate_store_is_not_read_until_a_handshake_needs_it() {
        let config = client_config().unwrap();
        assert_eq!(
            config.alpn_protocols,
            [b"h2".to_vec(), b"http/1.1".to_vec()]
        );
        let verifier = LazyPlatformVerifier {
            provider: Arc::new(rustls::crypto::aws_lc_rs::default_provider()),
            verifier: OnceLock::new(),
        };
        assert!(!verifier.supported_verify_schemes().is_empty());
        assert!(
            verifier.verifier.get().is_none(),
            "built before any handshake"
        );
        // Verifying a certificate builds it; garbage is refused, not accepted.
        let refused = verifier.verify_server_cert(
            &CertificateDer::from(vec![0x30, 0x00]),
            &[],
            &ServerName::try_from("example.com").unwrap(),
            &[],
            UnixTime::now(),
        );
        assert!(refused.is_err());
        assert!(verifier.verifier.get().is_some());
    }

    #[test]
    fn reqwest_takes_the_configuration() {
        // A rustls of another version than reqwest's would be an unknown backend to it, and
        // building the client would fail.
        let timeout = std::time::Duration::from_secs(5);
        super::super::http_client(timeout, timeout).unwrap();
    }
}
