//! Test plans (`[plan]`, `[[step]]`): the shipped example loads, and every mistake is reported
//! with file, line, column and field.

use scenarios::plan::{load_plan_file, load_plan_str, looks_like_plan, shipped_plan};
use scenarios::{CallSelect, FaultKind};

const HEAD: &str = "[plan]\nname = \"p\"\ndescription = \"A plan.\"\n";

fn problems(text: &str) -> Vec<String> {
    match load_plan_str(text, "p.toml") {
        Ok(_) => Vec::new(),
        Err(e) => e.problems().iter().map(ToString::to_string).collect(),
    }
}

fn has(text: &str, want: &str) {
    let p = problems(text);
    assert!(
        p.iter().any(|l| l.contains(want)),
        "expected a problem containing {want:?}, got {p:#?}\n{text}"
    );
}

#[test]
fn the_shipped_genesys_plan_loads_from_the_file_and_from_the_binary() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("plans/genesys-byoc.toml");
    let plan = load_plan_file(&path).unwrap_or_else(|e| panic!("{e}"));
    let built_in = shipped_plan("genesys-byoc")
        .expect("shipped")
        .expect("loads");
    assert_eq!(plan.steps, {
        let mut s = built_in.steps.clone();
        for step in &mut s {
            step.scenario.source = Some(path.clone());
        }
        s
    });
    assert_eq!(plan.name, "genesys-byoc");
    let names: Vec<&str> = plan.steps.iter().map(|s| s.name()).collect();
    for want in [
        "caller-queue-did",
        "caller-shared-phone",
        "readback-933",
        "dial-9911",
        "failover-503-q850",
        "failover-silence",
        "failover-tls-refused",
        "failover-gw1-down",
        "no-retry-403",
        "no-retry-486",
        "no-retry-603",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    // Every step's scenario carries the plan's org, route, TLS profile and ANI header.
    for s in &plan.steps {
        let sc = &s.scenario;
        assert_eq!(
            sc.call.org_headers,
            vec![plan.org_id.clone()],
            "{}",
            s.name()
        );
        assert_eq!(sc.route.as_ref().map(|r| r.gateways.len()), Some(2));
        assert_eq!(sc.call.tls.name(), "genesys-byoc");
        assert_eq!(
            sc.expect.ani_source,
            Some(scenarios::AniHeader::PAssertedIdentity)
        );
        assert_eq!(sc.description, s.say);
    }
    let down = plan
        .steps
        .iter()
        .find(|s| s.name() == "failover-gw1-down")
        .expect("down step");
    assert_eq!(down.down, vec!["gw1".to_owned()]);
    assert!(down.scenario.gateway.state("gw1").outage.is_some());
    assert!(looks_like_plan(
        &std::fs::read_to_string(&path).expect("read")
    ));
    assert!(shipped_plan("no-such-plan").is_none());
}

#[test]
fn a_scenario_is_not_a_plan() {
    let scenario = scenarios::SHIPPED_FILES[0].text;
    assert!(!looks_like_plan(scenario));
    assert!(!looks_like_plan("not = [toml"));
}

#[test]
fn a_minimal_plan_fills_in_the_defaults() {
    let text = format!(
        "{HEAD}[[step]]\nname = \"one\"\nrequirements = [\"ICD 5.2\"]\nsay = \"Dial 911.\"\ndial = \"911\"\nani = \"+13125550100\"\n"
    );
    let plan = load_plan_str(&text, "p.toml").unwrap_or_else(|e| panic!("{e}"));
    let s = &plan.steps[0];
    assert_eq!(s.calls(), 1);
    assert_eq!(s.timeout, scenarios::plan::DEFAULT_STEP_TIMEOUT);
    assert_eq!(plan.settle, scenarios::plan::DEFAULT_SETTLE);
    assert_eq!(s.scenario.call.ani, "+13125550100");
    assert_eq!(s.scenario.call.org_headers, vec![scenarios::DEFAULT_ORG_ID]);
    assert!(!plan.probing.required);
}

#[test]
fn problems_name_file_line_column_and_field() {
    let text = format!(
        "{HEAD}colour = \"red\"\n[[step]]\nname = \"one\"\nrequirements = [\"ICD 5.2\"]\ndial = \"911\"\nani = \"+13125550100\"\nhold = \"1s\"\n"
    );
    let p = problems(&text);
    assert!(
        p.iter()
            .any(|l| l.starts_with("p.toml:4:1: plan.colour: unknown field")),
        "{p:#?}"
    );
    assert!(
        p.iter()
            .any(|l| l.starts_with("p.toml:5:1: step[0].say: missing required field `say`")),
        "{p:#?}"
    );
    assert!(
        p.iter()
            .any(|l| l.starts_with("p.toml:10:1: step[0].hold: unknown field `hold`")),
        "{p:#?}"
    );
}

#[test]
fn a_plan_needs_its_head_and_a_step() {
    has("[[step]]\nname = \"x\"\n", "missing required field `plan`");
    has(HEAD, "missing required field `step`");
    has(&format!("step = []\n{HEAD}"), "at least one [[step]]");
    has(
        "[plan]\nname = \"Bad Name\"\n[[step]]\n",
        "plan.name: invalid plan name",
    );
}

fn step(body: &str) -> String {
    format!(
        "{HEAD}[[step]]\nname = \"s\"\nrequirements = [\"ICD 5.3\"]\nsay = \"Dial 911.\"\ndial = \"911\"\n{body}"
    )
}

