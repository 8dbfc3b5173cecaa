//! The `fieldwork` command as a person running it meets it: help for every
//! subcommand (and nothing started by asking for it), the environment
//! variables deployment scripts set, and mistakes that name the option and
//! the fix.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fieldwork_tests::process::ServerProcess;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn exe() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_fieldwork-e2e"))
}

fn fieldwork(args: &[&str]) -> Output {
    // A clean environment for the options it reads, whatever the caller's.
    Command::new(exe())
        .args(args)
        .env_remove("FIELDWORK_DATA")
        .env_remove("FIELDWORK_DATABASE_URL")
        .env_remove("FIELDWORK_LISTEN")
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The subcommands a help text lists under "Commands:" (without `help`).
fn commands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect()
}

#[test]
fn every_subcommand_answers_help_without_doing_anything() {
    let tmp = tempfile::tempdir().unwrap();
    // Walk the tree from the top, as someone exploring it would.
    let mut todo: Vec<Vec<String>> = vec![vec![]];
    let mut seen = Vec::new();
    while let Some(path) = todo.pop() {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let out = Command::new(exe())
            .args(&args)
            // A demo that started anyway would leave its folder here.
            .env("TMPDIR", tmp.path())
            .output()
            .unwrap();
        let help = text(&out.stdout);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        let usage = help
            .lines()
            .find(|l| l.starts_with("Usage: fieldwork"))
            .unwrap_or_default();
        assert!(
            path.iter().all(|word| usage.contains(&format!(" {word}"))),
            "{args:?} prints its own usage:\n{help}"
        );
        for c in commands(&help) {
            let mut next = path.clone();
            next.push(c);
            todo.push(next);
        }
        seen.push(path.join(" "));
    }
    for expected in [
        "serve",
        "demo",
        "admin tenant",
        "admin enrol-code",
        "admin password",
        "admin collect-blobs",
        "device sync",
        "device report",
        "device quarantine export",
    ] {
        assert!(seen.iter().any(|s| s == expected), "{expected} in {seen:?}");
    }
    assert!(seen.len() > 35, "{seen:?}");
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "asking for help started nothing"
    );

    // The long options are described where they are used.
    let serve = text(&fieldwork(&["serve", "--help"]).stdout);
    for option in [
        "--data <DIR>",
        "--database",
        "--listen <ADDR>",
        "--log-format",
        "--metrics-listen",
        "--cached-documents <N>",
        "FIELDWORK_CACHED_DOCUMENTS",
        "FIELDWORK_DATA",
        "FIELDWORK_DATABASE_URL",
        "FIELDWORK_LISTEN",
        "RUST_LOG",
    ] {
        assert!(serve.contains(option), "{option} in:\n{serve}");
    }
}

#[test]
fn the_server_and_admin_take_their_storage_and_address_from_the_environment() {
    let data = tempfile::tempdir().unwrap();
    let with_env = |args: &[&str]| {
        let out = Command::new(exe())
            .args(args)
            .env("FIELDWORK_DATA", data.path())
            .env_remove("FIELDWORK_DATABASE_URL")
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        text(&out.stdout).trim().to_string()
    };
    with_env(&["admin", "tenant", "acme", "ACME"]);
    let token = with_env(&["admin", "dispatcher", "acme", "desk", "Desk"]);

    let mut child = Command::new(exe())
        .arg("serve")
        .env("FIELDWORK_DATA", data.path())
        .env("FIELDWORK_LISTEN", "127.0.0.1:0")
        .env_remove("FIELDWORK_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().strip_prefix("fieldwork: serving on ").unwrap();
    let client = fieldwork_core::sync::client::http_client().unwrap();
    let ready = client.get(format!("{url}/readyz")).send().unwrap().status();
    // The token admin made is known to the server: one folder for both.
    let orders = client
        .get(format!("{url}/api/orders"))
        .bearer_auth(&token)
        .send()
        .unwrap()
        .status();
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(ready.as_u16(), 200);
    assert_eq!(orders.as_u16(), 200);
}

#[test]
fn an_unreadable_rust_log_is_said_on_the_servers_first_line_and_it_serves_at_info() {
    let data = tempfile::tempdir().unwrap();
    let log = data.path().join("server.log");
    let server = ServerProcess::start_logged_with_env(
        exe(),
        &["--data".into(), data.path().into()],
        &[("RUST_LOG", std::ffi::OsStr::new("info,=["))],
        &log,
    )
    .unwrap();
    let ready = fieldwork_core::sync::client::http_client()
        .unwrap()
        .get(format!("{}/readyz", server.url))
        .send()
        .unwrap()
        .status();
    server.kill().unwrap();
    assert_eq!(ready.as_u16(), 200);
    let logged = std::fs::read_to_string(&log).unwrap();
    let first = logged.lines().next().unwrap_or_default();
    assert!(
        first.contains("RUST_LOG is not a log filter") && first.contains("logging at info"),
        "{logged}"
    );
    // At info: the request is logged.
    assert!(logged.contains("route=/readyz"), "{logged}");
}

#[test]
fn a_taken_port_names_the_option_and_the_failed_demo_leaves_nothing_behind() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(exe())
        .args(["demo", "--listen", &addr])
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains(&addr) && err.contains("already in use") && err.contains("--listen"),
        "{err}"
    );
    assert!(
        err.contains("port 0"),
        "it says how to get a free port: {err}"
    );
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "no temporary folder left behind"
    );

    let data = tempfile::tempdir().unwrap();
    let out = fieldwork(&[
        "serve",
        "--data",
        data.path().to_str().unwrap(),
        "--listen",
        &addr,
    ]);
    let err = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("--listen") && err.contains("already in use"),
        "{err}"
    );
    let out = fieldwork(&[
        "serve",
        "--data",
        data.path().to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--metrics-listen",
        &addr,
    ]);
    let err = text(&out.stderr);
    assert!(
        err.contains("--metrics-listen") && err.contains("already in use"),
        "{err}"
    );
}

