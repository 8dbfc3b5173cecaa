//! Hostile pushes: a `fieldwork serve` process on loopback receives chunk
//! bombs (one compressed change chunk that inflates to 1 GiB of zeros) and
//! random bodies from an enrolled device's token, and its peak resident
//! memory is read against its idle memory in the same run.

use super::sync::rss_kb;
use super::{Res, Row};
use fieldwork_core::sync::wire::{PushDoc, SyncRequest};
use fieldwork_tests::harness::Device;
use fieldwork_tests::process::{ServerProcess, data_dir, desk, provision};
use std::path::Path;

const BOMBS: usize = 20;
const RANDOM_BODIES: usize = 1_000;
const T0: i64 = 1_795_000_000_000;

/// xorshift64*: reproducible noise without a dependency.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

pub fn rows(dir: &Path, server_exe: &Path) -> Res<Vec<Row>> {
    let root = dir.join("hostile");
    std::fs::create_dir_all(&root)?;
    let data = data_dir(&root);
    let token = provision(server_exe, &data)?;
    let server = ServerProcess::start(server_exe, &data)?;
    let pid = server.child.id();
    let d = desk(&server.url, &token)?;
    let id = d.dispatch(1, "eng-a")?;
    let phone_dir = root.join("phone");
    std::fs::create_dir_all(&phone_dir)?;
    let phone = Device::enrol_at(&server.url, &d, "eng-a", &phone_dir, T0)?;
    // Warm: the order pulled and a note pushed, so idle memory includes a
    // loaded tenant.
    phone.sync.sync_now()?;
    phone.fw.add_note(&id, "warm up")?;
    phone.sync.sync_now()?;
    let idle_kb = rss_kb(pid, "VmRSS:");

    let bomb = fieldwork_tests::chunk_bomb(1 << 30)?;
    let body = SyncRequest {
        cursor: 0,
        push: vec![PushDoc {
            doc_id: id.clone(),
            changes: bomb,
        }],
    }
    .encode();
    let bomb_request_bytes = body.len();
    let http = fieldwork_core::sync::client::http_client()?;
    let post = |body: Vec<u8>| -> Res<u16> {
        Ok(http
            .post(format!("{}/v1/sync", server.url))
            .bearer_auth(&phone.token)
            .body(body)
            .send()?
            .status()
            .as_u16())
    };
    // Four at a time, as several phones (or one attacker) would.
    let mut refused = 0;
    for _ in 0..BOMBS / 4 {
        let statuses: Vec<Res<u16>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4).map(|_| s.spawn(|| post(body.clone()))).collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err("a thread stopped".into())))
                .collect()
        });
        for st in statuses {
            if st? == 400 {
                refused += 1;
            }
        }
    }
    if refused != BOMBS {
        return Err(format!("only {refused} of {BOMBS} bombs were refused with 400").into());
    }
    let mut noise = Noise(0x5eed_f1e1_d3a7_0001);
    for n in 0..RANDOM_BODIES {
        let len = (noise.next() % 65_536) as usize;
        let mut b = noise.bytes(len);
        // Half of them get past the framing to the decoder.
        if n % 2 == 0 && b.len() >= 3 {
            b[..3].copy_from_slice(b"FW\x01");
        }
        let status = post(b)?;
        if status == 200 || status >= 500 {
            return Err(format!("random body {n}: HTTP {status}").into());
        }
    }
    // Still serving.
    phone.fw.add_note(&id, "after the storm")?;
    phone.sync.sync_now()?;
    let peak_kb = rss_kb(pid, "VmHWM:");
    server.kill()?;
    eprintln!(
        "hostile: {BOMBS} bombs of {bomb_request_bytes} bytes each (1 GiB unpacked), {RANDOM_BODIES} random bodies; idle {:.1} MB, peak {:.1} MB",
        idle_kb / 1024.0,
        peak_kb / 1024.0
    );
    Ok(vec![Row {
        name: "server.hostile_push_peak_rss_mb",
        value: peak_kb / 1024.0,
        unit: "MB",
        baseline: Some(idle_kb / 1024.0),
        what: "server peak RSS receiving 20 chunk bombs (1 GiB unpacked each, 4 at a time) and 1,000 random bodies, vs its idle RSS (aim: under 64 MB above idle)",
    }])
}
