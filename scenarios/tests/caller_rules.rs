//! `[caller]` (ICD 5.1.7): shape, numbers, order and positions of its problems.

mod support;

use scenarios::{CallerOrder, ProblemKind};
use support::{HEAD, ok, one, problems};

fn with_caller(call: &str, caller: &str) -> String {
    format!(
        "{HEAD}\n[call]\ndial = \"911\"\n{call}\n\n[caller]\n{caller}\n\n[expect]\nstatus = 200\n"
    )
}

#[test]
fn caller_makes_call_ani_optional_and_defaults_the_order() {
    let s = ok(&with_caller("", "site_ani = \"+13125550199\""));
    assert_eq!(s.call.ani, "", "the harness fills it in");
    let c = s.caller.expect("caller");
    assert_eq!(c.order, CallerOrder::WithDids);
    assert!(c.phone_tied_to_user);
    assert_eq!(c.site_ani.as_deref(), Some("+13125550199"));
}

#[test]
fn orders_are_named_or_listed() {
    let s = ok(&with_caller(
        "",
        "user_extension = \"4102\"\norder = \"without-dids\"",
    ));
    assert_eq!(s.caller.expect("caller").order, CallerOrder::WithoutDids);
    let s = ok(&with_caller(
        "",
        "trunk_ani = \"+13125550000\"\norder = [\"site-ani\", \"trunk-ani\"]",
    ));
    assert_eq!(
        s.caller.expect("caller").order.sources(),
        vec!["site-ani", "trunk-ani"]
    );
}

#[test]
fn an_empty_site_ani_is_allowed_but_not_a_caller_without_any_number() {
    ok(&with_caller(
        "",
        "site_ani = \"\"\ntrunk_ani = \"+13125550000\"",
    ));
    let p = one(
        &with_caller("", "site_ani = \"\""),
        "caller",
        ProblemKind::InvalidValue,
    );
    assert!(p.message.contains("names no number at all"), "{p:?}");
}

#[test]
fn bad_values_are_reported_at_their_position() {
    let text = with_caller(
        "",
        "site_ani = \"+1-312\"\norder = [\"site\", \"site-ani\", \"site-ani\"]\ncolour = 1",
    );
    let ps = problems(&text);
    let fields: Vec<_> = ps.iter().map(|p| (p.field.as_str(), p.line)).collect();
    assert!(fields.contains(&("caller.site_ani", 10)), "{ps:#?}");
    assert!(fields.contains(&("caller.order[0]", 11)), "{ps:#?}");
    assert!(fields.contains(&("caller.colour", 12)), "{ps:#?}");
    assert!(
        ps.iter()
            .any(|p| p.kind == ProblemKind::Duplicate || p.message.contains("twice")),
        "{ps:#?}"
    );
    let p = one(
        &with_caller("", "site_ani = \"+13125550199\"\norder = \"with-did\""),
        "caller.order",
        ProblemKind::InvalidValue,
    );
    assert!(p.message.contains("with-dids"), "{p:?}");
}

#[test]
fn without_caller_call_ani_is_still_required() {
    let text = format!("{HEAD}\n[call]\ndial = \"911\"\n\n[expect]\nstatus = 200\n");
    one(&text, "call.ani", ProblemKind::MissingField);
}

#[test]
fn a_resolved_caller_scenario_round_trips() {
    let s = ok(&with_caller(
        "",
        "user_did = \"+13125550101\"\nphone_tied_to_user = false\norder = [\"call-source\"]",
    ));
    let text = toml::to_string(&s).expect("serializes");
    assert_eq!(ok(&text), s, "{text}");
}
