//! Reads the ANI policy expectations (ICD 5.1.7: `expect.ani_findings`, `expect.ani_form`) and
//! the dial-string parts (ICD 5.2: `call.dial` with an RFC 3966 `phone-context`,
//! `expect.dialed`).

use super::values::{MAX_NUMBER_DIGITS, choice, choose, number};
use crate::ani::{AniFinding, AniForm, dialled_number};
use crate::error::ProblemKind;
use crate::model::Expect;
use crate::walk::{Ctx, Field, Obj, deny_duplicates, string, strings};

/// The `[expect]` keys read here.
pub(crate) const EXPECT_KEYS: [&str; 3] = ["ani_findings", "ani_form", "dialed"];

/// Reads `ani_findings`, `ani_form` and `dialed` into `expect`; `dial` is `call.dial` when it
/// could be read (`expect.dialed` must be its number).
pub(crate) fn expectations(
    ctx: &mut Ctx<'_>,
    obj: &Obj<'_, '_>,
    expect: &mut Expect,
    dial: Option<&str>,
) {
    if let Some(f) = obj.get("ani_findings") {
        expect.ani_findings = findings(ctx, &f);
    }
    if let Some(f) = obj.get("ani_form") {
        let options = AniForm::ALL.map(|a| (a.as_str(), a));
        expect.ani_form = choice(ctx, &f, "ANI form", &options);
    }
    if let Some(f) = obj.get("dialed") {
        expect.dialed = number(ctx, &f);
        if let (Some(want), Some(dial)) = (&expect.dialed, dial)
            && want != dialled_number(dial)
        {
            let message = format!(
                "the gateway reads the number {:?} from call.dial = {dial:?}, not {want:?}",
                dialled_number(dial)
            );
            ctx.report(&f.span(), &f.path, ProblemKind::Conflict, message);
        }
    }
}

/// `ani_findings`: an array of finding names, none twice; `[]` expects no finding at all.
fn findings(ctx: &mut Ctx<'_>, field: &Field<'_, '_>) -> Option<Vec<AniFinding>> {
    let before = ctx.problems.len();
    let options = AniFinding::ALL.map(|a| (a.as_str(), a));
    let mut parsed = Vec::new();
    for (f, s) in strings(ctx, field)? {
        if let Some(v) = choose(ctx, &f, s, "ANI finding", &options) {
            parsed.push((f, v));
        }
    }
    deny_duplicates(ctx, &parsed, |a, b| a == b, |v| format!("\"{v}\""));
    (ctx.problems.len() == before).then(|| parsed.into_iter().map(|(_, v)| v).collect())
}

/// `call.dial`: a number, optionally followed by `;phone-context=<descriptor>` (RFC 3966 §5.1.5:
/// a local number's context, `+` and digits or a domain name), written into the Request-URI's
/// user part as `sip:911;phone-context=+1@gw;user=phone`.
pub(crate) fn dial(ctx: &mut Ctx<'_>, field: &Field<'_, '_>) -> Option<String> {
    let s = string(ctx, field)?;
    let Some((num, params)) = s.split_once(';') else {
        return number(ctx, field);
    };
    let digits = num.strip_prefix('+').unwrap_or(num);
    let number_ok = !digits.is_empty()
        && digits.len() <= MAX_NUMBER_DIGITS
        && digits.bytes().all(|b| b.is_ascii_digit());
    let problem = if !number_ok {
        Some(format!(
            "invalid number {num:?} before ';': expected 1 to {MAX_NUMBER_DIGITS} digits, like \"911;phone-context=+1\""
        ))
    } else if num.starts_with('+') {
        Some(format!(
            "{num:?} is a global number (leading '+'): RFC 3966 gives a phone-context only to a local number, like \"911;phone-context=+1\""
        ))
    } else {
        match params.split_once('=') {
            Some((name, ctx_value)) if name.eq_ignore_ascii_case("phone-context") => {
                (!phone_context_ok(ctx_value)).then(|| format!(
                    "invalid phone-context {ctx_value:?}: expected '+' and digits (\"+1\") or a domain name (\"gw1.anywhere.e911cloud.com\"), RFC 3966"
                ))
            }
            _ => Some(format!(
                "unknown dial-string parameter {params:?}: only \";phone-context=...\" (RFC 3966) may follow the number, like \"911;phone-context=+1\""
            )),
        }
    };
    match problem {
        None => Some(s.to_owned()),
        Some(message) => {
            ctx.invalid(&field.span(), &field.path, message);
            None
        }
    }
}

/// RFC 3966 `descriptor = domainname / global-number-digits`.
fn phone_context_ok(v: &str) -> bool {
    if let Some(digits) = v.strip_prefix('+') {
        return !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    }
    !v.is_empty()
        && v.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// `expect.readback` on a call that is not a 933: the message pointing at `call.dial`.
pub(crate) fn readback_needs_933(dial: &str) -> Option<String> {
    (dialled_number(dial) != "933")
        .then(|| format!("a read-back only happens on a 933 test call, but call.dial is {dial:?}"))
}
