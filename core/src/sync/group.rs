//! Group commit on the server: pushes that arrive together are applied in
//! one transaction and made durable by one commit (one fsync), and each is
//! answered only after that commit. The whole round of a sync request is
//! done in the group, under one hold of the store: the push's authorisation,
//! its application, and, after the commit, what the phone pulls.
//!
//! No timer and no batching thread: a request queues its push
//! ([`Queue::submit`]) with a reply to call once it is durable, and waits
//! for that answer without holding the store or, in the server, a thread.
//! If nobody is committing, the request that queued leads: it takes
//! everything queued at that moment, its own push and those that arrived
//! while the previous group committed, commits it and answers each
//! ([`lead_one`]); while more wait, the lead goes on. A lone push finds
//! nobody leading and is applied at once, alone; under load, groups grow by
//! themselves to what arrives during one commit.
//!
//! A push's bytes are read (bounded, each change's hash checked) when its
//! request is made, on the request's thread ([`Pushed::read`]). Inside a
//! group the documents are independent: they are decoded, applied,
//! hydrated and checked on every core at once, in waves, and each wave is
//! written together, a statement per table for all its documents
//! ([`crate::api`]'s staged import).

use super::push::{PushRefusal, check_read_push_in, read_push};
use crate::api::{Error, Fieldwork, ImportOutcome, Inner, Prepared, Staged};
use crate::attest::PinnedKey;
use crate::doc_ids::DocKind;
use crate::settings::Settings;
use crate::store::StoreError;
use crate::store::chunks::{ChunkError, Chunks};
use crate::store::log::{self, PullPlan};
use crate::store::sql::SqlError;
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, mpsc};

/// One sync request's pushes: each document is taken or refused on its own.
#[derive(Debug)]
pub struct PushRequest {
    pub device_id: String,
    /// The engineer the device belongs to.
    pub engineer: String,
    /// The device's key pinned at enrolment, if any.
    pub key: Option<PinnedKey>,
    /// Each document pushed to, with its changes.
    pub docs: Vec<Pushed>,
    /// What the phone pulls after the commit, if anything.
    pub pull: Option<Pull>,
}

/// One document's push: its id and its changes, read within the bounds
/// when the request is made (on the request's own thread, where the server
/// also answers bytes that are not changes), so the group that applies it
/// does not read them again.
#[derive(Debug)]
pub struct Pushed {
    pub doc_id: String,
    read: Result<Chunks, ChunkError>,
}

impl Pushed {
    /// Read `bytes`, the changes pushed to `doc_id` ([`read_push`]).
    pub fn read(doc_id: String, bytes: &[u8]) -> Pushed {
        Pushed {
            doc_id,
            read: read_push(bytes),
        }
    }

    /// How many changes were pushed, or why the bytes are not changes.
    pub fn changes(&self) -> Result<usize, &ChunkError> {
        self.read.as_ref().map(|c| c.changes.len())
    }

    /// The changes as read, taken for the group (an empty push left).
    fn take(&mut self) -> Result<Chunks, ChunkError> {
        std::mem::replace(&mut self.read, Ok(Chunks::default()))
    }
}

/// A pull planned after the group's commit.
#[derive(Debug, Clone, Copy)]
pub struct Pull {
    /// The phone's cursor.
    pub cursor: i64,
    /// Most logged changes sent.
    pub limit: usize,
}

/// One answer per document of a [`PushRequest`], in its order.
pub type PushAnswers = Vec<Result<(), PushRefusal>>;

/// What [`crate::ServerStore::apply_together`] did with a request.
#[derive(Debug)]
pub struct Applied {
    /// Documents the engineer may not write, with why: then nothing of the
    /// request was applied, `answers` is empty and nothing was pulled.
    pub forbidden: Vec<(String, String)>,
    /// One per document, in the request's order.
    pub answers: PushAnswers,
    /// How many requests were committed in the same group (1: alone).
    pub group: usize,
    /// What the phone pulls, planned after the commit.
    pub pulled: Option<std::result::Result<PullPlan, StoreError>>,
}

