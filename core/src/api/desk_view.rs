//! The order as it was before a device's push, to compare the push with
//! (what only the desk decides, the photo and attestation rules), and the
//! order after it, when the one before is kept in memory.
//!
//! Hydrating the whole order before applying a push, and again after, was
//! four tenths of the server's work in a burst. Instead the push is applied
//! with Automerge's patch log on, which says which of the order's fields
//! the push changed, at a cost that grows with the push, not the order.
//! The order as it was is then the order after the push with only those
//! fields read back as they were at the heads before it ([`AsWas`]): the
//! same order a full hydration would give, since every other field reads
//! the same before and after. The other way round, when the server keeps
//! the order as it was in memory, the order after the push is that order
//! with only the changed fields read: an order is hydrated whole once per
//! server process, not twice per push.

use crate::model::WorkOrder;
use crate::model::read::Memo;
use automerge::ReadDoc as am;
use automerge::{
    AutoCommit, AutomergeError, ChangeHash, ObjId, ObjType, Patch, PatchAction, Prop, Value,
};
use autosurgeon::{HydrateError, MaybeMissing, ReadDoc};
use std::collections::BTreeSet;
use std::ops::RangeBounds;

/// The top-level fields `patches` change, or `None` if a patch is not
/// under a named field of the document's root (then nothing is assumed).
pub(crate) fn fields_changed(patches: &[Patch]) -> Option<BTreeSet<String>> {
    let mut fields = BTreeSet::new();
    for p in patches {
        let key = match p.path.first() {
            Some((_, Prop::Map(key))) => key,
            Some((_, Prop::Seq(_))) => return None,
            None => match &p.action {
                PatchAction::PutMap { key, .. } | PatchAction::DeleteMap { key } => key,
                PatchAction::Increment {
                    prop: Prop::Map(key),
                    ..
                }
                | PatchAction::Conflict {
                    prop: Prop::Map(key),
                } => key,
                _ => return None,
            },
        };
        fields.insert(key.clone());
    }
    Some(fields)
}

/// The order as it was at `heads`, given the order now (`after`) and the
/// fields changed since (`changed`, from [`fields_changed`]; `None`: the
/// whole order is read back).
pub(crate) fn order_as_was(
    doc: &AutoCommit,
    heads: &[ChangeHash],
    after: &WorkOrder,
    changed: Option<&BTreeSet<String>>,
) -> Result<WorkOrder, HydrateError> {
    order_from(after, &AsWas { doc, heads }, changed)
}

/// The order `doc` holds now, given the order it held before a push
/// (`before`, kept in memory) and the fields the push changed.
pub(crate) fn order_as_is(
    doc: &AutoCommit,
    before: &WorkOrder,
    changed: Option<&BTreeSet<String>>,
) -> Result<WorkOrder, HydrateError> {
    order_from(before, doc, changed)
}

/// `base` with the `changed` fields read from `doc`, or the whole order
/// read from `doc` if what changed is not known.
fn order_from<D: ReadDoc>(
    base: &WorkOrder,
    doc: &D,
    changed: Option<&BTreeSet<String>>,
) -> Result<WorkOrder, HydrateError> {
    // Every object read once, however many fields are read from it.
    let doc = &Memo::new(doc);
    let Some(changed) = changed else {
        return doc.hydrate();
    };
    let mut order = base.clone();
    for key in changed {
        if !field_from(&mut order, doc, key)? {
            // A field the order does not know: read it all.
            return doc.hydrate();
        }
    }
    Ok(order)
}

/// Set `order`'s field named `key` to what `doc` holds under it, as the
/// order's own hydration would. False if no field has that name.
fn field_from<D: ReadDoc>(
    order: &mut WorkOrder,
    doc: &Memo<'_, D>,
    key: &str,
) -> Result<bool, HydrateError> {
    macro_rules! fields {
        ($($field:ident),* $(,)?) => {
            match key {
                $(stringify!($field) => order.$field = doc.hydrate_prop(&automerge::ROOT, key)?,)*
                // Orders written before photos existed have none.
                "photos" => {
                    order.photos =
                        match doc.hydrate_prop::<MaybeMissing<_>, _, _>(&automerge::ROOT, key)? {
                            MaybeMissing::Present(photos) => photos,
                            MaybeMissing::Missing => Vec::new(),
                        };
                }
                _ => return Ok(false),
            }
        };
    }
    fields!(
        id,
        created_at_ms,
        created_by,
        intake,
        assignee,
        events,
        diagnosis,
        extra_faults,
        repair_notes,
        parts,
        fees,
        warranty,
        consents,
        qc,
        sla_exception,
        sign_off,
        satisfaction,
        follow_ups,
        complaints,
        mail_in,
        rework_of,
    );
    Ok(true)
}

