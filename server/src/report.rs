//! The service report as a PDF at the desk: made by the core's own report
//! code (the same bytes the phone makes for the same order and photos), set
//! in the font the server carries, with the photos from the tenant's blob
//! store. The board links it; the dispatcher API serves it.

use crate::state::{ApiError, AppState};
use fieldwork_core::model::Photo;
use fieldwork_core::report::ReportFont;
use std::io::Read;
use std::sync::OnceLock;

/// The library's font asset, compiled into the server.
static FONT_BYTES: &[u8] = include_bytes!("../../core/assets/fonts/NotoSansSC-Regular.otf");

fn font() -> Result<&'static ReportFont, ApiError> {
    static FONT: OnceLock<Option<ReportFont>> = OnceLock::new();
    FONT.get_or_init(|| ReportFont::from_bytes(FONT_BYTES.to_vec()).ok())
        .as_ref()
        .ok_or_else(|| ApiError::internal("the report font does not load"))
}

/// The font as a file in a device's store folder, written there the first
/// time, as the Android module copies its asset out of the APK.
pub(crate) fn font_file(store: &std::path::Path) -> Result<std::path::PathBuf, String> {
    let path = store.join("NotoSansSC-Regular.otf");
    let current = std::fs::metadata(&path).is_ok_and(|m| m.len() == FONT_BYTES.len() as u64);
    if !current {
        let tmp = store.join("NotoSansSC-Regular.otf.tmp");
        std::fs::write(&tmp, FONT_BYTES).map_err(|e| format!("{}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, &path).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(path)
}

/// The PDF of order `id` of `tenant` (404 if there is no such order).
pub(crate) fn pdf(st: &AppState, tenant: &str, id: &str) -> Result<Vec<u8>, ApiError> {
    let fw = st.tenant(tenant)?;
    let blobs = st.blobs(tenant)?;
    let cap = u64::try_from(fw.policy().photo_max_bytes()).unwrap_or(0);
    let photo = |p: &Photo| -> Option<Vec<u8>> {
        let reader = blobs.open(&p.hash).ok()??;
        let mut bytes = Vec::new();
        reader.take(cap).read_to_end(&mut bytes).ok()?;
        Some(bytes)
    };
    Ok(fw.service_report_pdf_with(id, font()?, &photo)?)
}

/// `report-ID.pdf`, shown in the browser rather than downloaded.
pub(crate) fn response(id: &str, pdf: Vec<u8>) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    let name: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"report-{name}.pdf\""),
            ),
        ],
        pdf,
    )
        .into_response()
}
