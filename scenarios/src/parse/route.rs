//! Reads the failover sections of a scenario (`[route]`, `[[fault]]`, `[gateway.gwN]`,
//! `[health]`, `[run]`) and the route expectations, with every rule of
//! docs/scenario-format.md ("Failover"). Like `parse`, it reports every problem with its
//! position and returns a value only when its part had none.

use std::time::Duration;

use super::values::{choice, duration, gateway_name, list, position};
use crate::error::ProblemKind;
use crate::media::MediaFault;
use crate::model::{Expect, GATEWAY_NAMES, GatewaySpec};
use crate::route::{
    CallSelect, Distribution, FaultKind, FaultSpec, FaultWhen, Fraction, GatewayState, HealthSpec,
    MAX_CALLS, MAX_CONCURRENCY, RandomSplit, RouteSpec, RunSpec, TlsFaultKind, Window,
    parse_percent,
};
use crate::walk::{Ctx, Field, Obj, array, boolean, deny_duplicates, float, integer, string};

/// Longest `attempt_timeout`: RFC 3261 Timer B (64*T1).
const MAX_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(32);
/// Longest fault delay, outage bound or probe interval.
const MAX_FAULT_TIME: Duration = Duration::from_secs(600);
/// Fewest calls a random split can be judged on.
pub(crate) const MIN_SPLIT_CALLS: u32 = 20;

/// The failover sections; each `None` when it had a problem. `route` is `Some(None)` when
/// there is no `[route]`, as are `health`, and `faults` is empty without `[[fault]]`.
#[derive(Debug)]
pub(crate) struct FailoverPart {
    pub route: Option<Option<RouteSpec>>,
    pub faults: Option<Vec<FaultSpec>>,
    pub health: Option<Option<HealthSpec>>,
    pub run: Option<RunSpec>,
}

pub(crate) fn failover_sections(
    ctx: &mut Ctx<'_>,
    root: &Obj<'_, '_>,
    gateway: Option<&GatewaySpec>,
) -> FailoverPart {
    let run = match root.get("run") {
        Some(f) => Obj::of(ctx, &f).and_then(|o| run(ctx, &o)),
        None => Some(RunSpec::default()),
    };
    let route = match root.get("route") {
        Some(f) => Obj::of(ctx, &f).and_then(|o| route(ctx, &o)).map(Some),
        None => Some(None),
    };
    // With a route, the route decides where each call goes first: call.gateway may only
    // repeat the route's first gateway (as a resolved scenario writes it).
    if let Some(Some(r)) = &route
        && let Some(cf) = root.get("call")
        && cf.value.get_ref().is_table()
        && let Some(obj) = Obj::of(ctx, &cf)
        && let Some(gf) = obj.get("gateway")
        && gf.value.get_ref().as_str() != r.gateways.first().map(String::as_str)
    {
        let first = r.gateways.first().cloned().unwrap_or_default();
        ctx.report(
            &gf.span(),
            &gf.path,
            ProblemKind::Conflict,
            format!("call.gateway contradicts [route], whose first gateway is {first}: the route's gateways and distribution decide where a call goes first (leave call.gateway out)"),
        );
    }
    let faults = match root.get("fault") {
        Some(f) => {
            let route_ref = route.as_ref().and_then(Option::as_ref);
            let fc = FaultContext {
                route: route_ref,
                calls: run.map(|r| r.calls),
            };
            faults(ctx, &f, &fc)
        }
        None => Some(Vec::new()),
    };
    let health = match root.get("health") {
        Some(f) => {
            let h = Obj::of(ctx, &f).and_then(|o| health(ctx, &o));
            if route.as_ref().is_some_and(Option::is_none) {
                ctx.report(
                    &f.span(),
                    &f.path,
                    ProblemKind::Conflict,
                    "health probing steers the outbound route, but the scenario has no [route] section",
                );
            }
            h.map(Some)
        }
        None => Some(None),
    };
    let has_state = gateway.is_some_and(|g| !g.states.is_empty());
    let has_faults = faults.as_ref().is_some_and(|f| !f.is_empty());
    if (has_state || has_faults) && route.as_ref().is_some_and(Option::is_none) {
        ctx.report(
            &root.span,
            "route",
            ProblemKind::MissingField,
            "the scenario injects gateway faults but has no [route] section to say how calls fail over (add `[route]` for the defaults)",
        );
    }
    FailoverPart {
        route,
        faults,
        health,
        run,
    }
}

