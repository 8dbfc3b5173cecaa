//! `Fieldwork`: the engineer's local store and rules, one method per step of a
//! visit. Every method commits durably before it returns (or changes nothing
//! and throws); call them from a background thread, from as many as you like.

use crate::error::{FieldworkError, guard, store_key};
use crate::types::OrderDetail;
use fieldwork_core::api::{ConsentInput, DiagnosisInput, FollowUpInput, MailInMilestone};
use fieldwork_core::api::{QuarantinedChange, StockLevel};
use fieldwork_core::model::{
    CatalogPart, ComplaintCategory, FeeKind, Intake, Location, QcItem, Rating, StockMovement,
    Stroke, WarrantyDecision,
};
use fieldwork_core::{Config, OrderFilter, OrderRow};
use std::sync::Arc;

type Result<T> = std::result::Result<T, FieldworkError>;

#[derive(Debug, uniffi::Object)]
pub struct Fieldwork {
    pub(crate) core: Arc<fieldwork_core::Fieldwork>,
}

impl Fieldwork {
    fn call<T>(
        &self,
        f: impl FnOnce(&fieldwork_core::Fieldwork) -> fieldwork_core::api::Result<T>,
    ) -> Result<T> {
        guard(|| Ok(f(&self.core)?))
    }
}

#[uniffi::export]
impl Fieldwork {
    /// Open (or create) the store at `path`, a file in the app's private
    /// storage, for the signed-in engineer `user`. The store remembers its
    /// device id across openings.
    #[uniffi::constructor]
    pub fn open(path: String, user: String) -> Result<Arc<Fieldwork>> {
        guard(|| {
            let core = fieldwork_core::Fieldwork::open(path, Config::new(user))?;
            Ok(Arc::new(Fieldwork {
                core: Arc::new(core),
            }))
        })
    }

    /// Open (or create) the store at `path` encrypted under `key`: 32 bytes
    /// the app keeps in the Android Keystore or the iOS Keychain (wrapped by
    /// a hardware key), used as they are, with no key derivation. A key
    /// that does not open the store, or a store that is not encrypted yet
    /// (see `encrypt_store`), fails with `FieldworkError.Locked` and
    /// changes nothing.
    #[uniffi::constructor]
    pub fn open_encrypted(path: String, user: String, key: Vec<u8>) -> Result<Arc<Fieldwork>> {
        guard(|| {
            let config = Config::new(user).with_key(store_key(&key)?);
            let core = fieldwork_core::Fieldwork::open(path, config)?;
            Ok(Arc::new(Fieldwork {
                core: Arc::new(core),
            }))
        })
    }

    /// Encrypt the store under `key` from now on (one transaction); the
    /// app stores the new key once this returns.
    pub fn rekey(&self, key: Vec<u8>) -> Result<()> {
        guard(|| Ok(self.core.rekey(&store_key(&key)?)?))
    }

    /// This installation's device id (also the Automerge actor of its changes).
    pub fn device_id(&self) -> String {
        self.core.device_id()
    }

    /// The engineer the store was opened for.
    pub fn user(&self) -> String {
        self.core.user()
    }

    // ---- Orders ------------------------------------------------------------

    /// Orders on this device, filtered and sorted (urgent first by default).
    pub fn list_orders(&self, filter: OrderFilter) -> Result<Vec<OrderRow>> {
        self.call(|c| c.list_orders(&filter))
    }

    /// One order with its SLA clocks, fees, signature validity and conflicts.
    pub fn order(&self, id: String) -> Result<OrderDetail> {
        self.call(|c| c.order(&id)).map(OrderDetail::from)
    }

    /// A walk-in order taken by the engineer; returns its id.
    pub fn create_order(&self, intake: Intake) -> Result<String> {
        self.call(|c| c.desk().create_order(intake))
    }

    pub fn accept(&self, id: String) -> Result<()> {
        self.call(|c| c.accept(&id))
    }

    pub fn en_route(&self, id: String) -> Result<()> {
        self.call(|c| c.en_route(&id))
    }

    /// On site; the location is recorded if the app has one.
    pub fn arrive(&self, id: String, location: Option<Location>) -> Result<()> {
        self.call(|c| c.arrive(&id, location))
    }

    pub fn start_work(&self, id: String) -> Result<()> {
        self.call(|c| c.start_work(&id))
    }

    pub fn mark_repaired(&self, id: String) -> Result<()> {
        self.call(|c| c.mark_repaired(&id))
    }