#[test]
fn mistakes_name_the_option_and_change_nothing() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();

    let out = fieldwork(&["serve"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("--data") && err.contains("--database"),
        "{err}"
    );

    let out = fieldwork(&["sevre", "--data", dir]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("'serve'"),
        "a typo gets a suggestion"
    );

    let out = fieldwork(&["serve", "--data", dir, "--log-format", "xml"]);
    let err = text(&out.stderr);
    assert!(
        err.contains("--log-format") && err.contains("json"),
        "{err}"
    );

    for n in ["0", "15", "many"] {
        let out = fieldwork(&["serve", "--data", dir, "--cached-documents", n]);
        assert_eq!(out.status.code(), Some(2), "--cached-documents {n}");
        let err = text(&out.stderr);
        assert!(err.contains("--cached-documents"), "{err}");
    }

    let out = fieldwork(&["admin", "tenant", "acme", "ACME"]);
    let err = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("--data") && err.contains("FIELDWORK_DATA"),
        "{err}"
    );

    let out = fieldwork(&[
        "admin",
        "--data",
        dir,
        "tenant",
        "acme",
        "ACME",
        "--language",
        "fr",
    ]);
    let err = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("--language fr") && err.contains("zh-CN"),
        "{err}"
    );
    let out = fieldwork(&[
        "admin",
        "--data",
        dir,
        "tenant",
        "acme",
        "ACME",
        "--time-zone",
        "Mars/Olympus",
    ]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("--time-zone"));
    // Neither refused tenant was made: the good one is still free.
    let out = fieldwork(&["admin", "--data", dir, "tenant", "acme", "ACME"]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    let out = fieldwork(&[
        "admin",
        "--data",
        dir,
        "collect-blobs",
        "--grace-hours",
        "soon",
    ]);
    let err = text(&out.stderr);
    assert!(
        err.contains("--grace-hours") && err.contains("soon"),
        "{err}"
    );

    // A device folder is made once; a second init keeps its token.
    let store = data.path().join("phone");
    let store = store.to_str().unwrap();
    let out = fieldwork(&["device", "--store", store, "init", "eng-a"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let before = std::fs::read(Path::new(store).join("device.json")).unwrap();
    let out = fieldwork(&["device", "--store", store, "init", "eng-b"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("already holds eng-a's device"));
    assert_eq!(
        std::fs::read(Path::new(store).join("device.json")).unwrap(),
        before
    );
    let out = fieldwork(&["device", "--store", store, "qc", "X", "maybe"]);
    let err = text(&out.stderr);
    assert!(err.contains("pass") && err.contains("fail"), "{err}");
}

#[test]
fn one_server_per_folder_and_no_move_while_it_serves() {
    use fieldwork_tests::process::{ServerProcess, admin};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    admin(exe(), &data, &["tenant", "acme", "ACME"]).unwrap();
    let first = ServerProcess::start(exe(), &data).unwrap();
    let pid = first.child.id().to_string();
    let folder = data.to_str().unwrap();

    let out = fieldwork(&["serve", "--data", folder, "--listen", "127.0.0.1:0"]);
    let err = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("is serving this folder") && err.contains(&pid),
        "{err}"
    );
    let out = fieldwork(&[
        "admin",
        "migrate",
        "--from-data",
        folder,
        "--to-database",
        "postgres://postgres@127.0.0.1:1/nowhere",
    ]);
    let err = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("--from-data") && err.contains("stop it before you move it"),
        "{err}"
    );
    // Administration and backups go on beside it.
    admin(exe(), &data, &["engineer", "acme", "eng-a", "Zhang Wei"]).unwrap();
    let backup = dir.path().join("b.tar");
    admin(exe(), &data, &["backup", "--to", backup.to_str().unwrap()]).unwrap();

    // Killed, it lets go: the folder can be served again at once.
    first.kill().unwrap();
    let again = ServerProcess::start(exe(), &data).unwrap();
    drop(again);
}