/// An integer in `lo..=hi`, or a problem saying so.
fn int_in(ctx: &mut Ctx<'_>, field: &Field<'_, '_>, lo: i64, hi: i64, what: &str) -> Option<i64> {
    let n = integer(ctx, field)?;
    if (lo..=hi).contains(&n) {
        return Some(n);
    }
    ctx.invalid(
        &field.span(),
        &field.path,
        format!("{n} is not {what}: expected {lo} to {hi}"),
    );
    None
}

/// A duration in `(0, max]`.
fn positive_duration(ctx: &mut Ctx<'_>, field: &Field<'_, '_>, max: Duration) -> Option<Duration> {
    let d = duration(ctx, field)?;
    if d.is_zero() || d > max {
        let message = format!(
            "must be more than 0 and at most {}",
            humantime::format_duration(max)
        );
        ctx.invalid(&field.span(), &field.path, message);
        return None;
    }
    Some(d)
}

/// A possibly empty list of distinct integers in `lo..=hi`.
fn codes(
    ctx: &mut Ctx<'_>,
    field: &Field<'_, '_>,
    lo: i64,
    hi: i64,
    what: &str,
) -> Option<Vec<u16>> {
    let before = ctx.problems.len();
    let mut items = Vec::new();
    for item in array(ctx, field)? {
        if let Some(n) = int_in(ctx, &item, lo, hi, what) {
            items.push((item, n as u16));
        }
    }
    deny_duplicates(ctx, &items, |a, b| a == b, |c| format!("{what} {c}"));
    (ctx.problems.len() == before).then(|| items.into_iter().map(|(_, c)| c).collect())
}

/// `[route]`.
pub(crate) fn route(ctx: &mut Ctx<'_>, obj: &Obj<'_, '_>) -> Option<RouteSpec> {
    let before = ctx.problems.len();
    obj.deny_unknown(
        ctx,
        &[
            "gateways",
            "distribution",
            "seed",
            "retry_on_status",
            "retry_on_q850",
            "attempt_timeout",
        ],
    );
    let mut spec = RouteSpec::default();
    if let Some(f) = obj.get("gateways")
        && let Some(g) = list(
            ctx,
            &f,
            "must name at least one gateway: \"gw1\", \"gw2\"",
            |ctx, f, _| gateway_name(ctx, f),
            |a, b| a == b,
            |g| format!("gateway {g:?}"),
        )
    {
        spec.gateways = g;
    }
    let dist_field = obj.get("distribution");
    if let Some(f) = &dist_field {
        let options = [
            ("sequential", Distribution::Sequential),
            ("random", Distribution::Random),
        ];
        if let Some(d) = choice(ctx, f, "distribution", &options) {
            spec.distribution = d;
        }
    }
    if let Some(f) = obj.get("seed") {
        spec.seed = int_in(ctx, &f, 0, i64::MAX, "a seed").map(|n| n as u64);
        if spec.distribution != Distribution::Random {
            ctx.report(
                &f.span(),
                &f.path,
                ProblemKind::Conflict,
                "a seed only applies to distribution = \"random\"",
            );
        }
    }
    // A 2xx ends the call and a 1xx is never final, so only 300..=699 can be retried.
    if let Some(f) = obj.get("retry_on_status")
        && let Some(c) = codes(ctx, &f, 300, 699, "a final failure status")
    {
        spec.retry_on_status = c;
    }
    if let Some(f) = obj.get("retry_on_q850")
        && let Some(c) = codes(ctx, &f, 1, 127, "a Q.850 cause")
    {
        spec.retry_on_q850 = c;
    }
    if let Some(f) = obj.get("attempt_timeout")
        && let Some(d) = positive_duration(ctx, &f, MAX_ATTEMPT_TIMEOUT)
    {
        spec.attempt_timeout = d;
    }
    (ctx.problems.len() == before).then_some(spec)
}

