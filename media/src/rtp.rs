//! RTP packets (RFC 3550 §5.1): the fixed header, CSRCs and a header extension, read without
//! trusting a single length a peer sends, and written for the one stream shape the harness
//! sends (no CSRC, no extension, no padding). Pure; never panics on any input.

/// The fixed RTP header length.
pub const HEADER_LEN: usize = 12;

/// An RTP header as read from the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The marker bit.
    pub marker: bool,
    /// The payload type (0 PCMU, 8 PCMA, 101 telephone-event...).
    pub payload_type: u8,
    /// The sequence number.
    pub seq: u16,
    /// The RTP timestamp.
    pub timestamp: u32,
    /// The synchronization source.
    pub ssrc: u32,
    /// Bytes from the start of the packet to the payload (fixed header, CSRCs, extension).
    pub len: usize,
    /// Bytes of padding at the end of the payload (the P bit's last octet), 0 without.
    pub padding: usize,
}

/// Why a datagram is not an RTP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RtpError {
    /// Shorter than the header it announces.
    #[error("{0} bytes is shorter than the RTP header it announces")]
    Truncated(usize),
    /// The version field is not 2.
    #[error("RTP version {0}, not 2")]
    Version(u8),
    /// An RTCP packet (RFC 5761 §4: payload types 64-95 with the marker bit are RTCP's).
    #[error("an RTCP packet, not RTP")]
    Rtcp,
}

/// Reads the header of `packet`. The payload is `packet[h.len..packet.len() - h.padding]`
/// (for SRTP, the padding octet is encrypted: read it after decryption, from the plain text).
pub fn parse(packet: &[u8]) -> Result<Header, RtpError> {
    if packet.len() < HEADER_LEN {
        return Err(RtpError::Truncated(packet.len()));
    }
    let version = packet[0] >> 6;
    if version != 2 {
        return Err(RtpError::Version(version));
    }
    if (192..=223).contains(&packet[1]) {
        return Err(RtpError::Rtcp);
    }
    let csrc = usize::from(packet[0] & 0x0f);
    let mut len = HEADER_LEN + 4 * csrc;
    if packet[0] & 0x10 != 0 {
        let ext = packet
            .get(len + 2..len + 4)
            .ok_or(RtpError::Truncated(packet.len()))?;
        len += 4 + 4 * usize::from(u16::from_be_bytes([ext[0], ext[1]]));
    }
    if len > packet.len() {
        return Err(RtpError::Truncated(packet.len()));
    }
    Ok(Header {
        marker: packet[1] & 0x80 != 0,
        payload_type: packet[1] & 0x7f,
        seq: u16::from_be_bytes([packet[2], packet[3]]),
        timestamp: u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]]),
        ssrc: u32::from_be_bytes([packet[8], packet[9], packet[10], packet[11]]),
        len,
        padding: 0,
    })
}

/// Reads the padding count of a (plain) RTP packet with header `h`: the last octet when the P
/// bit is set; an impossible count is an error.
pub fn padding(packet: &[u8], h: &Header) -> Result<usize, RtpError> {
    if packet.first().is_some_and(|b| b & 0x20 != 0) {
        let n = usize::from(*packet.last().unwrap_or(&0));
        if n == 0 || h.len + n > packet.len() {
            return Err(RtpError::Truncated(packet.len()));
        }
        return Ok(n);
    }
    Ok(0)
}

/// Writes a header with no CSRC, extension or padding, then `payload`, into `out` (cleared).
pub fn write(out: &mut Vec<u8>, h: &Header, payload: &[u8]) {
    out.clear();
    out.push(0x80);
    out.push(if h.marker { 0x80 } else { 0 } | (h.payload_type & 0x7f));
    out.extend_from_slice(&h.seq.to_be_bytes());
    out.extend_from_slice(&h.timestamp.to_be_bytes());
    out.extend_from_slice(&h.ssrc.to_be_bytes());
    out.extend_from_slice(payload);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn header(seq: u16) -> Header {
        Header {
            marker: true,
            payload_type: 0,
            seq,
            timestamp: 0xdead_beef,
            ssrc: 0xcafe_babe,
            len: HEADER_LEN,
            padding: 0,
        }
    }

    #[test]
    fn writes_and_reads_back() {
        let mut out = Vec::new();
        write(&mut out, &header(0x1234), &[0xab; 160]);
        assert_eq!(out.len(), 172);
        assert_eq!(&out[..4], &[0x80, 0x80, 0x12, 0x34]);
        let h = parse(&out).unwrap();
        assert_eq!(h, header(0x1234));
        assert_eq!(padding(&out, &h), Ok(0));
    }

    #[test]
    fn csrcs_extension_and_padding_are_skipped() {
        // V=2 P=1 X=1 CC=1; one CSRC; extension of one word; payload 2 bytes + 2 of padding.
        let mut p = vec![0xb1, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9];
        p.extend_from_slice(&[1, 2, 3, 4]); // CSRC
        p.extend_from_slice(&[0xbe, 0xde, 0, 1, 9, 9, 9, 9]); // extension
        p.extend_from_slice(&[0x55, 0x66, 0, 2]);
        let h = parse(&p).unwrap();
        assert_eq!(h.len, 24);
        assert_eq!(padding(&p, &h), Ok(2));
        assert_eq!(&p[h.len..p.len() - 2], &[0x55, 0x66]);
    }

    #[test]
    fn refuses_what_is_not_rtp() {
        assert_eq!(parse(&[]), Err(RtpError::Truncated(0)));
        assert_eq!(parse(&[0x80; 11]), Err(RtpError::Truncated(11)));
        assert_eq!(parse(&[0x40; 12]), Err(RtpError::Version(1)));
        let mut rtcp = [0u8; 12];
        rtcp[0] = 0x80;
        rtcp[1] = 200; // sender report
        assert_eq!(parse(&rtcp), Err(RtpError::Rtcp));
        // 15 CSRCs announced in a 12-byte packet.
        let mut cc = [0u8; 12];
        cc[0] = 0x8f;
        assert_eq!(parse(&cc), Err(RtpError::Truncated(12)));
        // An extension whose length runs past the end.
        let ext = [
            0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xde, 0xff, 0xff,
        ];
        assert_eq!(parse(&ext), Err(RtpError::Truncated(16)));
        // Padding longer than the payload.
        let mut pad = vec![0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff];
        let h = parse(&pad).unwrap();
        assert!(padding(&pad, &h).is_err());
        pad[12] = 0;
        assert!(
            padding(&pad, &h).is_err(),
            "a zero padding count is invalid"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        /// Whatever a peer sends: an error or a header whose payload range lies in the packet.
        #[test]
        fn any_datagram_is_read_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            if let Ok(h) = parse(&bytes) {
                prop_assert!(h.len <= bytes.len());
                if let Ok(p) = padding(&bytes, &h) {
                    prop_assert!(h.len + p <= bytes.len());
                }
            }
        }
    }
}
