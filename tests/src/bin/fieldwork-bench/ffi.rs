//! The bindings' figures: the release library's size, and one list call from
//! Kotlin on the JVM against the same call in Rust, on the same store.

use crate::{Res, Row};
use std::path::Path;
use std::process::Command;

/// `rust_list_ms`: the median the Rust facade took for the same call
/// (`core.list_urgent_50_of_5000_ms`), measured in this run.
pub(crate) fn rows(store: &Path, rust_list_ms: f64) -> Res<Vec<Row>> {
    let release = std::env::current_exe()?
        .parent()
        .ok_or("no folder for the benchmark binary")?
        .to_path_buf();
    let mobile = release.parent().ok_or("no target folder")?.join("mobile");
    let size_mb = |dir: &Path| -> Res<f64> {
        let lib = ["libfieldwork.so", "libfieldwork.dylib"]
            .iter()
            .map(|n| dir.join(n))
            .find(|p| p.exists())
            .ok_or_else(|| format!("no libfieldwork in {}: run scripts/bench", dir.display()))?;
        Ok(std::fs::metadata(&lib)?.len() as f64 / 1e6)
    };
    let mut rows = vec![Row {
        name: "ffi.lib_size_mb",
        value: size_mb(&mobile)?,
        unit: "MB",
        baseline: Some(size_mb(&release)?),
        what: "the library the apps ship (libfieldwork, host build, `mobile` profile: LTO, stripped, opt-level s) vs the same with the speed-optimised `release` profile; aim under 8",
    }];
    // scripts/bench compiles the Kotlin half and says how to run it.
    let Ok(java) = std::env::var("FIELDWORK_BENCH_KOTLIN") else {
        eprintln!(
            "ffi: FIELDWORK_BENCH_KOTLIN is not set (scripts/bench sets it); the Kotlin figure is left out"
        );
        return Ok(rows);
    };
    let mut parts = java.split_whitespace();
    let out = Command::new(parts.next().ok_or("FIELDWORK_BENCH_KOTLIN is empty")?)
        .args(parts)
        .arg(store)
        .output()?;
    if !out.status.success() {
        return Err(format!(
            "the Kotlin benchmark failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let kotlin_ms: f64 = String::from_utf8(out.stdout)?.trim().parse()?;
    rows.push(Row {
        name: "ffi.list50_kotlin_vs_rust",
        value: kotlin_ms,
        unit: "ms",
        baseline: Some(rust_list_ms),
        what: "the 50 most urgent open orders of 5,000 from Kotlin on the JVM through the generated bindings and JNA vs the same facade call in Rust, same store, same run; median of 200",
    });
    Ok(rows)
}
