//! What one full TLS handshake of the trunk profile (TLS 1.2, ECDHE secp384r1, an RSA 2048
//! certificate) costs the server in public-key operations, measured with the crypto provider the
//! gateway uses (rustls on aws-lc-rs): one RSA-2048 signature over the ServerKeyExchange, one
//! P-384 key pair and one P-384 agreement. Their sum per core bounds the full handshakes per
//! second a server can accept; `bench/tls-handshakes.sh` prints it beside the measured rate.
//!
//!   cargo run --release -p harness --example tls_ceiling [SECONDS]
//!
//! Prints one line per operation (single thread) and the bound per core and for every core.

use std::time::{Duration, Instant};

use rustls::SignatureScheme;
use rustls::crypto::aws_lc_rs::{default_provider, sign::any_supported_type};
use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::pem::PemObject;
use sip::transport::certs::{Authority, KeyKind, Validity};

/// Runs `op` for `secs` and returns operations per second.
fn rate(secs: f64, mut op: impl FnMut()) -> f64 {
    let until = Instant::now() + Duration::from_secs_f64(secs);
    let start = Instant::now();
    let mut n = 0u64;
    while Instant::now() < until {
        for _ in 0..16 {
            op();
        }
        n += 16;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secs: f64 = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(2.0_f64)
        .clamp(0.2, 30.0);
    let ca = Authority::generate_with("tls-ceiling CA", KeyKind::Rsa2048)?;
    let leaf = ca.issue(
        &["gw1.anywhere.e911cloud.com"],
        KeyKind::Rsa2048,
        Validity::Current,
    )?;
    let key = any_supported_type(&PrivateKeyDer::from_pem_slice(leaf.key_pem.as_bytes())?)?;
    let msg = [0x5au8; 32 + 32 + 4 + 97]; // client random, server random, ECParams, P-384 point
    let provider = default_provider();
    // What a rustls server picks for a rustls client (the schemes the client can verify, in
    // the server key's own preference order), then PKCS#1 SHA-256 for comparison.
    let offered = provider
        .signature_verification_algorithms
        .supported_schemes();
    let negotiated = key
        .choose_scheme(&offered)
        .ok_or("no RSA scheme in common")?
        .scheme();
    let mut per_op = Vec::new();
    for scheme in [negotiated, SignatureScheme::RSA_PKCS1_SHA256] {
        let signer = key
            .choose_scheme(&[scheme])
            .ok_or("RSA scheme not offered")?;
        let r = rate(secs, || {
            let _ = signer.sign(&msg);
        });
        println!(
            "rsa2048 sign {scheme:?}{}: {r:.0}/s",
            if scheme == negotiated {
                " (negotiated)"
            } else {
                ""
            }
        );
        per_op.push(r);
    }
    let p384 = provider
        .kx_groups
        .iter()
        .find(|g| format!("{:?}", g.name()) == "secp384r1")
        .ok_or("aws-lc-rs has no secp384r1")?;
    let peer = p384.start()?.pub_key().to_vec();
    let kx = rate(secs, || {
        if let Ok(k) = p384.start() {
            let _ = k.complete(&peer);
        }
    });
    println!("p384 ecdhe (key pair + agreement): {kx:.0}/s");
    // The negotiated scheme's figure with the key exchange.
    let sign = per_op[0];
    let per_core = 1.0 / (1.0 / sign + 1.0 / kx);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "server public-key work per full handshake: 1 sign + 1 ECDHE => at most {per_core:.0} full handshakes/s per core, {:.0}/s on {cores} cores (before the client's own work and everything else)",
        per_core * cores as f64
    );
    Ok(())
}
