//! Board updates between the server processes sharing one PostgreSQL: each
//! process tells its own boards at once and sends a note (tenant, order ids,
//! its process id) on one channel; every process listens and passes the
//! others' notes to its boards (LISTEN/NOTIFY, decision 0009). On a
//! connection of its own, outside the stores' pool.

use crate::bus::Changed;
use std::time::Duration;

/// The channel board updates travel on between processes.
pub const CHANNEL: &str = "fieldwork_changes";

#[derive(serde::Serialize, serde::Deserialize)]
struct Note {
    /// The process that sent it: it has told its own boards already.
    p: String,
    t: String,
    ids: Vec<String>,
}

/// NOTIFY payloads must stay under 8000 bytes.
const MAX_NOTE_BYTES: usize = 7_000;

fn notes(process: &str, c: &Changed) -> Vec<String> {
    let mut out = Vec::new();
    let mut ids: Vec<String> = Vec::new();
    let mut size = 0;
    let flush = |ids: &mut Vec<String>, out: &mut Vec<String>| {
        if !ids.is_empty() {
            let note = Note {
                p: process.to_string(),
                t: c.tenant.clone(),
                ids: std::mem::take(ids),
            };
            if let Ok(s) = serde_json::to_string(&note) {
                out.push(s);
            }
        }
    };
    for id in &c.ids {
        if size + id.len() + 4 > MAX_NOTE_BYTES {
            flush(&mut ids, &mut out);
            size = 0;
        }
        size += id.len() + 4;
        ids.push(id.clone());
    }
    flush(&mut ids, &mut out);
    out
}

/// Send this process's board updates to the others and deliver theirs to
/// this process's boards, until the runtime stops. Reconnects after a lost
/// connection (updates in between are lost; boards catch up on their next
/// event or reload).
pub async fn relay(
    url: String,
    process: String,
    mut outgoing: tokio::sync::mpsc::UnboundedReceiver<Changed>,
    local: tokio::sync::broadcast::Sender<Changed>,
) {
    loop {
        let why = match relay_once(&url, &process, &mut outgoing, &local).await {
            Ok(true) => return,
            Ok(false) => "the connection ended".to_string(),
            Err(e) => e,
        };
        eprintln!("fieldwork: board updates between processes paused ({why}); reconnecting");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// One connection's worth of relaying: `Ok(true)` when this process stops
/// publishing (the server shut down), `Ok(false)` when the connection ended.
async fn relay_once(
    url: &str,
    process: &str,
    outgoing: &mut tokio::sync::mpsc::UnboundedReceiver<Changed>,
    local: &tokio::sync::broadcast::Sender<Changed>,
) -> Result<bool, String> {
    let config: tokio_postgres::Config = url.parse().map_err(|e| format!("{e}"))?;
    match crate::pg_tls::connector(config.get_ssl_mode())? {
        Some(tls) => relay_over(&config, tls, process, outgoing, local).await,
        None => relay_over(&config, tokio_postgres::NoTls, process, outgoing, local).await,
    }
    .map_err(|e| e.to_string())
}

async fn relay_over<T>(
    config: &tokio_postgres::Config,
    tls: T,
    process: &str,
    outgoing: &mut tokio::sync::mpsc::UnboundedReceiver<Changed>,
    local: &tokio::sync::broadcast::Sender<Changed>,
) -> Result<bool, tokio_postgres::Error>
where
    T: tokio_postgres::tls::MakeTlsConnect<tokio_postgres::Socket>,
    T::Stream: Send + 'static,
{
    let (client, mut connection) = config.connect(tls).await?;
    let (lost_tx, mut lost) = tokio::sync::oneshot::channel::<()>();
    let deliver = local.clone();
    let me = process.to_string();
    let driver = tokio::spawn(async move {
        loop {
            let msg = std::future::poll_fn(|cx| connection.poll_message(cx)).await;
            match msg {
                Some(Ok(tokio_postgres::AsyncMessage::Notification(n))) => {
                    let Ok(note) = serde_json::from_str::<Note>(n.payload()) else {
                        continue;
                    };
                    if note.p != me {
                        // No board listening is not an error.
                        let _ = deliver.send(Changed {
                            tenant: note.t,
                            ids: note.ids,
                        });
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break,
            }
        }
        let _ = lost_tx.send(());
    });
    let result = async {
        client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
        loop {
            tokio::select! {
                _ = &mut lost => return Ok(false),
                next = outgoing.recv() => {
                    let Some(changed) = next else { return Ok(true) };
                    for note in notes(process, &changed) {
                        client
                            .execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &note])
                            .await?;
                    }
                }
            }
        }
    }
    .await;
    driver.abort();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_stay_under_the_payload_limit_and_carry_every_id() {
        let ids: Vec<String> = (0..2_000).map(|i| format!("wo-{i:032}")).collect();
        let c = Changed {
            tenant: "acme".into(),
            ids: ids.clone(),
        };
        let notes = notes("p1", &c);
        assert!(notes.len() > 1);
        let mut back = Vec::new();
        for n in &notes {
            assert!(n.len() < 8_000, "{}", n.len());
            let note: Note = serde_json::from_str(n).unwrap_or_else(|e| panic!("{e}"));
            back.extend(note.ids);
        }
        assert_eq!(back, ids);
    }
}
