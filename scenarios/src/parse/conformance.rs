//! Reads the conformance sections of a scenario: `[caller]` (ICD 5.1.7) and the gateway's
//! location table (ICD 5.2).

use super::values::{choose, list, non_empty, number};
use crate::conformance::{
    CALLER_SOURCES, CallLocation, CallerOrder, CallerSpec, LocationEntry, LocationTable,
    UnknownAniPolicy,
};
use crate::error::ProblemKind;
use crate::walk::{Ctx, Field, Obj, array, boolean, string};

/// `[caller]`; `None` when it had a problem.
pub(crate) fn caller(ctx: &mut Ctx<'_>, obj: &Obj<'_, '_>) -> Option<CallerSpec> {
    let before = ctx.problems.len();
    obj.deny_unknown(
        ctx,
        &[
            "call_source_did",
            "user_did",
            "user_extension",
            "phone_tied_to_user",
            "site_ani",
            "trunk_ani",
            "order",
        ],
    );
    let mut source = |key: &str| obj.get(key).and_then(|f| maybe_empty_number(ctx, &f));
    let call_source_did = source("call_source_did");
    let user_did = source("user_did");
    let user_extension = source("user_extension");
    let site_ani = source("site_ani");
    let trunk_ani = source("trunk_ani");
    let phone_tied_to_user = obj
        .get("phone_tied_to_user")
        .map_or(Some(true), |f| boolean(ctx, &f));
    let order = match obj.get("order") {
        None => Some(CallerOrder::WithDids),
        Some(f) => order(ctx, &f),
    };
    let spec = CallerSpec {
        call_source_did,
        user_did,
        user_extension,
        phone_tied_to_user: phone_tied_to_user?,
        site_ani,
        trunk_ani,
        order: order?,
    };
    let any_number = [
        &spec.call_source_did,
        &spec.user_did,
        &spec.user_extension,
        &spec.site_ani,
        &spec.trunk_ani,
    ]
    .iter()
    .any(|n| n.as_deref().is_some_and(|s| !s.is_empty()));
    if ctx.problems.len() == before && !any_number {
        ctx.invalid(
            &obj.span,
            &obj.path,
            "names no number at all: give at least one of call_source_did, user_did, user_extension, site_ani, trunk_ani",
        );
    }
    (ctx.problems.len() == before).then_some(spec)
}

/// A number string, or `""` for a source that is configured but empty.
fn maybe_empty_number(ctx: &mut Ctx<'_>, field: &Field<'_, '_>) -> Option<String> {
    if string(ctx, field)?.is_empty() {
        return Some(String::new());
    }
    number(ctx, field)
}

fn order(ctx: &mut Ctx<'_>, field: &Field<'_, '_>) -> Option<CallerOrder> {
    if let Some(s) = field.value.get_ref().as_str() {
        let options = [
            ("with-dids", CallerOrder::WithDids),
            ("without-dids", CallerOrder::WithoutDids),
        ];
        let names = options.clone().map(|(n, _)| (n, n));
        return choose(ctx, field, s, "caller order", &names)
            .and_then(|n| options.into_iter().find(|(o, _)| *o == n).map(|(_, v)| v));
    }
    let sources = CALLER_SOURCES.map(|s| (s, s));
    list(
        ctx,
        field,
        "must name at least one source: \"call-source\", \"user-extension\", \"site-ani\", \"trunk-ani\" (or use \"with-dids\" / \"without-dids\")",
        |ctx, f, s| choose(ctx, f, s, "caller source", &sources).map(str::to_owned),
        |a, b| a == b,
        |s| format!("\"{s}\""),
    )
    .map(CallerOrder::Custom)
}

