//! Loading: defaults, positions of every problem, syntax errors, files and directories.

mod support;

use std::path::PathBuf;
use std::time::Duration;

use scenarios::{
    AniHeader, AniPlacement, DEFAULT_ORG_ID, OrgFinding, ProblemKind, UnknownOrgPolicy, load_file,
    load_paths, load_str,
};
use support::{HEAD, OTHER_ORG, doc, ok, one, problems};

#[test]
fn minimal_scenario_gets_every_default() {
    let s = ok(&doc("", ""));
    assert_eq!(s.suites, ["certify"]);
    assert_eq!(s.call.ani_in, [AniPlacement::From, AniPlacement::Pai]);
    assert_eq!(s.call.org_headers, [DEFAULT_ORG_ID]);
    assert_eq!(s.call.hold, Duration::from_millis(200));
    assert_eq!(s.call.timeout, Duration::from_secs(8));
    assert_eq!(s.call.gateway, "gw1");
    assert!(s.call.extra_headers.is_empty() && s.call.from_user.is_none());
    assert_eq!(s.gateway.orgs, [DEFAULT_ORG_ID]);
    assert_eq!(
        s.gateway.ani_headers,
        [AniHeader::PAssertedIdentity, AniHeader::From]
    );
    assert_eq!(s.gateway.unknown_org, UnknownOrgPolicy::Reject);
    assert_eq!(s.expect.status, Some(200));
    assert!(s.source.is_none());
}

#[test]
fn every_field_is_read() {
    let text = format!(
        r#"name = "full-1"
description = "Everything set."
requirements = ["ICD 5.1.9", "ICD 5.2"]
suites = ["certify", "nightly"]

[call]
dial = "933"
ani = "+13125550100"
ani_in = ["pai", "rpid"]
from_user = "+13125550199"
org_id = "{OTHER_ORG}"
extra_headers = [{{ name = "Geolocation-Routing", value = "no" }}]
hold = "1s 500ms"
timeout = "20s"
gateway = "gw2"

[gateway]
orgs = ["{OTHER_ORG}", "{DEFAULT_ORG_ID}"]
ani_headers = ["Remote-Party-ID", "P-Asserted-Identity"]
unknown_org = "accept"

[expect]
status = 200
answered_by = "gw2"
org_id = "{OTHER_ORG}"
org_finding = "ok"
ani = "+13125550100"
ani_source = "Remote-Party-ID"
readback = {{ number = "+13125550100", address = "1 Main St" }}
warning_contains = "fallback"
"#
    );
    let s = ok(&text);
    let written = toml::to_string(&s).expect("serializes");
    assert_eq!(
        ok(&written),
        s,
        "a resolved scenario loads back unchanged:\n{written}"
    );
    assert_eq!(s.suites, ["certify", "nightly"]);
    assert_eq!(s.call.ani_in, [AniPlacement::Pai, AniPlacement::Rpid]);
    assert_eq!(s.call.from_user.as_deref(), Some("+13125550199"));
    assert_eq!(s.call.org_headers, [OTHER_ORG]);
    assert_eq!(s.call.extra_headers[0].name, "Geolocation-Routing");
    assert_eq!(s.call.hold, Duration::from_millis(1500));
    assert_eq!(s.call.timeout, Duration::from_secs(20));
    assert_eq!(s.call.gateway, "gw2");
    assert_eq!(s.gateway.unknown_org, UnknownOrgPolicy::Accept);
    assert_eq!(
        s.gateway.ani_headers,
        [AniHeader::RemotePartyId, AniHeader::PAssertedIdentity]
    );
    assert_eq!(s.expect.org_finding, Some(OrgFinding::Ok));
    assert_eq!(s.expect.ani_source, Some(AniHeader::RemotePartyId));
    let rb = s.expect.readback.expect("readback");
    assert_eq!(
        (rb.number.as_deref(), rb.address.as_deref()),
        (Some("+13125550100"), Some("1 Main St"))
    );
    assert_eq!(s.expect.warning_contains.as_deref(), Some("fallback"));
}

