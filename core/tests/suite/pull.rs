//! The server's pull plan: newly granted orders are sent whole, a bounded
//! number per pull, following the cursor until every one has gone once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use common::*;
use fieldwork_core::{Config, ManualClock, ServerStore};
use std::collections::BTreeSet;

#[test]
fn many_new_orders_arrive_whole_over_several_pulls_each_once() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let server = ServerStore::open(
        dir.path().join("server.db"),
        Config {
            clock: clock.clone(),
            ..Config::new("server")
        },
    )
    .unwrap();
    let mut ids = BTreeSet::new();
    for n in 0..25 {
        let id = server
            .desk()
            .create_order(intake(&format!("C{n}"), &format!("S{n}")))
            .unwrap();
        server.desk().assign(&id, "eng").unwrap();
        ids.insert(id);
    }
    let other = server.desk().create_order(intake("Other", "SX")).unwrap();
    server.desk().assign(&other, "someone-else").unwrap();
    let device = "00000000000000000000000000000001";
    let (mut cursor, mut seen, mut pulls) = (0, Vec::new(), 0);
    loop {
        let plan = server.pull_plan("eng", device, cursor, 30).unwrap();
        assert!(
            plan.whole.len() <= 3,
            "at most limit/10 whole orders per pull"
        );
        assert!(plan.cursor >= cursor);
        seen.extend(plan.whole.clone());
        cursor = plan.cursor;
        pulls += 1;
        if !plan.more {
            break;
        }
        assert!(pulls < 100);
    }
    assert_eq!(seen.len(), 25, "each order once");
    assert_eq!(seen.iter().cloned().collect::<BTreeSet<_>>(), ids);
    assert!(
        !seen.contains(&other),
        "another engineer's order never goes"
    );
    assert_eq!(cursor, server.log_position().unwrap());
    assert!(pulls >= 9);
}