#[test]
fn an_emergency_step_says_which_ani_must_arrive() {
    has(
        &step(""),
        "step[0].ani: a step that dials 911 or 933 must say which ANI",
    );
    // A non-emergency number needs no ANI: nothing of it may arrive.
    let text = format!(
        "{HEAD}[[step]]\nname = \"n\"\nrequirements = [\"ICD 5.2\"]\nsay = \"Dial 9911.\"\ndial = \"9911\"\n"
    );
    assert!(problems(&text).is_empty(), "{:?}", problems(&text));
}

#[test]
fn an_ani_that_disagrees_with_the_caller_selection_is_refused_at_the_ani() {
    let text = step(
        "ani = \"+13125550100\"\n[step.caller]\nsite_ani = \"+13125550129\"\nphone_tied_to_user = false\n",
    );
    let p = problems(&text);
    assert!(
        p.iter().any(|l| l.starts_with("p.toml:9:7: step[0].ani:")
            && l.contains("disagrees with the caller selection")),
        "{p:#?}"
    );
}

#[test]
fn step_names_are_unique() {
    let one =
        "[[step]]\nname = \"s\"\nrequirements = [\"ICD 5.2\"]\nsay = \"x\"\ndial = \"9911\"\n";
    has(
        &format!("{HEAD}{one}{one}"),
        "p.toml:10:8: step[1].name: step name \"s\" is already used at 5:8",
    );
}

#[test]
fn faults_follow_the_scenario_rules_and_the_plans_own() {
    has(
        &step("ani = \"+13125550100\"\n[[step.fault]]\ngateway = \"gw3\"\nkind = \"silence\"\n"),
        "step[0].fault[0].gateway: unknown gateway \"gw3\"",
    );
    has(
        &step(
            "ani = \"+13125550100\"\n[[step.fault]]\ngateway = \"gw1\"\nkind = \"tls\"\ntls = \"untrusted\"\ncalls = [1]\n",
        ),
        "a connection-level fault in a plan strikes every connection",
    );
    has(
        &step(
            "ani = \"+13125550100\"\ndown = [\"gw1\"]\n[[step.fault]]\ngateway = \"gw1\"\nkind = \"silence\"\n",
        ),
        "gw1 is down for this step",
    );
    let ok = step(
        "ani = \"+13125550100\"\n[[step.fault]]\ngateway = \"gw1\"\nkind = \"respond\"\nstatus = 503\nq850 = 34\ncalls = [1]\n",
    );
    let plan = load_plan_str(&ok, "p.toml").unwrap_or_else(|e| panic!("{e}"));
    let f = &plan.steps[0].scenario.faults[0];
    assert_eq!(f.select, CallSelect::Calls(vec![1]));
    assert!(matches!(
        f.kind,
        FaultKind::Respond {
            status: 503,
            q850: Some(34),
            ..
        }
    ));
}

#[test]
fn a_down_gateway_is_on_the_route_and_hides_its_failover_time() {
    has(
        &format!(
            "{HEAD}[plan.route]\ngateways = [\"gw1\"]\n[[step]]\nname = \"s\"\nrequirements = [\"ICD 5.3\"]\nsay = \"x\"\ndial = \"911\"\nani = \"+13125550100\"\ndown = [\"gw2\"]\n"
        ),
        "gw2 is not on the route",
    );
    has(
        &step(
            "ani = \"+13125550100\"\ndown = [\"gw1\"]\n[step.expect]\nanswered_by = \"gw2\"\nfailover_within = \"5s\"\n",
        ),
        "step[0].expect.failover_within: a failover time cannot be measured at the gateways while gw1 is down",
    );
}

#[test]
fn expectations_use_the_scenario_rules() {
    has(
        &step("ani = \"+13125550100\"\n[step.expect]\nreadback = { number = \"+13125550100\" }\n"),
        "step[0].expect.readback",
    );
    has(
        &step("ani = \"+13125550100\"\n[step.expect]\nstatus = 99\n"),
        "99 is not a final SIP status",
    );
    // A gateway that reads only From: the ANI must come from From.
    let text = format!(
        "{HEAD}ani_headers = [\"From\"]\n[[step]]\nname = \"s\"\nrequirements = [\"ICD 5.3\"]\nsay = \"x\"\ndial = \"911\"\nani = \"+1\"\n"
    );
    let plan = load_plan_str(&text, "p.toml").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        plan.steps[0].scenario.expect.ani_source,
        Some(scenarios::AniHeader::From)
    );
}

#[test]
fn the_head_checks_its_values() {
    has(
        "[plan]\nname = \"p\"\ndescription = \"d\"\norg_id = \"nope\"\nsettle = \"0s\"\nani_headers = [\"From\"]\nani_source = \"P-Asserted-Identity\"\n[plan.probing]\nevery = \"1s\"\n[[step]]\nname = \"n\"\nrequirements = [\"ICD 5.2\"]\nsay = \"x\"\ndial = \"9911\"\n",
        "plan.org_id: \"nope\" is not a canonical UUID",
    );
    let p = problems(
        "[plan]\nname = \"p\"\ndescription = \"d\"\nsettle = \"0s\"\nani_headers = [\"From\"]\nani_source = \"P-Asserted-Identity\"\n[plan.probing]\nevery = \"1s\"\n[[step]]\nname = \"n\"\nrequirements = [\"ICD 5.2\"]\nsay = \"x\"\ndial = \"9911\"\n",
    );
    for want in [
        "plan.settle: must be more than 0",
        "plan.ani_source: the gateway never takes the ANI from P-Asserted-Identity",
        "plan.probing.every: unknown field",
    ] {
        assert!(p.iter().any(|l| l.contains(want)), "{want}: {p:#?}");
    }
}
