//! End-to-end scenarios across processes and over the network: the crash
//! test, a server on loopback with devices (harness), `fieldwork` as a real
//! process (process), and the benchmark binary.

pub use fieldwork_core::scenario::{full_visit, intake, play_visit, relay, signature};

pub mod backend;
pub mod board;
pub mod fleet;
pub mod harness;
pub mod process;
pub mod proxy;

/// The SHA-256 of `bytes` in lower-case hex: how a photo's blob is named.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    fieldwork_core::at_rest::hex(&sha2::Sha256::digest(bytes))
}

/// `len` bytes that start like a JPEG (so a phone and the server take them
/// as a photo), different for each `seed`.
pub fn jpeg(len: usize, seed: u64) -> Vec<u8> {
    let mut v = vec![0xFF, 0xD8, 0xFF, 0xE0];
    // Odd and different for every seed (xorshift needs a non-zero state).
    let mut x = seed.wrapping_mul(2).wrapping_add(1);
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(len);
    v
}

/// One compressed change chunk whose payload inflates to `unpacked` zero
/// bytes: a few hundred kilobytes on the wire.
pub fn chunk_bomb(unpacked: usize) -> std::io::Result<Vec<u8>> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    let block = vec![0u8; 1 << 20];
    for _ in 0..unpacked / block.len() {
        std::io::Write::write_all(&mut e, &block)?;
    }
    let payload = e.finish()?;
    let mut chunk = vec![0x85, 0x6f, 0x4a, 0x83, 1, 2, 3, 4, 2];
    let mut len = payload.len();
    loop {
        let byte = (len & 0x7f) as u8;
        len >>= 7;
        if len == 0 {
            chunk.push(byte);
            break;
        }
        chunk.push(byte | 0x80);
    }
    chunk.extend_from_slice(&payload);
    Ok(chunk)
}
