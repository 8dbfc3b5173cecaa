//! The store encrypted at rest (decision 0016): opened with the app's key,
//! the blob key its photos are sealed with, rekeyed. Turning a plain store
//! into an encrypted one is [`super::convert`].

use super::convert::META_BLOB_KEY;
use super::sql::SqliteBackend;
use super::{SCHEMA_VERSION, Store, StoreError};
use crate::at_rest::sealed::BlobKey;
use crate::at_rest::{Locked, StoreFile, StoreKey};
use crate::policy::Policy;
use std::path::Path;

impl Store {
    /// Open the store at `path` encrypted under `key` (created encrypted if
    /// missing), or plain with no key. A key that does not fit the file is
    /// [`StoreError::Locked`] and changes nothing. An encryption a crash
    /// interrupted is finished or undone first ([`super::convert`]).
    pub fn open_keyed(
        path: &Path,
        policy: Policy,
        key: Option<&StoreKey>,
    ) -> Result<Store, StoreError> {
        super::convert::recover(path)?;
        let file = StoreFile::at(path)
            .map_err(|e| StoreError::Files(format!("the store: {}", e.kind())))?;
        match (file, key) {
            (StoreFile::Plain, Some(_)) => return Err(Locked::NotEncrypted.into()),
            (StoreFile::Encrypted, None) => return Err(Locked::KeyNeeded.into()),
            _ => {}
        }
        let db =
            SqliteBackend::open_keyed(path, key).map_err(|e| match (e.not_a_database, key) {
                (true, Some(_)) => Locked::WrongKey.into(),
                (true, None) => Locked::KeyNeeded.into(),
                _ => StoreError::from(e),
            })?;
        let mut store = Self::open_backend_at(Box::new(db), policy, SCHEMA_VERSION)?;
        store.encrypted = key.is_some();
        Ok(store)
    }

    /// The key this encrypted store seals its photos with (made on first
    /// use); `None` for a plain store.
    pub fn blob_key(&mut self) -> Result<Option<BlobKey>, StoreError> {
        if !self.encrypted {
            return Ok(None);
        }
        if let Some(hex) = self.meta(META_BLOB_KEY)? {
            return BlobKey::from_hex(&hex)
                .map(Some)
                .ok_or_else(|| StoreError::Corrupt {
                    doc_id: "meta".into(),
                    reason: "the blob key is malformed".into(),
                });
        }
        let key = BlobKey::generate();
        self.set_meta(META_BLOB_KEY, &key.to_hex())?;
        Ok(Some(key))
    }

    /// Encrypt this store under `key` instead of the one it was opened
    /// with, in one transaction (SQLCipher's rekey). Photos keep their blob
    /// key, which lives inside the database.
    pub fn rekey(&mut self, key: &StoreKey) -> Result<(), StoreError> {
        if !self.encrypted {
            return Err(Locked::NotEncrypted.into());
        }
        self.db
            .execute_batch(&format!("PRAGMA rekey = {};", key.sql_literal()))?;
        Ok(())
    }
}
