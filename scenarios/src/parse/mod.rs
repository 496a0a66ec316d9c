//! Reads a spanned TOML document into a [`Scenario`], applying defaults and every rule of the
//! format (docs/scenario-format.md). All problems are collected; a scenario is returned only when
//! there are none.
//!
//! # Layout
//! - this module: the document's top level (`scenario`: name, description, requirements,
//!   suites) and what one section's rules need to know about another (`Known`).
//! - `values`: the value readers every section shares (names, lists, choices, numbers, UUIDs,
//!   durations, header text, positions).
//! - `call`: `[call]`; `gateway`: `[gateway]`; `media`: `[media]` and `expect.media_findings`; `expect`: `[expect]` and its cross-section rules.
//! - `ani`: the dial string and the ANI-policy expectations; `route`: `[route]`, `[[fault]]`,
//!   `[gateway.gwN]`, `[health]`, `[run]` and the route expectations; `tls`: TLS profiles;
//!   `conformance`: `[caller]`, `call.location`, `[[gateway.location]]` and location-table
//!   files.
//! - `plan`: test plans for certifying an originator (`[plan]`, `[[step]]`), each step read
//!   with the readers above into a scenario.

use toml::Spanned;
use toml::de::DeTable;

mod ani;
mod call;
mod conformance;
mod expect;
mod gateway;
mod media;
mod plan;
mod route;
mod tls;
mod topology;
mod values;

pub(crate) use conformance::location_file;
pub(crate) use plan::plan;
use values::{list, non_empty, slug};

use crate::error::ProblemKind;
use crate::model::{AniHeader, DEFAULT_SUITE, GatewaySpec, Scenario};
use crate::requirements;
use crate::walk::{Ctx, Field, Obj};

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
            "media",
            "topologies",
            "topology_note",
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
    let applicability = topology::applicability(ctx, &root);
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
    let media = match root.get("media").map(|f| Obj::of(ctx, &f)) {
        Some(Some(obj)) => media::section(ctx, &obj),
        Some(None) => None,
        None => Some(crate::media::MediaSpec::default()),
    };
    let call_out = match root
        .require(ctx, "call", "what the originator sends")
        .and_then(|f| Obj::of(ctx, &f))
    {
        Some(obj) => call::section(ctx, &obj, root.get("caller").is_some()),
        None => call::CallOut::default(),
    };
    let (gateway, gw_ani_headers) = match root.get("gateway").map(|f| Obj::of(ctx, &f)) {
        Some(Some(obj)) => gateway::section(ctx, &obj),
        Some(None) => (None, None),
        None => {
            let spec = GatewaySpec::default();
            let headers = spec.ani_headers.clone();
            (Some(spec), Some(headers))
        }
    };
    let route_part = route::failover_sections(ctx, &root, gateway.as_ref());
    abandon_within_attempt(ctx, &root, call_out.spec.as_ref(), &route_part.route);
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
    let expect = expect.and_then(|obj| expect::expectations(ctx, &obj, &known));

    if ctx.problems.len() > before {
        return None;
    }
    Some(Parsed {
        scenario: Scenario {
            name: name?,
            description: description?,
            requirements: requirements?,
            suites: suites?,
            applicability: applicability?,
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
            media: media?,
            source: None,
        },
        name_at: crate::error::line_column(ctx.text, name_field?.span().start),
    })
}

/// An abandoned call hangs up during its first attempt: after the route's attempt timeout the
/// trunk would already have moved on to the next gateway.
fn abandon_within_attempt(
    ctx: &mut Ctx<'_>,
    root: &Obj<'_, '_>,
    call: Option<&crate::CallSpec>,
    route: &Option<Option<crate::RouteSpec>>,
) {
    let (Some(abandon), Some(Some(route))) = (call.and_then(|c| c.abandon_after), route) else {
        return;
    };
    if abandon < route.attempt_timeout {
        return;
    }
    let Some(field) = root
        .get("call")
        .and_then(|f| Obj::of(ctx, &f))
        .and_then(|c| c.get("abandon_after"))
    else {
        return;
    };
    let message = format!(
        "abandon_after ({}) must be shorter than route.attempt_timeout ({}): the caller hangs up during the first attempt",
        humantime::format_duration(abandon),
        humantime::format_duration(route.attempt_timeout)
    );
    ctx.report(&field.span(), &field.path, ProblemKind::Conflict, message);
}

/// What the cross-section rules need to know about other sections, when it could be read.
#[derive(Debug)]
struct Known<'a> {
    dial: Option<&'a str>,
    gw_ani_headers: Option<&'a [AniHeader]>,
    route: route::RouteKnown<'a>,
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