/// Called with a request's answer once its group committed (on the thread
/// that committed it).
pub type Reply = Box<dyn FnOnce(Applied) + Send>;

struct Waiting {
    request: PushRequest,
    reply: Reply,
}

/// The pushes waiting for the next group, and whether someone is
/// committing groups now (the leader).
#[derive(Default)]
pub(crate) struct Queue {
    state: Mutex<QueueState>,
}

#[derive(Default)]
struct QueueState {
    waiting: Vec<Waiting>,
    leading: bool,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Queue")
    }
}

impl Queue {
    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        // Nothing is left half-done in the queue by a panic.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queue `request`; true if nobody is committing groups now, and the
    /// caller must ([`lead`]).
    pub(super) fn submit(&self, request: PushRequest, reply: Reply) -> bool {
        let mut q = self.lock();
        q.waiting.push(Waiting { request, reply });
        !std::mem::replace(&mut q.leading, true)
    }

    /// Whether requests wait for a group; none: the leader steps down
    /// (under the same lock as [`Queue::submit`]).
    fn more_waiting(&self) -> bool {
        let mut q = self.lock();
        if q.waiting.is_empty() {
            q.leading = false;
        }
        q.leading
    }

    /// Everything waiting, for the next group; none: the leader steps down
    /// (under the same lock as [`Queue::submit`], so a request queued after
    /// this finds nobody leading and leads).
    fn next_group(&self) -> Option<Vec<Waiting>> {
        let mut q = self.lock();
        if q.waiting.is_empty() {
            q.leading = false;
            return None;
        }
        Some(std::mem::take(&mut q.waiting))
    }
}

/// Steps the leader down if it panics, answering what is still waiting
/// (those in the group it was committing are answered by their dropped
/// replies: the channel closes).
struct Leading<'a>(&'a Queue);

impl Drop for Leading<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let waiting = {
                let mut q = self.0.lock();
                q.leading = false;
                std::mem::take(&mut q.waiting)
            };
            let e = SqlError::new("the group commit stopped");
            for w in waiting {
                (w.reply)(failed(w.request.docs.len(), &e));
            }
        }
    }
}

/// Commit groups until nothing waits: each group is everything queued when
/// the last one committed.
pub(super) fn lead(fw: &Fieldwork, queue: &Queue) {
    while lead_one(fw, queue) {}
}

/// Commit the next group, everything queued now; true if more requests
/// wait, and the caller still leads (it must call this again, or have it
/// called), false if it stepped down ([`crate::ServerStore::lead_one`]).
pub(super) fn lead_one(fw: &Fieldwork, queue: &Queue) -> bool {
    let leading = Leading(queue);
    let Some(group) = queue.next_group() else {
        return false;
    };
    match fw.lock() {
        Ok(mut g) => commit_group(&mut g, group),
        Err(e) => {
            let e = e.into_sql();
            for w in group {
                (w.reply)(failed(w.request.docs.len(), &e));
            }
        }
    }
    drop(leading);
    queue.more_waiting()
}

fn failed(n: usize, e: &SqlError) -> Applied {
    Applied {
        forbidden: Vec::new(),
        answers: (0..n)
            .map(|_| Err(PushRefusal::Store(StoreError::Database(e.clone()))))
            .collect(),
        group: 1,
        pulled: Some(Err(StoreError::Database(e.clone()))),
    }
}

/// Queue `request`, commit groups if nobody else does, and wait for its
/// answer ([`crate::ServerStore::apply_together`]).
pub(super) fn apply_together(fw: &Fieldwork, queue: &Queue, request: PushRequest) -> Applied {
    let n = request.docs.len();
    let (reply, answer) = mpsc::channel();
    let reply: Reply = Box::new(move |a| {
        // The request may have given up.
        let _ = reply.send(a);
    });
    if queue.submit(request, reply) {
        lead(fw, queue);
    }
    // Answered by this thread's groups or by the leader's.
    answer
        .recv()
        .unwrap_or_else(|_| failed(n, &SqlError::new("the group commit stopped")))
}

