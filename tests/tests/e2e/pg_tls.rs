//! TLS to PostgreSQL (`sslmode=require`, rustls): the server verifies the
//! database's certificate, name included, and then every connection it
//! holds is encrypted, as PostgreSQL itself reports (`pg_stat_ssl`). A
//! certificate it does not trust stops startup with the reason. Against the
//! PostgreSQL `FIELDWORK_TEST_PG` names, whose certificate (for `localhost`)
//! is signed by the CA in `FIELDWORK_TEST_PG_ROOT_CERT`, trusted through
//! `PGSSLROOTCERT`: scripts/test's private PostgreSQL sets both, with a CA
//! it makes for the run, so no machine's own certificate is trusted here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fieldwork_tests::backend::{Backend, PG_ENV};
use fieldwork_tests::harness::Desk;
use fieldwork_tests::process::ServerProcess;
use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::process::Command;

/// The variable naming the CA that signed the test PostgreSQL's certificate.
const ROOT_CERT_ENV: &str = "FIELDWORK_TEST_PG_ROOT_CERT";

fn exe() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_fieldwork-e2e"))
}

/// The test database, reached by the name its certificate carries, over TLS
/// (the connection string is `key=value` pairs).
fn tls_url(b: &Backend) -> String {
    let Backend::Postgres(db) = b else {
        panic!("not PostgreSQL")
    };
    assert!(db.url.contains("host=127.0.0.1"), "{}", db.url);
    format!(
        "{} sslmode=require",
        db.url.replace("host=127.0.0.1", "host=localhost")
    )
}

fn admin(url: &str, env: &[(&str, &OsStr)], args: &[&str]) -> std::process::Output {
    Command::new(exe())
        .args(["admin", "--database", url])
        .args(args)
        .env_remove("PGSSLROOTCERT")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

#[test]
fn the_server_reaches_postgresql_over_verified_tls() {
    let Some(b) = Backend::postgres().unwrap() else {
        eprintln!("skipped: {PG_ENV} is not set (scripts/test sets it to a private PostgreSQL)");
        return;
    };
    let root_cert = std::env::var_os(ROOT_CERT_ENV).unwrap_or_else(|| {
        panic!(
            "{PG_ENV} is set but {ROOT_CERT_ENV} does not name the CA that signed its \
             certificate for localhost; unset {PG_ENV} and scripts/test runs a private \
             PostgreSQL with both"
        )
    });
    let ssl: String = {
        let Backend::Postgres(db) = &b else { panic!() };
        let mut c = postgres::Client::connect(&db.url, postgres::NoTls).unwrap();
        c.query_one("SHOW ssl", &[]).unwrap().get(0)
    };
    assert_eq!(ssl, "on", "the test PostgreSQL serves TLS");
    let url = tls_url(&b);
    let trust: [(&str, &OsStr); 1] = [("PGSSLROOTCERT", root_cert.as_os_str())];

    // Without the database's certificate trusted: refused, with the reason.
    let out = admin(&url, &[], &["tenant", "acme", "ACME Service"]);
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("certificate"), "{said}");

    // Trusted: the admin commands and the server work over TLS.
    for args in [
        &["tenant", "acme", "ACME Service"][..],
        &["engineer", "acme", "eng-a", "Zhang Wei"],
    ] {
        let out = admin(&url, &trust, args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The dispatcher command prints their token.
    let out = admin(&url, &trust, &["dispatcher", "acme", "desk", "Desk"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let storage: Vec<OsString> = vec!["--database".into(), url.clone().into()];
    let server = ServerProcess::start_with_env(exe(), &storage, &trust).unwrap();
    let desk = Desk::new(&server.url, &token).unwrap();
    let id = desk.dispatch(1, "eng-a").unwrap();
    desk.ok("GET", &format!("/api/orders/{id}"), None).unwrap();

    // PostgreSQL's own view: every connection of the server is encrypted.
    let Backend::Postgres(db) = &b else { panic!() };
    let mut c = postgres::Client::connect(&db.url, postgres::NoTls).unwrap();
    let name: String = c
        .query_one("SELECT current_database()", &[])
        .unwrap()
        .get(0);
    let row = c
        .query_one(
            "SELECT count(*), count(*) FILTER (WHERE s.ssl) FROM pg_stat_activity a
               JOIN pg_stat_ssl s ON s.pid = a.pid
              WHERE a.application_name = 'fieldwork' AND a.datname = $1",
            &[&name],
        )
        .unwrap();
    let (all, encrypted): (i64, i64) = (row.get(0), row.get(1));
    assert!(all > 0, "the server holds connections");
    assert_eq!(encrypted, all, "every connection of the server uses TLS");
    server.kill().unwrap();
}
