//! Reads a test plan (`[plan]` and `[[step]]`, docs/originator-plan.md) with the scenario
//! format's own readers: a step's caller selection is `[caller]`, its faults are `[[fault]]`,
//! its expectations are `[expect]`, its route is the plan's `[route]`, with the same rules and
//! positioned problems. Every problem of the file is reported; a plan is returned only when
//! there is none.

use std::collections::BTreeMap;
use std::time::Duration;

use toml::de::DeTable;

use super::route::{FaultContext, RouteKnown};
use super::values::{choice, duration, gateway_name, list, non_empty, number, slug, uuid};
use super::{Known, ani, conformance, expect, requirement_ids, route, tls};
use crate::caller::caller_problem;
use crate::conformance::{CallerSpec, LocationEntry, UnknownAniPolicy};
use crate::error::{Problem, ProblemKind};
use crate::model::{
    AniHeader, AniPlacement, CallSpec, DEFAULT_ORG_ID, DEFAULT_SUITE, GatewaySpec, Scenario,
    UnknownOrgPolicy,
};
use crate::plan::{
    DEFAULT_SETTLE, DEFAULT_STEP_TIMEOUT, MAX_STEP_CALLS, Plan, PlanStep, ProbingSpec,
};
use crate::route::{CallSelect, GatewayState, RouteSpec, RunSpec, Window};
use crate::tls::TlsProfile;
use crate::walk::{Ctx, Field, Obj, array, boolean, integer, string};

/// Longest wait for one step (an operator walking to another phone included).
const MAX_STEP_TIMEOUT: Duration = Duration::from_secs(3600);
/// Longest watch for a late retry.
const MAX_SETTLE: Duration = Duration::from_secs(120);
/// How long a step's outage outlasts its wait (the step clears it when it ends anyway).
const OUTAGE_MARGIN: Duration = Duration::from_secs(60);

/// Parses `text` (named `origin` in problems) into a plan, or every problem found.
pub(crate) fn plan(text: &str, origin: &str) -> Result<Plan, Vec<Problem>> {
    let doc = DeTable::parse(text).map_err(|e| {
        let at = e.span().map_or(0, |s| s.start);
        vec![Problem::at(
            origin,
            text,
            at,
            "",
            ProblemKind::Syntax,
            crate::load::syntax_message(e.message()),
        )]
    })?;
    let mut ctx = Ctx::new(origin, text);
    let root = Obj::root(&doc);
    root.deny_unknown(&mut ctx, &["plan", "step"]);
    let head = root
        .require(
            &mut ctx,
            "plan",
            "what the plan certifies, as a [plan] table",
        )
        .and_then(|f| Obj::of(&mut ctx, &f))
        .and_then(|o| head(&mut ctx, &o));
    // Steps are read against the head's values, or its defaults when it had a problem, so
    // their own problems are reported too.
    let defaults = Head::default();
    let context = head.as_ref().unwrap_or(&defaults);
    let mut steps: Vec<(Field<'_, '_>, PlanStep)> = Vec::new();
    if let Some(f) = root.require(&mut ctx, "step", "the calls to place, as [[step]] tables") {
        match array(&mut ctx, &f) {
            Some(items) if items.is_empty() => {
                ctx.invalid(&f.span(), &f.path, "a plan needs at least one [[step]]");
            }
            Some(items) => {
                for item in items {
                    if let Some(obj) = Obj::of(&mut ctx, &item)
                        && let Some(s) = step(&mut ctx, &obj, context)
                    {
                        steps.push((item, s));
                    }
                }
            }
            None => {}
        }
    }
    // A duplicate name is reported at the second name, pointing at the first.
    let names: Vec<(std::ops::Range<usize>, String, &str)> = steps
        .iter()
        .filter_map(|(item, s)| {
            let obj = Obj::of(&mut ctx, item)?;
            let f = obj.get("name")?;
            Some((f.span(), f.path, s.name()))
        })
        .collect();
    for (i, (span, path, name)) in names.iter().enumerate() {
        if let Some((first, _, _)) = names[..i].iter().find(|(_, _, n)| n == name) {
            let at = super::values::position(&ctx, first);
            ctx.report(
                span,
                path,
                ProblemKind::Duplicate,
                format!("step name {name:?} is already used at {at}"),
            );
        }
    }
    if !ctx.problems.is_empty() {
        let mut problems = ctx.problems;
        problems.sort_by_key(|p| (p.line, p.column));
        return Err(problems);
    }
    let Some(head) = head else {
        return Err(vec![Problem::unpositioned(
            origin,
            ProblemKind::MissingField,
            "the [plan] table could not be read",
        )]);
    };
    Ok(Plan {
        name: head.name,
        description: head.description,
        org_id: head.org_id,
        probing: head.probing,
        settle: head.settle,
        steps: steps.into_iter().map(|(_, s)| s).collect(),
        source: None,
    })
}