/// Apply `requests` as one group, as if they had all arrived while the
/// store was busy: the answers, in their order (tests).
#[cfg(feature = "testing")]
pub(super) fn apply_as_one_group(fw: &Fieldwork, requests: Vec<PushRequest>) -> Vec<Applied> {
    let queue = Queue::default();
    let answers: Vec<(usize, mpsc::Receiver<Applied>)> = requests
        .into_iter()
        .map(|r| {
            let n = r.docs.len();
            let (reply, answer) = mpsc::channel();
            // Queued together before anyone leads: one group.
            queue.submit(
                r,
                Box::new(move |a| {
                    let _ = reply.send(a);
                }),
            );
            (n, answer)
        })
        .collect();
    lead(fw, &queue);
    answers
        .into_iter()
        .map(|(n, a)| {
            a.recv()
                .unwrap_or_else(|_| failed(n, &SqlError::new("the group commit stopped")))
        })
        .collect()
}

/// What one request came to inside the group.
enum Outcome {
    Forbidden(Vec<(String, String)>),
    Answers(PushAnswers),
}

/// Apply `group` in one transaction and answer each request after the
/// commit, with what its phone pulls.
fn commit_group(g: &mut Inner, mut group: Vec<Waiting>) {
    // The pushes as their requests read them, in the group's order.
    let reads: Vec<Result<Chunks, ChunkError>> = group
        .iter_mut()
        .flat_map(|w| w.request.docs.iter_mut().map(Pushed::take))
        .collect();
    // Every document of the group claimed at once, in one order (a shared
    // database: another process's group waits only for what both touch).
    let ids: Vec<&str> = group
        .iter()
        .flat_map(|w| w.request.docs.iter().map(|d| d.doc_id.as_str()))
        .collect();
    if let Err(e) = g.store.claim_all(&ids).and_then(|()| g.store.begin_group()) {
        let e = e.into_sql();
        for w in group {
            (w.reply)(failed(w.request.docs.len(), &e));
        }
        return;
    }
    let requests: Vec<&PushRequest> = group.iter().map(|w| &w.request).collect();
    let mut outcomes = apply_requests(g, &requests, reads);
    let committed = match g.store.end_group() {
        Ok(()) => true,
        Err((e, touched)) => {
            for d in &touched {
                g.orders.remove(d);
            }
            // Nothing of the group was kept: no push in it is acknowledged.
            for o in &mut outcomes {
                if let Outcome::Answers(a) = o {
                    for r in a.iter_mut().filter(|r| r.is_ok()) {
                        *r = Err(PushRefusal::Store(StoreError::Database(e.clone())));
                    }
                }
            }
            false
        }
    };
    let size = group.len();
    // Where the log is settled, asked once for the whole group (on
    // PostgreSQL it reads the server's lock table) when its first pull is
    // planned: every pull of the group stops there.
    let mut settled = None;
    for (w, outcome) in group.into_iter().zip(outcomes) {
        let r = &w.request;
        let (forbidden, answers) = match outcome {
            Outcome::Forbidden(f) => (f, Vec::new()),
            Outcome::Answers(a) => (Vec::new(), a),
        };
        let pulled = match r.pull {
            Some(p) if committed && forbidden.is_empty() => {
                let db = g.store.db();
                let top = match settled {
                    Some(top) => Ok(top),
                    None => log::settled(db).inspect(|top| settled = Some(*top)),
                };
                Some(top.and_then(|top| {
                    log::plan_pull_upto(db, top, &r.engineer, &r.device_id, p.cursor, p.limit)
                }))
            }
            _ => None,
        };
        (w.reply)(Applied {
            forbidden,
            answers,
            group: size,
            pulled,
        });
    }
}

