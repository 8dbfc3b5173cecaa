//! The dispatcher API's JSON bodies, decoded into the core's inputs the way
//! the server's handlers do and applied to a server store: intake, assign,
//! follow-up call, complaint, catalog part. The first byte picks the body.
//! A refusal is a typed error; never a panic, and a refused intake stores
//! nothing.
#![no_main]

use fieldwork_core::api::FollowUpInput;
use fieldwork_core::doc_ids::DocKind;
use fieldwork_core::model::{CatalogPart, ComplaintCategory, Intake};
use fieldwork_core::rules::roles::DeskRole;
use fieldwork_core::{Fieldwork, ServerStore};
use fieldwork_fuzz::Held;
use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use std::sync::OnceLock;

struct Fixture {
    held: Held<ServerStore>,
    order: String,
}

fn fixture() -> &'static Fixture {
    static D: OnceLock<Fixture> = OnceLock::new();
    D.get_or_init(|| {
        let held = Held::server();
        let order = held
            .fw
            .desk()
            .create_order(fieldwork_core::scenario::intake(1))
            .unwrap_or_else(|e| panic!("{e}"));
        Fixture { held, order }
    })
}

#[derive(Deserialize)]
struct AssignBody {
    engineer: String,
}

#[derive(Deserialize)]
struct ComplaintBody {
    what: String,
    category: ComplaintCategory,
    #[serde(default)]
    major: bool,
}

/// Every order the store holds. Not a list page: a page stops at
/// `OrderFilter::MAX_LIMIT`, which a long run passes (it once read 500
/// before and after a 501st order was made).
fn count(fw: &Fieldwork) -> usize {
    fw.document_ids()
        .map(|ids| {
            ids.iter()
                .filter(|d| DocKind::of_id(d) == Some(DocKind::WorkOrder))
                .count()
        })
        .unwrap_or_else(|e| panic!("the store's documents: {e}"))
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    let d = fixture();
    let fw = &d.held.fw;
    // As the dispatcher API acts: a named dispatcher at the desk.
    let desk = fw.as_desk("desk-fuzz", DeskRole::Dispatcher);
    match which % 5 {
        0 => {
            if let Ok(intake) = serde_json::from_slice::<Intake>(body) {
                let before = count(fw);
                let made = desk.create_order(intake);
                let after = count(fw);
                assert_eq!(after, before + usize::from(made.is_ok()), "{made:?}");
            }
        }
        1 => {
            if let Ok(b) = serde_json::from_slice::<AssignBody>(body) {
                let _ = desk.assign(&d.order, &b.engineer);
            }
        }
        2 => {
            if let Ok(call) = serde_json::from_slice::<FollowUpInput>(body) {
                let _ = desk.record_follow_up(&d.order, call);
            }
        }
        3 => {
            if let Ok(b) = serde_json::from_slice::<ComplaintBody>(body) {
                let _ = desk.register_complaint(&d.order, &b.what, b.category, b.major);
            }
        }
        _ => {
            if let Ok(part) = serde_json::from_slice::<CatalogPart>(body) {
                let _ = desk.upsert_catalog_part(part);
            }
        }
    }
});
