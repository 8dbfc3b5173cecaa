//! What the customer signs on the phone: pen strokes, consents and the
//! sign-off over the service report.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

/// One point of a pen stroke, in the signature pad's own units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StrokePoint {
    pub x: f64,
    pub y: f64,
    pub t_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Stroke {
    pub points: Vec<StrokePoint>,
}

/// Pen strokes are written once and never edited, so the document holds them
/// as one compact text value (`[[[x,y,t_ms],…],…]`) rather than thousands of
/// nested objects: one value to compare on every later edit of the order.
mod strokes_text {
    use super::{Stroke, StrokePoint};
    use autosurgeon::{Hydrate, HydrateError, Prop, ReadDoc, Reconciler};

    pub(super) fn reconcile<R: Reconciler>(
        strokes: &[Stroke],
        mut reconciler: R,
    ) -> Result<(), R::Error> {
        let packed: Vec<Vec<(f64, f64, i64)>> = strokes
            .iter()
            .map(|s| s.points.iter().map(|p| (p.x, p.y, p.t_ms)).collect())
            .collect();
        // Serialising numbers and arrays cannot fail; non-finite numbers are
        // refused by validation before they get here (they would become null).
        reconciler.str(serde_json::to_string(&packed).unwrap_or_default())
    }

    pub(super) fn hydrate<D: ReadDoc>(
        doc: &D,
        obj: &automerge::ObjId,
        prop: Prop<'_>,
    ) -> Result<Vec<Stroke>, HydrateError> {
        let text = String::hydrate(doc, obj, prop)?;
        let packed: Vec<Vec<(f64, f64, i64)>> = serde_json::from_str(&text).map_err(|e| {
            HydrateError::unexpected("pen strokes", format!("text that does not parse: {e}"))
        })?;
        Ok(packed
            .into_iter()
            .map(|points| Stroke {
                points: points
                    .into_iter()
                    .map(|(x, y, t_ms)| StrokePoint { x, y, t_ms })
                    .collect(),
            })
            .collect())
    }
}

/// Where the private key that attests a device's records is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum KeyBacking {
    /// In the phone's secure hardware (Android Keystore / StrongBox, the
    /// iOS Secure Enclave): it cannot be copied off the phone.
    Hardware,
    /// In software (the device command, tests, phones without a hardware
    /// key store).
    Software,
}

impl KeyBacking {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyBacking::Hardware => "hardware",
            KeyBacking::Software => "software",
        }
    }

    pub fn parse(s: &str) -> Option<KeyBacking> {
        match s {
            "hardware" => Some(KeyBacking::Hardware),
            "software" => Some(KeyBacking::Software),
            _ => None,
        }
    }
}

/// Proof that an enrolled phone made a record: its device key's ECDSA
/// P-256 signature over the record's canonical payload (`crate::attest`),
/// which names the order, the signer, a digest of the strokes, the time and
/// the device. The server verifies it against the key pinned at enrolment.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attestation {
    /// The device id whose key signed.
    pub device: String,
    /// Where that key is kept, as the device registered it.
    pub backing: KeyBacking,
    /// The DER-encoded ECDSA signature (SHA-256), in hex.
    pub signature: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConsentKind {
    /// Acceptance of paid service (out of warranty or misuse), before work starts.
    PaidService,
    /// Extra parts beyond the diagnosis.
    ExtraParts,
    /// Extra work for a fault found during repair.
    ExtraWork,
    /// Confirmation of the fee list before it goes to finance.
    FeeList,
}

/// A customer's yes or no, recorded like a signature.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Consent {
    #[key]
    pub id: String,
    pub kind: ConsentKind,
    pub accepted: bool,
    pub signer_name: String,
    /// What was consented to, in words (amount, parts, work).
    pub scope: String,
    /// SKUs covered, for an extra-parts consent.
    pub parts: Vec<String>,
    #[autosurgeon(with = "strokes_text")]
    pub strokes: Vec<Stroke>,
    pub by: String,
    pub at_ms: i64,
    /// The phone's attestation; `None` from devices enrolled before device
    /// keys existed.
    #[serde(default)]
    pub attestation: Option<Attestation>,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Signature {
    pub signer_name: String,
    #[autosurgeon(with = "strokes_text")]
    pub strokes: Vec<Stroke>,
    /// SHA-256 (hex) of the canonical service report the customer saw.
    pub report_sha256: String,
    pub signed_at_ms: i64,
    pub device: String,
    /// The language of the report the customer signed (`zh-CN`, `en`):
    /// part of what was signed. `None` for signatures over the original
    /// English report, made before languages existed.
    #[serde(default)]
    pub language: Option<String>,
    /// The phone's attestation; `None` from devices enrolled before device
    /// keys existed.
    #[serde(default)]
    pub attestation: Option<Attestation>,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum SignOff {
    Signed(Signature),
    Refused {
        signer_name: String,
        reason: String,
        at_ms: i64,
    },
}
