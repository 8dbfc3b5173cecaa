//! Who may call the server: tenants, engineers and dispatchers, enrolled
//! devices. Bearer tokens and enrolment codes are random and stored only as
//! SHA-256 hashes; a leaked database does not give anyone a working token.

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Mutex;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Engineer,
    Dispatcher,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Engineer => "engineer",
            Role::Dispatcher => "dispatcher",
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub tenant: String,
    pub person: String,
    pub role: Role,
    /// Set for an engineer's enrolled device.
    pub device_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0}")]
    Invalid(String),
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS tenants (id TEXT PRIMARY KEY, name TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS people (
    tenant TEXT NOT NULL REFERENCES tenants (id),
    id     TEXT NOT NULL,
    name   TEXT NOT NULL,
    role   TEXT NOT NULL CHECK (role IN ('engineer', 'dispatcher')),
    PRIMARY KEY (tenant, id)
) STRICT;
CREATE TABLE IF NOT EXISTS tokens (
    hash      TEXT PRIMARY KEY,
    tenant    TEXT NOT NULL,
    person    TEXT NOT NULL,
    role      TEXT NOT NULL,
    device_id TEXT,
    revoked   INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE TABLE IF NOT EXISTS board_logins (
    tenant     TEXT NOT NULL,
    person     TEXT NOT NULL,
    password   TEXT NOT NULL,
    supervisor INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, person),
    FOREIGN KEY (tenant, person) REFERENCES people (tenant, id)
) STRICT;
CREATE TABLE IF NOT EXISTS board_sessions (
    hash       TEXT PRIMARY KEY,
    tenant     TEXT NOT NULL,
    person     TEXT NOT NULL,
    csrf       TEXT NOT NULL,
    expires_ms INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS enrolment_codes (
    hash     TEXT PRIMARY KEY,
    tenant   TEXT NOT NULL,
    engineer TEXT NOT NULL,
    used     INTEGER NOT NULL DEFAULT 0
) STRICT;
";

/// A well-formed Argon2 hash of nothing anyone knows, to verify against
/// when the person does not exist.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$9ULJ8E0yE8xG3yNfH2t2r6tK9iQXz1yS8uTgkqRMSr8";

fn hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn secret() -> String {
    rand::random::<[u8; 24]>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn valid_id(what: &str, id: &str) -> Result<(), AuthError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(AuthError::Invalid(format!(
            "{what} id must be 1-64 letters, digits, '-' or '_'"
        )))
    }
}

/// Shortest board password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// How long a board session lasts without signing in again.
pub const SESSION_MS: i64 = 12 * 3_600_000;

/// A signed-in dispatcher or supervisor on the board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardUser {
    pub tenant: String,
    pub person: String,
    pub name: String,
    pub supervisor: bool,
    /// The session's anti-forgery token: every form posts it back.
    pub csrf: String,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn hash_password(password: &str) -> Result<String, AuthError> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .map_err(|e| AuthError::Invalid(format!("salt: {e}")))?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Invalid(format!("password hashing: {e}")))
}

