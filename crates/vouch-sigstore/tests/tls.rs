//! The Sigstore client's TLS against a real TLS server on loopback: the system's verifier,
//! built at the first handshake, refuses a certificate no system root vouches for.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use rcgen::{CertificateParams, KeyPair};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// A TLS server on 127.0.0.1 with a self-signed certificate for `127.0.0.1`, answering every
/// request it can read with 200; returns its port and how many handshakes completed.
async fn self_signed_server() -> (u16, Arc<std::sync::atomic::AtomicUsize>) {
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let config = ServerConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![cert.der().clone()],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    )
    .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let completed = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = Arc::clone(&completed);
    tokio::spawn(async move {
        // Bounded: the client retries nothing here, and the test ends the runtime.
        for _ in 0..8 {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            if let Ok(mut tls) = acceptor.accept(tcp).await {
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut buf = [0u8; 1024];
                let _ = tls.read(&mut buf).await;
                let _ = tls
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                    .await;
            }
        }
    });
    (port, completed)
}

#[tokio::test]
async fn a_certificate_no_system_root_vouches_for_is_refused() {
    let (port, completed) = self_signed_server().await;
    let timeout = std::time::Duration::from_secs(10);
    let client = vouch_sigstore::sign::http_client(timeout, timeout).unwrap();
    let error = client
        .get(format!("https://127.0.0.1:{port}/"))
        .send()
        .await
        .expect_err("a self-signed server certificate was accepted");
    let chain = {
        let mut text = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        text
    };
    assert!(
        chain.to_lowercase().contains("certificate"),
        "the refusal names the certificate: {chain}"
    );
    assert_eq!(
        completed.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "no handshake completed"
    );
}
