//! Server transactions, reduced to what a stream-transport UAS needs (RFC 3261 §17.2): match a
//! request to the transaction it belongs to, replay the last response to a retransmission,
//! absorb the ACK of a non-2xx final, and find the INVITE a CANCEL targets.
//!
//! This is the one module that knows about transactions; it is pure (no clock, no I/O) and is
//! meant to be replaced by `sip::engine::ServerTransactions` once that lands. Memory is bounded:
//! the oldest transactions are forgotten past [`Transactions::CAPACITY`].

use std::collections::{HashMap, VecDeque};

use bytes::Bytes;
use sip::message::{SipHeaders, new_tag};
use sip::{Method, Request, Response};

/// How a request relates to the transactions already seen.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Incoming {
    /// A new transaction: decide it.
    New,
    /// A repeat of a request already answered: resend `replay` (the last response), if any.
    Retransmission {
        /// The last response sent in that transaction.
        replay: Option<Bytes>,
    },
    /// The ACK of a non-2xx final response: part of the INVITE transaction, nothing to send.
    AckForFinal,
    /// An ACK outside any transaction (the ACK of a 200 OK, or a stray one).
    AckOutsideTransaction,
    /// A CANCEL whose INVITE is still ringing: answer 200, then 487 to the INVITE.
    CancelPending,
    /// A CANCEL whose INVITE already has a final response: answer 200, nothing else changes.
    CancelAnswered,
}

/// Identifies a transaction: the top Via's branch and sent-by (RFC 3261 §17.2.3), or for a
/// pre-RFC 3261 branch, Call-ID, CSeq number and From tag; plus the method (ACK maps to INVITE).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    id: String,
    method: String,
}

fn key(req: &Request, method: &Method) -> Option<Key> {
    let via = req.top_via()?;
    let id = match via.branch() {
        Some(b) if b.starts_with("z9hG4bK") => format!("{b}|{}|{:?}", via.host, via.port),
        _ => {
            let cseq = req.cseq()?;
            let from_tag = req.header_from().and_then(|f| f.tag().map(str::to_owned));
            format!("{}|{}|{:?}", req.call_id()?, cseq.seq, from_tag)
        }
    };
    Some(Key {
        id,
        method: method.as_str().to_owned(),
    })
}

#[derive(Debug)]
struct Tx {
    last: Option<Bytes>,
    final_status: Option<u16>,
    invite: Option<Request>,
    to_tag: String,
}

/// The server transactions of one connection.
#[derive(Debug, Default)]
pub struct Transactions {
    map: HashMap<Key, Tx>,
    order: VecDeque<Key>,
}

impl Transactions {
    /// Transactions remembered at most.
    pub const CAPACITY: usize = 4096;

    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Classifies a parsed request. A request without a usable Via is always [`Incoming::New`]
    /// (the parser requires Via, so this is for built requests).
    pub fn on_request(&mut self, req: &Request) -> Incoming {
        let own = match req.method {
            Method::Ack | Method::Cancel => Method::Invite,
            ref m => m.clone(),
        };
        let Some(k) = key(req, &own) else {
            return Incoming::New;
        };
        match (&req.method, self.map.get(&k)) {
            (Method::Ack, Some(tx)) if tx.final_status.is_some_and(|s| s >= 300) => {
                Incoming::AckForFinal
            }
            (Method::Ack, _) => Incoming::AckOutsideTransaction,
            (Method::Cancel, Some(tx)) => {
                if tx.final_status.is_none() {
                    Incoming::CancelPending
                } else {
                    Incoming::CancelAnswered
                }
            }
            (Method::Cancel, None) => Incoming::New,
            (_, Some(tx)) => Incoming::Retransmission {
                replay: tx.last.clone(),
            },
            (_, None) => {
                self.insert(k, req);
                Incoming::New
            }
        }
    }

    fn insert(&mut self, k: Key, req: &Request) {
        if self.order.len() >= Self::CAPACITY
            && let Some(old) = self.order.pop_front()
        {
            self.map.remove(&old);
        }
        let invite = (req.method == Method::Invite).then(|| req.clone());
        self.order.push_back(k.clone());
        self.map.insert(
            k,
            Tx {
                last: None,
                final_status: None,
                invite,
                to_tag: new_tag(),
            },
        );
    }

    /// Records a response sent in the transaction of `req` (for replay and CANCEL matching).
    pub fn sent(&mut self, req: &Request, resp: &Response, wire: Bytes) {
        if let Some(tx) = key(req, &req.method).and_then(|k| self.map.get_mut(&k)) {
            tx.last = Some(wire);
            if let Some(tag) = resp.header_to().as_ref().and_then(|t| t.tag()) {
                tag.clone_into(&mut tx.to_tag);
            }
            if resp.status >= 200 {
                tx.final_status = Some(resp.status);
                tx.invite = None;
            }
        }
    }