    pub fn cancel(&self, id: String, reason: String) -> Result<()> {
        self.call(|c| c.cancel(&id, &reason))
    }

    /// A recorded reason (customer absent, parts delayed…) that extends the
    /// repair clock to its exception limit.
    pub fn set_sla_exception(&self, id: String, reason: String) -> Result<()> {
        self.call(|c| c.set_sla_exception(&id, &reason))
    }

    pub fn diagnose(&self, id: String, diagnosis: DiagnosisInput) -> Result<()> {
        self.call(|c| c.diagnose(&id, diagnosis))
    }

    /// Decide warranty from the purchase date, the proof and misuse.
    pub fn decide_warranty(
        &self,
        id: String,
        proof_checked: bool,
        misuse: bool,
    ) -> Result<WarrantyDecision> {
        self.call(|c| c.decide_warranty(&id, proof_checked, misuse))
    }

    pub fn record_extra_fault(&self, id: String, description: String) -> Result<()> {
        self.call(|c| c.record_extra_fault(&id, &description))
    }

    pub fn add_note(&self, id: String, text: String) -> Result<()> {
        self.call(|c| c.add_note(&id, &text))
    }

    /// Fit a part from the van; returns the parts line id.
    pub fn use_part(
        &self,
        id: String,
        sku: String,
        qty: i64,
        quality_fault: bool,
    ) -> Result<String> {
        self.call(|c| c.use_part(&id, &sku, qty, quality_fault))
    }

    /// Order a part from the center; the order then waits for it.
    pub fn order_part(&self, id: String, sku: String, qty: i64) -> Result<String> {
        self.call(|c| c.order_part(&id, &sku, qty))
    }

    pub fn mark_part_doa(&self, id: String, line_id: String) -> Result<()> {
        self.call(|c| c.mark_part_doa(&id, &line_id))
    }

    /// Add a fee line (amounts in minor units); returns its id.
    pub fn add_fee(
        &self,
        id: String,
        kind: FeeKind,
        description: String,
        amount_minor: i64,
    ) -> Result<String> {
        self.call(|c| c.add_fee(&id, kind, &description, amount_minor))
    }

    /// The customer's consent (or refusal), with its signature strokes.
    pub fn record_consent(&self, id: String, consent: ConsentInput) -> Result<String> {
        self.call(|c| c.record_consent(&id, consent))
    }

    /// Record the QC checklist; returns whether it passed.
    pub fn record_qc(&self, id: String, items: Vec<QcItem>) -> Result<bool> {
        self.call(|c| c.record_qc(&id, items))
    }

    /// The service report the customer reads before signing.
    pub fn service_report(&self, id: String) -> Result<String> {
        self.call(|c| c.service_report(&id))
    }

    /// The font PDF reports are set in: the path of the library's font asset
    /// (`NotoSansSC-Regular.otf`, which the Android module and the Swift
    /// package carry). Checked now; read again for each report.
    pub fn use_report_font(&self, path: String) -> Result<()> {
        self.call(|c| c.use_report_font(std::path::Path::new(&path)))
    }

    /// The service report as the PDF the customer keeps: made here, offline,
    /// in the language it was signed in, with the photos this device holds.
    /// The same order gives the same bytes here and at the desk.
    pub fn service_report_pdf(&self, id: String) -> Result<Vec<u8>> {
        self.call(|c| c.service_report_pdf(&id))
    }

    /// The service report in `language` (`zh-CN` or `en`), as the customer
    /// reads it before signing in that language.
    pub fn service_report_in(&self, id: String, language: String) -> Result<String> {
        let language = language_of(&language)?;
        self.call(|c| c.service_report_in(&id, language))
    }

    /// The customer signs the report as it is now, in `language` (the one
    /// they read it in; part of what they sign).
    pub fn capture_signature_in(
        &self,
        id: String,
        signer_name: String,
        strokes: Vec<Stroke>,
        language: String,
    ) -> Result<()> {
        let language = language_of(&language)?;
        self.call(|c| c.capture_signature_in(&id, &signer_name, strokes, language))
    }

    /// The service center's IANA time zone (`Asia/Shanghai`): show every
    /// time in it. Its settings arrive with sync, like the catalog.
    pub fn time_zone(&self) -> String {
        self.core.policy().time_zone
    }

    /// The service center's default language (`zh-CN` or `en`).
    pub fn language(&self) -> Result<String> {
        self.call(|c| Ok(c.settings()?.language().tag().to_string()))
    }