/// The group's requests, in order: each is authorised whole first (a
/// forbidden document means nothing of its request is applied), then each
/// document applied all or nothing.
///
/// A request whose documents no earlier request of the group touches (the
/// usual case: each phone pushes its own orders) is staged with the others,
/// their changes applied and checked on every core at once, then written
/// together. A request that touches a document an earlier one
/// does waits for those to be written and is applied after them, alone.
fn apply_requests(
    g: &mut Inner,
    requests: &[&PushRequest],
    reads: Vec<Result<Chunks, ChunkError>>,
) -> Vec<Outcome> {
    let mut outcomes: Vec<Outcome> = Vec::with_capacity(requests.len());
    let mut answers: Vec<Vec<Option<Result<(), PushRefusal>>>> = Vec::new();
    let mut touched: HashSet<&str> = HashSet::new();
    let mut later: Vec<(usize, Vec<Result<Chunks, ChunkError>>)> = Vec::new();
    let mut staged: Vec<(usize, usize, Staged<'_>)> = Vec::new();
    let mut reads = reads.into_iter();
    // Devices never push the settings: one copy serves the whole group.
    let settings = g.store.settings().clone();
    std::thread::scope(|scope| {
        // The wave being applied on other threads while this one stages
        // the next or writes the one before.
        let mut applying = None;
        for (i, r) in requests.iter().enumerate() {
            let mine: Vec<Result<Chunks, ChunkError>> = reads.by_ref().take(r.docs.len()).collect();
            let fresh = r.docs.iter().all(|d| !touched.contains(d.doc_id.as_str()));
            touched.extend(r.docs.iter().map(|d| d.doc_id.as_str()));
            if !fresh {
                later.push((i, mine));
                outcomes.push(Outcome::Answers(Vec::new()));
                answers.push(Vec::new());
                continue;
            }
            let checked = match check_request(g, r, mine) {
                Ok(c) => c,
                Err(forbidden) => {
                    outcomes.push(Outcome::Forbidden(forbidden));
                    answers.push(Vec::new());
                    continue;
                }
            };
            let mut mine = Vec::with_capacity(r.docs.len());
            for (j, (d, c)) in r.docs.iter().zip(checked).enumerate() {
                let stage = c.and_then(|(kind, read)| {
                    g.stage_import(&d.doc_id, kind, read, Some(&r.device_id), r.key.as_ref())
                        .map_err(refusal)
                });
                match stage {
                    Ok(s) => {
                        staged.push((i, j, s));
                        mine.push(None);
                    }
                    Err(e) => mine.push(Some(Err(e))),
                }
            }
            outcomes.push(Outcome::Answers(Vec::new()));
            answers.push(mine);
            if staged.len() >= WAVE {
                // This wave is applied while the one before it is written.
                let wave = std::mem::take(&mut staged);
                let settings = &settings;
                let next = scope.spawn(move || apply_wave(wave, settings));
                if let Some(done) = applying.replace(next) {
                    write_wave(g, joined(done), &mut answers);
                }
            }
        }
        if let Some(done) = applying {
            write_wave(g, joined(done), &mut answers);
        }
        write_wave(g, apply_wave(staged, &settings), &mut answers);
    });
    for (o, a) in outcomes.iter_mut().zip(answers) {
        if let Outcome::Answers(slot) = o {
            *slot = a
                .into_iter()
                .map(|r| r.unwrap_or_else(|| Err(PushRefusal::Refused("not applied".into()))))
                .collect();
        }
    }
    for (i, reads) in later {
        outcomes[i] = apply_request(g, requests[i], reads);
    }
    outcomes
}

/// Most documents decoded at once in a group: it is applied in waves of
/// this many (each on every core, written while the next is applied), so a
/// large group holds at most two waves' documents in memory.
const WAVE: usize = 64;

/// A staged document applied: where its answer goes, and what to write.
type Ready<'a> = (usize, usize, Prepared<'a>);

/// What a wave's thread gave back; a panic in it goes on here.
fn joined<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    match handle.join() {
        Ok(t) => t,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// Apply the staged documents on every core.
fn apply_wave<'a>(staged: Vec<(usize, usize, Staged<'a>)>, settings: &Settings) -> Vec<Ready<'a>> {
    on_every_core(staged, |(i, j, s)| (i, j, s.apply(settings)))
}

