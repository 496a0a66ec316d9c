//! `[[gateway.location]]`, `gateway.unknown_ani` and `expect.routing` (ICD 5.2).

mod support;

use scenarios::{ProblemKind, UnknownAniPolicy};
use support::{HEAD, ok, one, problems};

const ROW: &str = "[[gateway.location]]\nani = \"+13125550140\"\ncountry = \"US\"\na1 = \"IL\"\n\
                   a3 = \"Chicago\"\nrd = \"Wacker\"\nhno = \"233\"\npsap = \"chicago-oemc\"\n";

fn doc(gateway: &str, rows: &str) -> String {
    format!(
        "{HEAD}\n[call]\ndial = \"911\"\nani = \"+13125550140\"\n\n[gateway]\n{gateway}\n{rows}\n\
         [expect]\nrouting = \"chicago-oemc\"\n"
    )
}

#[test]
fn a_location_table_and_the_routing_expectation_are_read() {
    let s = ok(&doc("", ROW));
    assert_eq!(s.gateway.location.len(), 1);
    assert_eq!(s.gateway.location[0].psap, "chicago-oemc");
    assert_eq!(s.gateway.unknown_ani, None);
    assert_eq!(s.expect.routing.as_deref(), Some("chicago-oemc"));
    let s = ok(&doc("unknown_ani = \"reject 480\"", ROW));
    assert_eq!(s.gateway.unknown_ani, Some(UnknownAniPolicy::Reject(480)));
    let s = ok(&doc("unknown_ani = \"reject\"", ROW));
    assert_eq!(s.gateway.unknown_ani, Some(UnknownAniPolicy::Reject(404)));
}

#[test]
fn bad_rows_are_reported_at_their_position() {
    let bad = ROW.replace("hno = \"233\"\n", "").replace("US", "") + "floor = \"2\"\n";
    let ps = problems(&doc("", &bad));
    let got: Vec<_> = ps.iter().map(|p| (p.field.as_str(), p.kind)).collect();
    assert!(
        got.contains(&("gateway.location[0].country", ProblemKind::InvalidValue)),
        "{ps:#?}"
    );
    assert!(
        got.contains(&("gateway.location[0].hno", ProblemKind::MissingField)),
        "{ps:#?}"
    );
    assert!(
        got.contains(&("gateway.location[0].floor", ProblemKind::UnknownField)),
        "{ps:#?}"
    );
    let twice = format!("{ROW}{ROW}");
    one(
        &doc("", &twice),
        "gateway.location[1].ani",
        ProblemKind::Duplicate,
    );
    let p = one(
        &doc("unknown_ani = \"reject 200\"", ROW),
        "gateway.unknown_ani",
        ProblemKind::InvalidValue,
    );
    assert!(p.message.contains("\"fallback\""), "{p:?}");
}

#[test]
fn a_resolved_location_scenario_round_trips() {
    let s = ok(&doc("unknown_ani = \"reject 404\"", ROW));
    let text = toml::to_string(&s).expect("serializes");
    assert_eq!(ok(&text), s, "{text}");
}

#[test]
fn a_location_file_loads_or_reports_positions() {
    let dir = std::env::temp_dir().join(format!("loc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let good = dir.join("good.toml");
    std::fs::write(
        &good,
        format!(
            "unknown_ani = \"reject 480\"\n{}",
            ROW.replace("gateway.", "")
        ),
    )
    .expect("write");
    let t = scenarios::load_location_table(&good).expect("loads");
    assert_eq!(t.entries.len(), 1);
    assert_eq!(t.unknown_ani, UnknownAniPolicy::Reject(480));
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, ROW.replace("gateway.", "").replace("\"IL\"", "\"\"")).expect("write");
    let e = scenarios::load_location_table(&bad).expect_err("empty a1");
    let line = e.to_string();
    assert!(
        line.starts_with(&format!(
            "{}:4:6: location[0].a1: must not be empty",
            bad.display()
        )),
        "{line}"
    );
    let shipped =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/locations/example.toml");
    assert_eq!(
        scenarios::load_location_table(&shipped)
            .expect("example")
            .entries
            .len(),
        1
    );
}

#[test]
fn call_location_is_read_and_checked_with_positions() {
    let text = format!(
        "{HEAD}\n[call]\ndial = \"911\"\nani = \"+13125550140\"\n\
         location = {{ country = \"US\", a1 = \"IL\", a3 = \"Chicago\", rd = \"Wacker\", hno = \"233\" }}\n\
         [expect]\nstatus = 200\n"
    );
    let s = ok(&text);
    assert_eq!(
        s.call.location.as_ref().map(|l| l.a3.as_str()),
        Some("Chicago")
    );
    let again = ok(&toml::to_string(&s).expect("serializes"));
    assert_eq!(again, s);
    let bad = text.replace("hno = \"233\"", "house = \"233\"");
    let ps = problems(&bad);
    let got: Vec<_> = ps
        .iter()
        .map(|p| (p.field.as_str(), p.kind, p.line))
        .collect();
    assert!(
        got.contains(&("call.location.house", ProblemKind::UnknownField, 8)),
        "{ps:#?}"
    );
    assert!(
        got.contains(&("call.location.hno", ProblemKind::MissingField, 8)),
        "{ps:#?}"
    );
}
