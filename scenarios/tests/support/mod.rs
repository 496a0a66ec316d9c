//! Shared helpers for the loader tests: a minimal valid scenario and problem assertions.

#![allow(dead_code)]

use scenarios::{Problem, ProblemKind, Scenario, load_str};

pub const HEAD: &str = r#"name = "t"
description = "A test scenario."
requirements = ["ICD 5.1.9"]
"#;

pub const OTHER_ORG: &str = "6f1c2a9e-4b7d-4c3e-9a8f-1b2c3d4e5f60";

/// A minimal valid scenario with `call` lines and `expect` lines appended to their tables.
pub fn doc(call: &str, expect: &str) -> String {
    format!(
        "{HEAD}\n[call]\ndial = \"911\"\nani = \"+13125550100\"\n{call}\n\n[expect]\nstatus = 200\n{expect}\n"
    )
}

pub fn ok(text: &str) -> Scenario {
    load_str(text, "t.toml")
        .unwrap_or_else(|e| panic!("expected valid, got:\n{e}\n--- text ---\n{text}"))
}

pub fn problems(text: &str) -> Vec<Problem> {
    match load_str(text, "t.toml") {
        Ok(s) => panic!("expected problems, got {s:?}\n--- text ---\n{text}"),
        Err(e) => e.problems,
    }
}

/// The single problem of `text`, which must be at `field` and be of `kind`.
pub fn one(text: &str, field: &str, kind: ProblemKind) -> Problem {
    let ps = problems(text);
    assert_eq!(ps.len(), 1, "{ps:#?}");
    assert_eq!((ps[0].field.as_str(), ps[0].kind), (field, kind), "{ps:#?}");
    ps.into_iter().next().expect("one")
}
