//! [`sip_proto::sdp`], re-exported whole, plus a fresh RTP port and SDES key drawn from this
//! thread's random generator (the proto crate's [`media_port_with`] and [`sdes_key_with`] take
//! the caller's).

pub use sip_proto::sdp::*;

/// A random even RTP port in [`MEDIA_PORT_MIN`]..=[`MEDIA_PORT_MAX`] from this thread's
/// generator.
pub fn media_port() -> u16 {
    media_port_with(&mut fastrand::Rng::new())
}

/// A fresh SDES `inline:` key ([`SDES_KEY_LEN`] bytes in base64) from this thread's generator.
pub fn sdes_key() -> String {
    sdes_key_with(&mut fastrand::Rng::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_port_and_key_fit_the_interface() {
        let p = media_port();
        assert!((MEDIA_PORT_MIN..=MEDIA_PORT_MAX).contains(&p) && p.is_multiple_of(2));
        assert_eq!(sdes_key().len(), 40);
        assert_ne!(sdes_key(), sdes_key());
    }
}
