//! Reading a document into its Rust type, fast.
//!
//! `autosurgeon`'s hydration asks the document for one property at a time:
//! every field of every struct is a `get`, every element of every list a
//! `get` by index. In Automerge 0.12 each such lookup seeks through the
//! document's columns from the start of its object, a few microseconds
//! apiece, so an order with a handful of events took a third of a
//! millisecond to read, most of a server's CPU for a push.
//!
//! [`Memo`] reads each map or list object the hydration visits once, in one
//! pass (`map_range`, `list_range`: the same winning values, a conflict
//! resolved the same way), and answers the hydration's lookups from that.
//! [`hydrate`] and [`hydrate_prop`] are `autosurgeon`'s, read through it.
//! Its tests, which need the rules' sample orders, are in
//! `api/read_tests.rs`.

use automerge::{AutomergeError, ChangeHash, ObjId, ObjType, Prop, Value};
use autosurgeon::{Hydrate, HydrateError, ReadDoc};
use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::RangeBounds;
use std::rc::Rc;

/// `T` read from the root of `doc`.
pub fn hydrate<D: ReadDoc, T: Hydrate>(doc: &D) -> Result<T, HydrateError> {
    Memo::new(doc).hydrate()
}

/// `T` read from the property `prop` of the object `obj` of `doc`.
pub fn hydrate_prop<'a, D, T, P, O>(doc: &D, obj: O, prop: P) -> Result<T, HydrateError>
where
    D: ReadDoc,
    T: Hydrate,
    P: Into<autosurgeon::Prop<'a>>,
    O: AsRef<ObjId>,
{
    Memo::new(doc).hydrate_prop(obj, prop)
}

/// One map's entries, by key: the winning value and its object id.
type MapEntries = Vec<(String, Value<'static>, ObjId)>;
/// One list's elements, in order.
type ListEntries = Vec<(Value<'static>, ObjId)>;

/// A reader of `doc` that reads each map or list object once, when it is
/// first asked about, and answers lookups in it from what it read. Keep it
/// only while the document does not change.
pub struct Memo<'a, D> {
    doc: &'a D,
    maps: RefCell<HashMap<ObjId, Rc<MapEntries>>>,
    lists: RefCell<HashMap<ObjId, Rc<ListEntries>>>,
}

impl<D> std::fmt::Debug for Memo<'_, D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memo")
            .field("maps", &self.maps.borrow().len())
            .field("lists", &self.lists.borrow().len())
            .finish_non_exhaustive()
    }
}

impl<'a, D: ReadDoc> Memo<'a, D> {
    /// `T` read from the root, through what this reader holds.
    // The one place `autosurgeon` reads: through a `Memo` (clippy.toml).
    #[allow(clippy::disallowed_methods)]
    pub fn hydrate<T: Hydrate>(&self) -> Result<T, HydrateError> {
        autosurgeon::hydrate(self)
    }

    /// `T` read from the property `prop` of the object `obj`, through what
    /// this reader holds.
    #[allow(clippy::disallowed_methods)]
    pub fn hydrate_prop<'p, T, P, O>(&self, obj: O, prop: P) -> Result<T, HydrateError>
    where
        T: Hydrate,
        P: Into<autosurgeon::Prop<'p>>,
        O: AsRef<ObjId>,
    {
        autosurgeon::hydrate_prop(self, obj, prop)
    }

    pub fn new(doc: &'a D) -> Self {
        Memo {
            doc,
            maps: RefCell::default(),
            lists: RefCell::default(),
        }
    }

    /// The entries of the map (or table) `obj`, read once.
    fn map(&self, obj: &ObjId) -> Rc<MapEntries> {
        if let Some(m) = self.maps.borrow().get(obj) {
            return m.clone();
        }
        let mut entries: MapEntries = self
            .doc
            .map_range(obj, ..)
            .map(|item| {
                let id = item.id();
                (item.key.into_owned(), item.value.into_value(), id)
            })
            .collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let entries = Rc::new(entries);
        self.maps.borrow_mut().insert(obj.clone(), entries.clone());
        entries
    }

    /// The elements of the list `obj`, read once.
    fn list(&self, obj: &ObjId) -> Rc<ListEntries> {
        if let Some(l) = self.lists.borrow().get(obj) {
            return l.clone();
        }
        let entries: ListEntries = self
            .doc
            .list_range(obj, ..)
            .map(|item| {
                let id = item.id();
                (item.value.into_value(), id)
            })
            .collect();
        let entries = Rc::new(entries);
        self.lists.borrow_mut().insert(obj.clone(), entries.clone());
        entries
    }
}

impl<D: ReadDoc> ReadDoc for Memo<'_, D> {
    type Parents<'b>
        = D::Parents<'b>
    where
        Self: 'b;

    fn get_heads(&self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    fn get<P: Into<Prop>>(
        &self,
        obj: &ObjId,
        prop: P,
    ) -> Result<Option<(Value<'_>, ObjId)>, AutomergeError> {
        let prop = prop.into();
        match (self.doc.object_type(obj), &prop) {
            (Some(ObjType::Map | ObjType::Table), Prop::Map(key)) => {
                let map = self.map(obj);
                Ok(map
                    .binary_search_by(|(k, _, _)| k.as_str().cmp(key))
                    .ok()
                    .map(|i| (map[i].1.clone(), map[i].2.clone())))
            }
            (Some(ObjType::List), Prop::Seq(index)) => Ok(self
                .list(obj)
                .get(*index)
                .map(|(v, id)| (v.clone(), id.clone()))),
            // Text, an unknown object, or a key of the wrong kind: as the
            // document itself answers.
            _ => self.doc.get(obj, prop),
        }
    }

    fn object_type<O: AsRef<ObjId>>(&self, obj: O) -> Option<ObjType> {
        self.doc.object_type(obj)
    }

    fn map_range<'b, O, R>(&'b self, obj: O, range: R) -> automerge::iter::MapRange<'b>
    where
        R: RangeBounds<String> + 'b,
        O: AsRef<ObjId>,
        R: RangeBounds<String>,
    {
        self.doc.map_range(obj, range)
    }

    fn list_range<O: AsRef<ObjId>, R: RangeBounds<usize>>(
        &self,
        obj: O,
        range: R,
    ) -> automerge::iter::ListRange<'_> {
        self.doc.list_range(obj, range)
    }

    fn length<O: AsRef<ObjId>>(&self, obj: O) -> usize {
        let obj = obj.as_ref();
        match self.doc.object_type(obj) {
            Some(ObjType::List) => self.list(obj).len(),
            _ => self.doc.length(obj),
        }
    }

    fn text<O: AsRef<ObjId>>(&self, obj: O) -> Result<String, AutomergeError> {
        self.doc.text(obj)
    }

    fn parents<O: AsRef<ObjId>>(&self, obj: O) -> Result<Self::Parents<'_>, AutomergeError> {
        self.doc.parents(obj)
    }

    fn is_empty(&self) -> bool {
        self.doc.is_empty()
    }
}
