//! `e911-harness call`: the harness's own trunk emulation as a standalone originator. It places
//! emergency calls the way the Genesys BYOC trunk does (number plan, org header, ANI in From and
//! P-Asserted-Identity, SRTP offer, its TLS profile) to gw1 and, when gw1 fails, gw2 (ICD 5.3),
//! or to one next hop (an SBC in front of the gateways). Every option also reads the variables a
//! `certify --originator --drive` command gets (`E911_DIAL`, `E911_ANI`, `E911_GW1`, ...), so
//! `--drive 'e911-harness call'` makes it the originator of an unattended plan run.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use scenarios::{AniPlacement, CallSpec, RouteSpec, TlsProfile, is_emergency_number};
use sip::transport::TransportKind;

use crate::evidence::Epoch;
use crate::exit::{EXIT_ERROR, EXIT_FAILED, EXIT_PASSED, EXIT_USAGE};
use crate::originate::peer::{client_tls, resolve_target};
use crate::originate::route::{RouteCallConfig, place_routed_call};
use crate::originate::trunk::{GATEWAY_HOSTS, TRUNK_HOST};
use crate::originate::uac::{Target, UacConfig};

/// The ANI sent when none is given.
const DEFAULT_ANI: &str = "+13125550100";

/// `call` options.
#[derive(Debug, Args)]
pub struct CallArgs {
    /// The number dialled (a number other than 911/933 is refused by the trunk's number plan
    /// and never sent).
    #[arg(long, env = "E911_DIAL", default_value = "911")]
    pub dial: String,
    /// The calling number (ANI), written into From and P-Asserted-Identity (empty: the
    /// default; a plan step that dials 9911 names no ANI).
    #[arg(long, env = "E911_ANI", default_value = DEFAULT_ANI)]
    pub ani: String,
    /// The E911-Organization-ID to send.
    #[arg(long, env = "E911_ORG", default_value = scenarios::DEFAULT_ORG_ID)]
    pub org: String,
    /// gw1 (or the one next hop, such as an SBC) as HOST:PORT.
    #[arg(long, env = "E911_GW1", value_name = "HOST:PORT")]
    pub gw1: String,
    /// gw2 as HOST:PORT: tried when gw1 fails (leave it out when the next hop fails over).
    #[arg(long, env = "E911_GW2", value_name = "HOST:PORT")]
    pub gw2: Option<String>,
    /// TLS server name and Request-URI host of gw1.
    #[arg(long, env = "E911_GW1_HOST", default_value = GATEWAY_HOSTS[0].1)]
    pub gw1_host: String,
    /// TLS server name and Request-URI host of gw2.
    #[arg(long, env = "E911_GW2_HOST", default_value = GATEWAY_HOSTS[1].1)]
    pub gw2_host: String,
    /// Transport.
    #[arg(long, env = "E911_TRANSPORT", default_value = "tls")]
    pub transport: TransportKind,
    /// The CA certificate (PEM) the gateways' certificates must chain to.
    #[arg(long, env = "E911_CA", value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// How many calls, one after another.
    #[arg(long, env = "E911_CALLS", default_value = "1")]
    pub calls: u32,
    /// How long a gateway may take to answer before the next one is tried.
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    pub attempt_timeout: Duration,
    /// Time between the ACK and the BYE of an answered call.
    #[arg(long, default_value = "200ms", value_parser = humantime::parse_duration)]
    pub hold: Duration,
    /// Allow gateways that are not on loopback (a lab SBC). Never a production gateway.
    #[arg(long)]
    pub allow_remote: bool,
    /// Send every number as dialled, 9911 included, instead of applying the trunk's number
    /// plan: to test the number plan of an SBC in front of the gateways.
    #[arg(long)]
    pub no_number_plan: bool,
}

/// Places the calls; exit 0 when every call got a final answer (or was refused by the number
/// plan), 1 when one got none, 2 on bad usage, 3 when the harness could not set up.
pub async fn call_cmd(a: CallArgs) -> anyhow::Result<u8> {
    if !a.no_number_plan && !is_emergency_number(scenarios::dialled_number(&a.dial)) {
        println!(
            "{}: the trunk's number plan has no E911 route for it: not sent to any gateway (ICD 5.2)",
            a.dial
        );
        return Ok(EXIT_PASSED);
    }
    if !scenarios::is_canonical_uuid(&a.org) {
        eprintln!("error: --org {}: expected a canonical UUID", a.org);
        return Ok(EXIT_USAGE);
    }
    let Some(tls) = client_tls(a.transport, a.ca.as_deref(), false, "--gw1/--gw2")? else {
        return Ok(EXIT_USAGE);
    };
    let mut targets = Vec::new();
    for (name, addr, host) in [
        ("gw1", Some(&a.gw1), &a.gw1_host),
        ("gw2", a.gw2.as_ref(), &a.gw2_host),
    ] {
        let Some(addr) = addr.filter(|s| !s.is_empty()) else {
            continue;
        };
        let resolved = match resolve_target(addr, a.allow_remote).await {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {e:#}");
                return Ok(EXIT_USAGE);
            }
        };
        targets.push(Target {
            name: name.to_owned(),
            host: host.clone(),
            addr: resolved,
            transport: a.transport,
        });
    }
    let profile = TlsProfile::genesys_byoc();
    let config = match &tls {
        Some(t) => match t.trust.client_config(&profile) {
            Ok(c) => Some(c),
            Err(e) => {
                eprintln!("error: the trunk's TLS profile: {e}");
                return Ok(EXIT_ERROR);
            }
        },
        None => None,
    };
    let uac = UacConfig {
        tls: config,
        tls_trust: tls.map(|t| t.trust),
        local_host: TRUNK_HOST.to_owned(),
        connect_timeout: Duration::from_secs(3),
        epoch: Epoch::now(),
        recording: Default::default(),
        media: false,
    };
    let ani = if a.ani.trim().is_empty() {
        DEFAULT_ANI.to_owned()
    } else {
        a.ani.clone()
    };
    let call = CallSpec {
        dial: a.dial.clone(),
        ani: ani.clone(),
        ani_in: vec![AniPlacement::From, AniPlacement::Pai],
        from_user: None,
        org_headers: vec![a.org.clone()],
        extra_headers: Vec::new(),
        hold: a.hold,
        timeout: a.attempt_timeout,
        abandon_after: None,
        gateway: "gw1".into(),
        location: None,
        tls: profile,
    };
    let route = RouteSpec {
        gateways: targets.iter().map(|t| t.name.clone()).collect(),
        attempt_timeout: a.attempt_timeout,
        ..RouteSpec::default()
    };
    let mut unanswered = 0;
    for i in 0..a.calls.max(1) {
        let cfg = RouteCallConfig {
            uac: &uac,
            order: &route.gateways,
            health: None,
        };
        let placed = place_routed_call(&call, &route, &targets, &cfg).await;
        if placed.final_status().is_none() {
            unanswered += 1;
        }
        println!(
            "call {} of {}: {} from {}: {}",
            i + 1,
            a.calls.max(1),
            a.dial,
            ani,
            placed.path()
        );
    }
    Ok(if unanswered == 0 {
        EXIT_PASSED
    } else {
        EXIT_FAILED
    })
}
