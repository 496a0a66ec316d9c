//! The never-a-real-911 interlock: every external address the harness is asked to call
//! (`run --target`, `load --target`, `certify --sut`, `torture --target`) goes through here
//! before any DNS query and before any connect.
//!
//! Two stages, so the refusals that matter most need no network at all:
//! 1. [`vet`] (pure): splits `HOST:PORT`, normalises the host the way a resolver would
//!    (ASCII case, trailing dots, IDNA/UTS #46 mapping: full-width letters, ideographic full
//!    stops, soft hyphens), refuses the production suffix `e911cloud.com` and, without
//!    `--allow-remote`, everything that is not a loopback literal or `localhost`. Nothing is
//!    resolved for a name it refuses.
//! 2. [`resolve`]: resolves what stage 1 let through (only with `--allow-remote`) and checks
//!    every address it returns (IPv4-mapped IPv6 seen as the IPv4 address it is) before the
//!    caller connects to the first one.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::exit::BadInput;

/// The production domain: no host at or under it is ever called, whatever the flags say.
pub const PRODUCTION_SUFFIX: &str = "e911cloud.com";

/// What [`vet`] lets through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Vetted {
    /// An address literal (or `localhost`): no DNS needed.
    Addresses(Vec<SocketAddr>),
    /// A host name to resolve (only ever with `--allow-remote`), normalised.
    Name {
        /// The host name in its ASCII (punycode) form, lowercase, without a trailing dot.
        host: String,
        /// The port.
        port: u16,
    },
}

/// Why a target is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// Not `HOST:PORT`.
    #[error("expected HOST:PORT ([IPv6]:PORT for an IPv6 address): {0}")]
    Malformed(String),
    /// The host is a production E911 gateway (at or under `e911cloud.com`).
    #[error(
        "{host} is a production E911 gateway (*.{PRODUCTION_SUFFIX}); the harness only calls mock gateways or a lab SBC, never a real 911 service"
    )]
    Production {
        /// The normalised host.
        host: String,
    },
    /// Not on loopback, and `--allow-remote` was not given.
    #[error(
        "{what} is not on loopback; pass --allow-remote to call a lab SBC (never a real PSAP path)"
    )]
    NotLoopback {
        /// The host or address refused.
        what: String,
    },
    /// An address nobody can be called at (unspecified, multicast, broadcast).
    #[error("{0} is not an address a call can go to")]
    Unusable(IpAddr),
}

/// Stage 1: refuses, without any DNS query, production hosts and (without `allow_remote`)
/// anything that is not a loopback literal or `localhost`.
pub fn vet(target: &str, allow_remote: bool) -> Result<Vetted, Refusal> {
    let (host, port) = split(target)?;
    if let Ok(ip) = host.parse::<IpAddr>() {
        let addr = SocketAddr::new(ip, port);
        check_address(addr, allow_remote)?;
        return Ok(Vetted::Addresses(vec![addr]));
    }
    let name = normalise(host).ok_or_else(|| {
        Refusal::Malformed(format!(
            "{target}: {} is not a valid host name",
            quote(host)
        ))
    })?;
    if is_production(&name) {
        return Err(Refusal::Production { host: name });
    }
    if name == "localhost" || name.ends_with(".localhost") {
        // RFC 6761: localhost names are loopback by definition; answered here, not by DNS.
        return Ok(Vetted::Addresses(vec![
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port),
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port),
        ]));
    }
    if !allow_remote {
        return Err(Refusal::NotLoopback { what: name });
    }
    Ok(Vetted::Name { host: name, port })
}

/// Stage 2: the addresses to call, every one of them checked; the caller connects to the
/// first. A name is resolved only when [`vet`] let it through (`--allow-remote`).
pub async fn resolve(target: &str, allow_remote: bool) -> anyhow::Result<Vec<SocketAddr>> {
    let refused = |r: Refusal| BadInput::new(format!("refusing {target}: {r}"));
    let addrs = match vet(target, allow_remote).map_err(refused)? {
        Vetted::Addresses(a) => a,
        Vetted::Name { host, port } => {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
                .await
                .map_err(|e| BadInput::new(format!("resolving {target}: {e}")))?
                .collect();
            if found.is_empty() {
                return Err(BadInput::new(format!("{target} resolved to no address")).into());
            }
            found
        }
    };
    for a in &addrs {
        check_address(*a, allow_remote).map_err(refused)?;
    }
    Ok(addrs)
}