#[test]
fn several_mistakes_are_all_reported_with_their_lines() {
    let text = r#"name = "Bad Name"
description = "Several mistakes."
requirements = ["ICD 5.1.9", "ICD 9.9"]

[call]
dial = "9-1-1"
ani = 13125550100
hold = "soon"
colour = "red"

[expect]
status = 999
org_id = "not-a-uuid"
"#;
    let ps = problems(text);
    let got: Vec<(usize, usize, &str, ProblemKind)> = ps
        .iter()
        .map(|p| (p.line, p.column, p.field.as_str(), p.kind))
        .collect();
    assert_eq!(
        got,
        [
            (1, 8, "name", ProblemKind::InvalidValue),
            (3, 30, "requirements[1]", ProblemKind::InvalidValue),
            (6, 8, "call.dial", ProblemKind::InvalidValue),
            (7, 7, "call.ani", ProblemKind::WrongType),
            (8, 8, "call.hold", ProblemKind::InvalidValue),
            (9, 1, "call.colour", ProblemKind::UnknownField),
            (12, 10, "expect.status", ProblemKind::InvalidValue),
            (13, 10, "expect.org_id", ProblemKind::InvalidValue),
        ]
    );
    let rendered = load_str(text, "t.toml").expect_err("invalid").to_string();
    let lines: Vec<&str> = rendered.lines().collect();
    assert_eq!(lines.len(), 8);
    assert!(
        lines[0].starts_with("t.toml:1:8: name: invalid scenario name \"Bad Name\""),
        "{rendered}"
    );
    assert!(
        lines[3].starts_with("t.toml:7:7: call.ani: expected a string, found integer"),
        "{rendered}"
    );
    assert!(
        lines[5].starts_with("t.toml:9:1: call.colour: unknown field `colour`"),
        "{rendered}"
    );
}

#[test]
fn syntax_error_is_one_problem_at_its_position() {
    let text = "name = \"t\"\ndescription = \"x\nrequirements = []\n";
    let p = one(text, "", ProblemKind::Syntax);
    assert_eq!(p.line, 2, "{p:?}");
    assert!(p.column >= 15, "{p:?}");
    assert!(p.message.starts_with("invalid TOML: "), "{}", p.message);
    assert!(!p.message.contains('\n'));
}

#[test]
fn duplicate_toml_key_is_a_syntax_error() {
    let p = one(&doc("dial = \"933\"", ""), "", ProblemKind::Syntax);
    assert_eq!(p.line, 8, "{p:?}");
}

#[test]
fn missing_required_fields_point_at_their_table() {
    let ps = problems("[call]\ndial = \"911\"\n\n[expect]\nstatus = 200\n");
    let got: Vec<(usize, &str, ProblemKind)> = ps
        .iter()
        .map(|p| (p.line, p.field.as_str(), p.kind))
        .collect();
    assert_eq!(
        got,
        [
            (1, "name", ProblemKind::MissingField),
            (1, "description", ProblemKind::MissingField),
            (1, "requirements", ProblemKind::MissingField),
            (1, "call.ani", ProblemKind::MissingField),
        ]
    );
    assert!(ps[3].message.contains("in [call]"), "{}", ps[3].message);
    let ps = problems(HEAD);
    assert_eq!(
        ps.iter().map(|p| p.field.as_str()).collect::<Vec<_>>(),
        ["call", "expect"]
    );
}

#[test]
fn unknown_fields_are_reported_everywhere_with_a_suggestion() {
    let p = one(
        &doc("", "stauts = 404"),
        "expect.stauts",
        ProblemKind::UnknownField,
    );
    assert!(
        p.message.contains("did you mean `status`?"),
        "{}",
        p.message
    );
    one(
        &format!("{HEAD}colour = 1\n[call]\ndial = \"911\"\nani = \"1\"\n[expect]\nstatus = 200\n"),
        "colour",
        ProblemKind::UnknownField,
    );
    one(
        &format!("{}\n[gateway]\norgz = []\n", doc("", "")),
        "gateway.orgz",
        ProblemKind::UnknownField,
    );
    let on_933 = doc("", "readback = { number = \"1\", adress = \"x\" }")
        .replace("dial = \"911\"", "dial = \"933\"");
    one(&on_933, "expect.readback.adress", ProblemKind::UnknownField);
    one(
        &doc(
            "extra_headers = [{ name = \"X-A\", value = \"1\", when = \"now\" }]",
            "",
        ),
        "call.extra_headers[0].when",
        ProblemKind::UnknownField,
    );
}

