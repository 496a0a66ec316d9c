//! Reads `[gateway]`: what the embedded gateways accept (organization ids, ANI headers, the
//! unknown-org policy), their location table, their TLS profile and the per-gateway states of
//! `[gateway.gw1]`/`[gateway.gw2]`.

use crate::model::{AniHeader, GATEWAY_NAMES, GatewaySpec, UnknownOrgPolicy};
use crate::route::GatewayState;
use crate::walk::{Ctx, Obj};

use super::values::{choice, choose, duration, list, uuid};

/// Longest `ring_time`: a gateway that rings longer is a silent one (a fault of its own).
const MAX_RING_TIME: std::time::Duration = std::time::Duration::from_secs(60);
use super::{conformance, route, tls};

/// The gateway spec when `[gateway]` had no problem, and the ANI headers it searches when they
/// could be read (the `expect.ani_source` rule needs them either way).
pub(super) fn section(
    ctx: &mut Ctx<'_>,
    obj: &Obj<'_, '_>,
) -> (Option<GatewaySpec>, Option<Vec<AniHeader>>) {
    let before = ctx.problems.len();
    obj.deny_unknown(
        ctx,
        &[
            "orgs",
            "ani_headers",
            "unknown_org",
            "gw1",
            "gw2",
            "location",
            "unknown_ani",
            "tls",
            "ring_time",
        ],
    );
    let tls = obj.get("tls").map_or_else(
        || Some(crate::tls::TlsProfile::any()),
        |f| tls::tls_profile(ctx, &f),
    );
    let location = obj
        .get("location")
        .map_or(Some(Vec::new()), |f| conformance::locations(ctx, &f));
    let unknown_ani = obj
        .get("unknown_ani")
        .map(|f| conformance::unknown_ani(ctx, &f));
    let mut states = std::collections::BTreeMap::new();
    for name in GATEWAY_NAMES {
        if let Some(f) = obj.get(name)
            && let Some(o) = Obj::of(ctx, &f)
            && let Some(state) = route::gateway_state(ctx, &o)
            && state != GatewayState::default()
        {
            states.insert(name.to_owned(), state);
        }
    }
    let defaults = GatewaySpec::default();
    let orgs = match obj.get("orgs") {
        Some(f) => list(
            ctx,
            &f,
            "must list at least one organization id (leave `orgs` out for the default)",
            uuid,
            |a, b| a.eq_ignore_ascii_case(b),
            |s| format!("organization {s:?}"),
        ),
        None => Some(defaults.orgs),
    };
    let ani_headers = match obj.get("ani_headers") {
        Some(f) => {
            let options = AniHeader::ALL.map(|h| (h.header_name(), h));
            list(
                ctx,
                &f,
                "must list at least one header: \"P-Asserted-Identity\", \"Remote-Party-ID\" or \"From\"",
                |ctx, f, s| choose(ctx, f, s, "ANI header", &options),
                |a, b| a == b,
                |h| format!("\"{h}\""),
            )
        }
        None => Some(defaults.ani_headers),
    };
    let unknown_org = match obj.get("unknown_org") {
        Some(f) => choice(
            ctx,
            &f,
            "unknown_org policy",
            &[
                ("reject", UnknownOrgPolicy::Reject),
                ("accept", UnknownOrgPolicy::Accept),
            ],
        ),
        None => Some(UnknownOrgPolicy::Reject),
    };
    let ring_time = match obj.get("ring_time") {
        Some(f) => duration(ctx, &f).filter(|d| {
            let ok = *d <= MAX_RING_TIME;
            if !ok {
                ctx.invalid(&f.span(), &f.path, "must be at most 1min");
            }
            ok
        }),
        None => Some(std::time::Duration::ZERO),
    };
    let spec = match (orgs, ani_headers.clone(), unknown_org, tls, ring_time) {
        (Some(orgs), Some(ani_headers), Some(unknown_org), Some(tls), Some(ring_time))
            if ctx.problems.len() == before =>
        {
            Some(GatewaySpec {
                orgs,
                ani_headers,
                unknown_org,
                unknown_ani: unknown_ani.flatten(),
                location: location.unwrap_or_default(),
                tls,
                ring_time,
                states,
            })
        }
        _ => None,
    };
    (spec, ani_headers)
}
