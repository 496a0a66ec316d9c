//! Reads `[expect]`: what must be observed (status, answering gateway, org and ANI findings,
//! read-back, warning, routing) and the cross-section rules that tie it to `[call]`,
//! `[gateway]` and `[route]`. The ANI-policy and route expectations are read by `ani` and
//! `route`.

use crate::error::ProblemKind;
use crate::model::{AniHeader, Expect, OrgFinding, Readback};
use crate::walk::{Ctx, Obj, integer, string};

use super::values::{choice, gateway_name, non_empty, number, position, uuid};
use super::{Known, ani, route};

pub(super) fn expectations(
    ctx: &mut Ctx<'_>,
    obj: &Obj<'_, '_>,
    known: &Known<'_>,
) -> Option<Expect> {
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
            "media_findings",
            ani::EXPECT_KEYS[0],
            ani::EXPECT_KEYS[1],
            ani::EXPECT_KEYS[2],
        ],
    );
    let mut expect = Expect::default();
    ani::expectations(ctx, obj, &mut expect, known.dial);
    if let Some(f) = obj.get("media_findings") {
        expect.media_findings = super::media::findings(ctx, &f).map(Some).unwrap_or(None);
    }
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