/// `[plan]`: what every step shares.
#[derive(Debug, Clone)]
struct Head {
    name: String,
    description: String,
    org_id: String,
    ani_headers: Vec<AniHeader>,
    ani_source: AniHeader,
    tls: TlsProfile,
    step_timeout: Duration,
    settle: Duration,
    route: RouteSpec,
    probing: ProbingSpec,
    location: Vec<LocationEntry>,
    unknown_ani: Option<UnknownAniPolicy>,
}

impl Default for Head {
    fn default() -> Self {
        let gw = GatewaySpec::default();
        Head {
            name: String::new(),
            description: String::new(),
            org_id: DEFAULT_ORG_ID.to_owned(),
            ani_headers: gw.ani_headers,
            ani_source: AniHeader::PAssertedIdentity,
            tls: TlsProfile::any(),
            step_timeout: DEFAULT_STEP_TIMEOUT,
            settle: DEFAULT_SETTLE,
            route: RouteSpec::default(),
            probing: ProbingSpec::default(),
            location: Vec::new(),
            unknown_ani: None,
        }
    }
}

/// `[plan]`; `None` when it had a problem.
fn head(ctx: &mut Ctx<'_>, obj: &Obj<'_, '_>) -> Option<Head> {
    let before = ctx.problems.len();
    obj.deny_unknown(
        ctx,
        &[
            "name",
            "description",
            "org_id",
            "ani_headers",
            "ani_source",
            "tls_profile",
            "step_timeout",
            "settle",
            "route",
            "probing",
            "location",
            "unknown_ani",
        ],
    );
    let mut h = Head::default();
    let name = obj
        .require(ctx, "name", "the plan id, like \"genesys-byoc\"")
        .and_then(|f| slug(ctx, &f, "plan name"));
    let description = obj
        .require(
            ctx,
            "description",
            "one sentence saying what the plan certifies",
        )
        .and_then(|f| non_empty(ctx, &f));
    if let Some(f) = obj.get("org_id")
        && let Some(org) = string(ctx, &f).and_then(|s| uuid(ctx, &f, s))
    {
        h.org_id = org;
    }
    if let Some(f) = obj.get("ani_headers") {
        let options = AniHeader::ALL.map(|a| (a.header_name(), a));
        if let Some(v) = list(
            ctx,
            &f,
            "must name at least one header the gateway takes the ANI from",
            |ctx, f, s| super::values::choose(ctx, f, s, "ANI header", &options),
            |a, b| a == b,
            |h| format!("{h}"),
        ) {
            h.ani_headers = v;
        }
    }
    if let Some(f) = obj.get("ani_source") {
        let options = AniHeader::ALL.map(|a| (a.header_name(), a));
        if let Some(src) = choice(ctx, &f, "ANI header", &options) {
            if h.ani_headers.contains(&src) {
                h.ani_source = src;
            } else {
                ctx.report(
                    &f.span(),
                    &f.path,
                    ProblemKind::Conflict,
                    format!(
                        "the gateway never takes the ANI from {src}: add it to plan.ani_headers"
                    ),
                );
            }
        }
    } else if !h.ani_headers.contains(&h.ani_source) {
        h.ani_source = h.ani_headers[0];
    }
    if let Some(f) = obj.get("tls_profile")
        && let Some(t) = tls::tls_profile(ctx, &f)
    {
        h.tls = t;
    }
    if let Some(f) = obj.get("step_timeout")
        && let Some(d) = bounded(ctx, &f, MAX_STEP_TIMEOUT)
    {
        h.step_timeout = d;
    }
    if let Some(f) = obj.get("settle")
        && let Some(d) = bounded(ctx, &f, MAX_SETTLE)
    {
        h.settle = d;
    }
    if let Some(f) = obj.get("route")
        && let Some(r) = Obj::of(ctx, &f).and_then(|o| route::route(ctx, &o))
    {
        h.route = r;
    }
    if let Some(f) = obj.get("probing")
        && let Some(p) = Obj::of(ctx, &f).and_then(|o| probing(ctx, &o))
    {
        h.probing = p;
    }
    if let Some(f) = obj.get("location")
        && let Some(rows) = conformance::locations(ctx, &f)
    {
        h.location = rows;
    }
    if let Some(f) = obj.get("unknown_ani") {
        h.unknown_ani = conformance::unknown_ani(ctx, &f);
    }
    if ctx.problems.len() > before {
        return None;
    }
    h.name = name?;
    h.description = description?;
    Some(h)
}

