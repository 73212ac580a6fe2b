// Verifies a Sigstore bundle with the Sigstore project's JavaScript verifier (@sigstore/verify),
// offline, against the trusted root inside a client trust configuration.
//
// usage: node sigstore-verify.cjs TRUST_CONFIG BUNDLE ARTIFACT IDENTITY ISSUER
// Exit 0 when the bundle verifies and (for a DSSE bundle) the artifact is a subject of the
// statement; 1 with the verifier's message otherwise.
'use strict';
const fs = require('fs');
const crypto = require('crypto');
const { bundleFromJSON } = require('@sigstore/bundle');
const { TrustedRoot } = require('@sigstore/protobuf-specs');
const { Verifier, toSignedEntity, toTrustMaterial } = require('@sigstore/verify');

const [trustConfigPath, bundlePath, artifactPath, identity, issuer] = process.argv.slice(2);
try {
  const trustConfig = JSON.parse(fs.readFileSync(trustConfigPath, 'utf8'));
  const trust = toTrustMaterial(TrustedRoot.fromJSON(trustConfig.trustedRoot));
  const bundle = bundleFromJSON(JSON.parse(fs.readFileSync(bundlePath, 'utf8')));
  const artifact = fs.readFileSync(artifactPath);
  const isDsse = bundle.content.$case === 'dsseEnvelope';
  const entity = toSignedEntity(bundle, isDsse ? undefined : artifact);
  const verifier = new Verifier(trust, { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 });
  verifier.verify(entity, { subjectAlternativeName: identity, extensions: { issuer } });
  if (isDsse) {
    // The envelope verified; the artifact must also be what the statement is about.
    const statement = JSON.parse(bundle.content.dsseEnvelope.payload.toString('utf8'));
    const sha256 = crypto.createHash('sha256').update(artifact).digest('hex');
    if (!statement.subject.some((s) => s.digest && s.digest.sha256 === sha256)) {
      throw new Error(`no subject of the statement has sha256 ${sha256}`);
    }
  }
  console.log('verified');
} catch (e) {
  console.error(`rejected: ${e && e.message ? e.message : e}`);
  process.exit(1);
}
