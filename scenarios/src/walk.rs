//! A typed walk over a spanned TOML document that records every problem instead of stopping at
//! the first: unknown keys, missing keys and wrong types, each with its own position.
//!
//! `parse` builds the scenario on top of these primitives; nothing here knows about scenarios.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::error::{Problem, ProblemKind};

/// A spanned TOML value.
pub(crate) type Value<'i> = Spanned<DeValue<'i>>;

/// The file being walked and the problems found so far.
#[derive(Debug)]
pub(crate) struct Ctx<'t> {
    pub file: &'t str,
    pub text: &'t str,
    pub problems: Vec<Problem>,
}

impl<'t> Ctx<'t> {
    pub fn new(file: &'t str, text: &'t str) -> Ctx<'t> {
        Ctx {
            file,
            text,
            problems: Vec::new(),
        }
    }

    /// Records a problem at the start of `span`.
    pub fn report(
        &mut self,
        span: &Range<usize>,
        field: &str,
        kind: ProblemKind,
        message: impl Into<String>,
    ) {
        self.problems.push(Problem::at(
            self.file, self.text, span.start, field, kind, message,
        ));
    }

    /// Records a value-rule violation.
    pub fn invalid(&mut self, span: &Range<usize>, field: &str, message: impl Into<String>) {
        self.report(span, field, ProblemKind::InvalidValue, message);
    }

    fn wrong_type(&mut self, v: &Value<'_>, field: &str, expected: &str) {
        let found = v.get_ref().type_str();
        self.report(
            &v.span(),
            field,
            ProblemKind::WrongType,
            format!("expected {expected}, found {found}"),
        );
    }
}

/// One field value with its dotted path and span.
#[derive(Debug, Clone)]
pub(crate) struct Field<'a, 'i> {
    pub path: String,
    pub value: &'a Value<'i>,
}

impl Field<'_, '_> {
    pub fn span(&self) -> Range<usize> {
        self.value.span()
    }
}

/// A table being read: its path, where it is, and its entries.
#[derive(Debug)]
pub(crate) struct Obj<'a, 'i> {
    pub path: String,
    pub span: Range<usize>,
    table: &'a DeTable<'i>,
}

impl<'a, 'i> Obj<'a, 'i> {
    /// The document root.
    pub fn root(doc: &'a Spanned<DeTable<'i>>) -> Obj<'a, 'i> {
        Obj {
            path: String::new(),
            span: doc.span(),
            table: doc.get_ref(),
        }
    }

    /// `field` as a table, or a wrong-type problem.
    pub fn of(ctx: &mut Ctx<'_>, field: &Field<'a, 'i>) -> Option<Obj<'a, 'i>> {
        match field.value.get_ref() {
            DeValue::Table(table) => Some(Obj {
                path: field.path.clone(),
                span: field.span(),
                table,
            }),
            _ => {
                ctx.wrong_type(field.value, &field.path, "a table");
                None
            }
        }
    }

    fn child_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// Reports every key not in `allowed`, suggesting the closest allowed key.
    pub fn deny_unknown(&self, ctx: &mut Ctx<'_>, allowed: &[&str]) {
        for (key, _) in self.table.iter() {
            let name: &str = key.get_ref();
            if allowed.contains(&name) {
                continue;
            }
            let list = allowed
                .iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let message = match suggest(name, allowed) {
                Some(s) => {
                    format!("unknown field `{name}` (did you mean `{s}`?); expected one of {list}")
                }
                None => format!("unknown field `{name}`; expected one of {list}"),
            };
            ctx.report(
                &key.span(),
                &self.child_path(name),
                ProblemKind::UnknownField,
                message,
            );
        }
    }

    /// The value under `key`, if present.
    pub fn get(&self, key: &str) -> Option<Field<'a, 'i>> {
        self.table
            .iter()
            .find(|(k, _)| AsRef::<str>::as_ref(k.get_ref()) == key)
            .map(|(_, value)| Field {
                path: self.child_path(key),
                value,
            })
    }

    /// The value under `key`, or a missing-field problem at the table.
    pub fn require(&self, ctx: &mut Ctx<'_>, key: &str, what: &str) -> Option<Field<'a, 'i>> {
        let field = self.get(key);
        if field.is_none() {
            let whose = if self.path.is_empty() {
                String::new()
            } else {
                format!(" in [{}]", self.path)
            };
            ctx.report(
                &self.span,
                &self.child_path(key),
                ProblemKind::MissingField,
                format!("missing required field `{key}`{whose} ({what})"),
            );
        }
        field
    }
}

