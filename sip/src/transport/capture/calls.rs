//! [`super::Keep::FirstCallsAndFailures`]: messages are held per Call-ID until the call's fate
//! is known. A call whose INVITE got a 2xx and whose BYE got a 2xx completed cleanly: it is
//! kept when it was among the first calls, else released. Everything else (a rejection, a
//! timeout, a BYE that failed, a call still open) stays pending and is kept at the end.
//!
//! Both ends of a connection may capture the same call (the trunk and an embedded gateway):
//! the fate of a recently settled call is remembered, so the other end's late records (the
//! trunk reading the 200 to its BYE after the gateway sent it) follow it.

use std::collections::{HashMap, VecDeque};

use super::Record;
use super::scan::scan;

/// How many settled calls are remembered for late records.
const SETTLED_MEMORY: usize = 64 * 1024;

#[derive(Debug)]
pub(super) struct CallTable {
    first: u64,
    seen: u64,
    pending: HashMap<Box<str>, Pending>,
    settled: HashMap<Box<str>, bool>,
    settled_order: VecDeque<Box<str>>,
}

#[derive(Debug)]
struct Pending {
    index: u64,
    records: Vec<Record>,
    invite_final: Option<u16>,
    bye_final: Option<u16>,
}

impl CallTable {
    pub(super) fn new(first: u64) -> CallTable {
        CallTable {
            first,
            seen: 0,
            pending: HashMap::new(),
            settled: HashMap::new(),
            settled_order: VecDeque::new(),
        }
    }

    /// Files `r` under its call; records that are kept for good go to `kept`. Returns the bytes
    /// released (records dropped from memory).
    pub(super) fn put(&mut self, r: Record, kept: &mut Vec<Record>) -> usize {
        let s = scan(&r.bytes);
        let Some(call_id) = s.call_id else {
            kept.push(r);
            return 0;
        };
        if let Some(&keep) = self.settled.get(call_id) {
            if keep {
                kept.push(r);
                return 0;
            }
            return r.bytes.len();
        }
        let (status, cseq) = (s.status, s.cseq_method.map(str::to_owned));
        let key: Box<str> = call_id.into();
        let seen = &mut self.seen;
        let p = self.pending.entry(key.clone()).or_insert_with(|| {
            *seen += 1;
            Pending {
                index: *seen,
                records: Vec::new(),
                invite_final: None,
                bye_final: None,
            }
        });
        p.records.push(r);
        if let Some(status) = status.filter(|s| *s >= 200) {
            match cseq.as_deref() {
                Some(m) if m.eq_ignore_ascii_case("INVITE") => {
                    p.invite_final.get_or_insert(status);
                }
                Some(m) if m.eq_ignore_ascii_case("BYE") => {
                    p.bye_final.get_or_insert(status);
                }
                _ => {}
            }
        }
        let clean = |s: Option<u16>| s.is_some_and(|s| (200..300).contains(&s));
        if !(clean(p.invite_final) && clean(p.bye_final)) {
            return 0;
        }
        let Some(p) = self.pending.remove(&key) else {
            return 0;
        };
        let keep = p.index <= self.first;
        self.remember(key, keep);
        if keep {
            kept.extend(p.records);
            0
        } else {
            p.records.iter().map(|r| r.bytes.len()).sum()
        }
    }

    /// Every pending call's records (they failed, or never finished), oldest call first.
    pub(super) fn drain_pending(&mut self) -> Vec<Record> {
        let mut calls: Vec<Pending> = self.pending.drain().map(|(_, p)| p).collect();
        calls.sort_by_key(|p| p.index);
        calls.into_iter().flat_map(|p| p.records).collect()
    }

    fn remember(&mut self, key: Box<str>, keep: bool) {
        if self.settled_order.len() >= SETTLED_MEMORY
            && let Some(old) = self.settled_order.pop_front()
        {
            self.settled.remove(&old);
        }
        self.settled.insert(key.clone(), keep);
        self.settled_order.push_back(key);
    }
}
