//! The gateway's location table (ICD 5.2): the caller's number (ANI or alternate id) to a
//! registered civic address and the PSAP that serves it, and what happens to a number it does
//! not know (the fallback centre by default, or a configured rejection).

use scenarios::{CallLocation, LocationEntry, UnknownAniPolicy};
use sip::location::Civic;

use crate::ani::normalize_number;

/// Where a call goes according to the location table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// A known number: its PSAP and registered address.
    Psap {
        /// The PSAP id.
        psap: String,
        /// The registered address.
        civic: Box<Civic>,
    },
    /// An unknown number, answered and routed to the fallback centre.
    Fallback,
    /// An unknown number, refused with this status.
    Reject(u16),
}

/// A scenario's civic address (a table row's, or `call.location`) as PIDF-LO fields; the one
/// mapping both the gateway and the trunk use.
pub fn civic(l: &CallLocation) -> Civic {
    Civic {
        country: l.country.clone(),
        a1: l.a1.clone(),
        a3: l.a3.clone(),
        hno: l.hno.clone(),
        rd: l.rd.clone(),
        sts: l.sts.clone(),
        pc: l.pc.clone(),
        flr: l.flr.clone(),
        room: l.room.clone(),
    }
}

/// Routes `ani` with `table`; `None` when there is no table (every call goes to "psap").
pub fn route(
    table: &[LocationEntry],
    unknown: UnknownAniPolicy,
    ani: Option<&str>,
) -> Option<Route> {
    if table.is_empty() {
        return None;
    }
    let wanted = ani.map(normalize_number);
    let row = table
        .iter()
        .find(|e| wanted.as_deref() == Some(normalize_number(&e.ani).as_str()));
    Some(match (row, unknown) {
        (Some(e), _) => Route::Psap {
            psap: e.psap.clone(),
            civic: Box::new(civic(&e.address)),
        },
        (None, UnknownAniPolicy::Fallback) => Route::Fallback,
        (None, UnknownAniPolicy::Reject(code)) => Route::Reject(code),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Vec<LocationEntry> {
        vec![LocationEntry {
            ani: "+13125550140".into(),
            address: scenarios::CallLocation {
                country: "US".into(),
                a1: "IL".into(),
                a3: "Chicago".into(),
                rd: "Wacker".into(),
                sts: "Dr".into(),
                hno: "233".into(),
                flr: "12".into(),
                room: "1210".into(),
                pc: "60606".into(),
            },
            psap: "chicago-oemc".into(),
        }]
    }

    #[test]
    fn known_unknown_and_no_table() {
        let Some(Route::Psap { psap, civic }) = route(
            &table(),
            UnknownAniPolicy::Fallback,
            Some("+1 312 555 0140"),
        ) else {
            panic!("known number routes to its PSAP")
        };
        assert_eq!(psap, "chicago-oemc");
        assert_eq!(
            civic.one_line(),
            "233 Wacker Dr, Floor 12, Room 1210, Chicago, IL 60606, US"
        );
        assert_eq!(
            route(&table(), UnknownAniPolicy::Fallback, Some("+13125550199")),
            Some(Route::Fallback)
        );
        assert_eq!(
            route(&table(), UnknownAniPolicy::Reject(404), None),
            Some(Route::Reject(404))
        );
        assert_eq!(
            route(&[], UnknownAniPolicy::Fallback, Some("+13125550140")),
            None
        );
    }
}