/// `[health]`.
pub(crate) fn health(ctx: &mut Ctx<'_>, obj: &Obj<'_, '_>) -> Option<HealthSpec> {
    let before = ctx.problems.len();
    obj.deny_unknown(ctx, &["interval", "down_after", "up_after"]);
    let mut spec = HealthSpec::default();
    if let Some(f) = obj.get("interval")
        && let Some(d) = positive_duration(ctx, &f, MAX_FAULT_TIME)
    {
        spec.interval = d;
    }
    for (key, slot) in [
        ("down_after", &mut spec.down_after),
        ("up_after", &mut spec.up_after),
    ] {
        if let Some(f) = obj.get(key)
            && let Some(n) = int_in(ctx, &f, 1, 100, "a probe count")
        {
            *slot = n as u32;
        }
    }
    (ctx.problems.len() == before).then_some(spec)
}

/// `[run]`.
pub(crate) fn run(ctx: &mut Ctx<'_>, obj: &Obj<'_, '_>) -> Option<RunSpec> {
    let before = ctx.problems.len();
    obj.deny_unknown(ctx, &["calls", "concurrency"]);
    let mut spec = RunSpec::default();
    if let Some(f) = obj.get("calls")
        && let Some(n) = int_in(ctx, &f, 1, i64::from(MAX_CALLS), "a call count")
    {
        spec.calls = n as u32;
    }
    if let Some(f) = obj.get("concurrency") {
        let max = spec.calls.min(MAX_CONCURRENCY);
        if let Some(n) = int_in(
            ctx,
            &f,
            1,
            i64::from(max),
            "a concurrency for this many calls",
        ) {
            spec.concurrency = n as u32;
        }
    }
    (ctx.problems.len() == before).then_some(spec)
}

/// `[gateway.gwN]`: capacity and outage.
pub(crate) fn gateway_state(ctx: &mut Ctx<'_>, obj: &Obj<'_, '_>) -> Option<GatewayState> {
    let before = ctx.problems.len();
    obj.deny_unknown(ctx, &["capacity", "outage"]);
    let mut state = GatewayState::default();
    if let Some(f) = obj.get("capacity") {
        // 0 would refuse every call: that is a `respond` fault, not a capacity.
        state.capacity = int_in(ctx, &f, 1, 100_000, "a capacity").map(|n| n as u32);
    }
    if let Some(f) = obj.get("outage")
        && let Some(w) = Obj::of(ctx, &f)
    {
        w.deny_unknown(ctx, &["from", "until"]);
        let from = w.require(ctx, "from", "when the outage starts, like \"0s\"");
        let until = w.require(ctx, "until", "when the outage ends, like \"2s\"");
        let from_d = from.as_ref().and_then(|f| duration(ctx, f));
        let until_d = until.as_ref().and_then(|f| duration(ctx, f));
        if let (Some(a), Some(b), Some(uf)) = (from_d, until_d, &until) {
            if b <= a {
                let message = format!(
                    "the window ends ({}) before it starts ({})",
                    humantime::format_duration(b),
                    humantime::format_duration(a)
                );
                ctx.report(&uf.span(), &uf.path, ProblemKind::Conflict, message);
            } else if b > MAX_FAULT_TIME {
                ctx.invalid(&uf.span(), &uf.path, "an outage must end within 10min");
            } else {
                state.outage = Some(Window { from: a, until: b });
            }
        }
    }
    (ctx.problems.len() == before).then_some(state)
}

