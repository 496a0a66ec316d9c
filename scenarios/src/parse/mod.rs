//! Reads a spanned TOML document into a [`Scenario`], applying defaults and every rule of the
//! format (docs/scenario-format.md). All problems are collected; a scenario is returned only when
//! there are none.

use std::ops::Range;
use std::time::Duration;

use toml::Spanned;
use toml::de::DeTable;

mod ani;
mod conformance;
mod route;
mod tls;

pub(crate) use conformance::location_file;

use crate::error::ProblemKind;
use crate::model::{
    AniHeader, AniPlacement, CallSpec, DEFAULT_ORG_ID, DEFAULT_SUITE, Expect, ExtraHeader,
    GATEWAY_NAMES, GatewaySpec, OrgFinding, Readback, Scenario, UnknownOrgPolicy,
    is_canonical_uuid,
};
use crate::requirements;
use crate::route::GatewayState;
use crate::walk::{Ctx, Field, Obj, array, deny_duplicates, integer, string, strings};

const DEFAULT_HOLD: Duration = Duration::from_millis(200);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(8);
const MAX_TIMEOUT: Duration = Duration::from_secs(600);
const MAX_NAME_LEN: usize = 64;
pub(crate) const MAX_NUMBER_DIGITS: usize = 20;

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

/// A valid scenario and the line and column of its name (for duplicate-name reports).
#[derive(Debug)]
pub(crate) struct Parsed {
    pub scenario: Scenario,
    pub name_at: (usize, usize),
}

/// Reads `doc`; problems go to `ctx`. Returns the scenario only if `ctx` gained no problems.
pub(crate) fn scenario(ctx: &mut Ctx<'_>, doc: &Spanned<DeTable<'_>>) -> Option<Parsed> {
    let before = ctx.problems.len();
    let root = Obj::root(doc);
    root.deny_unknown(
        ctx,
        &[
            "name",
            "description",
            "requirements",
            "suites",
            "call",
            "gateway",
            "route",
            "fault",
            "health",
            "run",
            "expect",
            "caller",
        ],
    );

    let name_field = root.require(ctx, "name", "the scenario id, like \"basic-911\"");
    let name = name_field
        .as_ref()
        .and_then(|f| slug(ctx, f, "scenario name"));
    let description = root.require(
        ctx,
        "description",
        "one sentence saying what the scenario proves",
    );
    let description = description.and_then(|f| non_empty(ctx, &f));
    let requirements = root.require(
        ctx,
        "requirements",
        "the requirement ids this scenario checks",
    );
    let requirements = requirements.and_then(|f| requirement_ids(ctx, &f));
    let suites = match root.get("suites") {
        Some(f) => suite_names(ctx, &f),
        None => Some(vec![DEFAULT_SUITE.to_owned()]),
    };
    let caller = match root.get("caller") {
        Some(f) => Obj::of(ctx, &f)
            .and_then(|o| conformance::caller(ctx, &o))
            .map(Some),
        None => Some(None),
    };
    let call_out = match root
        .require(ctx, "call", "what the originator sends")
        .and_then(|f| Obj::of(ctx, &f))
    {
        Some(obj) => call(ctx, &obj, root.get("caller").is_some()),
        None => CallOut::default(),
    };
    let (gateway, gw_ani_headers) = match root.get("gateway").map(|f| Obj::of(ctx, &f)) {
        Some(Some(obj)) => gateway(ctx, &obj),
        Some(None) => (None, None),
        None => {
            let spec = GatewaySpec::default();
            let headers = spec.ani_headers.clone();
            (Some(spec), Some(headers))
        }
    };
    let route_part = route::failover_sections(ctx, &root, gateway.as_ref());
    let known = Known {
        dial: call_out.dial.as_deref(),
        gw_ani_headers: gw_ani_headers.as_deref(),
        route: route::RouteKnown {
            // Absent: None; present but invalid: Some(None).
            route: match &route_part.route {
                None => Some(None),
                Some(None) => None,
                Some(Some(r)) => Some(Some(r)),
            },
            calls: route_part.run.map(|r| r.calls),
            has_outage: gateway
                .as_ref()
                .is_some_and(|g| g.states.values().any(|s| s.outage.is_some())),
        },
    };
    let expect = root
        .require(ctx, "expect", "what must be observed")
        .and_then(|f| Obj::of(ctx, &f));
    let expect = expect.and_then(|obj| expectations(ctx, &obj, &known));

    if ctx.problems.len() > before {
        return None;
    }
    Some(Parsed {
        scenario: Scenario {
            name: name?,
            description: description?,
            requirements: requirements?,
            suites: suites?,
            call: {
                let mut call = call_out.spec?;
                if let Some(Some(r)) = &route_part.route
                    && let Some(first) = r.gateways.first()
                {
                    call.gateway = first.clone();
                }
                call
            },
            gateway: gateway?,
            route: route_part.route?,
            faults: route_part.faults?,
            health: route_part.health?,
            run: route_part.run?,
            expect: expect?,
            caller: caller?,
            source: None,
        },
        name_at: crate::error::line_column(ctx.text, name_field?.span().start),
    })
}

