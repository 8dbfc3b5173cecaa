//! Photos and documents on an order: the metadata lives in the order's
//! document; the bytes live beside the store, named by their SHA-256
//! (`crate::blobs`), and travel to the server separately (docs/sync.md).

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

/// What a photo shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Reconcile, Hydrate, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PhotoKind {
    Fault,
    SerialPlate,
    ProofOfPurchase,
    Part,
    CompletedWork,
    Other,
}

impl PhotoKind {
    pub const ALL: [PhotoKind; 6] = [
        PhotoKind::Fault,
        PhotoKind::SerialPlate,
        PhotoKind::ProofOfPurchase,
        PhotoKind::Part,
        PhotoKind::CompletedWork,
        PhotoKind::Other,
    ];

    /// The stable name used in JSON, on the command line and in the report.
    pub fn as_str(self) -> &'static str {
        match self {
            PhotoKind::Fault => "fault",
            PhotoKind::SerialPlate => "serial_plate",
            PhotoKind::ProofOfPurchase => "proof_of_purchase",
            PhotoKind::Part => "part",
            PhotoKind::CompletedWork => "completed_work",
            PhotoKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<PhotoKind> {
        PhotoKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The kinds of file an order may hold, recognised from their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Reconcile, Hydrate, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MediaType {
    Jpeg,
    Png,
    Heic,
    Webp,
    Pdf,
}

impl MediaType {
    pub const ALL: [MediaType; 5] = [
        MediaType::Jpeg,
        MediaType::Png,
        MediaType::Heic,
        MediaType::Webp,
        MediaType::Pdf,
    ];

    /// The IANA media type.
    pub fn mime(self) -> &'static str {
        match self {
            MediaType::Jpeg => "image/jpeg",
            MediaType::Png => "image/png",
            MediaType::Heic => "image/heic",
            MediaType::Webp => "image/webp",
            MediaType::Pdf => "application/pdf",
        }
    }

    pub fn parse_mime(s: &str) -> Option<MediaType> {
        MediaType::ALL.into_iter().find(|m| m.mime() == s)
    }

    /// Whether a browser shows it as an image (HEIC and PDF are links).
    pub fn is_web_image(self) -> bool {
        matches!(self, MediaType::Jpeg | MediaType::Png | MediaType::Webp)
    }

    /// Bytes [`MediaType::sniff`] needs to decide.
    pub const SNIFF_BYTES: usize = 32;

    /// The type of a file from its first bytes (at least
    /// [`MediaType::SNIFF_BYTES`] of them when the file is that long), never
    /// from its name or what a client claims; `None` for anything else.
    pub fn sniff(head: &[u8]) -> Option<MediaType> {
        if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
            return Some(MediaType::Jpeg);
        }
        if head.starts_with(b"\x89PNG\r\n\x1a\n") {
            return Some(MediaType::Png);
        }
        if head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WEBP" {
            return Some(MediaType::Webp);
        }
        if head.starts_with(b"%PDF-") {
            return Some(MediaType::Pdf);
        }
        // ISO base media: a `ftyp` box whose major or a compatible brand is
        // one of HEIF's (HEIC stills, sequences, and the generic `mif1`).
        if head.len() >= 16 && &head[4..8] == b"ftyp" {
            const HEIF: [&[u8; 4]; 8] = [
                b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1",
            ];
            let box_len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
            let end = box_len.min(head.len());
            let major = &head[8..12];
            let compatible = head.get(16..end).unwrap_or(&[]).chunks_exact(4);
            if HEIF.iter().any(|b| &b[..] == major)
                || compatible
                    .into_iter()
                    .any(|c| HEIF.iter().any(|b| &b[..] == c))
            {
                return Some(MediaType::Heic);
            }
        }
        None
    }
}

/// Who removed a photo, and when. The metadata stays, so a removal syncs
/// like any other change; the bytes go once nothing references them.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PhotoRemoval {
    pub by: String,
    pub at_ms: i64,
}

/// One photo or document attached to an order.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Photo {
    #[key]
    pub id: String,
    /// SHA-256 of the bytes, 64 lowercase hex digits: the name of the blob.
    pub hash: String,
    pub size: i64,
    pub media_type: MediaType,
    pub kind: PhotoKind,
    pub caption: Option<String>,
    pub by: String,
    pub device: String,
    pub at_ms: i64,
    pub removed: Option<PhotoRemoval>,
}

impl Photo {
    pub fn is_removed(&self) -> bool {
        self.removed.is_some()
    }
}

/// Whether `s` is a SHA-256 as blobs are named: 64 lowercase hex digits.
pub fn is_blob_hash(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_recognised_from_their_bytes() {
        assert_eq!(
            MediaType::sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]),
            Some(MediaType::Jpeg)
        );
        assert_eq!(
            MediaType::sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Some(MediaType::Png)
        );
        assert_eq!(
            MediaType::sniff(b"RIFF\x24\0\0\0WEBPVP8 "),
            Some(MediaType::Webp)
        );
        assert_eq!(MediaType::sniff(b"%PDF-1.7\n"), Some(MediaType::Pdf));
        let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic";
        assert_eq!(MediaType::sniff(heic), Some(MediaType::Heic));
        let by_compatible = b"\0\0\0\x18ftypXXXX\0\0\0\0mif1heic";
        assert_eq!(MediaType::sniff(by_compatible), Some(MediaType::Heic));
        let mp4 = b"\0\0\0\x18ftypisom\0\0\0\0isomavc1";
        assert_eq!(MediaType::sniff(mp4), None, "an MP4 video is not a photo");
        assert_eq!(MediaType::sniff(b"GIF89a"), None);
        assert_eq!(MediaType::sniff(b"<html>"), None);
        assert_eq!(MediaType::sniff(b""), None);
        assert_eq!(
            MediaType::sniff(b"RIFF"),
            None,
            "short input is not an error"
        );
    }

    #[test]
    fn names_round_trip() {
        for k in PhotoKind::ALL {
            assert_eq!(PhotoKind::parse(k.as_str()), Some(k));
        }
        for m in MediaType::ALL {
            assert_eq!(MediaType::parse_mime(m.mime()), Some(m));
        }
        assert!(is_blob_hash(&"ab".repeat(32)));
        assert!(!is_blob_hash(&"AB".repeat(32)));
        assert!(!is_blob_hash("../../etc/passwd"));
    }
}
