//! Records attested by the phone's device key (decision 0017).
//!
//! At enrolment a phone registers a P-256 public key, the curve both the
//! Android Keystore and the iOS Secure Enclave keep in hardware, and the
//! server pins it to the device. The customer's signature, each consent and
//! the QC pass are then signed by the phone over a canonical payload built
//! here from the record itself: the order's id, the record, the signer's
//! name, a digest of the strokes (or the checklist), the time and the
//! device id, and for the sign-off the SHA-256 of the report the customer
//! saw. The server rebuilds the payload from the record it stores and
//! verifies the signature with the pinned key, so a record changed after
//! signing, a signature copied onto another order, or one made with another
//! device's key does not verify.
//!
//! The private key never leaves the platform: [`DeviceSigner`] is what the
//! Kotlin and Swift layers implement with the Keystore and the Secure
//! Enclave. [`SoftwareSigner`] is the Rust key for the tests, the device
//! command and phones without a hardware key store.

use crate::model::{Attestation, Consent, KeyBacking, QcRecord, SignOff, Signature, WorkOrder};
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{DerSignature, SigningKey, VerifyingKey};
use p256::pkcs8::DecodePublicKey;
use sha2::{Digest, Sha256};
use std::fmt;

/// The first element of every payload: a payload of another version never
/// verifies as this one.
pub const PAYLOAD_VERSION: &str = "fieldwork-attestation/1";

/// Why a device key could not sign.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the device key could not sign: {0}")]
pub struct SignerError(pub String);

/// The phone's device key: in the Android Keystore or the Secure Enclave on
/// a phone, a [`SoftwareSigner`] elsewhere. It is called while the store
/// is held, so it must not call back into Fieldwork.
pub trait DeviceSigner: Send + Sync + fmt::Debug {
    /// The public key: SEC1 (65 bytes, `04‖x‖y`) or DER SubjectPublicKeyInfo.
    fn public_key(&self) -> Result<Vec<u8>, SignerError>;
    /// An ECDSA P-256 signature over SHA-256 of `payload`, DER-encoded (what
    /// Java's `SHA256withECDSA` and Apple's `ecdsaSignatureMessageX962SHA256`
    /// make).
    fn sign(&self, payload: &[u8]) -> Result<Vec<u8>, SignerError>;
    /// Where the key is kept.
    fn backing(&self) -> KeyBacking;
}

/// A P-256 key held in memory, marked software-backed.
pub struct SoftwareSigner {
    key: SigningKey,
}

impl fmt::Debug for SoftwareSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SoftwareSigner(..)")
    }
}

impl SoftwareSigner {
    pub fn generate() -> SoftwareSigner {
        loop {
            let mut secret = [0u8; 32];
            rand::fill(&mut secret);
            if let Some(s) = Self::from_secret(&secret) {
                return s;
            }
        }
    }

    /// The key from its 32-byte secret scalar; `None` if it is not one.
    pub fn from_secret(secret: &[u8]) -> Option<SoftwareSigner> {
        SigningKey::from_slice(secret)
            .ok()
            .map(|key| SoftwareSigner { key })
    }

    /// The 32-byte secret, for a key file readable by its owner only.
    pub fn secret(&self) -> Vec<u8> {
        self.key.to_bytes().to_vec()
    }
}

impl DeviceSigner for SoftwareSigner {
    fn public_key(&self) -> Result<Vec<u8>, SignerError> {
        Ok(self
            .key
            .verifying_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec())
    }

    fn sign(&self, payload: &[u8]) -> Result<Vec<u8>, SignerError> {
        let sig: DerSignature = self.key.sign(payload);
        Ok(sig.as_bytes().to_vec())
    }

    fn backing(&self) -> KeyBacking {
        KeyBacking::Software
    }
}

/// A device's public key, normalised to SEC1 uncompressed (65 bytes), from
/// SEC1 (compressed or not) or DER SubjectPublicKeyInfo (Java's
/// `PublicKey.getEncoded()`); `None` if it is not a P-256 public key.
pub fn normalise_public_key(bytes: &[u8]) -> Option<Vec<u8>> {
    let key = VerifyingKey::from_sec1_bytes(bytes)
        .ok()
        .or_else(|| VerifyingKey::from_public_key_der(bytes).ok())?;
    Some(key.to_encoded_point(false).as_bytes().to_vec())
}

/// A device's key as the server pinned it at enrolment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinnedKey {
    /// SEC1 uncompressed.
    pub public_key: Vec<u8>,
    pub backing: KeyBacking,
    /// The device was revoked: nothing it signs is accepted any more.
    pub revoked: bool,
}

fn strokes_digest(strokes: &[crate::model::Stroke]) -> String {
    digest(&serde_json::to_vec(strokes).unwrap_or_default())
}

fn digest(bytes: &[u8]) -> String {
    crate::at_rest::hex(&Sha256::digest(bytes))
}