fn password_matches(password: &str, stored: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(stored).is_ok_and(|h| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Refuse anyone but a dispatcher of `tenant`; `why` ends the message.
fn require_dispatcher(
    conn: &Connection,
    tenant: &str,
    person: &str,
    why: &str,
) -> Result<(), AuthError> {
    let role: Option<String> = conn
        .query_row(
            "SELECT role FROM people WHERE tenant = ?1 AND id = ?2",
            params![tenant, person],
            |r| r.get(0),
        )
        .optional()?;
    if role.as_deref() == Some("dispatcher") {
        Ok(())
    } else {
        Err(AuthError::Invalid(format!(
            "{person} is not a dispatcher of {tenant}{why}"
        )))
    }
}

/// The server's directory of tenants, people and tokens (`server.db`).
#[derive(Debug)]
pub struct Directory {
    conn: Mutex<Connection>,
}

impl Directory {
    pub fn open(path: &Path) -> Result<Directory, AuthError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        Ok(Directory {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn add_tenant(&self, id: &str, name: &str) -> Result<(), AuthError> {
        valid_id("tenant", id)?;
        self.conn().execute(
            "INSERT OR IGNORE INTO tenants (id, name) VALUES (?1, ?2)",
            params![id, name],
        )?;
        Ok(())
    }

    pub fn add_person(
        &self,
        tenant: &str,
        id: &str,
        name: &str,
        role: Role,
    ) -> Result<(), AuthError> {
        valid_id("person", id)?;
        let conn = self.conn();
        let known: Option<i64> = conn
            .query_row("SELECT 1 FROM tenants WHERE id = ?1", [tenant], |r| {
                r.get(0)
            })
            .optional()?;
        if known.is_none() {
            return Err(AuthError::Invalid(format!("no tenant {tenant}")));
        }
        conn.execute(
            "INSERT INTO people (tenant, id, name, role) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (tenant, id) DO UPDATE SET name = excluded.name, role = excluded.role",
            params![tenant, id, name, role.as_str()],
        )?;
        Ok(())
    }

    pub fn is_engineer(&self, tenant: &str, id: &str) -> Result<bool, AuthError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT 1 FROM people WHERE tenant = ?1 AND id = ?2 AND role = 'engineer'",
                params![tenant, id],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// A bearer token for a dispatcher (shown once).
    pub fn issue_dispatcher_token(&self, tenant: &str, person: &str) -> Result<String, AuthError> {
        let conn = self.conn();
        require_dispatcher(&conn, tenant, person, "")?;
        let token = secret();
        conn.execute(
            "INSERT INTO tokens (hash, tenant, person, role) VALUES (?1, ?2, ?3, 'dispatcher')",
            params![hash(&token), tenant, person],
        )?;
        Ok(token)
    }

    /// A one-time code an engineer's device enrols with (shown once).
    pub fn issue_enrolment_code(&self, tenant: &str, engineer: &str) -> Result<String, AuthError> {
        if !self.is_engineer(tenant, engineer)? {
            return Err(AuthError::Invalid(format!(
                "{engineer} is not an engineer of {tenant}"
            )));
        }
        let code = secret();
        self.conn().execute(
            "INSERT INTO enrolment_codes (hash, tenant, engineer) VALUES (?1, ?2, ?3)",
            params![hash(&code), tenant, engineer],
        )?;
        Ok(code)
    }

    /// Trade an unused enrolment code for a device token.
    pub fn enrol(&self, code: &str, device_id: &str) -> Result<(String, Principal), AuthError> {
        if fieldwork_core::api::device_actor(device_id).is_err() {
            return Err(AuthError::Invalid(
                "device id must be the store's device id".into(),
            ));
        }
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let row: Option<(String, String)> = tx
            .query_row(
                "SELECT tenant, engineer FROM enrolment_codes WHERE hash = ?1 AND used = 0",
                [hash(code)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((tenant, engineer)) = row else {
            return Err(AuthError::Invalid("unknown or used enrolment code".into()));
        };
        tx.execute(
            "UPDATE enrolment_codes SET used = 1 WHERE hash = ?1",
            [hash(code)],
        )?;
        let token = secret();
        tx.execute(
            "INSERT INTO tokens (hash, tenant, person, role, device_id) VALUES (?1, ?2, ?3, 'engineer', ?4)",
            params![hash(&token), tenant, engineer, device_id],
        )?;
        tx.commit()?;
        Ok((
            token,
            Principal {
                tenant,
                person: engineer,
                role: Role::Engineer,
                device_id: Some(device_id.to_string()),
            },
        ))
    }

    pub fn authenticate(&self, token: &str) -> Result<Option<Principal>, AuthError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT tenant, person, role, device_id FROM tokens WHERE hash = ?1 AND revoked = 0",
                [hash(token)],
                |r| {
                    let role: String = r.get(2)?;
                    Ok(Principal {
                        tenant: r.get(0)?,
                        person: r.get(1)?,
                        role: if role == "dispatcher" { Role::Dispatcher } else { Role::Engineer },
                        device_id: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }

    /// Let a dispatcher sign in to the board with `password`; `supervisor`
    /// also opens the statistics. Engineers sign in on their phones, never here.
    pub fn set_password(
        &self,
        tenant: &str,
        person: &str,
        password: &str,
        supervisor: bool,
    ) -> Result<(), AuthError> {
        if password.chars().count() < MIN_PASSWORD_CHARS {
            return Err(AuthError::Invalid(format!(
                "a board password has at least {MIN_PASSWORD_CHARS} characters"
            )));
        }
        let conn = self.conn();
        require_dispatcher(
            &conn,
            tenant,
            person,
            ": only dispatchers and supervisors use the board",
        )?;
        conn.execute(
            "INSERT INTO board_logins (tenant, person, password, supervisor) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (tenant, person) DO UPDATE SET password = excluded.password, supervisor = excluded.supervisor",
            params![tenant, person, hash_password(password)?, supervisor],
        )?;
        Ok(())
    }

    /// Check a board sign-in; on success a new session: its cookie secret.
    pub fn sign_in(
        &self,
        tenant: &str,
        person: &str,
        password: &str,
    ) -> Result<Option<String>, AuthError> {
        let stored: Option<String> = self
            .conn()
            .query_row(
                "SELECT password FROM board_logins WHERE tenant = ?1 AND person = ?2",
                params![tenant, person],
                |r| r.get(0),
            )
            .optional()?;
        // Unknown people cost as much as a wrong password: nothing to time.
        let ok = match &stored {
            Some(h) => password_matches(password, h),
            None => {
                password_matches(password, DUMMY_HASH);
                false
            }
        };
        if !ok {
            return Ok(None);
        }
        let session = secret();
        let conn = self.conn();
        conn.execute(
            "DELETE FROM board_sessions WHERE expires_ms < ?1",
            [now_ms()],
        )?;
        conn.execute(
            "INSERT INTO board_sessions (hash, tenant, person, csrf, expires_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![hash(&session), tenant, person, secret(), now_ms() + SESSION_MS],
        )?;
        Ok(Some(session))
    }

    /// The board user a session cookie belongs to, if it is live.
    pub fn board_session(&self, session: &str) -> Result<Option<BoardUser>, AuthError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT s.tenant, s.person, p.name, l.supervisor, s.csrf
                 FROM board_sessions s
                 JOIN board_logins l ON l.tenant = s.tenant AND l.person = s.person
                 JOIN people p ON p.tenant = s.tenant AND p.id = s.person
                 WHERE s.hash = ?1 AND s.expires_ms > ?2",
                params![hash(session), now_ms()],
                |r| {
                    Ok(BoardUser {
                        tenant: r.get(0)?,
                        person: r.get(1)?,
                        name: r.get(2)?,
                        supervisor: r.get(3)?,
                        csrf: r.get(4)?,
                    })
                },
            )
            .optional()?)
    }

    pub fn sign_out(&self, session: &str) -> Result<(), AuthError> {
        self.conn().execute(
            "DELETE FROM board_sessions WHERE hash = ?1",
            [hash(session)],
        )?;
        Ok(())
    }

    /// A tenant's engineers, `(id, name)`, by name.
    pub fn engineers(&self, tenant: &str) -> Result<Vec<(String, String)>, AuthError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, name FROM people WHERE tenant = ?1 AND role = 'engineer' ORDER BY name, id",
        )?;
        let rows = stmt
            .query_map([tenant], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Revoke every token of a device. Returns how many were revoked.
    pub fn revoke_device(&self, tenant: &str, device_id: &str) -> Result<usize, AuthError> {
        Ok(self.conn().execute(
            "UPDATE tokens SET revoked = 1 WHERE tenant = ?1 AND device_id = ?2",
            params![tenant, device_id],
        )?)
    }
}
