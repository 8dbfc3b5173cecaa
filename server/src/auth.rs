//! Who may call the server: tenants, engineers and dispatchers, enrolled
//! devices. Bearer tokens and enrolment codes are random and stored only as
//! SHA-256 hashes; a leaked database does not give anyone a working token.

use fieldwork_core::Language;
use fieldwork_core::attest::{self, PinnedKey};
use fieldwork_core::model::KeyBacking;
use fieldwork_core::store::sql::{self, Backend, Dialect, SqlError, params, query_opt};
use sha2::{Digest, Sha256};
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
    Database(#[from] SqlError),
    #[error("{0}")]
    Invalid(String),
}

/// The directory's migrations, numbered per dialect. SQLite's first one
/// creates only what is missing: directories made before migrations were
/// numbered have its tables already.
const SQLITE_MIGRATIONS: &[&str] = &[
    include_str!("migrations/sqlite/001_directory.sql"),
    include_str!("migrations/sqlite/002_board_language.sql"),
    include_str!("migrations/sqlite/003_device_keys.sql"),
];
const POSTGRES_MIGRATIONS: &[&str] = &[
    include_str!("migrations/postgres/001_directory.sql"),
    include_str!("migrations/postgres/002_board_language.sql"),
    include_str!("migrations/postgres/003_device_keys.sql"),
];

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
    /// The language this user chose on the board, if any.
    pub chosen_language: Option<Language>,
    /// The service center's time zone: every time on the board is shown
    /// and read in it (filled in from the tenant's settings).
    pub zone: chrono_tz::Tz,
    /// The language the board speaks to them: their choice, else their
    /// browser's, else the service center's (filled in per request).
    pub lang: Language,
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
    db: &mut dyn Backend,
    tenant: &str,
    person: &str,
    why: &str,
) -> Result<(), AuthError> {
    let role = query_opt(
        db,
        "SELECT role FROM people WHERE tenant = ?1 AND id = ?2",
        params![tenant, person],
    )?
    .map(|r| r.text(0))
    .transpose()?;
    if role.as_deref() == Some("dispatcher") {
        Ok(())
    } else {
        Err(AuthError::Invalid(format!(
            "{person} is not a dispatcher of {tenant}{why}"
        )))
    }
}

/// The server's directory of tenants, people and tokens: `server.db`, or
/// the `fw_directory` schema on PostgreSQL.
#[derive(Debug)]
pub struct Directory {
    db: Mutex<Box<dyn Backend>>,
}

impl Directory {
    /// Open on a connection from the server's storage and migrate.
    pub fn open(mut db: Box<dyn Backend>) -> Result<Directory, AuthError> {
        let all = match db.dialect() {
            Dialect::Sqlite => SQLITE_MIGRATIONS,
            Dialect::Postgres => POSTGRES_MIGRATIONS,
        };
        // Processes starting together migrate one at a time.
        db.lock_exclusive()?;
        let migrated = Self::migrate(db.as_mut(), all);
        db.unlock_exclusive()?;
        migrated?;
        Ok(Directory { db: Mutex::new(db) })
    }

    fn migrate(db: &mut dyn Backend, all: &[&str]) -> Result<(), AuthError> {
        let found = db.schema_version()?;
        let supported = all.len() as i64;
        if found > supported {
            return Err(AuthError::Invalid(format!(
                "the directory was written by a newer Fieldwork (schema {found}, this build knows up to {supported})"
            )));
        }
        for (version, migration) in (1..).zip(all).skip(usize::try_from(found).unwrap_or(0)) {
            sql::in_transaction(db, |db| -> Result<(), AuthError> {
                db.execute_batch(migration)?;
                db.set_schema_version(version)?;
                Ok(())
            })?;
        }
        Ok(())
    }

    /// Whether the directory answers and its schema is the one this build
    /// knows; the reason if not.
    pub fn ready(&self) -> Result<(), String> {
        let mut db = self.db();
        let known = match db.dialect() {
            Dialect::Sqlite => SQLITE_MIGRATIONS.len(),
            Dialect::Postgres => POSTGRES_MIGRATIONS.len(),
        } as i64;
        let found = db
            .schema_version()
            .map_err(|e| format!("the storage does not answer: {e}"))?;
        if found != known {
            return Err(format!(
                "the directory's schema is {found}, this build's is {known}"
            ));
        }
        Ok(())
    }

