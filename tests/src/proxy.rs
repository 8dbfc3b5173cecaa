//! A fault-injecting HTTP proxy for sync tests: between a device and the
//! server it drops requests, loses responses after the server acted on them,
//! delays, duplicates requests, truncates responses and resets connections —
//! a bounded number of times, chosen by a seeded generator, then it behaves.
//! One request per connection (it asks both sides to close), so faults land
//! on message boundaries the test can reason about.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The request never reaches the server.
    DropRequest,
    /// The server acts; the device never hears back.
    LoseResponse,
    /// The answer comes late.
    Delay,
    /// The server gets the request twice.
    Duplicate,
    /// Half the answer arrives, then the connection closes.
    Truncate,
    /// The connection is reset after the server acted.
    Reset,
    /// Half the request reaches the server, then both connections close
    /// (a cut in the middle of an upload's chunk). Only by [`FaultyProxy::inject_next`].
    CutRequest,
}

const FAULTS: [Fault; 6] = [
    Fault::DropRequest,
    Fault::LoseResponse,
    Fault::Delay,
    Fault::Duplicate,
    Fault::Truncate,
    Fault::Reset,
];

#[derive(Debug)]
pub struct FaultyProxy {
    pub url: String,
    stop: Arc<AtomicBool>,
    /// Faults injected so far, by kind.
    pub injected: Arc<Mutex<Vec<Fault>>>,
    budget: Arc<AtomicU64>,
    next: Arc<Mutex<Vec<Fault>>>,
    requests: Arc<AtomicU64>,
}

impl Drop for FaultyProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn read_request(s: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| {
                    l.strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap_or(0))
                })
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = s.read(&mut chunk)?;
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Ok(buf);
        }
        let n = s.read(&mut chunk)?;
        if n == 0 {
            return Ok(buf);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Ask for the connection to close after this message.
fn with_close(msg: &[u8]) -> Vec<u8> {
    let Some(end) = msg.windows(4).position(|w| w == b"\r\n\r\n") else {
        return msg.to_vec();
    };
    let head = String::from_utf8_lossy(&msg[..end]);
    let mut out: Vec<String> = head
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .map(str::to_string)
        .collect();
    out.push("Connection: close".into());
    let mut bytes = out.join("\r\n").into_bytes();
    bytes.extend_from_slice(b"\r\n\r\n");
    bytes.extend_from_slice(&msg[end + 4..]);
    bytes
}

fn forward(upstream: &str, request: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut up = TcpStream::connect(upstream)?;
    up.set_read_timeout(Some(Duration::from_secs(30)))?;
    up.write_all(request)?;
    let mut resp = Vec::new();
    up.read_to_end(&mut resp)?;
    Ok(resp)
}

impl FaultyProxy {
    /// Proxy to `upstream` (`http://host:port`), injecting at most `budget`
    /// faults, each connection faulted with probability `rate_percent`.
    pub fn start(
        upstream: &str,
        seed: u64,
        budget: u64,
        rate_percent: u64,
    ) -> std::io::Result<FaultyProxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let url = format!("http://{}", listener.local_addr()?);
        let upstream = upstream.trim_start_matches("http://").to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let injected = Arc::new(Mutex::new(Vec::new()));
        let rng = Arc::new(AtomicU64::new(seed | 1));
        let budget = Arc::new(AtomicU64::new(budget));
        let (stop2, injected2, budget2) = (stop.clone(), injected.clone(), budget.clone());
        let next_faults: Arc<Mutex<Vec<Fault>>> = Arc::new(Mutex::new(Vec::new()));
        let requests = Arc::new(AtomicU64::new(0));
        let (next2, requests2) = (next_faults.clone(), requests.clone());
        std::thread::spawn(move || {
            while !stop2.load(Ordering::SeqCst) {
                let Ok((client, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(2));
                    continue;
                };
                let (upstream, injected, rng, budget) = (
                    upstream.clone(),
                    injected2.clone(),
                    rng.clone(),
                    budget2.clone(),
                );
                requests2.fetch_add(1, Ordering::SeqCst);
                let forced = {
                    let mut n = next2.lock().unwrap_or_else(|p| p.into_inner());
                    (!n.is_empty()).then(|| n.remove(0))
                };
                std::thread::spawn(move || {
                    let next = || {
                        let mut x = rng.load(Ordering::SeqCst);
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        rng.store(x, Ordering::SeqCst);
                        x
                    };
                    let fault = if let Some(f) = forced {
                        injected.lock().unwrap_or_else(|p| p.into_inner()).push(f);
                        Some(f)
                    } else {
                        let mut inj = injected.lock().unwrap_or_else(|p| p.into_inner());
                        if (inj.len() as u64) < budget.load(Ordering::SeqCst)
                            && next() % 100 < rate_percent
                        {
                            let f = FAULTS[(next() % FAULTS.len() as u64) as usize];
                            inj.push(f);
                            Some(f)
                        } else {
                            None
                        }
                    };
                    let _ = handle(client, &upstream, fault, next() % 150);
                });
            }
        });
        Ok(FaultyProxy {
            url,
            stop,
            injected,
            budget,
            next: next_faults,
            requests,
        })
    }

    /// Apply `fault` to the next request, whatever the budget says.
    pub fn inject_next(&self, fault: Fault) {
        self.next
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(fault);
    }

    /// Requests seen so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    /// No more faults from now on (the budget is spent).
    pub fn calm(&self) {
        let inj = self.injected.lock().unwrap_or_else(|p| p.into_inner());
        self.budget.store(inj.len() as u64, Ordering::SeqCst);
    }

    pub fn faults(&self) -> Vec<Fault> {
        self.injected
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

fn handle(
    mut client: TcpStream,
    upstream: &str,
    fault: Option<Fault>,
    delay_ms: u64,
) -> std::io::Result<()> {
    client.set_nonblocking(false)?;
    client.set_read_timeout(Some(Duration::from_secs(30)))?;
    let request = with_close(&read_request(&mut client)?);
    if fault == Some(Fault::DropRequest) {
        return client.shutdown(Shutdown::Both);
    }
    if fault == Some(Fault::CutRequest) {
        let mut up = TcpStream::connect(upstream)?;
        up.write_all(&request[..request.len() / 2])?;
        std::thread::sleep(Duration::from_millis(20));
        up.shutdown(Shutdown::Both)?;
        return client.shutdown(Shutdown::Both);
    }
    let response = forward(upstream, &request)?;
    match fault {
        Some(Fault::LoseResponse) => client.shutdown(Shutdown::Both),
        Some(Fault::Reset) => {
            // Linger zero: closing sends RST instead of FIN.
            socket2::SockRef::from(&client).set_linger(Some(Duration::ZERO))?;
            drop(client);
            Ok(())
        }
        Some(Fault::Truncate) => {
            client.write_all(&response[..response.len() / 2])?;
            client.shutdown(Shutdown::Both)
        }
        Some(Fault::Duplicate) => {
            let _ = forward(upstream, &request)?;
            client.write_all(&with_close(&response))
        }
        Some(Fault::Delay) => {
            std::thread::sleep(Duration::from_millis(delay_ms));
            client.write_all(&with_close(&response))
        }
        Some(Fault::DropRequest | Fault::CutRequest) | None => {
            client.write_all(&with_close(&response))
        }
    }
}