/// Fields each fault kind accepts besides `gateway`, `kind` and the selection.
const KIND_FIELDS: &[(&str, &[&str])] = &[
    ("respond", &["status", "reason", "q850", "retry_after"]),
    ("delay", &["delay"]),
    ("trying-then-silence", &[]),
    ("silence", &[]),
    ("close", &["when"]),
    ("reset", &["when"]),
    ("tls", &["tls"]),
    ("media", &["media", "delay"]),
];

/// What the fault rules need to know from elsewhere in the file.
#[derive(Debug)]
pub(crate) struct FaultContext<'a> {
    pub route: Option<&'a RouteSpec>,
    pub calls: Option<u32>,
}

/// `[[fault]]` entries.
pub(crate) fn faults(
    ctx: &mut Ctx<'_>,
    field: &Field<'_, '_>,
    known: &FaultContext<'_>,
) -> Option<Vec<FaultSpec>> {
    let before = ctx.problems.len();
    let mut out = Vec::new();
    for item in array(ctx, field)? {
        if let Some(obj) = Obj::of(ctx, &item)
            && let Some(f) = fault(ctx, &obj, known)
        {
            out.push(f);
        }
    }
    (ctx.problems.len() == before).then_some(out)
}

fn fault(ctx: &mut Ctx<'_>, obj: &Obj<'_, '_>, known: &FaultContext<'_>) -> Option<FaultSpec> {
    let before = ctx.problems.len();
    let mut allowed = vec!["gateway", "kind", "calls", "every", "fraction", "seed"];
    for (_, fields) in KIND_FIELDS {
        allowed.extend_from_slice(fields);
    }
    obj.deny_unknown(ctx, &allowed);
    let gateway = obj
        .require(ctx, "gateway", "the faulty gateway, \"gw1\" or \"gw2\"")
        .and_then(|f| {
            let g = gateway_name(ctx, &f)?;
            if let Some(route) = known.route
                && !route.gateways.contains(&g)
            {
                let message = format!(
                    "{g} is not on the route (route.gateways is [{}]), so this fault would never be met",
                    route.gateways.join(", ")
                );
                ctx.report(&f.span(), &f.path, ProblemKind::Conflict, message);
                return None;
            }
            Some(g)
        });
    let kind_field = obj.require(ctx, "kind", "what the gateway does, like \"respond\"");
    let options = FaultKind::NAMES.map(|n| (n, n));
    let kind_name = kind_field
        .as_ref()
        .and_then(|f| choice(ctx, f, "fault kind", &options));
    // Fields of another kind contradict this one.
    if let Some(name) = kind_name {
        let own = KIND_FIELDS
            .iter()
            .find(|(k, _)| *k == name)
            .map_or(&[][..], |(_, f)| f);
        for (other, fields) in KIND_FIELDS {
            for key in *fields {
                if own.contains(key) {
                    continue;
                }
                if let Some(f) = obj.get(key) {
                    let message =
                        format!("`{key}` applies to kind = \"{other}\", not kind = \"{name}\"");
                    ctx.report(&f.span(), &f.path, ProblemKind::Conflict, message);
                }
            }
        }
    }
    let kind = kind_name.and_then(|name| fault_kind(ctx, obj, name));
    let select = select(ctx, obj, known.calls);
    if ctx.problems.len() > before {
        return None;
    }
    Some(FaultSpec {
        gateway: gateway?,
        kind: kind?,
        select: select?,
    })
}

