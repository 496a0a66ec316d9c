//! Reads `[media]` (ICD 4: the bounds `media.quality` judges against) and
//! `expect.media_findings` (the media findings a scenario's media fault must produce).

use std::time::Duration;

use super::values::{choose, duration};
use crate::media::{MediaFinding, MediaSpec, parse_share};
use crate::walk::{Ctx, Field, Obj, boolean, deny_duplicates, string, strings};

/// The longest bound a `[media]` duration may take.
const MAX_MEDIA_BOUND: Duration = Duration::from_secs(60);

/// `[media]`; every key optional.
pub(super) fn section(ctx: &mut Ctx<'_>, obj: &Obj<'_, '_>) -> Option<MediaSpec> {
    let before = ctx.problems.len();
    obj.deny_unknown(
        ctx,
        &["enabled", "loss_max", "jitter_max", "first_packet_within"],
    );
    let mut spec = MediaSpec::default();
    if let Some(f) = obj.get("enabled") {
        spec.enabled = boolean(ctx, &f).unwrap_or(true);
    }
    if let Some(f) = obj.get("loss_max")
        && let Some(s) = string(ctx, &f)
    {
        match parse_share(s) {
            Some(ppm) => spec.loss_max_ppm = ppm,
            None => ctx.invalid(
                &f.span(),
                &f.path,
                format!("{s:?} is not a share of packets: expected a percentage from 0% to 100%, like \"1%\" or \"0.5%\""),
            ),
        }
    }
    for (key, slot) in [
        ("jitter_max", &mut spec.jitter_max),
        ("first_packet_within", &mut spec.first_packet_within),
    ] {
        if let Some(f) = obj.get(key)
            && let Some(d) = bounded(ctx, &f)
        {
            *slot = d;
        }
    }
    (ctx.problems.len() == before).then_some(spec)
}

fn bounded(ctx: &mut Ctx<'_>, f: &Field<'_, '_>) -> Option<Duration> {
    let d = duration(ctx, f)?;
    if d.is_zero() || d > MAX_MEDIA_BOUND {
        ctx.invalid(
            &f.span(),
            &f.path,
            format!(
                "{} is not a media bound: expected more than 0 and at most {}",
                humantime::format_duration(d),
                humantime::format_duration(MAX_MEDIA_BOUND)
            ),
        );
        return None;
    }
    Some(d)
}

/// `expect.media_findings`: finding names, none twice; `[]` is the same as leaving it out.
pub(super) fn findings(ctx: &mut Ctx<'_>, field: &Field<'_, '_>) -> Option<Vec<MediaFinding>> {
    let before = ctx.problems.len();
    let options = MediaFinding::ALL.map(|a| (a.as_str(), a));
    let mut parsed = Vec::new();
    for (f, s) in strings(ctx, field)? {
        if let Some(v) = choose(ctx, &f, s, "media finding", &options) {
            parsed.push((f, v));
        }
    }
    deny_duplicates(ctx, &parsed, |a, b| a == b, |f| f.as_str().to_owned());
    (ctx.problems.len() == before).then(|| parsed.into_iter().map(|(_, v)| v).collect())
}
