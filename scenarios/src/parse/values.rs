//! The value readers every section shares: names, non-empty strings, lists without duplicates,
//! closed choices with a "did you mean", telephone numbers, UUIDs, durations, gateway names,
//! header text, and the `line:column` of a second place a message points at. Each reports its
//! problem at the field and returns `None`.

use std::ops::Range;
use std::time::Duration;

use crate::model::{DEFAULT_ORG_ID, GATEWAY_NAMES, is_canonical_uuid};
use crate::walk::{Ctx, Field, deny_duplicates, string, strings};

const MAX_NAME_LEN: usize = 64;
pub(crate) const MAX_NUMBER_DIGITS: usize = 20;

/// A scenario or suite name: lowercase letters, digits and `-`, at most 64 characters.
pub(super) fn slug(ctx: &mut Ctx<'_>, field: &Field<'_, '_>, what: &str) -> Option<String> {
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

pub(super) fn uuid(ctx: &mut Ctx<'_>, field: &Field<'_, '_>, s: &str) -> Option<String> {
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
pub(super) fn header_text(ctx: &mut Ctx<'_>, field: &Field<'_, '_>, s: &str) -> bool {
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

/// `line:column` of a span start, for messages that point at a second place.
pub(crate) fn position(ctx: &Ctx<'_>, span: &Range<usize>) -> String {
    let (line, column) = crate::error::line_column(ctx.text, span.start);
    format!("{line}:{column}")
}