/// A duration in `(0, max]`.
fn bounded(ctx: &mut Ctx<'_>, f: &Field<'_, '_>, max: Duration) -> Option<Duration> {
    let d = duration(ctx, f)?;
    if d.is_zero() || d > max {
        ctx.invalid(
            &f.span(),
            &f.path,
            format!(
                "must be more than 0 and at most {}",
                humantime::format_duration(max)
            ),
        );
        return None;
    }
    Some(d)
}

/// `[plan.probing]`.
fn probing(ctx: &mut Ctx<'_>, obj: &Obj<'_, '_>) -> Option<ProbingSpec> {
    let before = ctx.problems.len();
    obj.deny_unknown(ctx, &["required", "interval_max"]);
    let mut p = ProbingSpec::default();
    if let Some(f) = obj.get("required")
        && let Some(b) = boolean(ctx, &f)
    {
        p.required = b;
    }
    if let Some(f) = obj.get("interval_max") {
        p.interval_max = bounded(ctx, &f, Duration::from_secs(3600));
    }
    (ctx.problems.len() == before).then_some(p)
}

/// One `[[step]]`; `None` when it had a problem.
fn step(ctx: &mut Ctx<'_>, obj: &Obj<'_, '_>, head: &Head) -> Option<PlanStep> {
    let before = ctx.problems.len();
    obj.deny_unknown(
        ctx,
        &[
            "name",
            "say",
            "requirements",
            "dial",
            "ani",
            "calls",
            "timeout",
            "down",
            "caller",
            "fault",
            "expect",
        ],
    );
    let name = obj
        .require(ctx, "name", "the step id, like \"caller-site-ani\"")
        .and_then(|f| slug(ctx, &f, "step name"));
    let say = obj
        .require(
            ctx,
            "say",
            "what the operator does, like \"dial 911 from a shared phone\"",
        )
        .and_then(|f| non_empty(ctx, &f));
    let requirements = obj
        .require(
            ctx,
            "requirements",
            "the requirement ids this step gives evidence for",
        )
        .and_then(|f| requirement_ids(ctx, &f));
    let dial = obj
        .require(ctx, "dial", "the number the operator dials, like \"911\"")
        .and_then(|f| ani::dial(ctx, &f));
    let ani_field = obj.get("ani");
    let ani = ani_field.as_ref().and_then(|f| number(ctx, f));
    let caller: Option<Option<CallerSpec>> = match obj.get("caller") {
        Some(f) => Obj::of(ctx, &f)
            .and_then(|o| conformance::caller(ctx, &o))
            .map(Some),
        None => Some(None),
    };
    if let (Some(d), None, Some(None)) = (&dial, &ani_field, &caller)
        && crate::is_emergency_number(d)
    {
        ctx.report(
            &obj.span,
            &format!("{}.ani", obj.path),
            ProblemKind::MissingField,
            "a step that dials 911 or 933 must say which ANI must arrive: `ani`, or [step.caller] for the caller selection that supplies it (ICD 5.1.7)",
        );
    }
    let calls = match obj.get("calls") {
        Some(f) => integer(ctx, &f).and_then(|n| {
            if (1..=i64::from(MAX_STEP_CALLS)).contains(&n) {
                Some(n as u32)
            } else {
                ctx.invalid(
                    &f.span(),
                    &f.path,
                    format!("{n} is not a call count: expected 1 to {MAX_STEP_CALLS}"),
                );
                None
            }
        }),
        None => Some(1),
    };
    let timeout = match obj.get("timeout") {
        Some(f) => bounded(ctx, &f, MAX_STEP_TIMEOUT),
        None => Some(head.step_timeout),
    };
    let route = &head.route;
    let down_field = obj.get("down");
    let down = match &down_field {
        Some(f) => list(
            ctx,
            f,
            "must name at least one gateway (leave `down` out for none)",
            |ctx, f, _| {
                let g = gateway_name(ctx, f)?;
                if !route.gateways.contains(&g) {
                    ctx.report(
                        &f.span(),
                        &f.path,
                        ProblemKind::Conflict,
                        format!(
                            "{g} is not on the route (plan.route.gateways is [{}])",
                            route.gateways.join(", ")
                        ),
                    );
                    return None;
                }
                Some(g)
            },
            |a, b| a == b,
            |g| format!("gateway {g:?}"),
        ),
        None => Some(Vec::new()),
    };
    let fault_field = obj.get("fault");
    let faults = match &fault_field {
        Some(f) => route::faults(
            ctx,
            f,
            &FaultContext {
                route: Some(route),
                calls,
            },
        ),
        None => Some(Vec::new()),
    };
    if let (Some(f), Some(faults), Some(down)) = (&fault_field, &faults, &down) {
        fault_rules(ctx, f, faults, down);
    }
    let known = Known {
        dial: dial.as_deref(),
        gw_ani_headers: Some(&head.ani_headers),
        route: RouteKnown {
            route: Some(Some(route)),
            calls,
            has_outage: down.as_ref().is_some_and(|d| !d.is_empty()),
        },
    };
    let expect_field = obj.get("expect");
    let expect = match &expect_field {
        Some(f) => Obj::of(ctx, f).and_then(|o| expect::expectations(ctx, &o, &known)),
        None => Some(Default::default()),
    };
    if let (Some(e), Some(ef), Some(down)) = (&expect, &expect_field, &down)
        && e.failover_within.is_some()
        && let Some(first) = route.gateways.first()
        && down.contains(first)
        && let Some(o) = Obj::of(ctx, ef)
        && let Some(fw) = o.get("failover_within")
    {
        ctx.report(
            &fw.span(),
            &fw.path,
            ProblemKind::Conflict,
            format!("a failover time cannot be measured at the gateways while {first} is down: its refused connections are never seen (leave failover_within out; route.answered-by and route.attempts still judge the failover)"),
        );
    }
    if ctx.problems.len() > before {
        return None;
    }
    let (name, say, requirements, dial, calls, timeout, down, faults, caller, mut expect) = (
        name?,
        say?,
        requirements?,
        dial?,
        calls?,
        timeout?,
        down?,
        faults?,
        caller?,
        expect?,
    );
    if expect.ani_source.is_none() {
        expect.ani_source = Some(head.ani_source);
    }
    let mut states = BTreeMap::new();
    for g in &down {
        states.insert(
            g.clone(),
            GatewayState {
                capacity: None,
                outage: Some(Window {
                    from: Duration::ZERO,
                    until: timeout + head.settle + OUTAGE_MARGIN,
                }),
            },
        );
    }
    let scenario = Scenario {
        name,
        description: say.clone(),
        requirements,
        suites: vec![DEFAULT_SUITE.to_owned()],
        applicability: Default::default(),
        call: CallSpec {
            dial,
            ani: ani.clone().unwrap_or_default(),
            ani_in: vec![AniPlacement::From, AniPlacement::Pai],
            from_user: None,
            org_headers: vec![head.org_id.clone()],
            extra_headers: Vec::new(),
            hold: Duration::ZERO,
            timeout,
            abandon_after: None,
            gateway: route.gateways[0].clone(),
            location: None,
            tls: head.tls.clone(),
        },
        gateway: GatewaySpec {
            orgs: vec![head.org_id.clone()],
            ani_headers: head.ani_headers.clone(),
            unknown_org: UnknownOrgPolicy::Reject,
            unknown_ani: head.unknown_ani,
            location: head.location.clone(),
            tls: TlsProfile::any(),
            ring_time: std::time::Duration::ZERO,
            states,
        },
        route: Some(route.clone()),
        faults,
        health: None,
        run: RunSpec {
            calls,
            concurrency: 1,
        },
        expect,
        caller,
        media: crate::media::MediaSpec::default(),
        source: None,
    };
    if let Some(problem) = caller_problem(&scenario) {
        let at = ani_field.as_ref().map_or(obj.span.clone(), Field::span);
        ctx.report(
            &at,
            &format!("{}.ani", obj.path),
            ProblemKind::Conflict,
            problem.trim_start_matches("call.ani: ").to_owned(),
        );
        return None;
    }
    Some(PlanStep {
        say,
        timeout,
        down,
        scenario,
    })
}

