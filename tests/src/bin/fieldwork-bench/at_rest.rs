//! Encryption at rest and attestation: the same durable edit on an
//! encrypted and a plain store, opening an encrypted store of 5,000 orders,
//! encrypting one in place, and the server's verification of one attested
//! signature.

use crate::{Res, Row, T0, mean, median};
use fieldwork_core::at_rest::StoreKey;
use fieldwork_core::attest::{self, DeviceSigner, PinnedKey, SoftwareSigner};
use fieldwork_core::model::{KeyBacking, SignOff};
use fieldwork_core::{Config, Fieldwork, ManualClock};
use fieldwork_tests::{full_visit, relay};
use std::path::Path;
use std::time::Instant;

fn open(path: &Path, key: Option<&StoreKey>) -> Res<(Fieldwork, std::sync::Arc<ManualClock>)> {
    let clock = ManualClock::new(T0);
    let config = Config {
        clock: clock.clone(),
        ..Config::new("eng-bench")
    };
    let config = match key {
        Some(k) => config.with_key(k.clone()),
        None => config,
    };
    Ok((Fieldwork::open(path, config)?, clock))
}

/// Mean ms of `n` durable edits of one visited order, after 20 to warm up.
fn edits(fw: &Fieldwork, id: &str, n: usize) -> Res<f64> {
    let mut samples = Vec::with_capacity(n);
    for i in 0..n + 20 {
        let reason = format!("waiting for parts, update {i}");
        let t = Instant::now();
        fw.set_sla_exception(id, &reason)?;
        if i >= 20 {
            samples.push(t.elapsed());
        }
    }
    Ok(mean(&samples) * 1e3)
}

pub(crate) fn edit_durable_encrypted_vs_plain(dir: &Path) -> Res<Row> {
    const N: usize = 300;
    let key = StoreKey::generate();
    let mut stores = Vec::new();
    for (name, k) in [("plain.db", None), ("sealed.db", Some(&key))] {
        let (fw, clock) = open(&dir.join(name), k)?;
        fw.desk().upsert_catalog_part(relay())?;
        fw.receive_stock("RLY", 1)?;
        let id = full_visit(&fw, &clock, 1)?;
        stores.push((fw, id));
    }
    // Alternating rounds, so that the disk's moods fall on both.
    let (mut plain, mut sealed) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        plain.push(edits(&stores[0].0, &stores[0].1, N / 3)?);
        sealed.push(edits(&stores[1].0, &stores[1].1, N / 3)?);
    }
    let avg = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    Ok(Row {
        name: "core.edit_durable_encrypted_vs_plain",
        value: avg(&sealed),
        unit: "ms",
        baseline: Some(avg(&plain)),
        what: "one durable field edit on a visited order in a SQLCipher store (raw key) vs the same edit in a plain store, same disk, alternating rounds; mean of 300 each (aim: ratio <= 1.15)",
    })
}

/// Encrypt a copy of the 5,000-order fixture in place, then open it.
pub(crate) fn encrypted_5000(dir: &Path, big: &Path) -> Res<Vec<Row>> {
    let key = StoreKey::generate();
    let path = dir.join("sealed-5000.db");
    let copied = Instant::now();
    std::fs::copy(big, dir.join("copy-5000.db"))?;
    let copy_ms = copied.elapsed().as_secs_f64() * 1e3;
    std::fs::copy(big, &path)?;
    let t = Instant::now();
    Fieldwork::encrypt_store(&path, &key)?;
    let encrypt_ms = t.elapsed().as_secs_f64() * 1e3;
    let (mut sealed, mut plain) = (Vec::new(), Vec::new());
    for _ in 0..10 {
        let t = Instant::now();
        let fw = Fieldwork::open(&path, Config::new("eng-bench").with_key(key.clone()))?;
        sealed.push(t.elapsed());
        drop(fw);
        let t = Instant::now();
        let fw = Fieldwork::open(big, Config::new("eng-bench"))?;
        plain.push(t.elapsed());
        drop(fw);
    }
    Ok(vec![
        Row {
            name: "core.open_encrypted_ms",
            value: median(&mut sealed) * 1e3,
            unit: "ms",
            baseline: Some(median(&mut plain) * 1e3),
            what: "open an encrypted store of 5,000 visited orders with its raw key (no key derivation) vs opening the plain one; median of 10 (aim: < 10 ms)",
        },
        Row {
            name: "core.encrypt_in_place_5000_ms",
            value: encrypt_ms,
            unit: "ms",
            baseline: Some(copy_ms),
            what: "encrypt a plaintext store of 5,000 visited orders in place (export, integrity check, fsync, rename) vs copying its file",
        },
    ])
}

pub(crate) fn verify(dir: &Path) -> Res<Row> {
    const N: usize = 2_000;
    let signer = SoftwareSigner::generate();
    let (fw, clock) = open(&dir.join("signed.db"), None)?;
    fw.use_device_signer(std::sync::Arc::new(
        SoftwareSigner::from_secret(&signer.secret()).ok_or("key")?,
    ));
    fw.desk().upsert_catalog_part(relay())?;
    fw.receive_stock("RLY", 1)?;
    let id = full_visit(&fw, &clock, 1)?;
    let order = fw.order(&id)?.order;
    let Some(SignOff::Signed(sig)) = &order.sign_off else {
        return Err("the visit was not signed".into());
    };
    let att = sig.attestation.clone().ok_or("not attested")?;
    let key = PinnedKey {
        public_key: attest::normalise_public_key(&signer.public_key()?).ok_or("key")?,
        backing: KeyBacking::Software,
        revoked: false,
    };
    let (mut verifying, mut signing) = (Vec::new(), Vec::new());
    for _ in 0..N {
        let t = Instant::now();
        let payload = attest::signature_payload(&id, sig);
        let ok = attest::verifies(&key, &payload, &att);
        verifying.push(t.elapsed());
        if !ok {
            return Err("the signature does not verify".into());
        }
        let t = Instant::now();
        signer.sign(&payload)?;
        signing.push(t.elapsed());
    }
    Ok(Row {
        name: "sign.verify_us",
        value: median(&mut verifying) * 1e6,
        unit: "µs",
        baseline: Some(median(&mut signing) * 1e6),
        what: "the server's check of one attested signature (payload rebuilt from the record, ECDSA P-256 verify) vs the phone's software key signing it; median of 2,000",
    })
}
