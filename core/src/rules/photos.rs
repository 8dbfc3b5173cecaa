//! What a phone's push may do to an order's photos (docs/domain.md,
//! "Photos and documents"): photos are added within the service center's
//! limits and removed by marking them; what a photo says once attached does
//! not change. The server checks this before it stores a push, so an
//! over-limit photo is refused before any of its bytes are sent.

use crate::model::{Photo, WorkOrder, is_blob_hash};
use crate::policy::Policy;

/// Whether `after` (the order with a device's changes) keeps to the photo
/// rules against `before` (the order as the server held it; `None` for an
/// order the device made).
pub fn check_pushed(
    before: Option<&WorkOrder>,
    after: &WorkOrder,
    policy: &Policy,
) -> Result<(), String> {
    let was = |p: &Photo| before.and_then(|b| b.photos.iter().find(|q| q.id == p.id));
    for p in &after.photos {
        match was(p) {
            Some(old) => {
                let mut unchanged = old.clone();
                unchanged.removed.clone_from(&p.removed);
                if &unchanged != p || (old.removed.is_some() && p.removed != old.removed) {
                    return Err(format!(
                        "photo {}: only its removal may change once attached",
                        p.id
                    ));
                }
            }
            None => {
                if !is_blob_hash(&p.hash) {
                    return Err(format!("photo {}: not a SHA-256 hash", p.id));
                }
                if p.size <= 0 || p.size > policy.photo_max_bytes() {
                    return Err(format!(
                        "photo {}: larger than the limit of {} MB",
                        p.id, policy.photo_max_mb
                    ));
                }
            }
        }
    }
    if let Some(b) = before
        && b.photos
            .iter()
            .any(|p| !after.photos.iter().any(|q| q.id == p.id))
    {
        return Err("a photo's record may not be deleted, only marked removed".into());
    }
    let held = after.photos.iter().filter(|p| !p.is_removed()).count();
    let held_before = before.map_or(0, |b| b.photos.iter().filter(|p| !p.is_removed()).count());
    if held > held_before && i64::try_from(held).unwrap_or(i64::MAX) > policy.photos_per_order {
        return Err(format!(
            "more than {} photos and documents on one order",
            policy.photos_per_order
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{MediaType, PhotoKind, PhotoRemoval};
    use crate::rules::testing::*;

    fn photo(id: &str, size: i64) -> Photo {
        Photo {
            id: id.into(),
            hash: "ab".repeat(32),
            size,
            media_type: MediaType::Jpeg,
            kind: PhotoKind::Fault,
            caption: None,
            by: "eng".into(),
            device: "dev".into(),
            at_ms: T0,
            removed: None,
        }
    }

    #[test]
    fn photos_are_added_within_limits_and_only_marked_removed() {
        let policy = Policy::default();
        let before = working_order(true);
        let mut added = before.clone();
        added.photos.push(photo("ph-1", 1_000));
        assert_eq!(check_pushed(Some(&before), &added, &policy), Ok(()));
        assert_eq!(check_pushed(None, &added, &policy), Ok(()));

        let mut huge = before.clone();
        huge.photos.push(photo("ph-2", 20_000_001));
        assert!(check_pushed(Some(&before), &huge, &policy).is_err());

        let mut removed = added.clone();
        removed.photos[0].removed = Some(PhotoRemoval {
            by: "eng".into(),
            at_ms: T0,
        });
        assert_eq!(check_pushed(Some(&added), &removed, &policy), Ok(()));
        let mut rewritten = added.clone();
        rewritten.photos[0].hash = "cd".repeat(32);
        assert!(check_pushed(Some(&added), &rewritten, &policy).is_err());
        assert!(
            check_pushed(Some(&added), &before, &policy).is_err(),
            "deleted"
        );

        let mut full = before.clone();
        let limit = Policy {
            photos_per_order: 2,
            ..Policy::default()
        };
        full.photos = vec![photo("a", 1), photo("b", 1)];
        assert_eq!(check_pushed(Some(&before), &full, &limit), Ok(()));
        let mut over = full.clone();
        over.photos.push(photo("c", 1));
        assert!(check_pushed(Some(&full), &over, &limit).is_err());
    }
}