    /// For a CANCEL that matched a ringing INVITE: the 487 Request Terminated to send on that
    /// INVITE, and the INVITE itself. The INVITE transaction is then completed.
    pub fn terminate(&mut self, cancel: &Request) -> Option<(Request, Response)> {
        let tx = self.map.get_mut(&key(cancel, &Method::Invite)?)?;
        let invite = tx.invite.take()?;
        let resp = Response::for_request(&invite, 487, Some(&tx.to_tag));
        tx.final_status = Some(487);
        tx.last = Some(resp.to_bytes());
        Some((invite, resp))
    }

    /// Whether the INVITE transaction of `invite` is still without a final response.
    pub fn is_pending(&self, invite: &Request) -> bool {
        key(invite, &Method::Invite)
            .and_then(|k| self.map.get(&k))
            .is_some_and(|tx| tx.final_status.is_none())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sip::Message;

    fn req(method: &str, branch: &str) -> Request {
        let text = format!(
            "{method} sip:911@gw SIP/2.0\r\nVia: SIP/2.0/TLS 10.0.0.1:5061;branch={branch}\r\n\
             From: <sip:a@b>;tag=f\r\nTo: <sip:911@gw>\r\nCall-ID: c1\r\nCSeq: 1 {method}\r\n\
             Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        );
        match Message::parse(text.as_bytes()).unwrap() {
            Message::Request(r) => r,
            Message::Response(_) => unreachable!(),
        }
    }

    #[test]
    fn retransmitted_invite_replays_the_last_response() {
        let mut t = Transactions::new();
        let inv = req("INVITE", "z9hG4bK1");
        assert_eq!(t.on_request(&inv), Incoming::New);
        assert_eq!(
            t.on_request(&inv),
            Incoming::Retransmission { replay: None }
        );
        let ringing = Response::for_request(&inv, 180, Some("t"));
        t.sent(&inv, &ringing, Bytes::from_static(b"180"));
        assert_eq!(
            t.on_request(&inv),
            Incoming::Retransmission {
                replay: Some(Bytes::from_static(b"180"))
            }
        );
        assert!(t.is_pending(&inv));
        assert_eq!(t.on_request(&req("INVITE", "z9hG4bK2")), Incoming::New);
    }

    #[test]
    fn ack_of_a_rejection_is_absorbed_and_ack_of_200_is_not() {
        let mut t = Transactions::new();
        let inv = req("INVITE", "z9hG4bK1");
        t.on_request(&inv);
        t.sent(
            &inv,
            &Response::for_request(&inv, 403, Some("t")),
            Bytes::new(),
        );
        assert_eq!(t.on_request(&req("ACK", "z9hG4bK1")), Incoming::AckForFinal);
        let inv2 = req("INVITE", "z9hG4bK2");
        t.on_request(&inv2);
        t.sent(
            &inv2,
            &Response::for_request(&inv2, 200, Some("t")),
            Bytes::new(),
        );
        assert_eq!(
            t.on_request(&req("ACK", "z9hG4bK3")),
            Incoming::AckOutsideTransaction
        );
    }

    #[test]
    fn cancel_of_a_ringing_invite_gets_its_487_once() {
        let mut t = Transactions::new();
        let inv = req("INVITE", "z9hG4bK1");
        t.on_request(&inv);
        let cancel = req("CANCEL", "z9hG4bK1");
        t.sent(
            &inv,
            &Response::for_request(&inv, 180, Some("ring1")),
            Bytes::new(),
        );
        assert_eq!(t.on_request(&cancel), Incoming::CancelPending);
        let (orig, resp) = t.terminate(&cancel).unwrap();
        assert_eq!(orig, inv);
        assert_eq!(resp.status, 487);
        assert_eq!(
            resp.header_to().unwrap().tag(),
            Some("ring1"),
            "same tag as the 180"
        );
        assert_eq!(t.on_request(&cancel), Incoming::CancelAnswered);
        assert!(t.terminate(&cancel).is_none());
        assert_eq!(t.on_request(&req("ACK", "z9hG4bK1")), Incoming::AckForFinal);
        assert_eq!(t.on_request(&req("CANCEL", "z9hG4bK9")), Incoming::New);
    }

    #[test]
    fn memory_is_bounded() {
        let mut t = Transactions::new();
        for i in 0..Transactions::CAPACITY + 10 {
            t.on_request(&req("OPTIONS", &format!("z9hG4bK{i}")));
        }
        assert_eq!(t.map.len(), Transactions::CAPACITY);
        assert_eq!(t.on_request(&req("OPTIONS", "z9hG4bK0")), Incoming::New);
    }
}
