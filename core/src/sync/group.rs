//! Group commit on the server: pushes that arrive together are applied in
//! one transaction and made durable by one commit (one fsync), and each is
//! answered only after that commit. The whole round of a sync request is
//! done in the group, under one hold of the store: the push's authorisation,
//! its application, and, after the commit, what the phone pulls; so a
//! request takes the store once, and requests waiting for it pile up in the
//! queue, ready for the next group.
//!
//! No timer and no batching thread: a request queues its push and takes the
//! store. Whoever holds the store next applies everything queued at that
//! moment, its own push and those that arrived while the previous group
//! committed, and answers each after the commit. A lone push finds the
//! store free and is applied at once, alone; under load, groups grow by
//! themselves to what arrives during one commit.

use super::push::{PushRefusal, check_push_in};
use crate::api::{Error, Fieldwork, Inner};
use crate::attest::PinnedKey;
use crate::doc_ids::DocKind;
use crate::store::StoreError;
use crate::store::log::{self, PullPlan};
use crate::store::sql::SqlError;
use std::sync::Mutex;
use std::sync::mpsc;

/// One sync request's pushes: each document is taken or refused on its own.
#[derive(Debug, Clone)]
pub struct PushRequest {
    pub device_id: String,
    /// The engineer the device belongs to.
    pub engineer: String,
    /// The device's key pinned at enrolment, if any.
    pub key: Option<PinnedKey>,
    /// Document id and the changes pushed to it.
    pub docs: Vec<(String, Vec<u8>)>,
    /// What the phone pulls after the commit, if anything.
    pub pull: Option<Pull>,
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

struct Waiting {
    ticket: u64,
    request: PushRequest,
    reply: mpsc::Sender<Applied>,
}

/// The pushes waiting for the next group.
#[derive(Default)]
pub(crate) struct Queue {
    waiting: Mutex<(u64, Vec<Waiting>)>,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Queue")
    }
}

impl Queue {
    fn lock(&self) -> std::sync::MutexGuard<'_, (u64, Vec<Waiting>)> {
        // Nothing is left half-done in the queue by a panic.
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn push(&self, request: PushRequest, reply: mpsc::Sender<Applied>) -> u64 {
        let mut q = self.lock();
        q.0 += 1;
        let ticket = q.0;
        q.1.push(Waiting {
            ticket,
            request,
            reply,
        });
        ticket
    }

    /// Take back a push no group has taken yet.
    fn withdraw(&self, ticket: u64) -> bool {
        let mut q = self.lock();
        let before = q.1.len();
        q.1.retain(|w| w.ticket != ticket);
        q.1.len() != before
    }

    fn take(&self) -> Vec<Waiting> {
        std::mem::take(&mut self.lock().1)
    }
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

/// Queue `request` and take the store; whoever holds it next applies
/// everything queued ([`crate::ServerStore::apply_together`]).
pub(super) fn apply_together(fw: &Fieldwork, queue: &Queue, request: PushRequest) -> Applied {
    let n = request.docs.len();
    let (reply, answer) = mpsc::channel();
    let ticket = queue.push(request, reply);
    let mut g = match fw.lock() {
        Ok(g) => g,
        Err(e) => {
            if queue.withdraw(ticket) {
                return failed(n, &e.into_sql());
            }
            // A group took it meanwhile and answers it.
            return answer
                .recv()
                .unwrap_or_else(|_| failed(n, &SqlError::new("the group commit stopped")));
        }
    };
    let group = queue.take();
    if !group.is_empty() {
        commit_group(&mut g, group);
    }
    drop(g);
    // Answered by this group, or by an earlier one that took ours while
    // this request waited for the store.
    answer
        .recv()
        .unwrap_or_else(|_| failed(n, &SqlError::new("the group commit stopped")))
}

/// What one request came to inside the group.
enum Outcome {
    Forbidden(Vec<(String, String)>),
    Answers(PushAnswers),
}

/// Apply `group` in one transaction and answer each request after the
/// commit, with what its phone pulls.
fn commit_group(g: &mut Inner, group: Vec<Waiting>) {
    // Every document of the group claimed at once, in one order (a shared
    // database: another process's group waits only for what both touch).
    let ids: Vec<&str> = group
        .iter()
        .flat_map(|w| w.request.docs.iter().map(|(d, _)| d.as_str()))
        .collect();
    if let Err(e) = g.store.claim_all(&ids).and_then(|()| g.store.begin_group()) {
        let e = e.into_sql();
        for w in group {
            let _ = w.reply.send(failed(w.request.docs.len(), &e));
        }
        return;
    }
    let mut outcomes: Vec<Outcome> = group.iter().map(|w| apply_request(g, &w.request)).collect();
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
    for (w, outcome) in group.into_iter().zip(outcomes) {
        let r = &w.request;
        let (forbidden, answers) = match outcome {
            Outcome::Forbidden(f) => (f, Vec::new()),
            Outcome::Answers(a) => (Vec::new(), a),
        };
        let pulled = match r.pull {
            Some(p) if committed && forbidden.is_empty() => Some(log::plan_pull(
                g.store.db(),
                &r.engineer,
                &r.device_id,
                p.cursor,
                p.limit,
            )),
            _ => None,
        };
        // The request may have given up (its client went away).
        let _ = w.reply.send(Applied {
            forbidden,
            answers,
            group: size,
            pulled,
        });
    }
}

/// One request: every document authorised first (a forbidden one means
/// nothing of the request is applied), then each applied all or nothing.
fn apply_request(g: &mut Inner, r: &PushRequest) -> Outcome {
    let checked: Vec<Result<DocKind, PushRefusal>> = r
        .docs
        .iter()
        .map(|(doc_id, bytes)| check_push_in(g, &r.device_id, &r.engineer, doc_id, bytes))
        .collect();
    let forbidden: Vec<(String, String)> = r
        .docs
        .iter()
        .zip(&checked)
        .filter_map(|((doc_id, _), c)| match c {
            Err(PushRefusal::Forbidden(why)) => Some((doc_id.clone(), why.clone())),
            _ => None,
        })
        .collect();
    if !forbidden.is_empty() {
        return Outcome::Forbidden(forbidden);
    }
    Outcome::Answers(
        r.docs
            .iter()
            .zip(checked)
            .map(|((doc_id, bytes), kind)| apply_one(g, r, doc_id, kind?, bytes))
            .collect(),
    )
}

fn apply_one(
    g: &mut Inner,
    r: &PushRequest,
    doc_id: &str,
    kind: DocKind,
    bytes: &[u8],
) -> Result<(), PushRefusal> {
    match g.import(doc_id, kind, bytes, Some(&r.device_id), r.key.as_ref()) {
        Ok(outcome) if outcome.missing.is_empty() => Ok(()),
        Ok(outcome) => Err(PushRefusal::MissingDependencies(
            outcome.missing.iter().map(ToString::to_string).collect(),
        )),
        Err(Error::Store(e)) => Err(PushRefusal::Store(e)),
        Err(e) => Err(PushRefusal::Refused(e.to_string())),
    }
}
