//! `fieldwork` as a real process: admin commands and a server that can be
//! killed with SIGKILL and started again on the same data.

use crate::harness::{Desk, Res};
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// Run `fieldwork admin --data DIR ARGS…`; returns what it printed.
pub fn admin(exe: &Path, data: &Path, args: &[&str]) -> Res<String> {
    admin_on(exe, &data_args(data), args)
}

/// `--data DIR`: embedded storage.
fn data_args(data: &Path) -> Vec<OsString> {
    vec!["--data".into(), data.into()]
}

/// Run `fieldwork admin STORAGE ARGS…` on any storage (`--data DIR` or
/// `--database URL`); returns what it printed.
pub fn admin_on(exe: &Path, storage: &[OsString], args: &[&str]) -> Res<String> {
    let out = Command::new(exe)
        .arg("admin")
        .args(storage)
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
        Self::start_on(exe, &data_args(data))
    }

    /// The same on any storage (`--data DIR` or `--database URL`).
    pub fn start_on(exe: &Path, storage: &[OsString]) -> Res<ServerProcess> {
        Self::spawn(exe, storage, &[], &[], Stdio::inherit())
    }

    /// The same with these environment variables set for it.
    pub fn start_with_env(
        exe: &Path,
        storage: &[OsString],
        env: &[(&str, &std::ffi::OsStr)],
    ) -> Res<ServerProcess> {
        Self::spawn(exe, storage, &[], env, Stdio::inherit())
    }

    /// The same with `extra` arguments, its log (stderr) written to `log`.
    pub fn start_logged(
        exe: &Path,
        storage: &[OsString],
        extra: &[&str],
        log: &Path,
    ) -> Res<ServerProcess> {
        Self::spawn(exe, storage, extra, &[], std::fs::File::create(log)?.into())
    }

    /// The same with these environment variables set, its log (stderr)
    /// written to `log`.
    pub fn start_logged_with_env(
        exe: &Path,
        storage: &[OsString],
        env: &[(&str, &std::ffi::OsStr)],
        log: &Path,
    ) -> Res<ServerProcess> {
        Self::spawn(exe, storage, &[], env, std::fs::File::create(log)?.into())
    }

    fn spawn(
        exe: &Path,
        storage: &[OsString],
        extra: &[&str],
        env: &[(&str, &std::ffi::OsStr)],
        stderr: Stdio,
    ) -> Res<ServerProcess> {
        let mut child = Command::new(exe)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(storage)
            .args(extra)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(stderr)
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
    provision_on(exe, &data_args(data))
}

/// The same on any storage.
pub fn provision_on(exe: &Path, storage: &[OsString]) -> Res<String> {
    admin_on(exe, storage, &["tenant", "acme", "ACME Service"])?;
    admin_on(exe, storage, &["engineer", "acme", "eng-a", "Zhang Wei"])?;
    admin_on(exe, storage, &["engineer", "acme", "eng-b", "Li Na"])?;
    admin_on(exe, storage, &["dispatcher", "acme", "desk", "Desk"])
}

/// `fieldwork admin … password TENANT PERSON`, the password on stdin.
pub fn set_password(exe: &Path, storage: &[OsString], person: &str, password: &str) -> Res<()> {
    let mut child = Command::new(exe)
        .arg("admin")
        .args(storage)
        .args(["password", "acme", person])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()?;
    child
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(format!("{password}\n").as_bytes())?;
    if !child.wait()?.success() {
        return Err("admin password failed".into());
    }
    Ok(())
}

pub fn desk(url: &str, token: &str) -> Res<Desk> {
    Desk::new(url, token)
}

pub fn data_dir(root: &Path) -> PathBuf {
    root.join("server-data")
}