    fn db(&self) -> std::sync::MutexGuard<'_, Box<dyn Backend>> {
        self.db.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every tenant's id, in order.
    pub fn tenants(&self) -> Result<Vec<String>, AuthError> {
        Ok(self
            .db()
            .query("SELECT id FROM tenants ORDER BY id", &[])?
            .iter()
            .map(|r| r.text(0))
            .collect::<Result<_, _>>()?)
    }

    pub fn add_tenant(&self, id: &str, name: &str) -> Result<(), AuthError> {
        valid_id("tenant", id)?;
        self.db().execute(
            "INSERT INTO tenants (id, name) VALUES (?1, ?2) ON CONFLICT (id) DO NOTHING",
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
        let mut db = self.db();
        if query_opt(
            db.as_mut(),
            "SELECT 1 FROM tenants WHERE id = ?1",
            params![tenant],
        )?
        .is_none()
        {
            return Err(AuthError::Invalid(format!("no tenant {tenant}")));
        }
        db.execute(
            "INSERT INTO people (tenant, id, name, role) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (tenant, id) DO UPDATE SET name = excluded.name, role = excluded.role",
            params![tenant, id, name, role.as_str()],
        )?;
        Ok(())
    }

    pub fn is_engineer(&self, tenant: &str, id: &str) -> Result<bool, AuthError> {
        Ok(query_opt(
            self.db().as_mut(),
            "SELECT 1 FROM people WHERE tenant = ?1 AND id = ?2 AND role = 'engineer'",
            params![tenant, id],
        )?
        .is_some())
    }

    /// A bearer token for a dispatcher (shown once).
    pub fn issue_dispatcher_token(&self, tenant: &str, person: &str) -> Result<String, AuthError> {
        let mut db = self.db();
        require_dispatcher(db.as_mut(), tenant, person, "")?;
        let token = secret();
        db.execute(
            "INSERT INTO tokens (hash, tenant, person, role) VALUES (?1, ?2, ?3, 'dispatcher')",
            params![&hash(&token), tenant, person],
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
        self.db().execute(
            "INSERT INTO enrolment_codes (hash, tenant, engineer) VALUES (?1, ?2, ?3)",
            params![&hash(&code), tenant, engineer],
        )?;
        Ok(code)
    }

    /// Trade an unused enrolment code for a device token. The code is
    /// marked used by the same statement that reads it, so two servers
    /// sharing a database never both accept it.
    pub fn enrol(&self, code: &str, device_id: &str) -> Result<(String, Principal), AuthError> {
        self.enrol_with_key(code, device_id, None)
    }

    /// [`Directory::enrol`], pinning the device's public key (SEC1 or DER
    /// SubjectPublicKeyInfo, P-256) in the same transaction: from then on
    /// what the device signs is verified against it. Enrolling the same
    /// device again (a new code) pins its new key.
    pub fn enrol_with_key(
        &self,
        code: &str,
        device_id: &str,
        key: Option<(&[u8], KeyBacking)>,
    ) -> Result<(String, Principal), AuthError> {
        if fieldwork_core::api::device_actor(device_id).is_err() {
            return Err(AuthError::Invalid(
                "device id must be the store's device id".into(),
            ));
        }
        let key = match key {
            Some((bytes, backing)) => Some((
                attest::normalise_public_key(bytes).ok_or_else(|| {
                    AuthError::Invalid("the device key is not a P-256 public key".into())
                })?,
                backing,
            )),
            None => None,
        };
        let token = secret();
        let mut db = self.db();
        let (tenant, engineer) = sql::in_transaction(
            db.as_mut(),
            |db| -> Result<(String, String), AuthError> {
                let row = query_opt(
                    db,
                    "UPDATE enrolment_codes SET used = 1 WHERE hash = ?1 AND used = 0
                     RETURNING tenant, engineer",
                    params![&hash(code)],
                )?;
                let Some(row) = row else {
                    return Err(AuthError::Invalid("unknown or used enrolment code".into()));
                };
                let (tenant, engineer) = (row.text(0)?, row.text(1)?);
                db.execute(
                    "INSERT INTO tokens (hash, tenant, person, role, device_id) VALUES (?1, ?2, ?3, 'engineer', ?4)",
                    params![&hash(&token), &tenant, &engineer, device_id],
                )?;
                if let Some((public_key, backing)) = &key {
                    db.execute(
                        "INSERT INTO device_keys (tenant, device_id, public_key, backing, enrolled_at_ms, revoked)
                         VALUES (?1, ?2, ?3, ?4, ?5, 0)
                         ON CONFLICT (tenant, device_id) DO UPDATE SET public_key = excluded.public_key,
                           backing = excluded.backing, enrolled_at_ms = excluded.enrolled_at_ms, revoked = 0",
                        params![
                            &tenant,
                            device_id,
                            &fieldwork_core::blobs::hex(public_key),
                            backing.as_str(),
                            now_ms()
                        ],
                    )?;
                }
                Ok((tenant, engineer))
            },
        )?;
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
        let row = query_opt(
            self.db().as_mut(),
            "SELECT tenant, person, role, device_id FROM tokens WHERE hash = ?1 AND revoked = 0",
            params![&hash(token)],
        )?;
        let Some(r) = row else {
            return Ok(None);
        };
        Ok(Some(Principal {
            tenant: r.text(0)?,
            person: r.text(1)?,
            role: if r.text(2)? == "dispatcher" {
                Role::Dispatcher
            } else {
                Role::Engineer
            },
            device_id: r.opt_text(3)?,
        }))
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
        let hashed = hash_password(password)?;
        let mut db = self.db();
        require_dispatcher(
            db.as_mut(),
            tenant,
            person,
            ": only dispatchers and supervisors use the board",
        )?;
        db.execute(
            "INSERT INTO board_logins (tenant, person, password, supervisor) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (tenant, person) DO UPDATE SET password = excluded.password, supervisor = excluded.supervisor",
            params![tenant, person, &hashed, supervisor],
        )?;
        Ok(())
    }

    /// Keep a board user's language (`None`: follow the browser).
    pub fn set_language(
        &self,
        tenant: &str,
        person: &str,
        language: Option<Language>,
    ) -> Result<(), AuthError> {
        self.db().execute(
            "UPDATE board_logins SET language = ?3 WHERE tenant = ?1 AND person = ?2",
            params![tenant, person, language.map(Language::tag)],
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
        let stored = query_opt(
            self.db().as_mut(),
            "SELECT password FROM board_logins WHERE tenant = ?1 AND person = ?2",
            params![tenant, person],
        )?
        .map(|r| r.text(0))
        .transpose()?;
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
        let mut db = self.db();
        db.execute(
            "DELETE FROM board_sessions WHERE expires_ms < ?1",
            params![now_ms()],
        )?;
        db.execute(
            "INSERT INTO board_sessions (hash, tenant, person, csrf, expires_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![&hash(&session), tenant, person, &secret(), now_ms() + SESSION_MS],
        )?;
        Ok(Some(session))
    }

    /// The board user a session cookie belongs to, if it is live.
    pub fn board_session(&self, session: &str) -> Result<Option<BoardUser>, AuthError> {
        let row = query_opt(
            self.db().as_mut(),
            "SELECT s.tenant, s.person, p.name, l.supervisor, s.csrf, l.language
             FROM board_sessions s
             JOIN board_logins l ON l.tenant = s.tenant AND l.person = s.person
             JOIN people p ON p.tenant = s.tenant AND p.id = s.person
             WHERE s.hash = ?1 AND s.expires_ms > ?2",
            params![&hash(session), now_ms()],
        )?;
        let Some(r) = row else {
            return Ok(None);
        };
        Ok(Some(BoardUser {
            tenant: r.text(0)?,
            person: r.text(1)?,
            name: r.text(2)?,
            supervisor: r.bool(3)?,
            csrf: r.text(4)?,
            chosen_language: r.opt_text(5)?.as_deref().and_then(Language::parse_setting),
            zone: chrono_tz::Tz::UTC,
            lang: Language::En,
        }))
    }

    pub fn sign_out(&self, session: &str) -> Result<(), AuthError> {
        self.db().execute(
            "DELETE FROM board_sessions WHERE hash = ?1",
            params![&hash(session)],
        )?;
        Ok(())
    }

    /// A tenant's engineers, `(id, name)`, by name.
    pub fn engineers(&self, tenant: &str) -> Result<Vec<(String, String)>, AuthError> {
        Ok(self
            .db()
            .query(
                "SELECT id, name FROM people WHERE tenant = ?1 AND role = 'engineer' ORDER BY name, id",
                params![tenant],
            )?
            .iter()
            .map(|r| Ok((r.text(0)?, r.text(1)?)))
            .collect::<Result<_, SqlError>>()?)
    }

    /// Revoke every token of a device, and its key: nothing it signs is
    /// accepted any more. Returns how many tokens were revoked.
    pub fn revoke_device(&self, tenant: &str, device_id: &str) -> Result<usize, AuthError> {
        let mut db = self.db();
        let n = sql::in_transaction(db.as_mut(), |db| -> Result<u64, AuthError> {
            let n = db.execute(
                "UPDATE tokens SET revoked = 1 WHERE tenant = ?1 AND device_id = ?2",
                params![tenant, device_id],
            )?;
            db.execute(
                "UPDATE device_keys SET revoked = 1 WHERE tenant = ?1 AND device_id = ?2",
                params![tenant, device_id],
            )?;
            Ok(n)
        })?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// The key pinned for a device at enrolment; `None` for a device
    /// enrolled before keys existed.
    pub fn device_key(
        &self,
        tenant: &str,
        device_id: &str,
    ) -> Result<Option<PinnedKey>, AuthError> {
        let row = query_opt(
            self.db().as_mut(),
            "SELECT public_key, backing, revoked FROM device_keys WHERE tenant = ?1 AND device_id = ?2",
            params![tenant, device_id],
        )?;
        let Some(row) = row else {
            return Ok(None);
        };
        let bad =
            |what: &str| AuthError::Invalid(format!("the pinned device key's {what} is damaged"));
        let hex = row.text(0)?;
        let public_key = fieldwork_core::at_rest::unhex(&hex).ok_or_else(|| bad("bytes"))?;
        let backing = KeyBacking::parse(&row.text(1)?).ok_or_else(|| bad("backing"))?;
        Ok(Some(PinnedKey {
            public_key,
            backing,
            revoked: row.int(2)? != 0,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fieldwork_core::store::sql::SqliteBackend;

    #[test]
    fn a_directory_made_before_numbered_migrations_keeps_everyone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.db");
        {
            // What earlier servers wrote: the tables, no schema version.
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute_batch(SQLITE_MIGRATIONS[0]).unwrap();
            conn.execute_batch(
                "INSERT INTO tenants VALUES ('acme', 'ACME');
                 INSERT INTO people VALUES ('acme', 'eng-a', 'Zhang Wei', 'engineer');",
            )
            .unwrap();
        }
        let d = Directory::open(Box::new(SqliteBackend::open(&path).unwrap())).unwrap();
        assert!(d.is_engineer("acme", "eng-a").unwrap());
        assert_eq!(
            d.db().schema_version().unwrap(),
            SQLITE_MIGRATIONS.len() as i64,
            "migrated to the newest"
        );
        // Later migrations applied too: a board user's language is kept.
        d.add_person("acme", "desk", "Desk", Role::Dispatcher)
            .unwrap();
        d.set_password("acme", "desk", "correct horse battery", false)
            .unwrap();
        d.set_language("acme", "desk", Some(Language::ZhCn))
            .unwrap();
        // And it opens again without migrating twice.
        drop(d);
        let d = Directory::open(Box::new(SqliteBackend::open(&path).unwrap())).unwrap();
        assert_eq!(d.engineers("acme").unwrap().len(), 1);
    }

    #[test]
    fn an_enrolment_code_is_spent_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.db");
        let d = Directory::open(Box::new(SqliteBackend::open(&path).unwrap())).unwrap();
        d.add_tenant("acme", "ACME").unwrap();
        d.add_person("acme", "eng-a", "Zhang Wei", Role::Engineer)
            .unwrap();
        let code = d.issue_enrolment_code("acme", "eng-a").unwrap();
        let device = uuid::Uuid::new_v4().simple().to_string();
        let (token, p) = d.enrol(&code, &device).unwrap();
        assert_eq!(p.person, "eng-a");
        assert_eq!(d.authenticate(&token).unwrap(), Some(p));
        assert!(matches!(
            d.enrol(&code, &device),
            Err(AuthError::Invalid(m)) if m == "unknown or used enrolment code"
        ));
    }
}