fn fault_kind(ctx: &mut Ctx<'_>, obj: &Obj<'_, '_>, name: &str) -> Option<FaultKind> {
    let when = |ctx: &mut Ctx<'_>| match obj.get("when") {
        Some(f) => choice(
            ctx,
            &f,
            "fault time",
            &[
                ("before-invite", FaultWhen::BeforeInvite),
                ("after-invite", FaultWhen::AfterInvite),
            ],
        ),
        None => Some(FaultWhen::AfterInvite),
    };
    Some(match name {
        "respond" => {
            let status = obj
                .require(ctx, "status", "the failure status to answer, like 503")
                .and_then(|f| int_in(ctx, &f, 300, 699, "a failure status"));
            let reason = obj.get("reason").and_then(|f| {
                let s = string(ctx, &f)?;
                let ok = !s.trim().is_empty() && !s.chars().any(|c| c.is_control());
                if !ok {
                    ctx.invalid(
                        &f.span(),
                        &f.path,
                        "a reason phrase is non-blank text without control characters",
                    );
                }
                ok.then(|| s.to_owned())
            });
            let q850 = obj
                .get("q850")
                .map(|f| int_in(ctx, &f, 1, 127, "a Q.850 cause"));
            let retry_after = obj
                .get("retry_after")
                .map(|f| int_in(ctx, &f, 0, 86_400, "a Retry-After in seconds"));
            FaultKind::Respond {
                status: status? as u16,
                reason,
                q850: match q850 {
                    Some(c) => Some(c? as u16),
                    None => None,
                },
                retry_after: match retry_after {
                    Some(r) => Some(r? as u32),
                    None => None,
                },
            }
        }
        "delay" => {
            let d = obj
                .require(ctx, "delay", "how long before answering, like \"2s\"")
                .and_then(|f| positive_duration(ctx, &f, MAX_FAULT_TIME));
            FaultKind::Delay(d?)
        }
        "trying-then-silence" => FaultKind::TryingThenSilence,
        "silence" => FaultKind::Silence,
        "close" => FaultKind::Close(when(ctx)?),
        "reset" => FaultKind::Reset(when(ctx)?),
        "tls" => {
            let options = TlsFaultKind::ALL.map(|t| (t.as_str(), t));
            let t = obj
                .require(ctx, "tls", "which handshake fault, like \"untrusted\"")
                .and_then(|f| choice(ctx, &f, "tls fault", &options));
            FaultKind::Tls(t?)
        }
        "media" => {
            let options = MediaFault::NAMES.map(|n| (n, n));
            let name = obj
                .require(
                    ctx,
                    "media",
                    "what goes wrong with the media, like \"none\"",
                )
                .and_then(|f| choice(ctx, &f, "media fault", &options))?;
            let delay = obj.get("delay");
            if name != "late"
                && let Some(f) = &delay
            {
                let message = "`delay` applies to media = \"late\" only".to_owned();
                ctx.report(&f.span(), &f.path, ProblemKind::Conflict, message);
                return None;
            }
            FaultKind::Media(match name {
                "none" => MediaFault::None,
                "wrong-port" => MediaFault::WrongPort,
                "wrong-key" => MediaFault::WrongKey,
                "plain-rtp" => MediaFault::PlainRtp,
                _ => {
                    let d = obj
                        .require(
                            ctx,
                            "delay",
                            "how long after the 200 OK media starts, like \"1s\"",
                        )
                        .and_then(|f| positive_duration(ctx, &f, MAX_FAULT_TIME));
                    MediaFault::Late(d?)
                }
            })
        }
        _ => return None,
    })
}

