//! `fieldwork` as a real process: admin commands and a server that can be
//! killed with SIGKILL and started again on the same data.

use crate::harness::{Desk, Res};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// Run `fieldwork admin --data DIR ARGS…`; returns what it printed.
pub fn admin(exe: &Path, data: &Path, args: &[&str]) -> Res<String> {
    let out = Command::new(exe)
        .arg("admin")
        .arg("--data")
        .arg(data)
        .args(args)
        .output()?;
    if !out.status.success() {
        return Err(format!("admin {args:?}: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(String::from_utf8(out.stdout)?.trim().to_string())
}

/// A `fieldwork serve` child process.
#[derive(Debug)]
pub struct ServerProcess {
    pub child: Child,
    pub url: String,
}

impl ServerProcess {
    /// Start it on a free loopback port and wait for it to say where.
    pub fn start(exe: &Path, data: &Path) -> Res<ServerProcess> {
        let mut child = Command::new(exe)
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let url = line
            .trim()
            .strip_prefix("fieldwork: serving on ")
            .ok_or_else(|| format!("unexpected first line {line:?}"))?
            .to_string();
        Ok(ServerProcess { child, url })
    }

    /// SIGKILL: no shutdown, no flush.
    pub fn kill(mut self) -> Res<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A tenant `acme` with engineer `eng-a` and dispatcher `desk`, made with the
/// admin commands; returns the desk's token.
pub fn provision(exe: &Path, data: &Path) -> Res<String> {
    admin(exe, data, &["tenant", "acme", "ACME Service"])?;
    admin(exe, data, &["engineer", "acme", "eng-a", "Zhang Wei"])?;
    admin(exe, data, &["engineer", "acme", "eng-b", "Li Na"])?;
    admin(exe, data, &["dispatcher", "acme", "desk", "Desk"])
}

pub fn desk(url: &str, token: &str) -> Res<Desk> {
    Desk::new(url, token)
}

pub fn data_dir(root: &Path) -> PathBuf {
    root.join("server-data")
}
