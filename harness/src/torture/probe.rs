//! Sending one torture case on a fresh connection and seeing what became of it: the final
//! answer (status and Warning) or silence, and the connection's fate (kept open, closed by the
//! element, reset). Every wait is bounded by the case timeout.

use std::time::Duration;

use sip::codec::Frame;
use sip::transport::{self, Connection, TransportKind};
use sip::{HeaderName, Message};
use tokio::time::{Instant, timeout_at};

use crate::originate::uac::{Target, UacConfig};
use crate::torture::cases::Expect;

/// What happened to the connection after the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Still open when the case was over.
    Open,
    /// The element closed it (FIN).
    Closed,
    /// The element reset it, or reading failed.
    Reset,
    /// No connection could be made at all.
    NoConnection,
}

impl Fate {
    fn label(self) -> &'static str {
        match self {
            Fate::Open => "connection kept open",
            Fate::Closed => "connection closed by the element",
            Fate::Reset => "connection reset by the element",
            Fate::NoConnection => "no connection",
        }
    }
}

/// What one case got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The final status, if one came.
    pub status: Option<u16>,
    /// Its Warning header.
    pub warning: Option<String>,
    /// The connection's fate.
    pub fate: Fate,
    /// Why no connection could be made (with [`Fate::NoConnection`]).
    pub error: Option<String>,
}

impl Seen {
    /// In words, for the report.
    pub fn describe(&self) -> String {
        let answer = match (self.status, &self.warning) {
            (Some(s), Some(w)) => format!("answered {s} (Warning: {})", clip(w)),
            (Some(s), None) => format!("answered {s}"),
            (None, _) => "no answer".to_owned(),
        };
        match &self.error {
            Some(e) => format!("{}: {}", self.fate.label(), clip(e)),
            None => format!("{answer}, {}", self.fate.label()),
        }
    }
}

fn clip(s: &str) -> String {
    scenarios::quote_prefix(s, 160)
}

/// Whether `seen` is what `expect` asks for; `Err` says why not.
pub fn judge(expect: Expect, seen: &Seen) -> Result<(), String> {
    if seen.fate == Fate::NoConnection {
        return Err("the element did not accept a connection".into());
    }
    let accepted = seen.status.is_some_and(|s| (200..300).contains(&s));
    let refused = seen.status.is_some_and(|s| s >= 300);
    let closed = matches!(seen.fate, Fate::Closed | Fate::Reset);
    match expect {
        Expect::Answer => match seen.status {
            Some(_) => Ok(()),
            None if closed => {
                Err("closed the connection instead of answering a valid message".into())
            }
            None => Err("no answer to a valid message".into()),
        },
        Expect::Refuse(statuses) => match seen.status {
            Some(s) if (200..300).contains(&s) => {
                Err(format!("accepted a malformed message ({s})"))
            }
            Some(s) if statuses.is_empty() && s >= 400 => Ok(()),
            Some(s) if statuses.contains(&s) => Ok(()),
            Some(s) => Err(format!("answered {s}")),
            None if closed => Err("closed the connection without answering".into()),
            None => Err("silence: no answer and the connection left open".into()),
        },
        Expect::RefuseOrClose => {
            if accepted {
                Err("accepted a message whose framing is broken".into())
            } else if refused || closed {
                Ok(())
            } else {
                Err("silence: no answer and the connection left open".into())
            }
        }
        Expect::NotAccepted => {
            if accepted {
                Err(format!("accepted it ({})", seen.status.unwrap_or(0)))
            } else {
                Ok(())
            }
        }
        Expect::NoAnswer => match seen.status {
            Some(s) => Err(format!("answered a response with {s}")),
            None => Ok(()),
        },
        Expect::Survive => Ok(()),
    }
}