/// An address is callable: never unspecified, multicast or broadcast; loopback unless
/// `allow_remote`. An IPv4-mapped IPv6 address is judged as the IPv4 address it carries.
pub fn check_address(addr: SocketAddr, allow_remote: bool) -> Result<(), Refusal> {
    let ip = addr.ip().to_canonical();
    let unusable = ip.is_unspecified()
        || ip.is_multicast()
        || matches!(ip, IpAddr::V4(v4) if v4.is_broadcast());
    if unusable {
        return Err(Refusal::Unusable(ip));
    }
    if !ip.is_loopback() && !allow_remote {
        return Err(Refusal::NotLoopback {
            what: addr.to_string(),
        });
    }
    Ok(())
}

/// `HOST:PORT` or `[IPv6]:PORT` into the host (brackets removed) and a non-zero port.
fn split(target: &str) -> Result<(&str, u16), Refusal> {
    let bad = |why: &str| Refusal::Malformed(format!("{}: {why}", quote(target)));
    let (host, port) = if let Some(rest) = target.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or_else(|| bad("unclosed ["))?;
        let port = after
            .strip_prefix(':')
            .ok_or_else(|| bad("no :PORT after ]"))?;
        if host.parse::<Ipv6Addr>().is_err() {
            return Err(bad("not an IPv6 address inside [ ]"));
        }
        (host, port)
    } else {
        let (host, port) = target.rsplit_once(':').ok_or_else(|| bad("no :PORT"))?;
        if host.contains(':') {
            return Err(bad("an IPv6 address needs [ ]"));
        }
        (host, port)
    };
    let port: u16 = port
        .parse()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| bad("the port is not a number from 1 to 65535"))?;
    if host.is_empty() {
        return Err(bad("no host"));
    }
    Ok((host, port))
}

/// The host name as a resolver sees it: UTS #46 mapped to ASCII (lowercase, punycode, full-width
/// and ideographic dots mapped, ignorable characters dropped), trailing dots removed. `None`
/// for what is not a host name at all.
fn normalise(host: &str) -> Option<String> {
    let ascii = idna::domain_to_ascii_strict(host)
        .or_else(|_| idna::domain_to_ascii(host))
        .ok()?;
    let name = ascii.trim_end_matches('.');
    let valid = !name.is_empty()
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    valid.then(|| name.to_owned())
}

/// At or under the production domain.
fn is_production(name: &str) -> bool {
    name == PRODUCTION_SUFFIX
        || name
            .strip_suffix(PRODUCTION_SUFFIX)
            .is_some_and(|rest| rest.ends_with('.'))
}

