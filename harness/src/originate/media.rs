//! The trunk's media on an answered call (ICD 4): the UDP socket bound before the INVITE is
//! built (its port and key go into the offer), and, once the 200 OK arrives, a session that
//! sends SRTP with the offer's key to the answer's address and port and authenticates what
//! comes back with the answer's key, until the BYE. What it recorded becomes the attempt's
//! [`reports::MediaLeg`].

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use media::{Keying, MasterKey, Plan, Program, Session, Suite};

use crate::originate::trunk::OfferMedia;

/// How long a trunk's media session may run at most (the hold bounds it long before).
const BOUND: Duration = Duration::from_secs(600);

/// A socket bound for an offer and the key the offer announces.
#[derive(Debug)]
pub struct Offered {
    socket: std::net::UdpSocket,
    key: MasterKey,
    /// The port and key as the INVITE writes them.
    pub offer: OfferMedia,
}

impl Offered {
    /// Binds an even port in 30000-60000 on `ip` and draws a key; the bind error otherwise.
    pub fn bind(ip: IpAddr) -> std::io::Result<Offered> {
        let socket = media::bind(ip)?;
        let port = socket.local_addr()?.port();
        let key = MasterKey::generate();
        Ok(Offered {
            offer: OfferMedia {
                port,
                key: key.inline(),
            },
            socket,
            key,
        })
    }

    /// Starts the session for the SDP `answer` of the 200 OK (now); a session that only
    /// listens, with the reason as its fault note, when the answer names nowhere to send.
    pub fn start(self, answer: &str) -> Option<Session> {
        let (remote, receive, payload_type, why) = read_answer(answer);
        let socket = tokio::net::UdpSocket::from_std(self.socket).ok()?;
        let sending = remote.is_some();
        let remote = remote.unwrap_or(SocketAddr::new(IpAddr::from([0, 0, 0, 0]), 0));
        Some(Session::start(
            socket,
            Plan {
                remote,
                send_to: remote,
                // The trunk offers one suite; what it sends with is its own offer's key.
                send: receive.as_ref().map(|r| Keying {
                    suite: r.suite,
                    key: self.key,
                }),
                receive,
                payload_type,
                program: Program::Comfort,
                send_after: Duration::ZERO,
                sending,
                bound: BOUND,
                fault: why,
            },
        ))
    }
}

/// From the answer: where to send, the gateway's key, the payload type, and what is wrong.
fn read_answer(answer: &str) -> (Option<SocketAddr>, Option<Keying>, u8, Option<String>) {
    let Ok(a) = sip::sdp::first_audio(answer) else {
        return (
            None,
            None,
            0,
            Some("the 200 OK carries no SDP audio answer".into()),
        );
    };
    let remote = a
        .connection
        .and_then(|c| c.parse::<IpAddr>().ok())
        .zip(a.port.filter(|p| *p != 0))
        .map(|(ip, p)| SocketAddr::new(ip, p));
    let payload_type = a
        .first_g711()
        .and_then(|(pt, _)| pt.parse().ok())
        .unwrap_or(0);
    let mut why = remote
        .is_none()
        .then(|| "the answer names no IP address and port to send media to".to_owned());
    let savp = a.proto.eq_ignore_ascii_case("RTP/SAVP");
    let receive = a.crypto.iter().find_map(|c| {
        let suite = Suite::from_name(c.suite)?;
        let key = MasterKey::from_key_params(c.key_params).ok()?;
        Some(Keying { suite, key })
    });
    if savp && receive.is_none() {
        why.get_or_insert_with(|| "the answer's a=crypto carries no usable key".to_owned());
        // RTP/SAVP without a usable key: listen with a key nobody has, so every packet that
        // arrives is counted as failing authentication.
        return (
            remote,
            Some(Keying {
                suite: Suite::AesCm128HmacSha1_80,
                key: MasterKey::generate(),
            }),
            payload_type,
            why,
        );
    }
    (remote, receive.filter(|_| savp), payload_type, why)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_says_where_and_with_which_key() {
        let key = MasterKey::generate();
        let sdp = format!(
            "v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 30002 RTP/SAVP 8\r\n\
             a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{}\r\n",
            key.inline()
        );
        let (remote, rx, pt, why) = read_answer(&sdp);
        assert_eq!(remote, Some("127.0.0.1:30002".parse().unwrap()));
        assert_eq!(rx.unwrap().key, key);
        assert_eq!((pt, why), (8, None));
        // Plain RTP: nothing to decrypt with.
        let (_, rx, _, why) =
            read_answer("v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 30002 RTP/AVP 0\r\n");
        assert!(rx.is_none() && why.is_none());
        // A host name, a port 0 or a bad key are named.
        let (remote, _, _, why) =
            read_answer("v=0\r\nc=IN IP4 gw.example\r\nm=audio 30002 RTP/AVP 0\r\n");
        assert!(remote.is_none() && why.is_some());
        let (_, rx, _, why) = read_answer(
            "v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 30002 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:xx\r\n",
        );
        assert!(rx.is_some() && why.unwrap().contains("no usable key"));
        assert!(read_answer("").3.is_some());
    }
}
