//! A fleet of phones against real `fieldwork serve` processes: a service
//! center provisioned with one engineer per phone and their orders, the
//! phones enrolled (spread over the processes as a load balancer would) and
//! brought up to date, ready for the 08:00 burst. Used by the group-commit
//! tests and the fleet benchmarks.

use crate::backend::Backend;
use crate::harness::{Desk, Device, TENANT};
use fieldwork_core::scenario::{intake, relay};
use fieldwork_server::auth::Role;
use fieldwork_server::state::AppState;
use std::path::Path;

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// A provisioned service center: the dispatcher's token and, per phone, its
/// engineer and the orders assigned to them.
#[derive(Debug, Clone)]
pub struct Center {
    pub token: String,
    pub engineers: Vec<(String, Vec<String>)>,
}

/// Provision `phones` engineers with `orders` orders each on `backend`,
/// directly through the storage (no server running yet).
pub fn provision(backend: &Backend, phones: usize, orders: usize) -> Res<Center> {
    let state = AppState::open_storage(backend.storage()?).map_err(|e| e.to_string())?;
    let d = &state.directory;
    d.add_tenant(TENANT, "Fleet")?;
    d.add_person(TENANT, "desk", "Desk", Role::Dispatcher)?;
    let token = d.issue_dispatcher_token(TENANT, "desk")?;
    let tenant = state.tenant(TENANT).map_err(|e| e.to_string())?;
    tenant.desk().upsert_catalog_part(relay())?;
    let mut engineers = Vec::with_capacity(phones);
    let mut n = 0u32;
    for i in 0..phones {
        let eng = format!("eng-{i:04}");
        d.add_person(TENANT, &eng, &eng, Role::Engineer)?;
        let mut ids = Vec::with_capacity(orders);
        for _ in 0..orders {
            let id = tenant.desk().create_order(intake(n))?;
            tenant.desk().assign(&id, &eng)?;
            ids.push(id);
            n += 1;
        }
        engineers.push((eng, ids));
    }
    Ok(Center { token, engineers })
}

/// Enrol one phone per engineer under `root`, phone `n` on `urls[n %
/// urls.len()]`, each synced once (it holds its orders). Fixture phones
/// write without fsync: the phones are not what is measured.
pub fn enrol(center: &Center, urls: &[String], root: &Path, now_ms: i64) -> Res<Vec<Device>> {
    let mut phones = Vec::with_capacity(center.engineers.len());
    for (n, (eng, _)) in center.engineers.iter().enumerate() {
        let url = &urls[n % urls.len()];
        let desk = Desk::new(url, &center.token)?;
        let folder = root.join(eng);
        std::fs::create_dir_all(&folder)?;
        let phone = Device::enrol_at(url, &desk, eng, &folder, now_ms)?;
        phone.fw.unsynchronised_for_fixtures()?;
        phone.sync.sync_now()?;
        phones.push(phone);
    }
    Ok(phones)
}