/// What the cross-section rules need to know about other sections, when it could be read.
#[derive(Debug)]
struct Known<'a> {
    dial: Option<&'a str>,
    gw_ani_headers: Option<&'a [AniHeader]>,
    route: route::RouteKnown<'a>,
}

fn slug(ctx: &mut Ctx<'_>, field: &Field<'_, '_>, what: &str) -> Option<String> {
    let s = string(ctx, field)?;
    let b = s.as_bytes();
    let ok = !b.is_empty()
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-');
    if !ok {
        ctx.invalid(
            &field.span(),
            &field.path,
            format!("invalid {what} {s:?}: use lowercase letters, digits and '-', starting with a letter or digit"),
        );
        return None;
    }
    if s.len() > MAX_NAME_LEN {
        ctx.invalid(
            &field.span(),
            &field.path,
            format!(
                "{what} is {} characters long; at most {MAX_NAME_LEN}",
                s.len()
            ),
        );
        return None;
    }
    Some(s.to_owned())
}

pub(crate) fn non_empty(ctx: &mut Ctx<'_>, field: &Field<'_, '_>) -> Option<String> {
    let s = string(ctx, field)?;
    if s.trim().is_empty() {
        ctx.invalid(&field.span(), &field.path, "must not be empty");
        return None;
    }
    Some(s.to_owned())
}

