//! Scenario faults (`[[fault]]`, `[gateway.gwN]` capacity and outage) turned into the embedded
//! gateways' fault plans ([`mock_gateway::fault`]), and cleared again.
//!
//! Each gateway gets one [`FaultPlan`]: the scenario's `[[fault]]` entries for it, in file
//! order (the first matching rule wins), plus its capacity and outage. Call numbers in a
//! selection count what that gateway receives since the plan was set: INVITEs for call-level
//! faults, accepted connections for connection-level ones (TLS faults, close/reset before the
//! INVITE). OPTIONS probes open connections too, so connection-level faults in a scenario
//! with `[health]` should select `calls = "all"`.

use mock_gateway::Gateway;
use mock_gateway::fault::{Fault, FaultPlan, FaultRule, Outage, Select, TlsFault, When};
use scenarios::{CallSelect, FaultKind, FaultSpec, FaultWhen, Scenario, TlsFaultKind};

/// The plan for `gateway` in `sc`.
pub fn plan_for(sc: &Scenario, gateway: &str) -> FaultPlan {
    let state = sc.gateway.state(gateway);
    FaultPlan {
        rules: sc
            .faults
            .iter()
            .filter(|f| f.gateway == gateway)
            .map(rule)
            .collect(),
        capacity: state.capacity,
        outage: state.outage.map(|w| Outage {
            from: w.from,
            until: w.until,
        }),
    }
}

fn when(w: FaultWhen) -> When {
    match w {
        FaultWhen::BeforeInvite => When::BeforeInvite,
        FaultWhen::AfterInvite => When::AfterInvite,
    }
}

fn rule(f: &FaultSpec) -> FaultRule {
    let fault = match &f.kind {
        FaultKind::Respond {
            status,
            reason,
            q850,
            retry_after,
        } => Fault::Respond {
            status: *status,
            reason: reason.clone(),
            q850: *q850,
            retry_after: *retry_after,
        },
        FaultKind::Delay(d) => Fault::Delay(*d),
        FaultKind::TryingThenSilence => Fault::TryingThenSilence,
        FaultKind::Silence => Fault::Silence,
        FaultKind::Close(w) => Fault::Close(when(*w)),
        FaultKind::Reset(w) => Fault::Reset(when(*w)),
        FaultKind::Tls(t) => Fault::Tls(match t {
            TlsFaultKind::Untrusted => TlsFault::Untrusted,
            TlsFaultKind::Expired => TlsFault::Expired,
            TlsFaultKind::WrongName => TlsFault::WrongName,
            TlsFaultKind::EcdsaCertificate => TlsFault::EcdsaCertificate,
            TlsFaultKind::ProtocolError => TlsFault::ProtocolError,
        }),
    };
    let select = match &f.select {
        CallSelect::All => Select::All,
        CallSelect::Calls(c) => Select::Calls(c.clone()),
        CallSelect::Every(n) => Select::EveryNth(*n),
        CallSelect::Fraction { p, seed } => Select::Fraction {
            p: p.0,
            seed: *seed,
        },
    };
    FaultRule { fault, select }
}

/// Installs the scenario's faults on every gateway (an empty plan where it names none).
pub fn apply(sc: &Scenario, gateways: &[Gateway]) -> Result<(), String> {
    for gw in gateways {
        let name = gw.name().to_owned();
        gw.set_faults(plan_for(sc, &name))
            .map_err(|e| format!("{name}: {e}"))?;
    }
    Ok(())
}

/// Removes every fault from every gateway.
pub fn clear(gateways: &[Gateway]) {
    for gw in gateways {
        gw.clear_faults();
    }
}

/// After [`clear`]: waits (at most 2 s per gateway) until every gateway that had an outage in
/// `sc` accepts connections again, so the next scenario does not meet a listener still rebinding.
pub async fn wait_listening(sc: &Scenario, gateways: &[Gateway]) {
    for gw in gateways {
        if sc.gateway.state(gw.name()).outage.is_none() {
            continue;
        }
        let until = std::time::Instant::now() + std::time::Duration::from_secs(2);
        while tokio::net::TcpStream::connect(gw.local_addr())
            .await
            .is_err()
            && std::time::Instant::now() < until
        {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
}

/// After [`apply`]: waits (at most 2 s per gateway) until every gateway whose outage starts at
/// once refuses connections, so the scenario's first call cannot slip in before the outage.
pub async fn wait_outages_started(sc: &Scenario, gateways: &[Gateway]) {
    for gw in gateways {
        let starts_now = sc
            .gateway
            .state(gw.name())
            .outage
            .is_some_and(|w| w.from.is_zero());
        if !starts_now {
            continue;
        }
        let until = std::time::Instant::now() + std::time::Duration::from_secs(2);
        while tokio::net::TcpStream::connect(gw.local_addr())
            .await
            .is_ok()
            && std::time::Instant::now() < until
        {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }
}