/// `field` as a string.
pub(crate) fn string<'a>(ctx: &mut Ctx<'_>, field: &Field<'a, '_>) -> Option<&'a str> {
    match field.value.get_ref() {
        DeValue::String(s) => Some(s.as_ref()),
        _ => {
            ctx.wrong_type(field.value, &field.path, "a string");
            None
        }
    }
}

/// `field` as an integer that fits an `i64`.
pub(crate) fn integer(ctx: &mut Ctx<'_>, field: &Field<'_, '_>) -> Option<i64> {
    match field.value.get_ref() {
        DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) => Some(n),
            Err(_) => {
                ctx.invalid(&field.span(), &field.path, "integer out of range");
                None
            }
        },
        _ => {
            ctx.wrong_type(field.value, &field.path, "an integer");
            None
        }
    }
}

/// `field` as a number (a TOML float, or an integer read as one); NaN and infinities refused.
pub(crate) fn float(ctx: &mut Ctx<'_>, field: &Field<'_, '_>) -> Option<f64> {
    let parsed = match field.value.get_ref() {
        DeValue::Float(f) => f.as_str().replace('_', "").parse::<f64>().ok(),
        DeValue::Integer(_) => integer(ctx, field).map(|n| n as f64),
        _ => {
            ctx.wrong_type(field.value, &field.path, "a number");
            return None;
        }
    };
    match parsed {
        Some(x) if x.is_finite() => Some(x),
        _ => {
            ctx.invalid(&field.span(), &field.path, "expected a finite number");
            None
        }
    }
}

/// `field` as a boolean.
pub(crate) fn boolean(ctx: &mut Ctx<'_>, field: &Field<'_, '_>) -> Option<bool> {
    match field.value.get_ref() {
        DeValue::Boolean(b) => Some(*b),
        _ => {
            ctx.wrong_type(field.value, &field.path, "a boolean");
            None
        }
    }
}

/// `field` as an array; each item is returned with its path `field[i]`.
pub(crate) fn array<'a, 'i>(
    ctx: &mut Ctx<'_>,
    field: &Field<'a, 'i>,
) -> Option<Vec<Field<'a, 'i>>> {
    match field.value.get_ref() {
        DeValue::Array(items) => Some(
            items
                .iter()
                .enumerate()
                .map(|(i, value)| Field {
                    path: format!("{}[{i}]", field.path),
                    value,
                })
                .collect(),
        ),
        _ => {
            ctx.wrong_type(field.value, &field.path, "an array");
            None
        }
    }
}

/// `field` as an array of strings. Items of another type are reported and left out; the
/// result is `None` only when `field` is not an array at all.
pub(crate) fn strings<'a, 'i>(
    ctx: &mut Ctx<'_>,
    field: &Field<'a, 'i>,
) -> Option<Vec<(Field<'a, 'i>, &'a str)>> {
    let items = array(ctx, field)?;
    Some(
        items
            .into_iter()
            .filter_map(|item| string(ctx, &item).map(|s| (item, s)))
            .collect(),
    )
}

/// Reports the second and later occurrences of equal items (`same` decides equality).
pub(crate) fn deny_duplicates<T>(
    ctx: &mut Ctx<'_>,
    items: &[(Field<'_, '_>, T)],
    same: impl Fn(&T, &T) -> bool,
    show: impl Fn(&T) -> String,
) {
    for (i, (field, value)) in items.iter().enumerate() {
        if let Some((first, _)) = items[..i].iter().find(|(_, earlier)| same(earlier, value)) {
            let message = format!("{} is listed twice (first at {})", show(value), first.path);
            ctx.report(&field.span(), &field.path, ProblemKind::Duplicate, message);
        }
    }
}

/// The allowed name closest to `given` when it is plausibly a typo.
fn suggest<'s>(given: &str, allowed: &[&'s str]) -> Option<&'s str> {
    allowed
        .iter()
        .map(|a| (edit_distance(&given.to_ascii_lowercase(), a), *a))
        .filter(|(d, a)| *d <= 2.max(a.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, a)| a)
}

/// Levenshtein distance in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("dail", "dial"), 2);
        assert_eq!(edit_distance("stauts", "status"), 2);
        assert_eq!(edit_distance("org_ids", "org_id"), 1);
        assert_eq!(edit_distance("same", "same"), 0);
    }

    #[test]
    fn suggests_only_close_names() {
        let allowed = ["status", "answered_by", "org_id"];
        assert_eq!(suggest("staus", &allowed), Some("status"));
        assert_eq!(suggest("Org_ID", &allowed), Some("org_id"));
        assert_eq!(suggest("completely_else", &allowed), None);
    }
}