/// A non-empty array of strings, each checked by `item`, none twice. `None` if anything is wrong.
pub(crate) fn list<T>(
    ctx: &mut Ctx<'_>,
    field: &Field<'_, '_>,
    empty_message: &str,
    mut item: impl FnMut(&mut Ctx<'_>, &Field<'_, '_>, &str) -> Option<T>,
    same: impl Fn(&T, &T) -> bool,
    show: impl Fn(&T) -> String,
) -> Option<Vec<T>> {
    let before = ctx.problems.len();
    let items = strings(ctx, field)?;
    if items.is_empty() {
        ctx.invalid(&field.span(), &field.path, empty_message);
        return None;
    }
    let mut parsed = Vec::new();
    for (f, s) in items {
        if let Some(v) = item(ctx, &f, s) {
            parsed.push((f, v));
        }
    }
    deny_duplicates(ctx, &parsed, same, show);
    (ctx.problems.len() == before).then(|| parsed.into_iter().map(|(_, v)| v).collect())
}

fn requirement_ids(ctx: &mut Ctx<'_>, field: &Field<'_, '_>) -> Option<Vec<String>> {
    list(
        ctx,
        field,
        "must name at least one requirement id, like \"ICD 5.1.9\"",
        |ctx, f, s| {
            if requirements::find(s).is_some() {
                return Some(s.to_owned());
            }
            let squeezed: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
            let close = requirements::ALL
                .iter()
                .find(|r| r.id.eq_ignore_ascii_case(&squeezed));
            let message = match close {
                Some(r) => format!("unknown requirement id {s:?} (did you mean \"{}\"?)", r.id),
                None => format!(
                    "unknown requirement id {s:?}; see the catalogue in docs/scenario-format.md"
                ),
            };
            ctx.invalid(&f.span(), &f.path, message);
            None
        },
        |a, b| a == b,
        |s| format!("requirement {s:?}"),
    )
}

fn suite_names(ctx: &mut Ctx<'_>, field: &Field<'_, '_>) -> Option<Vec<String>> {
    list(
        ctx,
        field,
        "must name at least one suite (leave `suites` out for the default [\"certify\"])",
        |ctx, f, _| slug(ctx, f, "suite name"),
        |a, b| a == b,
        |s| format!("suite {s:?}"),
    )
}

/// A string that must be one of `options` (exact spelling).
pub(crate) fn choice<T: Copy>(
    ctx: &mut Ctx<'_>,
    field: &Field<'_, '_>,
    what: &str,
    options: &[(&str, T)],
) -> Option<T> {
    let s = string(ctx, field)?;
    choose(ctx, field, s, what, options)
}

pub(crate) fn choose<T: Copy>(
    ctx: &mut Ctx<'_>,
    field: &Field<'_, '_>,
    s: &str,
    what: &str,
    options: &[(&str, T)],
) -> Option<T> {
    if let Some((_, v)) = options.iter().find(|(name, _)| *name == s) {
        return Some(*v);
    }
    let list = options
        .iter()
        .map(|(n, _)| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let message = match options
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(s))
    {
        Some((name, _)) => {
            format!("unknown {what} {s:?} (did you mean \"{name}\"?); expected one of {list}")
        }
        None => format!("unknown {what} {s:?}; expected one of {list}"),
    };
    ctx.invalid(&field.span(), &field.path, message);
    None
}

/// A telephone number: optional leading `+`, then 1 to 20 digits.
pub(crate) fn number(ctx: &mut Ctx<'_>, field: &Field<'_, '_>) -> Option<String> {
    let s = string(ctx, field)?;
    check_number(ctx, field, s).then(|| s.to_owned())
}

fn check_number(ctx: &mut Ctx<'_>, field: &Field<'_, '_>, s: &str) -> bool {
    let digits = s.strip_prefix('+').unwrap_or(s);
    let ok = !digits.is_empty()
        && digits.len() <= MAX_NUMBER_DIGITS
        && digits.bytes().all(|b| b.is_ascii_digit());
    if !ok {
        ctx.invalid(
            &field.span(),
            &field.path,
            format!("invalid number {s:?}: expected 1 to {MAX_NUMBER_DIGITS} digits with an optional leading '+', like \"+13125550100\""),
        );
    }
    ok
}

fn uuid(ctx: &mut Ctx<'_>, field: &Field<'_, '_>, s: &str) -> Option<String> {
    if is_canonical_uuid(s) {
        return Some(s.to_owned());
    }
    ctx.invalid(
        &field.span(),
        &field.path,
        format!("{s:?} is not a canonical UUID: expected 8-4-4-4-12 hex digits, like \"{DEFAULT_ORG_ID}\""),
    );
    None
}

pub(crate) fn duration(ctx: &mut Ctx<'_>, field: &Field<'_, '_>) -> Option<Duration> {
    let s = string(ctx, field)?;
    match humantime::parse_duration(s) {
        Ok(d) => Some(d),
        Err(e) => {
            let message = format!(
                "invalid duration {s:?} ({e}): use a number and a unit, like \"500ms\" or \"8s\""
            );
            ctx.invalid(&field.span(), &field.path, message);
            None
        }
    }
}

pub(crate) fn gateway_name(ctx: &mut Ctx<'_>, field: &Field<'_, '_>) -> Option<String> {
    let options = GATEWAY_NAMES.map(|n| (n, n));
    choice(ctx, field, "gateway", &options).map(str::to_owned)
}

/// Rejects CR, LF and NUL, which would break the message framing.
fn header_text(ctx: &mut Ctx<'_>, field: &Field<'_, '_>, s: &str) -> bool {
    let bad = s.chars().any(|c| matches!(c, '\r' | '\n' | '\0'));
    if bad {
        ctx.invalid(
            &field.span(),
            &field.path,
            "a header value cannot contain CR, LF or NUL",
        );
    }
    !bad
}

#[derive(Debug, Default)]
struct CallOut {
    spec: Option<CallSpec>,
    dial: Option<String>,
}

fn call(ctx: &mut Ctx<'_>, obj: &Obj<'_, '_>, has_caller: bool) -> CallOut {
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
            "gateway",
            "location",
            "tls",
        ],
    );
    let location = obj
        .get("location")
        .map(|f| conformance::call_location(ctx, &f));
    let tls = obj.get("tls").map_or_else(
        || Some(crate::tls::TlsProfileSpec::genesys_byoc()),
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

fn gateway(ctx: &mut Ctx<'_>, obj: &Obj<'_, '_>) -> (Option<GatewaySpec>, Option<Vec<AniHeader>>) {
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
        ],
    );
    let tls = obj.get("tls").map_or_else(
        || Some(crate::tls::TlsProfileSpec::any()),
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
    let spec = match (orgs, ani_headers.clone(), unknown_org, tls) {
        (Some(orgs), Some(ani_headers), Some(unknown_org), Some(tls))
            if ctx.problems.len() == before =>
        {
            Some(GatewaySpec {
                orgs,
                ani_headers,
                unknown_org,
                unknown_ani: unknown_ani.flatten(),
                location: location.unwrap_or_default(),
                tls,
                states,
            })
        }
        _ => None,
    };
    (spec, ani_headers)
}