#[test]
fn wrong_types_name_what_was_expected_and_found() {
    let p = one(
        &doc("", "answered_by = 1"),
        "expect.answered_by",
        ProblemKind::WrongType,
    );
    assert_eq!(p.message, "expected a string, found integer");
    let p = one(
        &doc("", "").replace("status = 200", "status = \"200\""),
        "expect.status",
        ProblemKind::WrongType,
    );
    assert_eq!(p.message, "expected an integer, found string");
    one(
        &doc("ani_in = \"pai\"", ""),
        "call.ani_in",
        ProblemKind::WrongType,
    );
    one(
        &doc("org_headers = [\"a\", 2]", ""),
        "call.org_headers[1]",
        ProblemKind::WrongType,
    );
    one(
        &doc("", "").replacen("[call]", "gateway = 1\n[call]", 1),
        "gateway",
        ProblemKind::WrongType,
    );
    one(&doc("hold = 5", ""), "call.hold", ProblemKind::WrongType);
}

fn write(dir: &std::path::Path, file: &str, text: &str) -> PathBuf {
    let path = dir.join(file);
    std::fs::write(&path, text).expect("write");
    path
}

#[test]
fn load_file_sets_the_source_and_names_the_file_in_problems() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = write(dir.path(), "good.toml", &doc("", ""));
    assert_eq!(
        load_file(&good).expect("valid").source.as_deref(),
        Some(good.as_path())
    );
    let bad = write(dir.path(), "bad.toml", &doc("gateway = \"gw9\"", ""));
    let err = load_file(&bad).expect_err("invalid");
    assert_eq!(err.problems[0].file, bad.display().to_string());
    assert!(
        err.to_string()
            .starts_with(&format!("{}:8:11: call.gateway: ", bad.display())),
        "{err}"
    );
    let missing = dir.path().join("nope.toml");
    let err = load_file(&missing).expect_err("missing");
    assert_eq!(
        (err.problems[0].kind, err.problems[0].line),
        (ProblemKind::Io, 0)
    );
    assert!(
        err.to_string()
            .starts_with(&format!("{}: cannot read: ", missing.display())),
        "{err}"
    );
}

#[test]
fn load_paths_takes_files_and_sorted_directories() {
    let dir = tempfile::tempdir().expect("tempdir");
    let named = |n: &str| doc("", "").replace("name = \"t\"", &format!("name = \"{n}\""));
    write(dir.path(), "b.toml", &named("bee"));
    write(dir.path(), "a.toml", &named("ay"));
    write(dir.path(), "notes.txt", "not a scenario");
    std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
    write(&dir.path().join("sub"), "c.toml", &named("sea"));
    let extra = write(dir.path(), "extra.scenario", &named("extra"));
    let all = load_paths(&[dir.path().to_owned(), extra]).expect("valid");
    let names: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["ay", "bee", "extra"]);
    assert!(load_paths(&[dir.path().join("sub/..").join("nothing-here")]).is_err());
    let empty = tempfile::tempdir().expect("tempdir");
    assert!(
        load_paths(&[empty.path().to_owned()])
            .expect("empty is fine")
            .is_empty()
    );
}

#[test]
fn load_paths_reports_every_file_and_duplicate_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = write(dir.path(), "a.toml", &doc("", ""));
    write(dir.path(), "b.toml", &format!("\n\n{}", doc("", "")));
    write(
        dir.path(),
        "c.toml",
        &doc("gateway = \"gw9\"", "answered_by = \"gw0\""),
    );
    let err = load_paths(&[dir.path().to_owned()]).expect_err("problems");
    let got: Vec<(String, usize, &str, ProblemKind)> = err
        .problems
        .iter()
        .map(|p| {
            (
                PathBuf::from(&p.file)
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
                p.line,
                p.field.as_str(),
                p.kind,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("b.toml".to_owned(), 3, "name", ProblemKind::Duplicate),
            (
                "c.toml".to_owned(),
                8,
                "call.gateway",
                ProblemKind::InvalidValue
            ),
            (
                "c.toml".to_owned(),
                12,
                "expect.answered_by",
                ProblemKind::InvalidValue
            ),
        ]
    );
    assert!(
        err.problems[0]
            .message
            .contains(&format!("{}:1:8", a.display())),
        "{}",
        err.problems[0].message
    );
}