/// A document read as it was at `heads`: every read autosurgeon makes is
/// made at these.
struct AsWas<'a> {
    doc: &'a AutoCommit,
    heads: &'a [ChangeHash],
}

impl ReadDoc for AsWas<'_> {
    type Parents<'b>
        = automerge::Parents<'b>
    where
        Self: 'b;

    fn get_heads(&self) -> Vec<ChangeHash> {
        self.heads.to_vec()
    }

    fn get<P: Into<Prop>>(
        &self,
        obj: &ObjId,
        prop: P,
    ) -> Result<Option<(Value<'_>, ObjId)>, AutomergeError> {
        am::get_at(self.doc, obj, prop, self.heads)
    }

    fn object_type<O: AsRef<ObjId>>(&self, obj: O) -> Option<ObjType> {
        // An object's type is fixed when it is made.
        am::object_type(self.doc, obj).ok()
    }

    fn map_range<'b, O, R>(&'b self, obj: O, range: R) -> automerge::iter::MapRange<'b>
    where
        R: RangeBounds<String> + 'b,
        O: AsRef<ObjId>,
        R: RangeBounds<String>,
    {
        am::map_range_at(self.doc, obj, range, self.heads)
    }

    fn list_range<O: AsRef<ObjId>, R: RangeBounds<usize>>(
        &self,
        obj: O,
        range: R,
    ) -> automerge::iter::ListRange<'_> {
        am::list_range_at(self.doc, obj, range, self.heads)
    }

    fn length<O: AsRef<ObjId>>(&self, obj: O) -> usize {
        am::length_at(self.doc, obj, self.heads)
    }

    fn text<O: AsRef<ObjId>>(&self, obj: O) -> Result<String, AutomergeError> {
        am::text_at(self.doc, obj, self.heads)
    }

    fn parents<O: AsRef<ObjId>>(&self, obj: O) -> Result<Self::Parents<'_>, AutomergeError> {
        am::parents_at(self.doc, obj, self.heads)
    }

    fn is_empty(&self) -> bool {
        am::keys_at(self.doc, automerge::ROOT, self.heads).count() == 0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::model::read::hydrate;
    use crate::model::{MediaType, Note, Photo, PhotoKind, PhotoRemoval, SignOff, Status};
    use crate::rules::testing::*;
    use autosurgeon::reconcile;

    fn doc_of(o: &WorkOrder) -> AutoCommit {
        let mut doc = AutoCommit::new();
        reconcile(&mut doc, o).unwrap();
        doc
    }

    /// What a device pushes: `change` made on its own copy of `doc`.
    fn device_change(doc: &mut AutoCommit, change: impl FnOnce(&mut WorkOrder)) -> Vec<u8> {
        let before = doc.get_heads();
        let mut phone = doc
            .fork()
            .with_actor(automerge::ActorId::from(b"phone".as_slice()));
        let mut o: WorkOrder = hydrate(&phone).unwrap();
        change(&mut o);
        reconcile(&mut phone, &o).unwrap();
        phone.save_after(&before)
    }

    /// `push` applied as the server applies it: the fields it changed, and
    /// the order as it was read back from them, beside the order as a
    /// whole read of the document at the heads before gives it.
    fn applied(doc: &mut AutoCommit, push: &[u8]) -> (BTreeSet<String>, WorkOrder, WorkOrder) {
        let before = doc.get_heads();
        doc.update_diff_cursor();
        doc.load_incremental(push).unwrap();
        let changed = fields_changed(&doc.diff_incremental()).unwrap();
        doc.reset_diff_cursor();
        let after: WorkOrder = hydrate(&*doc).unwrap();
        let was = order_as_was(doc, &before, &after, Some(&changed)).unwrap();
        let whole: WorkOrder = hydrate(&doc.fork_at(&before).unwrap()).unwrap();
        // The other way round: the order as it was, kept, and the push.
        assert_eq!(order_as_is(doc, &whole, Some(&changed)).unwrap(), after);
        (changed, was, whole)
    }

    fn photo(id: &str) -> Photo {
        Photo {
            id: id.into(),
            hash: "ab".repeat(32),
            size: 1_000,
            media_type: MediaType::Jpeg,
            kind: PhotoKind::Fault,
            caption: None,
            by: "eng".into(),
            device: "dev-1".into(),
            at_ms: T0,
            removed: None,
        }
    }

    #[test]
    fn every_field_of_an_order_is_read_back_by_name() {
        let mut o = visited_order(true);
        follow_up(&mut o);
        o.photos.push(photo("ph-1"));
        let doc = doc_of(&o);
        let doc = Memo::new(&doc);
        let fields = serde_json::to_value(&o).unwrap();
        let fields = fields.as_object().unwrap();
        assert_eq!(fields.len(), 22, "a field was added: name it in field_from");
        let mut read = WorkOrder::from_intake(String::new(), 0, String::new(), o.intake.clone());
        for key in fields.keys() {
            assert!(field_from(&mut read, &doc, key).unwrap(), "{key}");
        }
        assert_eq!(read, o);
        assert!(!field_from(&mut read, &doc, "no_such_field").unwrap());
    }

    #[test]
    fn the_order_as_it_was_is_what_a_whole_read_of_it_then_gives() {
        let mut o = on_site_order();
        o.photos.push(photo("ph-1"));
        candidate_complaint(&mut o);
        let mut doc = doc_of(&o);

        // A visit's usual push: a status and a note.
        let push = device_change(&mut doc, |o| {
            push_at(o, Status::InProgress, T0 + 3_600_000, "phone");
            o.repair_notes.push(Note {
                id: "n-1".into(),
                text: "relay replaced".into(),
                by: "eng".into(),
                at_ms: T0,
            });
        });
        let (changed, was, whole) = applied(&mut doc, &push);
        assert_eq!(
            changed,
            BTreeSet::from(["events".to_string(), "repair_notes".to_string()])
        );
        assert_eq!(was, whole);
        assert_ne!(
            was.events.len(),
            hydrate::<_, WorkOrder>(&doc).unwrap().events.len()
        );

        // What only the desk decides, and what the photo and attestation
        // rules compare: each read back as it was.
        type Change = Box<dyn FnOnce(&mut WorkOrder)>;
        let changes: Vec<Change> = vec![
            Box::new(|o| o.assignee = Some("eng-b".into())),
            Box::new(|o| o.complaints.clear()),
            Box::new(|o| {
                o.photos[0].removed = Some(PhotoRemoval {
                    by: "eng".into(),
                    at_ms: T0,
                });
            }),
            Box::new(|o| o.photos.clear()),
            Box::new(|o| o.intake.customer.name = "Someone Else".into()),
            Box::new(|o| {
                o.sign_off = Some(SignOff::Refused {
                    signer_name: "Li Wei".into(),
                    reason: "not today".into(),
                    at_ms: T0,
                })
            }),
        ];
        for change in changes {
            let push = device_change(&mut doc, change);
            let (changed, was, whole) = applied(&mut doc, &push);
            assert_eq!(changed.len(), 1, "{changed:?}");
            assert_eq!(was, whole, "{changed:?}");
        }
    }

    #[test]
    fn a_push_concurrent_with_the_desk_reads_back_the_order_the_server_held() {
        let o = on_site_order();
        let mut doc = doc_of(&o);
        // The phone edits the copy it pulled; meanwhile the desk reassigns.
        let push = device_change(&mut doc, |o| o.assignee = Some("eng-c".into()));
        let mut desk: WorkOrder = hydrate(&doc).unwrap();
        desk.assignee = Some("eng-b".into());
        reconcile(&mut doc, &desk).unwrap();
        let (changed, was, whole) = applied(&mut doc, &push);
        assert_eq!(was, whole);
        assert_eq!(was.assignee.as_deref(), Some("eng-b"));
        assert!(changed.contains("assignee"), "{changed:?}");
    }

    #[test]
    fn photos_added_to_an_order_written_before_photos_existed() {
        let o = on_site_order();
        let mut doc = doc_of(&o);
        am::get(&doc, automerge::ROOT, "photos").unwrap().unwrap();
        automerge::transaction::Transactable::delete(&mut doc, automerge::ROOT, "photos").unwrap();
        let push = device_change(&mut doc, |o| o.photos.push(photo("ph-1")));
        let (changed, was, whole) = applied(&mut doc, &push);
        assert_eq!(changed, BTreeSet::from(["photos".to_string()]));
        assert!(was.photos.is_empty());
        assert_eq!(was, whole);
    }
}
