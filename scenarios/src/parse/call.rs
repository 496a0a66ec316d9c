//! Reads `[call]`: what the originator sends (dialled number, ANI and where it goes, org
//! headers, extra headers, hold and timeout, first gateway, location by value, TLS profile).

use std::time::Duration;

use crate::error::ProblemKind;
use crate::model::{AniPlacement, CallSpec, DEFAULT_ORG_ID, ExtraHeader, GATEWAY_NAMES};
use crate::walk::{Ctx, Field, Obj, array, string, strings};

use super::values::{choose, duration, gateway_name, header_text, list, number, position, uuid};
use super::{ani, conformance, tls};

const DEFAULT_HOLD: Duration = Duration::from_millis(200);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(8);
const MAX_TIMEOUT: Duration = Duration::from_secs(600);

/// Headers the call generator writes itself (full and compact forms), which `extra_headers` may
/// not add, and where to configure them instead.
const GENERATED_HEADERS: &[(&str, &str)] = &[
    ("via", "the call generator writes it"),
    ("v", "the call generator writes Via"),
    (
        "from",
        "the call generator writes it (use call.from_user or call.ani_in)",
    ),
    (
        "f",
        "the call generator writes From (use call.from_user or call.ani_in)",
    ),
    ("to", "the call generator writes it from call.dial"),
    ("t", "the call generator writes To from call.dial"),
    ("call-id", "the call generator writes it"),
    ("i", "the call generator writes Call-ID"),
    ("cseq", "the call generator writes it"),
    ("max-forwards", "the call generator writes it"),
    ("contact", "the call generator writes it"),
    ("m", "the call generator writes Contact"),
    ("content-length", "the call generator writes it"),
    ("l", "the call generator writes Content-Length"),
    (
        "content-type",
        "the call generator writes it with the SDP offer",
    ),
    (
        "c",
        "the call generator writes Content-Type with the SDP offer",
    ),
    (
        "e911-organization-id",
        "use call.org_id or call.org_headers",
    ),
    ("remote-party-id", "use call.ani_in"),
];

/// The call spec when `[call]` had no problem, and the dialled number when it could be read
/// (other sections' rules need it either way).
#[derive(Debug, Default)]
pub(super) struct CallOut {
    pub(super) spec: Option<CallSpec>,
    pub(super) dial: Option<String>,
}

pub(super) fn section(ctx: &mut Ctx<'_>, obj: &Obj<'_, '_>, has_caller: bool) -> CallOut {
    let before = ctx.problems.len();
    obj.deny_unknown(
        ctx,
        &[
            "dial",
            "ani",
            "ani_in",
            "from_user",
            "org_id",
            "org_headers",
            "extra_headers",
            "hold",
            "timeout",
            "abandon_after",
            "gateway",
            "location",
            "tls",
        ],
    );
    let location = obj
        .get("location")
        .map(|f| conformance::call_location(ctx, &f));
    let tls = obj.get("tls").map_or_else(
        || Some(crate::tls::TlsProfile::genesys_byoc()),
        |f| tls::tls_profile(ctx, &f),
    );
    let dial = obj
        .require(ctx, "dial", "the number called, like \"911\"")
        .and_then(|f| ani::dial(ctx, &f));
    // With [caller] the harness chooses the ANI (ICD 5.1.7); empty until it does.
    let ani = match obj.get("ani") {
        None if has_caller => Some(String::new()),
        _ => obj
            .require(ctx, "ani", "the calling number")
            .and_then(|f| number(ctx, &f)),
    };
    let from_user = obj.get("from_user").map(|f| (number(ctx, &f), f));
    let ani_in_field = obj.get("ani_in");
    let ani_in = match &ani_in_field {
        Some(f) => ani_placements(ctx, f, from_user.as_ref().map(|(_, uf)| uf)),
        // From carries from_user when it is set, so the ANI goes to PAI only.
        None if from_user.is_some() => Some(vec![AniPlacement::Pai]),
        None => Some(vec![AniPlacement::From, AniPlacement::Pai]),
    };

    let org_id = obj.get("org_id");
    let org_headers = obj.get("org_headers");
    let org_headers = match (org_id, org_headers) {
        (Some(id), Some(headers)) => {
            let message = format!(
                "org_headers and org_id are mutually exclusive (org_id is at {}): use org_id for one well-formed header, org_headers for raw values",
                position(ctx, &id.span())
            );
            ctx.report(
                &headers.span(),
                &headers.path,
                ProblemKind::Conflict,
                message,
            );
            None
        }
        (Some(id), None) => string(ctx, &id)
            .and_then(|s| uuid(ctx, &id, s))
            .map(|s| vec![s]),
        (None, Some(headers)) => strings(ctx, &headers).and_then(|items| {
            let ok = items
                .iter()
                .fold(true, |ok, (f, s)| header_text(ctx, f, s) && ok);
            ok.then(|| items.into_iter().map(|(_, s)| s.to_owned()).collect())
        }),
        (None, None) => Some(vec![DEFAULT_ORG_ID.to_owned()]),
    };

    let extra_headers = match obj.get("extra_headers") {
        Some(f) => extra_headers(ctx, &f),
        None => Some(Vec::new()),
    };
    let hold_field = obj.get("hold");
    let hold = hold_field
        .as_ref()
        .map_or(Some(DEFAULT_HOLD), |f| duration(ctx, f));
    let timeout_field = obj.get("timeout");
    let timeout = match &timeout_field {
        Some(f) => duration(ctx, f).filter(|t| {
            let ok = !t.is_zero() && *t <= MAX_TIMEOUT;
            if !ok {
                ctx.invalid(&f.span(), &f.path, "must be more than 0 and at most 10min");
            }
            ok
        }),
        None => Some(DEFAULT_TIMEOUT),
    };
    if let (Some(h), Some(t)) = (hold, timeout)
        && h >= t
    {
        let at = hold_field
            .as_ref()
            .or(timeout_field.as_ref())
            .map(|f| (f.span(), f.path.clone()));
        let (span, path) = at.unwrap_or_else(|| (obj.span.clone(), format!("{}.hold", obj.path)));
        let message = format!(
            "hold ({}) must be shorter than timeout ({}), or the call times out before its BYE",
            humantime::format_duration(h),
            humantime::format_duration(t)
        );
        ctx.report(&span, &path, ProblemKind::Conflict, message);
    }
    let abandon_field = obj.get("abandon_after");
    let abandon_after = match &abandon_field {
        None => Some(None),
        Some(f) => duration(ctx, f).and_then(|a| {
            let too_long = timeout.is_some_and(|t| a >= t);
            if a.is_zero() || too_long {
                let message = format!(
                    "abandon_after ({}) must be more than 0 and shorter than timeout ({}): the caller hangs up while the call is still being set up",
                    humantime::format_duration(a),
                    humantime::format_duration(timeout.unwrap_or_default())
                );
                ctx.report(&f.span(), &f.path, ProblemKind::Conflict, message);
                None
            } else {
                Some(Some(a))
            }
        }),
    };
    let gateway = obj.get("gateway").map_or_else(
        || Some(GATEWAY_NAMES[0].to_owned()),
        |f| gateway_name(ctx, &f),
    );

    // Every part is present when nothing was reported; a problem anywhere yields no spec.
    let clean = ctx.problems.len() == before;
    let spec = || -> Option<CallSpec> {
        Some(CallSpec {
            dial: dial.clone()?,
            ani: ani?,
            ani_in: ani_in?,
            from_user: match from_user {
                Some((n, _)) => Some(n?),
                None => None,
            },
            org_headers: org_headers?,
            extra_headers: extra_headers?,
            hold: hold?,
            timeout: timeout?,
            abandon_after: abandon_after?,
            gateway: gateway?,
            location: location.clone().flatten(),
            tls: tls.clone()?,
        })
    };
    let spec = if clean { spec() } else { None };
    CallOut { spec, dial }
}