fn expectations(ctx: &mut Ctx<'_>, obj: &Obj<'_, '_>, known: &Known<'_>) -> Option<Expect> {
    let before = ctx.problems.len();
    obj.deny_unknown(
        ctx,
        &[
            "status",
            "answered_by",
            "org_id",
            "org_finding",
            "ani",
            "ani_source",
            "readback",
            "warning_contains",
            "attempts",
            "failover_within",
            "no_retry",
            "identical_retry",
            "random_split",
            "outage_failed_max",
            "long_path_max",
            "routing",
            ani::EXPECT_KEYS[0],
            ani::EXPECT_KEYS[1],
            ani::EXPECT_KEYS[2],
        ],
    );
    let mut expect = Expect::default();
    ani::expectations(ctx, obj, &mut expect, known.dial);
    if let Some(f) = obj.get("routing") {
        expect.routing = non_empty(ctx, &f);
    }
    let status_field = obj.get("status");
    if let Some(f) = &status_field {
        expect.status = integer(ctx, f).and_then(|n| match u16::try_from(n) {
            Ok(s) if (200..=699).contains(&s) => Some(s),
            _ => {
                let message = format!("{n} is not a final SIP status: expected 200 to 699");
                ctx.invalid(&f.span(), &f.path, message);
                None
            }
        });
    }
    if let Some(f) = obj.get("answered_by") {
        expect.answered_by = gateway_name(ctx, &f);
        if let (Some(g), Some(Some(route))) = (&expect.answered_by, known.route.route)
            && !route.gateways.contains(g)
        {
            let message = format!(
                "{g} is not on the route (route.gateways is [{}])",
                route.gateways.join(", ")
            );
            ctx.report(&f.span(), &f.path, ProblemKind::Conflict, message);
        }
    }
    route::route_expectations(ctx, obj, &mut expect, &known.route);
    let finding_options = OrgFinding::ALL.map(|f| (f.as_str(), f));
    let finding_field = obj.get("org_finding");
    if let Some(f) = &finding_field {
        expect.org_finding = choice(ctx, f, "org finding", &finding_options);
    }
    if let Some(f) = obj.get("org_id") {
        expect.org_id = string(ctx, &f).and_then(|s| uuid(ctx, &f, s));
        if let (Some(finding @ (OrgFinding::Missing | OrgFinding::Duplicated)), Some(ff)) =
            (expect.org_finding, &finding_field)
        {
            let message = format!(
                "expecting one recorded org id contradicts org_finding = \"{finding}\" (at {})",
                position(ctx, &ff.span())
            );
            ctx.report(&f.span(), &f.path, ProblemKind::Conflict, message);
        }
    }
    if let Some(f) = obj.get("ani") {
        expect.ani = number(ctx, &f);
    }
    if let Some(f) = obj.get("ani_source") {
        let options = AniHeader::ALL.map(|h| (h.header_name(), h));
        expect.ani_source = choice(ctx, &f, "ANI header", &options);
        if let (Some(src), Some(searched)) = (expect.ani_source, known.gw_ani_headers)
            && !searched.contains(&src)
        {
            let list = searched
                .iter()
                .map(|h| h.header_name())
                .collect::<Vec<_>>()
                .join(", ");
            let message = format!(
                "the gateway never takes the ANI from {src}: gateway.ani_headers is [{list}]"
            );
            ctx.report(&f.span(), &f.path, ProblemKind::Conflict, message);
        }
    }
    if let Some(f) = obj.get("readback") {
        expect.readback = Obj::of(ctx, &f).and_then(|rb| readback(ctx, &rb));
        if let Some(message) = known.dial.and_then(ani::readback_needs_933) {
            ctx.report(&f.span(), &f.path, ProblemKind::Conflict, message);
        }
        if let (Some(status), Some(sf)) = (expect.status, &status_field)
            && !(200..300).contains(&status)
        {
            let message = format!(
                "a read-back comes only on an answered call, but status is {status} (at {})",
                position(ctx, &sf.span())
            );
            ctx.report(&f.span(), &f.path, ProblemKind::Conflict, message);
        }
    }
    if let Some(f) = obj.get("warning_contains") {
        expect.warning_contains = non_empty(ctx, &f);
    }
    if ctx.problems.len() > before {
        return None;
    }
    if expect.is_empty() {
        ctx.invalid(
            &obj.span,
            &obj.path,
            "expects nothing: a scenario must check at least one thing",
        );
        return None;
    }
    Some(expect)
}

fn readback(ctx: &mut Ctx<'_>, obj: &Obj<'_, '_>) -> Option<Readback> {
    let before = ctx.problems.len();
    obj.deny_unknown(ctx, &["number", "address"]);
    let number = obj.get("number").and_then(|f| number(ctx, &f));
    let address = obj.get("address").and_then(|f| non_empty(ctx, &f));
    if ctx.problems.len() > before {
        return None;
    }
    if number.is_none() && address.is_none() {
        ctx.invalid(
            &obj.span,
            &obj.path,
            "must name at least one of `number`, `address`",
        );
        return None;
    }
    Some(Readback { number, address })
}

/// `line:column` of a span start, for messages that point at a second place.
pub(crate) fn position(ctx: &Ctx<'_>, span: &Range<usize>) -> String {
    let (line, column) = crate::error::line_column(ctx.text, span.start);
    format!("{line}:{column}")
}