/// What a plan asks more of faults than a scenario does: an originator's OPTIONS probes open
/// connections too, so a connection-level fault strikes every connection (counting them would
/// hit a probe instead of the call); and a fault on a gateway that is down is never met.
fn fault_rules(
    ctx: &mut Ctx<'_>,
    field: &Field<'_, '_>,
    faults: &[crate::route::FaultSpec],
    down: &[String],
) {
    let Some(items) = array(ctx, field) else {
        return;
    };
    for (item, f) in items.iter().zip(faults) {
        let Some(obj) = Obj::of(ctx, item) else {
            continue;
        };
        if f.kind.is_connection_level() && f.select != CallSelect::All {
            let at = ["calls", "every", "fraction"]
                .iter()
                .find_map(|k| obj.get(k))
                .map_or(item.span(), |s| s.span());
            ctx.report(
                &at,
                &item.path,
                ProblemKind::Conflict,
                "a connection-level fault in a plan strikes every connection: the originator's OPTIONS probes open connections too, so counting them would hit a probe instead of the call (leave `calls`, `every` and `fraction` out)",
            );
        }
        if down.contains(&f.gateway) {
            ctx.report(
                &item.span(),
                &format!("{}.gateway", item.path),
                ProblemKind::Conflict,
                format!(
                    "{} is down for this step (`down`), so this fault is never met",
                    f.gateway
                ),
            );
        }
    }
}