fn payload(fields: &[serde_json::Value]) -> Vec<u8> {
    let mut all = vec![serde_json::Value::from(PAYLOAD_VERSION)];
    all.extend_from_slice(fields);
    serde_json::to_vec(&all).unwrap_or_default()
}

/// The customer's signature over the report: what the phone signs.
pub fn signature_payload(order_id: &str, s: &Signature) -> Vec<u8> {
    payload(&[
        "sign_off".into(),
        order_id.into(),
        s.report_sha256.as_str().into(),
        s.language.as_deref().unwrap_or("").into(),
        s.signer_name.as_str().into(),
        strokes_digest(&s.strokes).into(),
        s.signed_at_ms.into(),
        s.device.as_str().into(),
    ])
}

/// A consent: what the phone `device` signs.
pub fn consent_payload(order_id: &str, c: &Consent, device: &str) -> Vec<u8> {
    payload(&[
        "consent".into(),
        order_id.into(),
        c.id.as_str().into(),
        serde_json::to_value(c.kind).unwrap_or_default(),
        c.accepted.into(),
        c.signer_name.as_str().into(),
        digest(c.scope.as_bytes()).into(),
        c.parts.join(",").into(),
        strokes_digest(&c.strokes).into(),
        c.by.as_str().into(),
        c.at_ms.into(),
        device.into(),
    ])
}

/// A QC record: what the phone `device` signs.
pub fn qc_payload(order_id: &str, q: &QcRecord, device: &str) -> Vec<u8> {
    payload(&[
        "qc".into(),
        order_id.into(),
        q.id.as_str().into(),
        digest(&serde_json::to_vec(&q.items).unwrap_or_default()).into(),
        q.passed.into(),
        q.inspector.as_str().into(),
        q.at_ms.into(),
        device.into(),
    ])
}

/// Sign `payload` with `signer` as device `device`.
pub fn attest(
    signer: &dyn DeviceSigner,
    device: &str,
    payload: &[u8],
) -> Result<Attestation, SignerError> {
    let sig = signer.sign(payload)?;
    Ok(Attestation {
        device: device.to_string(),
        backing: signer.backing(),
        signature: crate::at_rest::hex(&sig),
    })
}

/// Whether `att` is `key`'s signature over `payload`.
pub fn verifies(key: &PinnedKey, payload: &[u8], att: &Attestation) -> bool {
    let Ok(vk) = VerifyingKey::from_sec1_bytes(&key.public_key) else {
        return false;
    };
    let Some(der) = crate::at_rest::unhex(&att.signature) else {
        return false;
    };
    let Ok(sig) = DerSignature::from_bytes(&der) else {
        return false;
    };
    vk.verify(payload, &sig).is_ok()
}

/// One record a push added or changed, with what its signer signed.
struct Record<'a> {
    what: String,
    attestation: Option<&'a Attestation>,
    /// What the pushing device signed, rebuilt from the record.
    payload: Vec<u8>,
    /// The device the record itself names (a signature does).
    names_device: Option<&'a str>,
}

fn records<'a>(before: Option<&WorkOrder>, after: &'a WorkOrder, device: &str) -> Vec<Record<'a>> {
    let mut out = Vec::new();
    let id = after.id.as_str();
    if let Some(SignOff::Signed(s)) = &after.sign_off {
        let same = before.and_then(|b| b.sign_off.as_ref()) == after.sign_off.as_ref();
        if !same {
            out.push(Record {
                what: "the customer's signature".into(),
                attestation: s.attestation.as_ref(),
                payload: signature_payload(id, s),
                names_device: Some(s.device.as_str()),
            });
        }
    }
    for c in &after.consents {
        if before.is_some_and(|b| b.consents.contains(c)) {
            continue;
        }
        out.push(Record {
            what: format!("consent {}", c.id),
            attestation: c.attestation.as_ref(),
            payload: consent_payload(id, c, device),
            names_device: None,
        });
    }
    for q in &after.qc {
        if before.is_some_and(|b| b.qc.contains(q)) {
            continue;
        }
        out.push(Record {
            what: format!("QC record {}", q.id),
            attestation: q.attestation.as_ref(),
            payload: qc_payload(id, q, device),
            names_device: None,
        });
    }
    out
}