fn ani_placements(
    ctx: &mut Ctx<'_>,
    field: &Field<'_, '_>,
    from_user: Option<&Field<'_, '_>>,
) -> Option<Vec<AniPlacement>> {
    let options = AniPlacement::ALL.map(|p| (p.as_str(), p));
    let from_user_at = from_user.map(|f| position(ctx, &f.span()));
    list(
        ctx,
        field,
        "must name at least one header for the ANI: \"from\", \"pai\", \"pai-tel\" or \"rpid\"",
        |ctx, f, s| {
            let p = choose(ctx, f, s, "ANI placement", &options)?;
            if let (AniPlacement::From, Some(at)) = (p, &from_user_at) {
                let message = format!(
                    "\"from\" conflicts with call.from_user (at {at}), which puts another number in From"
                );
                ctx.report(&f.span(), &f.path, ProblemKind::Conflict, message);
                return None;
            }
            Some(p)
        },
        |a, b| a == b,
        |p| format!("\"{}\"", p.as_str()),
    )
}

fn extra_headers(ctx: &mut Ctx<'_>, field: &Field<'_, '_>) -> Option<Vec<ExtraHeader>> {
    let before = ctx.problems.len();
    let mut out = Vec::new();
    for item in array(ctx, field)? {
        let Some(obj) = Obj::of(ctx, &item) else {
            continue;
        };
        obj.deny_unknown(ctx, &["name", "value"]);
        let name = obj.require(ctx, "name", "the header name").and_then(|f| {
            let s = string(ctx, &f)?;
            header_name(ctx, &f, s).then(|| s.to_owned())
        });
        let value = obj.require(ctx, "value", "the header value").and_then(|f| {
            let s = string(ctx, &f)?;
            header_text(ctx, &f, s).then(|| s.to_owned())
        });
        if let (Some(name), Some(value)) = (name, value) {
            out.push(ExtraHeader { name, value });
        }
    }
    (ctx.problems.len() == before).then_some(out)
}

/// An RFC 3261 token that is not a header the generator writes itself.
fn header_name(ctx: &mut Ctx<'_>, field: &Field<'_, '_>, s: &str) -> bool {
    let token = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b));
    if !token {
        ctx.invalid(
            &field.span(),
            &field.path,
            format!("{s:?} is not a valid SIP header name (an RFC 3261 token)"),
        );
        return false;
    }
    if let Some((_, why)) = GENERATED_HEADERS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(s))
    {
        ctx.invalid(
            &field.span(),
            &field.path,
            format!("{s} cannot be an extra header: {why}"),
        );
        return false;
    }
    true
}