/// `[[gateway.location]]` rows; `None` when one had a problem.
pub(crate) fn locations(ctx: &mut Ctx<'_>, field: &Field<'_, '_>) -> Option<Vec<LocationEntry>> {
    let before = ctx.problems.len();
    let mut out: Vec<LocationEntry> = Vec::new();
    for item in array(ctx, field)? {
        let Some(obj) = Obj::of(ctx, &item) else {
            continue;
        };
        obj.deny_unknown(ctx, &LOCATION_KEYS);
        let mut e = LocationEntry::default();
        if let Some(f) = obj.require(ctx, "ani", "the caller's number or alternate id")
            && let Some(n) = number(ctx, &f)
        {
            if out.iter().any(|o| o.ani == n) {
                ctx.report(
                    &f.span(),
                    &f.path,
                    ProblemKind::Duplicate,
                    format!("{n:?} has two rows in the location table"),
                );
            }
            e.ani = n;
        }
        e.address = address(ctx, &obj);
        if let Some(v) = obj
            .require(ctx, "psap", "a dispatchable address needs it")
            .and_then(|f| non_empty(ctx, &f))
        {
            e.psap = v;
        }
        out.push(e);
    }
    (ctx.problems.len() == before).then_some(out)
}

const LOCATION_KEYS: [&str; 11] = [
    "ani", "country", "a1", "a3", "rd", "sts", "hno", "flr", "room", "pc", "psap",
];

/// `gateway.unknown_ani`: `"fallback"`, `"reject"` (404) or `"reject NNN"`.
pub(crate) fn unknown_ani(ctx: &mut Ctx<'_>, field: &Field<'_, '_>) -> Option<UnknownAniPolicy> {
    let s = string(ctx, field)?;
    let policy = match s.split_once(' ') {
        None if s == "fallback" => Some(UnknownAniPolicy::Fallback),
        None if s == "reject" => Some(UnknownAniPolicy::Reject(404)),
        Some(("reject", code)) => code
            .parse::<u16>()
            .ok()
            .filter(|c| (400..=699).contains(c))
            .map(UnknownAniPolicy::Reject),
        _ => None,
    };
    if policy.is_none() {
        ctx.invalid(
            &field.span(),
            &field.path,
            format!("unknown ANI policy {s:?}: expected \"fallback\", \"reject\" (404) or \"reject NNN\" with a status 400 to 699"),
        );
    }
    policy
}

/// A location-table file: `unknown_ani = "..."` (optional) and `[[location]]` rows, read with
/// the same rules and positioned problems as `[[gateway.location]]`.
pub(crate) fn location_file(
    ctx: &mut Ctx<'_>,
    doc: &toml::Spanned<toml::de::DeTable<'_>>,
) -> Option<LocationTable> {
    let before = ctx.problems.len();
    let root = Obj::root(doc);
    root.deny_unknown(ctx, &["location", "unknown_ani"]);
    let entries = root
        .require(ctx, "location", "the table's rows, as [[location]] tables")
        .and_then(|f| locations(ctx, &f));
    let unknown_ani = root.get("unknown_ani").map(|f| unknown_ani(ctx, &f));
    (ctx.problems.len() == before).then(|| LocationTable {
        entries: entries.unwrap_or_default(),
        unknown_ani: unknown_ani.flatten().unwrap_or_default(),
    })
}

/// The civic-address keys of `obj` (both `call.location` and a location-table row): country,
/// A1, A3, RD and HNO are required, the others optional; every value non-empty.
fn address(ctx: &mut Ctx<'_>, obj: &Obj<'_, '_>) -> CallLocation {
    let mut l = CallLocation::default();
    for key in &LOCATION_KEYS[1..10] {
        let required = matches!(*key, "country" | "a1" | "a3" | "rd" | "hno");
        let f = if required {
            obj.require(ctx, key, "a dispatchable address needs it")
        } else {
            obj.get(key)
        };
        let Some(v) = f.and_then(|f| non_empty(ctx, &f)) else {
            continue;
        };
        *match *key {
            "country" => &mut l.country,
            "a1" => &mut l.a1,
            "a3" => &mut l.a3,
            "rd" => &mut l.rd,
            "sts" => &mut l.sts,
            "hno" => &mut l.hno,
            "flr" => &mut l.flr,
            "room" => &mut l.room,
            _ => &mut l.pc,
        } = v;
    }
    l
}

/// `call.location` (RFC 6442 by value); `None` when it had a problem.
pub(crate) fn call_location(ctx: &mut Ctx<'_>, field: &Field<'_, '_>) -> Option<CallLocation> {
    let before = ctx.problems.len();
    let obj = Obj::of(ctx, field)?;
    obj.deny_unknown(ctx, &LOCATION_KEYS[1..10]);
    let l = address(ctx, &obj);
    (ctx.problems.len() == before).then_some(l)
}
