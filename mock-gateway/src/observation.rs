//! What the gateway records: the observation model lives in [`reports::observation`] so that
//! `report.json` carries it typed end to end; this module names it where the gateway uses it.

pub use reports::observation::*;