/// `calls`, `every` or `fraction` (+ `seed`); none of them means every call.
fn select(ctx: &mut Ctx<'_>, obj: &Obj<'_, '_>, calls: Option<u32>) -> Option<CallSelect> {
    let given: Vec<Field<'_, '_>> = ["calls", "every", "fraction"]
        .iter()
        .filter_map(|k| obj.get(k))
        .collect();
    if given.len() > 1 {
        let first = &given[0];
        for f in &given[1..] {
            let message = format!(
                "choose one of `calls`, `every`, `fraction` ({} is already given at {})",
                first.path,
                position(ctx, &first.span())
            );
            ctx.report(&f.span(), &f.path, ProblemKind::Conflict, message);
        }
        return None;
    }
    let seed = obj.get("seed");
    let fraction_given = given.first().is_some_and(|f| f.path.ends_with("fraction"));
    if let Some(s) = &seed
        && !fraction_given
    {
        ctx.report(
            &s.span(),
            &s.path,
            ProblemKind::Conflict,
            "a seed only applies with `fraction`",
        );
        return None;
    }
    let Some(f) = given.into_iter().next() else {
        return Some(CallSelect::All);
    };
    let max = calls.map_or(i64::from(MAX_CALLS), i64::from);
    if f.path.ends_with("every") {
        return int_in(ctx, &f, 1, max, "a call interval").map(|n| CallSelect::Every(n as u64));
    }
    if f.path.ends_with("fraction") {
        let p = float(ctx, &f)?;
        if !(0.0..=1.0).contains(&p) {
            ctx.invalid(
                &f.span(),
                &f.path,
                format!("{p} is not a fraction: expected 0 to 1"),
            );
            return None;
        }
        let seed = match &seed {
            Some(s) => int_in(ctx, s, 0, i64::MAX, "a seed")? as u64,
            None => 0,
        };
        return Some(CallSelect::Fraction {
            p: Fraction(p),
            seed,
        });
    }
    // `calls`: "all" or a list of call numbers.
    if let Some(s) = f.value.get_ref().as_str() {
        if s == "all" {
            return Some(CallSelect::All);
        }
        ctx.invalid(
            &f.span(),
            &f.path,
            format!("{s:?} is not a selection: use \"all\" or a list of call numbers like [1, 3]"),
        );
        return None;
    }
    let before = ctx.problems.len();
    let mut items = Vec::new();
    for item in array(ctx, &f)? {
        if let Some(n) = int_in(ctx, &item, 1, max, "a call number of this scenario") {
            items.push((item, n as u64));
        }
    }
    deny_duplicates(ctx, &items, |a, b| a == b, |n| format!("call {n}"));
    if items.is_empty() && ctx.problems.len() == before {
        ctx.invalid(
            &f.span(),
            &f.path,
            "must name at least one call (leave `calls` out for every call)",
        );
    }
    (ctx.problems.len() == before)
        .then(|| CallSelect::Calls(items.into_iter().map(|(_, n)| n).collect()))
}

/// What the route expectations need to know from elsewhere in the file. `route` is
/// `Some(None)` when `[route]` is present but invalid (its own problems are already reported).
#[derive(Debug)]
pub(crate) struct RouteKnown<'a> {
    pub route: Option<Option<&'a RouteSpec>>,
    pub calls: Option<u32>,
    pub has_outage: bool,
}