/// Write the applied documents of a wave together, and note each answer.
fn write_wave(
    g: &mut Inner,
    prepared: Vec<Ready<'_>>,
    answers: &mut [Vec<Option<Result<(), PushRefusal>>>],
) {
    let (places, prepared): (Vec<(usize, usize)>, Vec<Prepared<'_>>) =
        prepared.into_iter().map(|(i, j, p)| ((i, j), p)).unzip();
    for ((i, j), done) in places.into_iter().zip(g.finish_imports(prepared)) {
        if let Some(slot) = answers.get_mut(i).and_then(|a| a.get_mut(j)) {
            *slot = Some(answered(done));
        }
    }
}

/// Every document of `r` authorised (its pushes as [`read_push`] read
/// them): the documents the engineer may not write, if any; else each
/// one's check.
#[allow(clippy::type_complexity)]
fn check_request(
    g: &mut Inner,
    r: &PushRequest,
    reads: Vec<Result<Chunks, ChunkError>>,
) -> Result<Vec<Result<(DocKind, Chunks), PushRefusal>>, Vec<(String, String)>> {
    let checked: Vec<Result<(DocKind, Chunks), PushRefusal>> = r
        .docs
        .iter()
        .zip(reads)
        .map(|(d, read)| check_read_push_in(g, &r.device_id, &r.engineer, &d.doc_id, read))
        .collect();
    let forbidden: Vec<(String, String)> = r
        .docs
        .iter()
        .zip(&checked)
        .filter_map(|(d, c)| match c {
            Err(PushRefusal::Forbidden(why)) => Some((d.doc_id.clone(), why.clone())),
            _ => None,
        })
        .collect();
    if forbidden.is_empty() {
        Ok(checked)
    } else {
        Err(forbidden)
    }
}

/// One request on its own: authorised, then each document staged, applied
/// and written in turn.
fn apply_request(
    g: &mut Inner,
    r: &PushRequest,
    reads: Vec<Result<Chunks, ChunkError>>,
) -> Outcome {
    let checked = match check_request(g, r, reads) {
        Ok(c) => c,
        Err(forbidden) => return Outcome::Forbidden(forbidden),
    };
    Outcome::Answers(
        r.docs
            .iter()
            .zip(checked)
            .map(|(d, c)| {
                let (kind, read) = c?;
                let staged = g
                    .stage_import(&d.doc_id, kind, read, Some(&r.device_id), r.key.as_ref())
                    .map_err(refusal)?;
                let prepared = staged.apply(g.store.settings());
                answered(g.finish_import(prepared))
            })
            .collect(),
    )
}

fn answered(done: Result<ImportOutcome, Error>) -> Result<(), PushRefusal> {
    match done {
        Ok(outcome) if outcome.missing.is_empty() => Ok(()),
        Ok(outcome) => Err(PushRefusal::MissingDependencies(
            outcome.missing.iter().map(ToString::to_string).collect(),
        )),
        Err(e) => Err(refusal(e)),
    }
}

fn refusal(e: Error) -> PushRefusal {
    match e {
        Error::Store(e) => PushRefusal::Store(e),
        e => PushRefusal::Refused(e.to_string()),
    }
}

/// Fewest items worth a thread of their own: below this a group's
/// documents are applied on the leader's thread alone.
const PER_THREAD: usize = 4;

/// `f` of every item, in their order, computed on up to every core.
fn on_every_core<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let threads = cores.min(items.len() / PER_THREAD).max(1);
    if threads == 1 {
        return items.into_iter().map(f).collect();
    }
    let n = items.len();
    let slots: Vec<Mutex<Option<T>>> = items.into_iter().map(|t| Mutex::new(Some(t))).collect();
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(slot) = slots.get(i) else {
                return done;
            };
            let item = slot.lock().unwrap_or_else(|p| p.into_inner()).take();
            if let Some(item) = item {
                done.push((i, f(item)));
            }
        }
    };
    let mut all: Vec<(usize, R)> = std::thread::scope(|s| {
        let helpers: Vec<_> = (1..threads).map(|_| s.spawn(work)).collect();
        let mut all = work();
        for h in helpers {
            match h.join() {
                Ok(done) => all.extend(done),
                // The same as if it had run on this thread.
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        all
    });
    debug_assert_eq!(all.len(), n);
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, r)| r).collect()
}
