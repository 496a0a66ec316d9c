//! Scenario faults (`[[fault]]`, `[gateway.gwN]` capacity and outage) turned into the embedded
//! gateways' fault plans, and cleared again.

use mock_gateway::Gateway;
use scenarios::Scenario;

/// Installs the scenario's faults on the gateways named in them.
pub fn apply(sc: &Scenario, _gateways: &[Gateway]) -> Result<(), String> {
    if sc.faults.is_empty() && sc.gateway.states.is_empty() {
        return Ok(());
    }
    Err("this build's mock gateway has no fault injection".into())
}

/// Removes every fault from every gateway.
pub fn clear(_gateways: &[Gateway]) {}
