//! A child process for the crash test: writes orders to a store as fast as it
//! can and prints one line per call that returned success, flushed before the
//! next call, so the parent knows what must survive a SIGKILL.
//!
//! Usage: `crash-writer DB_PATH`. Lines: `created ID`, `assigned ID`, `note ID N`.

use fieldwork_core::{Config, Fieldwork};
use std::io::Write;

fn main() {
    if let Err(e) = run() {
        eprintln!("crash-writer: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: crash-writer DB_PATH")?;
    let fw = Fieldwork::open(&path, Config::new("eng-crash"))?;
    let mut out = std::io::stdout().lock();
    loop {
        let id = fw.desk().create_order(fieldwork_tests::intake(1))?;
        writeln!(out, "created {id}")?;
        out.flush()?;
        fw.desk().assign(&id, "eng-crash")?;
        writeln!(out, "assigned {id}")?;
        out.flush()?;
        for n in 1..=3 {
            fw.add_note(&id, &format!("第 {n} 次检查 check {n}"))?;
            writeln!(out, "note {id} {n}")?;
            out.flush()?;
        }
    }
}
