//! The second parser pass: the headers the transaction and dialog layers depend on must be
//! well formed (Via, From, To, Call-ID, CSeq, Max-Forwards, Contact, Route, Record-Route,
//! P-Asserted-Identity, Content-Type), and the mandatory ones present exactly once.
//!
//! The per-header [`check`] is shared with the fast path in `scan.rs`.
//!
//! Values are checked in place by the same scanners the typed views use, without building
//! them, so a message that passes here has typed views that do not fail.

use super::header::{Headers, Known, View, split_list, trim};
use super::parse::{Ctx, ParseError, ParseErrorKind, header_err};
use super::typed::{CSeq, NameAddr, ValueError, Via};
use super::{Method, fast};

/// Validates the headers of a message (`method` is `None` for a response).
pub(super) fn validate(
    method: Option<&Method>,
    headers: &Headers,
    ctx: &Ctx<'_>,
) -> Result<(), ParseError> {
    use ParseErrorKind::*;
    let mut seen = [0u8; 5]; // Via, From, To, Call-ID, CSeq
    let mut second: [Option<View<'_>>; 5] = [None; 5];
    for h in headers.views() {
        let Some(known) = h.known else { continue };
        let slot = match known {
            Known::Via => Some(0),
            Known::From => Some(1),
            Known::To => Some(2),
            Known::CallId => Some(3),
            Known::CSeq => Some(4),
            _ => None,
        };
        if let Some(i) = slot {
            seen[i] = seen[i].saturating_add(1);
            if seen[i] == 2 {
                second[i] = Some(h);
            }
        }
        check(known, h.value, method)
            .map_err(|(kind, at, message)| header_err(ctx, h.name, h.line, kind, at, message))?;
    }
    const NAMES: [&str; 5] = ["Via", "From", "To", "Call-ID", "CSeq"];
    for (i, n) in seen.iter().enumerate() {
        if *n == 0 {
            let what = if method.is_some() {
                "request"
            } else {
                "response"
            };
            return Err(ctx.err(
                MissingOrRepeatedHeader,
                0,
                Some(NAMES[i]),
                format!("the {what} has no {} header", NAMES[i]),
            ));
        }
        if i > 0
            && let Some(h) = second[i]
        {
            return Err(header_err(
                ctx,
                h.name,
                h.line,
                MissingOrRepeatedHeader,
                0,
                format!("{} appears more than once", NAMES[i]),
            ));
        }
    }
    Ok(())
}

/// What is wrong with a header value: kind, byte offset in the value, what was expected.
pub(super) type Bad = (ParseErrorKind, usize, String);

fn value_err(e: ValueError) -> Bad {
    (ParseErrorKind::Syntax, e.at, e.message)
}

/// Whether [`check`] looks at the value of this header at all.
#[inline(always)]
pub(super) fn checked(known: Known) -> bool {
    matches!(
        known,
        Known::Via
            | Known::From
            | Known::To
            | Known::CallId
            | Known::CSeq
            | Known::MaxForwards
            | Known::Contact
            | Known::Route
            | Known::RecordRoute
            | Known::PAssertedIdentity
            | Known::ContentType
    )
}

/// Checks the value of one known header (`method` is `None` in a response): what
/// [`validate`] checks for each header, shared with the fast path in `scan.rs`.
#[inline(always)]
pub(super) fn check(known: Known, value: &str, method: Option<&Method>) -> Result<(), Bad> {
    use ParseErrorKind::*;
    match known {
        // A value the fast scanners accept whole holds one element (they take no top-level
        // comma), so there is no list to split.
        Known::Via if fast::via(value) => {}
        Known::Via => {
            let mut any = false;
            for v in split_list(value) {
                any = true;
                if !fast::via(v) {
                    Via::validate(v).map_err(value_err)?;
                }
            }
            if !any {
                return Err((Syntax, 0, "empty Via".into()));
            }
        }
        Known::From | Known::To if !fast::name_addr(value) => {
            NameAddr::validate(value).map_err(value_err)?;
        }
        Known::CallId => {
            // word [ "@" word ], in one pass: word characters and at most one '@', which
            // neither starts nor ends the value.
            let b = value.as_bytes();
            let (mut ats, mut bad) = (0usize, false);
            for &c in b {
                ats += usize::from(c == b'@');
                bad |= !crate::uri::is_word_or_at(c);
            }
            let ok = !b.is_empty()
                && !bad
                && (ats == 0 || (ats == 1 && b[0] != b'@' && b[b.len() - 1] != b'@'));
            if !ok {
                return Err((Syntax, 0, "expected Call-ID 'word[@word]'".into()));
            }
        }
        Known::CSeq if plain_cseq(value, method) => {}
        Known::CSeq => {
            let cseq = CSeq::parse(value).map_err(value_err)?;
            if let Some(method) = method
                && cseq.method != *method
            {
                return Err((
                    MethodMismatch,
                    0,
                    format!(
                        "CSeq method {} does not match request method {method}",
                        cseq.method
                    ),
                ));
            }
        }
        // One or two digits are always in range.
        Known::MaxForwards
            if matches!(value.len(), 1 | 2) && value.bytes().all(|b| b.is_ascii_digit()) => {}
        Known::MaxForwards => {
            let v = value;
            // 1*DIGIT (leading zeros allowed: `0068` is 68), at most 255.
            let significant = v.trim_start_matches('0');
            if v.is_empty()
                || !v.bytes().all(|b| b.is_ascii_digit())
                || significant.len() > 3
                || significant.parse::<u16>().unwrap_or(0) > 255
            {
                return Err((Syntax, 0, "expected Max-Forwards 0..255".into()));
            }
        }
        Known::Contact if trim(value) == "*" => {}
        Known::Contact | Known::Route | Known::RecordRoute | Known::PAssertedIdentity
            if fast::name_addr(value) => {}
        Known::Contact | Known::Route | Known::RecordRoute | Known::PAssertedIdentity => {
            for v in split_list(value) {
                if !fast::name_addr(v) {
                    NameAddr::validate(v).map_err(value_err)?;
                }
            }
        }
        // The everyday `type/subtype` without parameters or LWS.
        Known::ContentType if plain_media_type(value) => {}
        Known::ContentType => {
            let mt = value.split(';').next().unwrap_or("").trim();
            let ok = mt.split_once('/').is_some_and(|(t, s)| {
                !t.trim().is_empty()
                    && !s.trim().is_empty()
                    && t.trim().bytes().all(crate::uri::is_token_char)
                    && s.trim().bytes().all(crate::uri::is_token_char)
            });
            if !ok {
                return Err((Syntax, 0, "expected media type 'type/subtype'".into()));
            }
        }
        _ => {}
    }
    Ok(())
}

/// `token/token` and nothing else: what the Content-Type check accepts in one pass.
fn plain_media_type(v: &str) -> bool {
    let b = v.as_bytes();
    let t = b
        .iter()
        .position(|&c| !crate::uri::is_token_char(c))
        .unwrap_or(b.len());
    t > 0
        && b.get(t) == Some(&b'/')
        && t + 1 < b.len()
        && b[t + 1..].iter().all(|&c| crate::uri::is_token_char(c))
}

/// `1*10DIGIT SP method` with a number below 2^31 and, in a request, the request's method:
/// what the CSeq check accepts, without building a [`CSeq`].
fn plain_cseq(v: &str, method: Option<&Method>) -> bool {
    let b = v.as_bytes();
    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 || digits > 10 || b.get(digits) != Some(&b' ') {
        return false;
    }
    let seq = b[..digits]
        .iter()
        .fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'));
    let m = &b[digits + 1..];
    seq < 1 << 31
        && match method {
            Some(method) => m == method.as_str().as_bytes(),
            None => !m.is_empty() && m.iter().all(|&c| crate::uri::is_token_char(c)),
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unchecked_headers_accept_anything() {
        for k in crate::message::header::ALL {
            if !checked(*k) {
                assert!(check(*k, "\u{0}<\"", None).is_ok(), "{k:?}");
            }
        }
    }

    proptest::proptest! {
        /// The one-pass checks accept what the full ones accept.
        #[test]
        fn quick_checks_agree_with_the_full_ones(
            cseq in r"[0-9]{0,11}[ \t]{0,2}(INVITE|BYE|ACK|X-Y|[A-Z@ ]{0,3})",
            call_id in r"[a-z@.!\[ ]{0,6}",
            media in r"[a-z/ ;=-]{0,8}",
        ) {
            for method in [Some(Method::Invite), Some(Method::Other("X-Y".into())), None] {
                let full = CSeq::parse(&cseq)
                    .is_ok_and(|c| method.as_ref().is_none_or(|m| c.method == *m));
                if plain_cseq(&cseq, method.as_ref()) {
                    proptest::prop_assert!(full, "{}", cseq);
                }
                proptest::prop_assert_eq!(
                    check(Known::CSeq, &cseq, method.as_ref()).is_ok(), full, "{}", cseq
                );
            }
            let v = call_id.as_str();
            let old = !v.is_empty()
                && crate::uri::split_byte(v, b'@')
                    .is_none_or(|(a, b)| !a.is_empty() && !b.is_empty() && !b.contains('@'))
                && v.bytes().all(crate::uri::is_word_or_at);
            proptest::prop_assert_eq!(check(Known::CallId, v, None).is_ok(), old, "{}", v);
            if plain_media_type(&media) {
                let mt = media.split(';').next().unwrap_or("").trim();
                let old = mt.split_once('/').is_some_and(|(t, s)| {
                    !t.trim().is_empty()
                        && !s.trim().is_empty()
                        && t.trim().bytes().all(crate::uri::is_token_char)
                        && s.trim().bytes().all(crate::uri::is_token_char)
                });
                proptest::prop_assert!(old, "{}", media);
            }
        }
    }
}
