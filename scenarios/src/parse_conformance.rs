//! Reads the conformance sections of a scenario: `[caller]` (ICD 5.1.7).

use crate::conformance::{CALLER_SOURCES, CallerOrder, CallerSpec};
use crate::parse::{choose, list, number};
use crate::walk::{Ctx, Field, Obj, boolean, string};

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