    /// The customer signs the report as it is now, in the service center's
    /// language.
    pub fn capture_signature(
        &self,
        id: String,
        signer_name: String,
        strokes: Vec<Stroke>,
    ) -> Result<()> {
        self.call(|c| c.capture_signature(&id, &signer_name, strokes))
    }

    pub fn refuse_signature(&self, id: String, signer_name: String, reason: String) -> Result<()> {
        self.call(|c| c.refuse_signature(&id, &signer_name, &reason))
    }

    /// The customer's satisfaction check; `score` is 1 to 5 if given.
    pub fn rate(
        &self,
        id: String,
        rating: Rating,
        score: Option<i64>,
        comment: Option<String>,
    ) -> Result<()> {
        self.call(|c| c.rate(&id, rating, score, comment))
    }

    pub fn record_follow_up(&self, id: String, call: FollowUpInput) -> Result<()> {
        self.call(|c| c.desk().record_follow_up(&id, call))
    }

    pub fn register_complaint(
        &self,
        id: String,
        what: String,
        category: ComplaintCategory,
        major: bool,
    ) -> Result<String> {
        self.call(|c| c.desk().register_complaint(&id, &what, category, major))
    }

    /// A mail-in milestone reached at `at_ms` (Unix milliseconds).
    pub fn record_mail_in(&self, id: String, milestone: MailInMilestone, at_ms: i64) -> Result<()> {
        self.call(|c| c.desk().record_mail_in(&id, milestone, at_ms))
    }

    // ---- Van stock and catalog ---------------------------------------------

    pub fn catalog(&self) -> Result<Vec<CatalogPart>> {
        self.call(|c| c.catalog())
    }

    /// The van's levels, with reorder hints.
    pub fn van_stock(&self) -> Result<Vec<StockLevel>> {
        self.call(|c| c.van_stock())
    }

    pub fn stock_ledger(&self) -> Result<Vec<StockMovement>> {
        self.call(|c| c.stock_ledger())
    }

    pub fn receive_stock(&self, sku: String, qty: i64) -> Result<()> {
        self.call(|c| c.receive_stock(&sku, qty))
    }

    pub fn return_part(&self, sku: String, qty: i64) -> Result<()> {
        self.call(|c| c.return_part(&sku, qty))
    }

    /// A stocktake: the shelf holds `physical`; the difference is booked.
    pub fn stocktake(&self, sku: String, physical: i64) -> Result<()> {
        self.call(|c| c.stocktake(&sku, physical))
    }

    /// Changes made here that the server has not acknowledged yet.
    pub fn pending_changes(&self) -> Result<i64> {
        self.call(|c| c.pending_changes())
    }

    // ---- Refused work --------------------------------------------------------

    /// Changes the server refused, kept here (never dropped): which order,
    /// when, why, and what they touched. Oldest first.
    pub fn quarantined(&self) -> Result<Vec<QuarantinedChange>> {
        self.call(|c| c.quarantined())
    }

    /// The quarantine as JSON for support, with the changes themselves. It
    /// holds what the engineer entered: send it to support only.
    pub fn export_quarantine(&self) -> Result<String> {
        self.call(|c| c.export_quarantine())
    }

    /// Discard one quarantined change for good (the engineer or support
    /// decided it is not needed).
    pub fn discard_quarantined(&self, id: i64) -> Result<()> {
        self.call(|c| c.discard_quarantined(id))
    }
}

/// A language tag the app passes: `zh-CN` or `en`.
fn language_of(tag: &str) -> Result<fieldwork_core::Language> {
    fieldwork_core::Language::parse_setting(tag).ok_or_else(|| FieldworkError::InvalidInput {
        code: "invalid".into(),
        args: [
            ("field".to_string(), "language".to_string()),
            ("reason_code".to_string(), "language".to_string()),
        ]
        .into_iter()
        .collect(),
        detail: "invalid language: must be zh-CN or en".into(),
    })
}

/// Encrypt the plaintext store at `path` and its photos under `key`, in
/// place, before opening it with `Fieldwork.open_encrypted`: how an app
/// that kept a plain store moves to an encrypted one. Crash-safe: if the
/// app dies during it, the plain store or the encrypted one remains, whole,
/// and the next call (or open) finishes or undoes the rest. A store already
/// encrypted under `key` is left as it is.
#[uniffi::export]
pub fn encrypt_store(path: String, key: Vec<u8>) -> Result<()> {
    guard(|| {
        Ok(fieldwork_core::Fieldwork::encrypt_store(
            path,
            &store_key(&key)?,
        )?)
    })
}
