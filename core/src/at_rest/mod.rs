//! Encryption at rest on the phone (decision 0016).
//!
//! The store's SQLite file is a SQLCipher database: every page, and every
//! frame of its WAL, is encrypted with AES-256 under the 32-byte key the app
//! supplies (kept in the Android Keystore or the iOS Keychain, wrapped by a
//! hardware key). The key is given raw, so opening costs no key derivation.
//!
//! Photo blobs are sealed with XChaCha20-Poly1305 ([`sealed`]) under a
//! random blob key kept inside the encrypted database: the app's key
//! protects it, and a rekey changes only the database, atomically, however
//! many photos there are.
//!
//! The store's `convert` module turns a plaintext store into an encrypted
//! one by writing a whole new copy beside it and renaming it into place: a
//! crash leaves the old store or the new one.
//!
//! This module sits below storage and the blob folder: it knows keys and
//! bytes, not stores.

pub mod sealed;

use std::fmt;
use std::io::Read;
use std::path::Path;
use zeroize::Zeroize;

/// The key a phone's store is encrypted with: 32 bytes from the platform's
/// key store. Never printed, and wiped from memory when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreKey([u8; 32]);

impl fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoreKey(..)")
    }
}

impl Drop for StoreKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// A key of the wrong length.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a store key is 32 bytes, not {0}")]
pub struct KeyLength(pub usize);

impl StoreKey {
    pub fn from_bytes(bytes: &[u8]) -> Result<StoreKey, KeyLength> {
        let key: [u8; 32] = bytes.try_into().map_err(|_| KeyLength(bytes.len()))?;
        Ok(StoreKey(key))
    }

    /// A new random key (tests, the device CLI, benchmarks; an app makes
    /// its key in the platform's key store).
    pub fn generate() -> StoreKey {
        let mut key = [0u8; 32];
        rand::fill(&mut key);
        StoreKey(key)
    }

    /// The key's bytes, for the key store that keeps it.
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }

    /// SQLCipher's raw-key form, `x'…'` (64 hex digits): no key derivation.
    pub(crate) fn sql_literal(&self) -> String {
        let mut hex = hex(&self.0);
        let s = format!("\"x'{hex}'\"");
        hex.zeroize();
        s
    }
}

/// Lowercase hex (digests, keys in SQL and in the meta table).
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The bytes of a hex string (either case); `None` if it is not hex.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Why a store did not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Locked {
    #[error("the store is encrypted and no key was given")]
    KeyNeeded,
    #[error("the key does not open this store")]
    WrongKey,
    #[error("the store is not encrypted: encrypt it first (encrypt_store)")]
    NotEncrypted,
}

impl Locked {
    /// A stable code the apps switch on.
    pub fn code(self) -> &'static str {
        match self {
            Locked::KeyNeeded => "key_needed",
            Locked::WrongKey => "wrong_key",
            Locked::NotEncrypted => "not_encrypted",
        }
    }
}

/// What the file at a store's path holds, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreFile {
    /// No store yet (no file, or an empty one).
    Missing,
    /// A plain SQLite database.
    Plain,
    /// Anything else: an encrypted database (its first bytes are a random
    /// salt), or bytes that are no database at all, which no key opens.
    Encrypted,
}

/// Every plain SQLite database begins with these 16 bytes.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

impl StoreFile {
    pub fn at(path: &Path) -> std::io::Result<StoreFile> {
        let mut head = Vec::with_capacity(16);
        match std::fs::File::open(path) {
            Ok(f) => f.take(16).read_to_end(&mut head)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(StoreFile::Missing),
            Err(e) => return Err(e),
        };
        Ok(if head.is_empty() {
            StoreFile::Missing
        } else if head.as_slice() == SQLITE_HEADER {
            StoreFile::Plain
        } else {
            StoreFile::Encrypted
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_32_bytes_and_never_printed() {
        assert_eq!(StoreKey::from_bytes(&[1; 31]), Err(KeyLength(31)));
        let k = StoreKey::from_bytes(&[0xab; 32]).unwrap();
        assert_eq!(format!("{k:?}"), "StoreKey(..)");
        assert_eq!(k.sql_literal(), format!("\"x'{}'\"", "ab".repeat(32)));
        assert_ne!(StoreKey::generate(), StoreKey::generate());
    }
}
