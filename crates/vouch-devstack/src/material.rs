//! The trust material a client needs to use the devstack, in the formats of
//! sigstore/protobuf-specs: `trusted_root.json` (TrustedRoot v0.1), `signing_config.json`
//! (SigningConfig v0.2) and `trust_config.json` (ClientTrustConfig v0.1, both together, as
//! sigstore-python's `--trust-config` reads it).

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

use crate::keys::{KeyKind, SigningKey, write_public};
use crate::{Error, Shared};

/// Operator name in the signing configuration.
pub const OPERATOR: &str = "vouch-devstack";

/// Keys of the services that sign with a bare key (the CAs are in [`crate::ca`]).
#[derive(Debug)]
pub struct ServiceKeys {
    /// The OIDC issuer's token-signing key (ES256).
    pub oidc: SigningKey,
    /// The certificate transparency log's key (SCTs).
    pub ctlog: SigningKey,
    /// The Rekor v1 log's key (signed entry timestamps, checkpoints).
    pub rekor_v1: SigningKey,
    /// The Rekor v2 log's key (C2SP signed-note checkpoints).
    pub rekor_v2: SigningKey,
}

impl ServiceKeys {
    /// Loads the keys from `STATE/keys`, generating what is missing.
    pub fn load_or_generate(state: &Path) -> Result<Self, Error> {
        let dir = state.join("keys");
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        Ok(Self {
            oidc: SigningKey::load_or_generate(&dir, "oidc", KeyKind::EcdsaP256)?,
            ctlog: SigningKey::load_or_generate(&dir, "ctlog", KeyKind::EcdsaP256)?,
            rekor_v1: SigningKey::load_or_generate(&dir, "rekor-v1", KeyKind::EcdsaP256)?,
            rekor_v2: SigningKey::load_or_generate(&dir, "rekor-v2", KeyKind::Ed25519)?,
        })
    }
}

/// The stack's creation time, recorded in `STATE/created` on first start: the start of every
/// validity window in the trust material, so that it does not move across restarts.
pub fn created_time(state: &Path, now: i64) -> Result<i64, Error> {
    let path = state.join("created");
    match std::fs::read_to_string(&path) {
        Ok(text) => text.trim().parse().map_err(|_| Error::State {
            path: path.clone(),
            message: format!("expected Unix seconds, found `{}`", text.trim()),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // Back-date by a minute, for clients whose clock is a little behind.
            let created = now - 60;
            write_public(&path, created.to_string().as_bytes())?;
            Ok(created)
        }
        Err(e) => Err(Error::io(&path, e)),
    }
}

fn rfc3339(unix: i64) -> String {
    jiff::Timestamp::from_second(unix)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

fn key_details(key: &SigningKey) -> &'static str {
    match key.kind() {
        KeyKind::EcdsaP256 => "PKIX_ECDSA_P256_SHA_256",
        KeyKind::Ed25519 => "PKIX_ED25519",
    }
}

fn public_key(key: &SigningKey, start: &str) -> Value {
    json!({
        "rawBytes": B64.encode(key.spki_der()),
        "keyDetails": key_details(key),
        "validFor": { "start": start },
    })
}

/// `trusted_root.json`.
pub fn trusted_root(shared: &Shared) -> Value {
    let start = rfc3339(shared.created);
    let url = &shared.base_url;
    let a = &shared.authorities;
    let k = &shared.keys;
    let subject = |cn: &str| json!({ "organization": crate::ca::ORGANIZATION, "commonName": cn });
    json!({
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [
            {
                "baseUrl": url,
                "hashAlgorithm": "SHA2_256",
                "publicKey": public_key(&k.rekor_v1, &start),
                "logId": { "keyId": B64.encode(k.rekor_v1.key_id()) },
            },
            {
                // Rekor v2: the log ID is the key ID of its checkpoint signatures (C2SP
                // signed-note), which verifiers match the checkpoint's key hint against.
                "baseUrl": url,
                "hashAlgorithm": "SHA2_256",
                "publicKey": public_key(&k.rekor_v2, &start),
                "logId": { "keyId": B64.encode(crate::rekor::v2::log_id(shared)) },
            },
        ],
        "certificateAuthorities": [{
            "subject": subject("vouch-devstack Fulcio"),
            "uri": url,
            "certChain": { "certificates": [
                { "rawBytes": B64.encode(&a.fulcio_intermediate.cert_der) },
                { "rawBytes": B64.encode(&a.fulcio_root.cert_der) },
            ]},
            "validFor": { "start": start },
        }],
        "ctlogs": [{
            "baseUrl": url,
            "hashAlgorithm": "SHA2_256",
            "publicKey": public_key(&k.ctlog, &start),
            "logId": { "keyId": B64.encode(k.ctlog.key_id()) },
        }],
        "timestampAuthorities": [{
            "subject": subject("vouch-devstack TSA"),
            "uri": format!("{url}/api/v1/timestamp"),
            "certChain": { "certificates": [
                { "rawBytes": B64.encode(&a.tsa_leaf.cert_der) },
                { "rawBytes": B64.encode(&a.tsa_root.cert_der) },
            ]},
            "validFor": { "start": start },
        }],
    })
}

/// `signing_config.json`: where clients find each service.
pub fn signing_config(shared: &Shared) -> Value {
    let start = rfc3339(shared.created);
    let url = &shared.base_url;
    let service = |url: String, version: u32| {
        json!({
            "url": url,
            "majorApiVersion": version,
            "validFor": { "start": start },
            "operator": OPERATOR,
        })
    };
    json!({
        "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
        "caUrls": [service(url.clone(), 1)],
        "oidcUrls": [service(url.clone(), 1)],
        // Both logs, under one operator: clients that take the highest version they support
        // from each operator (sigstore-python 4.5, sigstore-rust 0.15) sign with Rekor v2
        // unless told otherwise (`sigstore sign --rekor-version 1`).
        "rekorTlogUrls": [service(url.clone(), 2), service(url.clone(), 1)],
        "tsaUrls": [service(format!("{url}/api/v1/timestamp"), 1)],
        "rekorTlogConfig": { "selector": "ANY" },
        "tsaConfig": { "selector": "ANY" },
    })
}

/// `trust_config.json`: the trusted root and signing configuration together.
pub fn trust_config(shared: &Shared) -> Value {
    json!({
        "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
        "trustedRoot": trusted_root(shared),
        "signingConfig": signing_config(shared),
    })
}

/// Writes the three files, and `devstack.json` (the URL), into the state directory.
pub fn write_all(shared: &Shared) -> Result<(), Error> {
    let dir = &shared.state_dir;
    let pretty = |v: &Value| {
        let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
        s.push('\n');
        s
    };
    write_public(
        &dir.join("trusted_root.json"),
        pretty(&trusted_root(shared)).as_bytes(),
    )?;
    write_public(
        &dir.join("signing_config.json"),
        pretty(&signing_config(shared)).as_bytes(),
    )?;
    write_public(
        &dir.join("trust_config.json"),
        pretty(&trust_config(shared)).as_bytes(),
    )?;
    let info = json!({ "url": shared.base_url, "issuer": shared.base_url });
    write_public(&dir.join("devstack.json"), pretty(&info).as_bytes())
}
