//! Scenario faults (`[[fault]]`, `[gateway.gwN]` capacity and outage) installed on the embedded
//! gateways as their fault plans ([`mock_gateway::fault`], which speaks the scenario model's
//! vocabulary), and cleared again.
//!
//! Each gateway gets one [`FaultPlan`]: the scenario's `[[fault]]` entries for it, in file
//! order (the first matching rule wins), plus its capacity and outage. Call numbers in a
//! selection count what that gateway receives since the plan was set: INVITEs for call-level
//! faults, accepted connections for connection-level ones (TLS faults, close/reset before the
//! INVITE). OPTIONS probes open connections too, so connection-level faults in a scenario
//! with `[health]` should select `calls = "all"`.

use mock_gateway::{FaultPlan, Gateway};
use scenarios::Scenario;

/// The plan for `gateway` in `sc`: its `[[fault]]` entries as they are, its capacity and outage.
pub fn plan_for(sc: &Scenario, gateway: &str) -> FaultPlan {
    let state = sc.gateway.state(gateway);
    FaultPlan {
        rules: sc
            .faults
            .iter()
            .filter(|f| f.gateway == gateway)
            .cloned()
            .collect(),
        capacity: state.capacity,
        outage: state.outage,
    }
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

/// Whether `sc`'s plans act on connections (a connection-level fault or an outage): setting
/// and clearing them drops the gateways' established connections.
pub fn acts_on_connections(sc: &Scenario) -> bool {
    sc.faults.iter().any(|f| f.kind.is_connection_level())
        || sc.gateway.states.values().any(|s| s.outage.is_some())
}

/// Whether `sc`'s plan for `gateway` acts on its connections.
fn acts_on(sc: &Scenario, gateway: &str) -> bool {
    sc.faults
        .iter()
        .any(|f| f.gateway == gateway && f.kind.is_connection_level())
        || sc.gateway.state(gateway).outage.is_some()
}

/// How long a peer that keeps its connections (a system under test) is given to notice that
/// the gateways closed them, once they are all closed: its next call must open a new one and
/// meet the plan, not find a connection it still believes in.
const PEER_GRACE: std::time::Duration = std::time::Duration::from_millis(150);

/// After [`apply`] or [`clear`] of a plan that acts on connections: waits (at most 2 s per
/// gateway) until every connection it dropped has closed, then, when `peer_keeps_connections`,
/// gives the peer `PEER_GRACE` to notice. What a scenario proves then never depends on a
/// connection an earlier scenario left open.
pub async fn settle(sc: &Scenario, gateways: &[Gateway], peer_keeps_connections: bool) {
    if !acts_on_connections(sc) {
        return;
    }
    for gw in gateways.iter().filter(|g| acts_on(sc, g.name())) {
        if !gw
            .wait_no_connections(std::time::Duration::from_secs(2))
            .await
        {
            tracing::warn!(
                gateway = gw.name(),
                "connections still open 2 s after a fault plan change"
            );
        }
    }
    if peer_keeps_connections {
        tokio::time::sleep(PEER_GRACE).await;
    }
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