/// Check every signature, consent and QC record a push by `device` adds or
/// changes. With a pinned key each must carry that device's attestation,
/// and it must verify; a device enrolled before keys existed (no key) may
/// add records without one, never with one. The reason names the record,
/// never what it says.
pub fn check_pushed(
    before: Option<&WorkOrder>,
    after: &WorkOrder,
    device: &str,
    key: Option<&PinnedKey>,
) -> Result<(), String> {
    for r in records(before, after, device) {
        let what = &r.what;
        let Some(key) = key else {
            if r.attestation.is_some() {
                return Err(format!(
                    "{what} is attested, but this device registered no key"
                ));
            }
            continue;
        };
        if key.revoked {
            return Err(format!("{what} comes from a revoked device"));
        }
        let Some(att) = r.attestation else {
            return Err(format!("{what} is not attested by the device"));
        };
        if att.device != device || r.names_device.is_some_and(|d| d != device) {
            return Err(format!("{what} is attested by another device"));
        }
        if att.backing != key.backing {
            return Err(format!(
                "{what} claims a {} key; the device registered a {} one",
                att.backing.as_str(),
                key.backing.as_str()
            ));
        }
        if !verifies(key, &r.payload, att) {
            return Err(format!("{what}: the attestation does not verify"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::visited_order;

    fn pinned(s: &SoftwareSigner) -> PinnedKey {
        PinnedKey {
            public_key: normalise_public_key(&s.public_key().unwrap()).unwrap(),
            backing: KeyBacking::Software,
            revoked: false,
        }
    }

    fn attested(signer: &SoftwareSigner, device: &str) -> WorkOrder {
        let mut o = visited_order(true);
        let Some(SignOff::Signed(s)) = &mut o.sign_off else {
            unreachable!()
        };
        s.device = device.into();
        s.attestation = Some(attest(signer, device, &signature_payload(&o.id, s)).unwrap());
        let id = o.id.clone();
        for q in &mut o.qc {
            q.attestation = Some(attest(signer, device, &qc_payload(&id, q, device)).unwrap());
        }
        o
    }

    #[test]
    fn a_record_attested_by_the_pushing_device_verifies_and_nothing_else_does() {
        let (a, b) = (SoftwareSigner::generate(), SoftwareSigner::generate());
        let o = attested(&a, "dev-a");
        assert_eq!(check_pushed(None, &o, "dev-a", Some(&pinned(&a))), Ok(()));

        // Another device's key, under this device's name.
        let forged = attested(&b, "dev-a");
        let e = check_pushed(None, &forged, "dev-a", Some(&pinned(&a))).unwrap_err();
        assert!(e.contains("does not verify"), "{e}");

        // The signer's name changed after signing.
        let mut tampered = o.clone();
        if let Some(SignOff::Signed(s)) = &mut tampered.sign_off {
            s.signer_name = "Someone Else".into();
        }
        let e = check_pushed(None, &tampered, "dev-a", Some(&pinned(&a))).unwrap_err();
        assert!(
            e.contains("signature: the attestation does not verify"),
            "{e}"
        );

        // The same attestation on another order.
        let mut other = o.clone();
        other.id = "wo-other".into();
        assert!(check_pushed(None, &other, "dev-a", Some(&pinned(&a))).is_err());

        // Pushed by another device, or with none, or revoked.
        assert!(check_pushed(None, &o, "dev-b", Some(&pinned(&a))).is_err());
        let mut bare = o.clone();
        if let Some(SignOff::Signed(s)) = &mut bare.sign_off {
            s.attestation = None;
        }
        let e = check_pushed(None, &bare, "dev-a", Some(&pinned(&a))).unwrap_err();
        assert_eq!(e, "the customer's signature is not attested by the device");
        let revoked = PinnedKey {
            revoked: true,
            ..pinned(&a)
        };
        assert!(check_pushed(None, &o, "dev-a", Some(&revoked)).is_err());

        // Records the push did not touch are not checked again.
        assert_eq!(
            check_pushed(Some(&bare), &bare, "dev-a", Some(&revoked)),
            Ok(())
        );
        // A device with no key: unattested records pass, attested ones not.
        let mut none = bare.clone();
        for q in &mut none.qc {
            q.attestation = None;
        }
        assert_eq!(check_pushed(None, &none, "dev-a", None), Ok(()));
        assert!(check_pushed(None, &o, "dev-a", None).is_err());
    }

    #[test]
    fn public_keys_come_as_sec1_or_java_der_and_nothing_else() {
        let s = SoftwareSigner::generate();
        let sec1 = s.public_key().unwrap();
        assert_eq!(sec1.len(), 65);
        // What Java's `PublicKey.getEncoded()` gives for a P-256 key: the
        // SubjectPublicKeyInfo header for id-ecPublicKey/prime256v1, then
        // the point.
        let mut der =
            crate::at_rest::unhex("3059301306072a8648ce3d020106082a8648ce3d030107034200").unwrap();
        der.extend_from_slice(&sec1);
        assert_eq!(normalise_public_key(&der), Some(sec1.clone()));
        assert_eq!(normalise_public_key(&sec1), Some(sec1));
        assert_eq!(normalise_public_key(b"not a key"), None);
        let back = SoftwareSigner::from_secret(&s.secret()).unwrap();
        assert_eq!(back.public_key(), s.public_key());
        assert_eq!(format!("{s:?}"), "SoftwareSigner(..)");
    }
}
