//! The service report as a PDF: on the phone with the app's font and the
//! photos in its blob folder, at the desk with the server's font and blob
//! store. The order is read under the lock; the rendering runs without it,
//! so a sync is never held up by a report.

use super::{Fieldwork, Result};
use crate::model::{Photo, SignOff};
use crate::report::{PhotoBytes, ReportFont, render_pdf};
use crate::rules::signoff::{ReportFormat, signature_state_with};
use std::path::{Path, PathBuf};

impl Fieldwork {
    /// The font reports are set in: the app's copy of the library's font
    /// asset (`NotoSansSC-Regular.otf`). It is checked now and read again
    /// for each report, so it costs no memory in between.
    pub fn use_report_font(&self, path: &Path) -> Result<()> {
        ReportFont::from_file(path)?;
        self.local().report_font = Some(path.to_path_buf());
        Ok(())
    }

    /// The service report of order `id` as a PDF, in the language it was
    /// signed in (before signing, the service center's language), with the
    /// photos this device holds. Needs [`Fieldwork::use_report_font`].
    pub fn service_report_pdf(&self, id: &str) -> Result<Vec<u8>> {
        let (font, blobs) = {
            let g = self.local();
            (g.report_font.clone(), g.blobs.clone())
        };
        let font: PathBuf = font.ok_or_else(|| {
            crate::report::ReportError::NoFont("no font was given (use_report_font)".into())
        })?;
        let font = ReportFont::from_file(&font)?;
        let photos = |p: &Photo| -> Option<Vec<u8>> { blobs.as_ref()?.read(&p.hash).ok()? };
        self.service_report_pdf_with(id, &font, &photos)
    }

    /// The service report of order `id` as a PDF, set in `font`, with the
    /// photos `photos` finds (the server's way in).
    pub fn service_report_pdf_with(
        &self,
        id: &str,
        font: &ReportFont,
        photos: PhotoBytes<'_>,
    ) -> Result<Vec<u8>> {
        let (order, policy, format) = {
            let mut g = self.lock()?;
            let o = g.load_order(id)?;
            let format = match &o.sign_off {
                Some(SignOff::Signed(sig)) => ReportFormat::of_signature(sig.language.as_deref()),
                _ => ReportFormat::In(g.store.settings().language()),
            };
            let policy = g.store.policy_for(&o).clone();
            (o, policy, format)
        };
        let state = signature_state_with(&order, &policy);
        Ok(render_pdf(&order, &policy, format, state, font, photos)?)
    }
}