/// Sends `bytes` on a new connection to `target` and waits (at most `bound`) for a final
/// answer; a case that expects none waits the whole bound. Then tells the connection's fate.
pub async fn send_case(
    target: &Target,
    cfg: &UacConfig,
    bytes: &[u8],
    expect: Expect,
    bound: Duration,
) -> Seen {
    let mut conn = match connect(target, cfg, bound).await {
        Ok(c) => c,
        Err(e) => {
            return Seen {
                status: None,
                warning: None,
                fate: Fate::NoConnection,
                error: Some(e),
            };
        }
    };
    // Large cases are refused mid-way by a careful element: a failed write is a close.
    let written = conn.write_all(bytes).await.is_ok();
    let until = Instant::now() + bound;
    let mut seen = Seen {
        status: None,
        warning: None,
        fate: Fate::Open,
        error: None,
    };
    // A response case expects nothing: the whole bound is the proof of silence. Otherwise
    // the first final answer ends the wait.
    loop {
        match timeout_at(until, conn.read_frame()).await {
            Err(_) => break,
            Ok(Ok(None)) => {
                seen.fate = Fate::Closed;
                break;
            }
            Ok(Err(_)) => {
                seen.fate = Fate::Reset;
                break;
            }
            Ok(Ok(Some(Frame::Message(m)))) => {
                if let Ok(Message::Response(r)) = Message::parse_bytes(m)
                    && r.status >= 200
                    && seen.status.is_none()
                {
                    seen.status = Some(r.status);
                    seen.warning = r.headers.get(&HeaderName::Warning).map(str::to_owned);
                    if expect != Expect::NoAnswer {
                        break;
                    }
                }
            }
            Ok(Ok(Some(_))) => {}
        }
    }
    if seen.fate == Fate::Open {
        // After the answer: did the element close? A short, bounded look.
        let look = Instant::now() + Duration::from_millis(100).min(bound);
        match timeout_at(look, conn.read_frame()).await {
            Ok(Ok(None)) => seen.fate = Fate::Closed,
            Ok(Err(_)) => seen.fate = Fate::Reset,
            _ => {}
        }
    }
    if !written && seen.fate == Fate::Open {
        seen.fate = Fate::Reset;
    }
    seen
}

async fn connect(target: &Target, cfg: &UacConfig, bound: Duration) -> Result<Connection, String> {
    let tls = match target.transport {
        TransportKind::Tcp => None,
        TransportKind::Tls => {
            let config = cfg.tls.clone().ok_or("no TLS client configuration")?;
            let name = rustls::pki_types::ServerName::try_from(target.host.clone())
                .map_err(|e| e.to_string())?;
            Some((config, name))
        }
    };
    let (mut conn, _) = transport::connect(target.addr, tls, cfg.connect_timeout.min(bound))
        .await
        .map_err(|e| e.to_string())?;
    // The element's answers are small; a huge one is itself a finding, not a reason to hang.
    conn.set_limits(sip::codec::Limits {
        max_header_bytes: 256 * 1024,
        max_body_bytes: 256 * 1024,
    });
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(status: Option<u16>, fate: Fate) -> Seen {
        Seen {
            status,
            warning: None,
            fate,
            error: None,
        }
    }

    #[test]
    fn judgements_follow_the_expectation() {
        use Expect::*;
        assert!(judge(Refuse(&[400]), &seen(Some(400), Fate::Open)).is_ok());
        assert!(judge(Refuse(&[505]), &seen(Some(400), Fate::Open)).is_err());
        assert!(judge(Refuse(&[]), &seen(Some(488), Fate::Open)).is_ok());
        assert!(judge(Refuse(&[]), &seen(Some(200), Fate::Open)).is_err());
        assert!(judge(Refuse(&[400]), &seen(None, Fate::Open)).is_err());
        assert!(judge(RefuseOrClose, &seen(None, Fate::Closed)).is_ok());
        assert!(judge(RefuseOrClose, &seen(Some(200), Fate::Closed)).is_err());
        assert!(judge(NotAccepted, &seen(None, Fate::Open)).is_ok());
        assert!(judge(NotAccepted, &seen(Some(200), Fate::Open)).is_err());
        assert!(judge(NoAnswer, &seen(None, Fate::Open)).is_ok());
        assert!(judge(NoAnswer, &seen(Some(400), Fate::Open)).is_err());
        assert!(judge(Answer, &seen(Some(404), Fate::Open)).is_ok());
        assert!(judge(Answer, &seen(None, Fate::Open)).is_err());
        assert!(judge(Survive, &seen(None, Fate::Reset)).is_ok());
        assert!(judge(Survive, &seen(None, Fate::NoConnection)).is_err());
    }
}