/// The route expectations, written into `expect`.
pub(crate) fn route_expectations(
    ctx: &mut Ctx<'_>,
    obj: &Obj<'_, '_>,
    expect: &mut Expect,
    known: &RouteKnown<'_>,
) {
    let needs_route = |ctx: &mut Ctx<'_>, f: &Field<'_, '_>| {
        if known.route.is_none() {
            ctx.report(
                &f.span(),
                &f.path,
                ProblemKind::Conflict,
                "judges the outbound route, but the scenario has no [route] section",
            );
        }
    };
    let route = known.route.flatten();
    let attempts_field = obj.get("attempts");
    if let Some(f) = &attempts_field {
        needs_route(ctx, f);
        let max = route.map_or(GATEWAY_NAMES.len(), |r| r.gateways.len()) as i64;
        expect.attempts =
            int_in(ctx, f, 1, max, "an attempt count on this route").map(|n| n as u32);
    }
    let no_retry_field = obj.get("no_retry");
    if let Some(f) = &no_retry_field {
        needs_route(ctx, f);
        expect.no_retry = boolean(ctx, f);
        if expect.no_retry == Some(true)
            && let (Some(n), Some(af)) = (expect.attempts, &attempts_field)
            && n > 1
        {
            let message = format!(
                "no_retry = true contradicts attempts = {n} (at {})",
                position(ctx, &af.span())
            );
            ctx.report(&f.span(), &f.path, ProblemKind::Conflict, message);
        }
    }
    let single = expect.no_retry == Some(true) || expect.attempts == Some(1);
    if let Some(f) = obj.get("failover_within") {
        needs_route(ctx, &f);
        expect.failover_within = positive_duration(ctx, &f, MAX_FAULT_TIME);
        if single {
            ctx.report(
                &f.span(),
                &f.path,
                ProblemKind::Conflict,
                "a failover time needs a second attempt, but the scenario expects only one",
            );
        }
    }
    match obj.get("identical_retry") {
        Some(f) => {
            needs_route(ctx, &f);
            expect.identical_retry = boolean(ctx, &f);
            if expect.identical_retry == Some(true) && single {
                ctx.report(
                    &f.span(),
                    &f.path,
                    ProblemKind::Conflict,
                    "identical_retry compares a retried INVITE, but the scenario expects only one attempt",
                );
            }
        }
        None if expect.attempts.is_some_and(|n| n > 1) => expect.identical_retry = Some(true),
        None => {}
    }
    if let Some(f) = obj.get("random_split") {
        needs_route(ctx, &f);
        expect.random_split = random_split(ctx, &f, route, known.calls);
    }
    if let Some(f) = obj.get("outage_failed_max") {
        needs_route(ctx, &f);
        let max = known.calls.map_or(i64::from(MAX_CALLS), i64::from);
        expect.outage_failed_max = int_in(ctx, &f, 0, max, "a call count").map(|n| n as u32);
        if !known.has_outage {
            ctx.report(
                &f.span(),
                &f.path,
                ProblemKind::Conflict,
                "no gateway has an outage: set [gateway.gw1] outage = { from, until }",
            );
        }
    }
    if let Some(f) = obj.get("long_path_max") {
        needs_route(ctx, &f);
        let max = known.calls.map_or(i64::from(MAX_CALLS), i64::from);
        expect.long_path_max = int_in(ctx, &f, 0, max, "a call count").map(|n| n as u32);
    }
}

fn random_split(
    ctx: &mut Ctx<'_>,
    field: &Field<'_, '_>,
    route: Option<&RouteSpec>,
    calls: Option<u32>,
) -> Option<RandomSplit> {
    let obj = Obj::of(ctx, field)?;
    let before = ctx.problems.len();
    obj.deny_unknown(ctx, &["gateway", "within"]);
    let gateway = obj
        .require(ctx, "gateway", "the gateway whose share is counted")
        .and_then(|f| {
            let g = gateway_name(ctx, &f)?;
            if let Some(r) = route
                && !r.gateways.contains(&g)
            {
                let message = format!("{g} is not on the route");
                ctx.report(&f.span(), &f.path, ProblemKind::Conflict, message);
            }
            Some(g)
        });
    let within_ppm = match obj.get("within") {
        Some(f) => string(ctx, &f).and_then(|s| {
            let p = parse_percent(s);
            if p.is_none() {
                ctx.invalid(
                    &f.span(),
                    &f.path,
                    format!("{s:?} is not a confidence: expected a percentage between 0% and 100%, like \"99.9%\""),
                );
            }
            p
        }),
        None => Some(999_000),
    };
    if let Some(r) = route
        && r.distribution != Distribution::Random
    {
        ctx.report(
            &field.span(),
            &field.path,
            ProblemKind::Conflict,
            "a random split needs route.distribution = \"random\"",
        );
    }
    if let Some(n) = calls
        && n < MIN_SPLIT_CALLS
    {
        let message = format!(
            "a split over {n} call(s) proves nothing: set [run] calls to at least {MIN_SPLIT_CALLS}"
        );
        ctx.report(&field.span(), &field.path, ProblemKind::Conflict, message);
    }
    if ctx.problems.len() > before {
        return None;
    }
    Some(RandomSplit {
        gateway: gateway?,
        within_ppm: within_ppm?,
    })
}
