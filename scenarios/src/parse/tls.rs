//! Reads a TLS profile (`call.tls`, `gateway.tls`): a name, or a table of versions, groups and
//! cipher suites.

use toml::de::DeValue;

use super::values::{choose, list};
use crate::error::ProblemKind;
use crate::tls::{KNOWN_CIPHER_SUITES, KNOWN_GROUPS, TlsProfile, TlsVersions};
use crate::walk::{Ctx, Field, Obj, string};

/// `"genesys-byoc"`, `"any"`, or `{ versions = [...], groups = [...], cipher_suites = [...] }`.
pub(crate) fn tls_profile(ctx: &mut Ctx<'_>, field: &Field<'_, '_>) -> Option<TlsProfile> {
    match field.value.get_ref() {
        DeValue::String(_) => {
            let name = string(ctx, field)?;
            let which = choose(
                ctx,
                field,
                name,
                "TLS profile",
                &[("genesys-byoc", true), ("any", false)],
            )?;
            Some(if which {
                TlsProfile::genesys_byoc()
            } else {
                TlsProfile::any()
            })
        }
        DeValue::Table(_) => {
            let obj = Obj::of(ctx, field)?;
            by_parts(ctx, &obj)
        }
        other => {
            let message = format!(
                "expected a TLS profile name (\"genesys-byoc\", \"any\") or a table of versions, groups and cipher_suites, found {}",
                other.type_str()
            );
            ctx.report(&field.span(), &field.path, ProblemKind::WrongType, message);
            None
        }
    }
}

fn by_parts(ctx: &mut Ctx<'_>, obj: &Obj<'_, '_>) -> Option<TlsProfile> {
    let before = ctx.problems.len();
    obj.deny_unknown(ctx, &["versions", "groups", "cipher_suites"]);
    let versions = match obj.get("versions") {
        None => Some(TlsVersions::Any),
        Some(f) => list(
            ctx,
            &f,
            "must name at least one version: \"1.2\" or \"1.3\"",
            |ctx, f, s| choose(ctx, f, s, "TLS version", &[("1.2", 12u8), ("1.3", 13u8)]),
            |a, b| a == b,
            |v| format!("version 1.{}", v % 10),
        )
        .map(|v| match v.as_slice() {
            [12] => TlsVersions::Tls12Only,
            [13] => TlsVersions::Tls13Only,
            _ => TlsVersions::Any,
        }),
    };
    let names = |ctx: &mut Ctx<'_>, key: &str, what: &str, known: &[&str]| {
        obj.get(key).map(|f| {
            let options: Vec<(&str, &str)> = known.iter().map(|k| (*k, *k)).collect();
            list(
                ctx,
                &f,
                &format!("must name at least one {what} (leave `{key}` out for all of them)"),
                |ctx, f, s| choose(ctx, f, s, what, &options).map(str::to_owned),
                |a, b| a == b,
                |s| format!("{what} {s:?}"),
            )
        })
    };
    let groups = names(ctx, "groups", "key-exchange group", KNOWN_GROUPS);
    let suites = names(ctx, "cipher_suites", "cipher suite", KNOWN_CIPHER_SUITES);
    if let (Some(v), Some(Some(suites)), Some(f)) = (versions, &suites, obj.get("cipher_suites")) {
        let usable = |s: &String| match v {
            TlsVersions::Any => true,
            TlsVersions::Tls12Only => !s.starts_with("TLS13_"),
            TlsVersions::Tls13Only => s.starts_with("TLS13_"),
        };
        if !suites.iter().any(usable) {
            ctx.report(
                &f.span(),
                &f.path,
                ProblemKind::Conflict,
                "none of these cipher suites can be used with the versions allowed (TLS13_* suites are TLS 1.3 only, the others TLS 1.2 only)",
            );
        }
    }
    if ctx.problems.len() != before {
        return None;
    }
    Some(TlsProfile {
        versions: versions?,
        groups: groups.flatten(),
        cipher_suites: suites.flatten(),
    })
}
