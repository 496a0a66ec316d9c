//! What kind of key a certificate carries (`RSA 2048`, `ECDSA P-384`, `Ed25519`), read from its
//! SubjectPublicKeyInfo (RFC 5280 §4.1.2.7). The trunk's TLS profile (ICD 5.1) wants RSA
//! certificates, so reports name the key the gateway presented.
//!
//! rustls-webpki parses the certificate; this module reads only the SPKI's DER: the algorithm
//! OID, the EC curve OID, and the RSA modulus length.

use rustls::pki_types::CertificateDer;

const RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const ED25519: &[u8] = &[0x2b, 0x65, 0x70];
const P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
const P521: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x23];

const SEQUENCE: u8 = 0x30;
const OID: u8 = 0x06;
const BIT_STRING: u8 = 0x03;
const INTEGER: u8 = 0x02;

/// The certificate's key, e.g. `RSA 2048`, `ECDSA P-384`, `Ed25519`; `None` when the
/// certificate cannot be parsed. An algorithm this module does not name is given by its OID.
pub fn describe_key(cert: &CertificateDer<'_>) -> Option<String> {
    let parsed = webpki::EndEntityCert::try_from(cert).ok()?;
    describe_spki(parsed.subject_public_key_info().as_ref())
}

/// Describes a DER SubjectPublicKeyInfo (outer SEQUENCE included).
pub fn describe_spki(spki: &[u8]) -> Option<String> {
    let (body, _) = element(spki, SEQUENCE)?;
    let (algorithm, rest) = element(body, SEQUENCE)?;
    let (oid, params) = element(algorithm, OID)?;
    if oid == RSA {
        let (bits, _) = element(rest, BIT_STRING)?;
        // A BIT STRING starts with its count of unused bits (0 here), then RSAPublicKey.
        let (key, _) = element(bits.get(1..)?, SEQUENCE)?;
        let (modulus, _) = element(key, INTEGER)?;
        let significant = modulus
            .iter()
            .position(|&b| b != 0)
            .unwrap_or(modulus.len());
        let modulus = &modulus[significant..];
        let top = modulus
            .first()
            .map_or(0, |b| 8 - b.leading_zeros() as usize);
        let size = modulus.len().saturating_sub(1) * 8 + top;
        return Some(format!("RSA {size}"));
    }
    if oid == EC {
        let curve = match element(params, OID) {
            Some((c, _)) if c == P256 => "P-256".to_owned(),
            Some((c, _)) if c == P384 => "P-384".to_owned(),
            Some((c, _)) if c == P521 => "P-521".to_owned(),
            Some((c, _)) => format!("curve {}", dotted(c)),
            None => "curve ?".to_owned(),
        };
        return Some(format!("ECDSA {curve}"));
    }
    if oid == ED25519 {
        return Some("Ed25519".to_owned());
    }
    Some(format!("key {}", dotted(oid)))
}

/// Whether a [`describe_key`] text names an RSA key.
pub fn is_rsa(description: &str) -> bool {
    description.starts_with("RSA ")
}

/// Reads one DER element with tag `tag` at the start of `input`: (contents, what follows).
fn element(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&first, rest) = input.split_first()?;
    if first != tag {
        return None;
    }
    let (&len0, rest) = rest.split_first()?;
    let (len, rest) = if len0 < 0x80 {
        (usize::from(len0), rest)
    } else {
        let n = usize::from(len0 & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| rest.split_at(len))
}

/// An OID in dotted form (`1.2.840.10045.2.1`).
fn dotted(oid: &[u8]) -> String {
    let mut parts = Vec::new();
    let mut value: u64 = 0;
    for &b in oid {
        value = (value << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if parts.is_empty() {
                let first = (value / 40).min(2);
                parts.push(first);
                parts.push(value - first * 40);
            } else {
                parts.push(value);
            }
            value = 0;
        }
    }
    parts
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::certs::{Authority, KeyKind, Validity};

    fn key_of(kind: KeyKind) -> String {
        let ca = Authority::generate("spki test CA").unwrap();
        let leaf = ca.issue(&["gw1.test"], kind, Validity::Current).unwrap();
        let der = CertificateDer::from_pem_slice(leaf.cert_pem.as_bytes()).unwrap();
        describe_key(&der).unwrap()
    }

    use rustls::pki_types::pem::PemObject;

    #[test]
    fn names_rsa_with_its_size_and_ec_with_its_curve() {
        assert_eq!(key_of(KeyKind::Rsa2048), "RSA 2048");
        assert_eq!(key_of(KeyKind::EcdsaP256), "ECDSA P-256");
        assert_eq!(key_of(KeyKind::EcdsaP384), "ECDSA P-384");
        assert!(is_rsa("RSA 2048") && !is_rsa("ECDSA P-384"));
    }

    #[test]
    fn truncated_or_foreign_input_is_none_or_named_by_oid() {
        assert_eq!(describe_spki(&[]), None);
        assert_eq!(describe_spki(&[0x30, 0x05, 0x30]), None);
        assert_eq!(
            describe_key(&CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01])),
            None
        );
        // SEQUENCE { SEQUENCE { OID 1.3.101.110 (X25519) } BIT STRING {0} }
        let x25519 = [
            0x30, 0x0a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x01, 0x00,
        ];
        assert_eq!(describe_spki(&x25519).as_deref(), Some("key 1.3.101.110"));
        assert_eq!(dotted(EC), "1.2.840.10045.2.1");
    }
}
