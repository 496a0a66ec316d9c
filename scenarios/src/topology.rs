//! Where a scenario applies: the topologies a run can have between the harness's trunk and the
//! gateways, and why a scenario leaves one out.
//!
//! - [`Topology::Direct`]: the harness is the trunk and calls the embedded gw1/gw2 itself.
//! - [`Topology::Sut`]: the harness calls a system under test (an SBC or proxy) in front of the
//!   embedded gateways; the gateways' observations judge what it forwards.
//!
//! A scenario applies to both unless it says otherwise (`topologies = ["direct"]`), and a
//! scenario that leaves a topology out must say why (`topology_note`), so a run in that topology
//! reports it as not applicable with that reason instead of dropping it silently.

use std::fmt;

use serde::{Serialize, Serializer};

/// A topology a scenario can run in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topology {
    /// harness (the trunk) -> embedded gw1/gw2.
    Direct,
    /// harness (the trunk) -> system under test -> embedded gw1/gw2.
    Sut,
}

impl Topology {
    /// Every topology, in the spelling order of scenario files.
    pub const ALL: [Topology; 2] = [Topology::Direct, Topology::Sut];

    /// The spelling in scenario files: `direct` or `sut`.
    pub fn as_str(self) -> &'static str {
        match self {
            Topology::Direct => "direct",
            Topology::Sut => "sut",
        }
    }
}

impl fmt::Display for Topology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Topology {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The topologies of a scenario and, when it leaves one out, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Applicability {
    /// The topologies it runs in; never empty.
    pub topologies: Vec<Topology>,
    /// Why it does not run in the others (present exactly when it leaves one out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topology_note: Option<String>,
}

impl Default for Applicability {
    /// Both topologies.
    fn default() -> Self {
        Applicability {
            topologies: Topology::ALL.to_vec(),
            topology_note: None,
        }
    }
}

impl Applicability {
    /// Whether the scenario runs in `t`.
    pub fn applies(&self, t: Topology) -> bool {
        self.topologies.contains(&t)
    }

    /// Why the scenario does not run in `t`; `None` when it does.
    pub fn reason_not(&self, t: Topology) -> Option<String> {
        if self.applies(t) {
            return None;
        }
        Some(format!(
            "not run {}: {}",
            match t {
                Topology::Direct => "directly against the embedded gateways",
                Topology::Sut => "through a system under test",
            },
            self.topology_note
                .as_deref()
                .unwrap_or("the scenario leaves it out")
        ))
    }
}