/// A user-supplied value for an error message: at most 80 characters, escaped.
fn quote(s: &str) -> String {
    scenarios::quote_prefix(s, 80)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Attempts to reach production or a remote host that must fail in stage 1, i.e. before any
    /// DNS query, with and without `--allow-remote`.
    #[test]
    fn bypass_attempts_are_refused_before_any_dns_query() {
        #[rustfmt::skip]
        let production = [
            "gw1.anywhere.e911cloud.com:5061",
            "gw1.anywhere.e911cloud.com.:5061",         // trailing dot (the FQDN form)
            "gw1.anywhere.e911cloud.com..:5061",        // two of them
            "GW1.ANYWHERE.E911CLOUD.COM:5061",          // case
            "Gw1.AnyWhere.E911Cloud.Com.:5061",
            "e911cloud.com:5061",                       // the apex
            "e911cloud.com.:5061",
            "gw1.anywhere.\u{ff45}911cloud.com:5061",   // full-width e
            "gw1.anywhere.e911cloud\u{3002}com:5061",   // ideographic full stop
            "gw1.anywhere.e911cloud\u{ff0e}com:5061",   // full-width full stop
            "gw1.anywhere.e911\u{ad}cloud.com:5061",    // soft hyphen (ignored by IDNA)
            "gw1.anywhere.e911\u{200b}cloud.com:5061",  // zero-width space
            "gw1.anywhere.E911CLOUD.COM\u{3002}:5061",  // ideographic trailing dot
        ];
        for t in production {
            for allow_remote in [false, true] {
                assert!(
                    matches!(vet(t, allow_remote), Err(Refusal::Production { .. })),
                    "{t:?} allow_remote={allow_remote}: {:?}",
                    vet(t, allow_remote)
                );
            }
        }
        #[rustfmt::skip]
        let remote = [
            "example.org:5061",                 // any name: no DNS without --allow-remote
            "example.org.:5061",
            "lab-sbc:5061",
            "8.8.8.8:5061",
            "[::ffff:8.8.8.8]:5061",            // IPv4-mapped remote address
            "[2001:db8::1]:5061",
            "10.0.0.1:5061",
            "localhost.example.org:5061",       // not a localhost name
        ];
        for t in remote {
            assert!(
                matches!(vet(t, false), Err(Refusal::NotLoopback { .. })),
                "{t:?}: {:?}",
                vet(t, false)
            );
        }
        #[rustfmt::skip]
        let malformed = [
            "gw1.anywhere.e911cloud.com",       // no port
            "127.0.0.1",
            "127.0.0.1:0",
            "127.0.0.1:65536",
            "::1:5061",                         // IPv6 without brackets
            "[::1:5061",
            "[gw1.anywhere.e911cloud.com]:5061",
            "sip:gw1.anywhere.e911cloud.com:5061",
            "user@gw1.anywhere.e911cloud.com:5061",
            "gw1.anywhere.e911cloud.com%2e:5061",
            "gw1.anywhere.e911cloud.com/:5061",
            ":5061",
        ];
        for t in malformed {
            for allow_remote in [false, true] {
                assert!(
                    matches!(vet(t, allow_remote), Err(Refusal::Malformed(_))),
                    "{t:?}: {:?}",
                    vet(t, allow_remote)
                );
            }
        }
        for t in [
            "0.0.0.0:5061",
            "[::]:5061",
            "224.0.0.1:5061",
            "255.255.255.255:5061",
        ] {
            for allow_remote in [false, true] {
                assert!(
                    matches!(vet(t, allow_remote), Err(Refusal::Unusable(_))),
                    "{t:?}"
                );
            }
        }
    }

    #[test]
    fn loopback_targets_pass_without_dns_and_names_only_with_allow_remote() {
        let v4 = |p| SocketAddr::from(([127, 0, 0, 1], p));
        assert_eq!(
            vet("127.0.0.1:5061", false),
            Ok(Vetted::Addresses(vec![v4(5061)]))
        );
        assert!(vet("127.0.0.2:5061", false).is_ok());
        assert!(vet("[::1]:5061", false).is_ok());
        // IPv4-mapped loopback is loopback.
        assert!(vet("[::ffff:127.0.0.1]:5061", false).is_ok());
        for t in ["localhost:5061", "LOCALHOST.:5061", "sbc.localhost:5061"] {
            assert!(
                matches!(vet(t, false), Ok(Vetted::Addresses(a)) if a[0] == v4(5061)),
                "{t}"
            );
        }
        assert_eq!(
            vet("Lab-SBC.Example.ORG.:5061", true),
            Ok(Vetted::Name {
                host: "lab-sbc.example.org".into(),
                port: 5061
            })
        );
        assert_eq!(
            vet("b\u{fc}cher.example:5061", true),
            Ok(Vetted::Name {
                host: "xn--bcher-kva.example".into(),
                port: 5061
            })
        );
        // Not production: the suffix is matched on a label boundary.
        assert!(vet("note911cloud.com:5061", true).is_ok());
    }

    #[test]
    fn every_resolved_address_is_checked() {
        let mapped_remote: SocketAddr = "[::ffff:192.0.2.1]:5061".parse().unwrap();
        assert!(matches!(
            check_address(mapped_remote, false),
            Err(Refusal::NotLoopback { .. })
        ));
        assert!(check_address(mapped_remote, true).is_ok());
        let mapped_loopback: SocketAddr = "[::ffff:127.0.0.1]:5061".parse().unwrap();
        assert!(check_address(mapped_loopback, false).is_ok());
        let mapped_any: SocketAddr = "[::ffff:0.0.0.0]:5061".parse().unwrap();
        assert!(matches!(
            check_address(mapped_any, true),
            Err(Refusal::Unusable(_))
        ));
    }

    #[tokio::test]
    async fn resolve_refuses_as_bad_input_and_resolves_loopback_without_dns() {
        let e = resolve("gw1.anywhere.e911cloud.com.:5061", true)
            .await
            .unwrap_err();
        assert!(e.downcast_ref::<BadInput>().is_some(), "{e:#}");
        assert!(e.to_string().contains("production"), "{e:#}");
        let a = resolve("localhost:5061", false).await.unwrap();
        assert!(a.iter().all(|a| a.ip().is_loopback()));
    }
}
