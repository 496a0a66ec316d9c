//! Failover sections ([route], [[fault]], [gateway.gwN], [health], [run]) and the route
//! expectations: each rule's passing and failing side, with positions.

mod support;

use std::time::Duration;

use scenarios::{
    CallSelect, Distribution, FaultKind, FaultWhen, ProblemKind, TlsFaultKind, load_str,
};
use support::{ok, one, problems};

const HEAD: &str = r#"name = "t"
description = "A failover test."
requirements = ["ICD 5.3"]

[call]
dial = "911"
ani = "+13125550100"
"#;

/// A scenario with `sections` after [call] and `expect` lines in [expect].
fn doc(sections: &str, expect: &str) -> String {
    format!("{HEAD}\n{sections}\n\n[expect]\nstatus = 200\n{expect}\n")
}

#[test]
fn route_defaults_follow_icd_5_3_and_rfc_3261() {
    let s = ok(&doc("[route]", ""));
    let r = s.route.expect("route");
    assert_eq!(r.gateways, ["gw1", "gw2"]);
    assert_eq!(r.distribution, Distribution::Sequential);
    assert_eq!(r.retry_on_status, [408, 480, 500, 502, 503, 504]);
    assert_eq!(r.retry_on_q850, [34, 38, 41, 42, 47]);
    assert_eq!(r.attempt_timeout, Duration::from_secs(4));
    assert_eq!(s.run.calls, 1);
    assert!(s.faults.is_empty() && s.health.is_none());
    // Without [route] the scenario is a single call, as before.
    assert!(ok(&doc("", "")).route.is_none());
}

#[test]
fn route_fields_are_read() {
    let s = ok(&doc(
        "[route]\ngateways = [\"gw2\", \"gw1\"]\ndistribution = \"random\"\nseed = 7\nretry_on_status = []\nretry_on_q850 = [34]\nattempt_timeout = \"300ms\"\n\n[run]\ncalls = 50\n\n[health]\ninterval = \"50ms\"\ndown_after = 3\nup_after = 1",
        "",
    ));
    let r = s.route.expect("route");
    assert_eq!(r.gateways, ["gw2", "gw1"]);
    assert_eq!((r.distribution, r.seed), (Distribution::Random, Some(7)));
    assert!(r.retry_on_status.is_empty());
    assert_eq!(r.attempt_timeout, Duration::from_millis(300));
    assert_eq!(s.run.calls, 50);
    let h = s.health.expect("health");
    assert_eq!(
        (h.interval, h.down_after, h.up_after),
        (Duration::from_millis(50), 3, 1)
    );
}

#[test]
fn route_rules_fail_with_positions() {
    let p = one(
        &doc("[route]\ngateways = [\"gw1\", \"gw3\"]", ""),
        "route.gateways[1]",
        ProblemKind::InvalidValue,
    );
    assert!(
        p.message.contains("unknown gateway \"gw3\""),
        "{}",
        p.message
    );
    assert_eq!((p.line, p.column), (10, 20));
    one(
        &doc("[route]\ngateways = []", ""),
        "route.gateways",
        ProblemKind::InvalidValue,
    );
    one(
        &doc("[route]\ngateways = [\"gw1\", \"gw1\"]", ""),
        "route.gateways[1]",
        ProblemKind::Duplicate,
    );
    let p = one(
        &doc("[route]\ndistribution = \"Random\"", ""),
        "route.distribution",
        ProblemKind::InvalidValue,
    );
    assert!(
        p.message.contains("did you mean \"random\""),
        "{}",
        p.message
    );
    one(
        &doc("[route]\nseed = 3", ""),
        "route.seed",
        ProblemKind::Conflict,
    );
    one(
        &doc("[route]\nretry_on_status = [503, 200]", ""),
        "route.retry_on_status[1]",
        ProblemKind::InvalidValue,
    );
    one(
        &doc("[route]\nretry_on_status = [503, 503]", ""),
        "route.retry_on_status[1]",
        ProblemKind::Duplicate,
    );
    one(
        &doc("[route]\nretry_on_q850 = [0]", ""),
        "route.retry_on_q850[0]",
        ProblemKind::InvalidValue,
    );
    one(
        &doc("[route]\nattempt_timeout = \"40s\"", ""),
        "route.attempt_timeout",
        ProblemKind::InvalidValue,
    );
    one(
        &doc("[route]\ncolour = 1", ""),
        "route.colour",
        ProblemKind::UnknownField,
    );
    // With a route, call.gateway would contradict it.
    let text = doc("[route]", "").replace(
        "ani = \"+13125550100\"",
        "ani = \"+13125550100\"\ngateway = \"gw2\"",
    );
    one(&text, "call.gateway", ProblemKind::Conflict);
}

#[test]
fn run_and_health_rules() {
    one(
        &doc("[route]\n[run]\ncalls = 0", ""),
        "run.calls",
        ProblemKind::InvalidValue,
    );
    one(
        &doc("[route]\n[run]\ncalls = 10001", ""),
        "run.calls",
        ProblemKind::InvalidValue,
    );
    ok(&doc("[route]\n[run]\ncalls = 10000", ""));
    let s = ok(&doc("[route]\n[run]\ncalls = 4\nconcurrency = 4", ""));
    assert_eq!((s.run.calls, s.run.concurrency), (4, 4));
    one(
        &doc("[route]\n[run]\ncalls = 4\nconcurrency = 5", ""),
        "run.concurrency",
        ProblemKind::InvalidValue,
    );
    one(
        &doc("[route]\n[health]\ndown_after = 0", ""),
        "health.down_after",
        ProblemKind::InvalidValue,
    );
    one(
        &doc("[route]\n[health]\ninterval = \"0s\"", ""),
        "health.interval",
        ProblemKind::InvalidValue,
    );
    one(&doc("[health]", ""), "health", ProblemKind::Conflict);
}

#[test]
fn every_fault_kind_is_read() {
    let s = ok(&doc(
        r#"[route]
[run]
calls = 10

[[fault]]
gateway = "gw1"
kind = "respond"
status = 503
reason = "Busy Here"
q850 = 34
retry_after = 5
calls = [1, 3]

[[fault]]
gateway = "gw1"
kind = "delay"
delay = "2s"
every = 2

[[fault]]
gateway = "gw1"
kind = "trying-then-silence"
fraction = 0.5
seed = 9

[[fault]]
gateway = "gw2"
kind = "silence"
calls = "all"

[[fault]]
gateway = "gw2"
kind = "close"
when = "before-invite"

[[fault]]
gateway = "gw2"
kind = "reset"

[[fault]]
gateway = "gw2"
kind = "tls"
tls = "wrong-name"
"#,
        "",
    ));
    let kinds: Vec<&FaultKind> = s.faults.iter().map(|f| &f.kind).collect();
    assert_eq!(
        kinds,
        [
            &FaultKind::Respond {
                status: 503,
                reason: Some("Busy Here".into()),
                q850: Some(34),
                retry_after: Some(5)
            },
            &FaultKind::Delay(Duration::from_secs(2)),
            &FaultKind::TryingThenSilence,
            &FaultKind::Silence,
            &FaultKind::Close(FaultWhen::BeforeInvite),
            &FaultKind::Reset(FaultWhen::AfterInvite),
            &FaultKind::Tls(TlsFaultKind::WrongName),
        ]
    );
    assert_eq!(s.faults[0].select, CallSelect::Calls(vec![1, 3]));
    assert_eq!(s.faults[1].select, CallSelect::Every(2));
    assert!(matches!(s.faults[2].select, CallSelect::Fraction { p, seed: 9 } if p.0 == 0.5));
    assert_eq!(s.faults[3].select, CallSelect::All);
    assert_eq!(s.faults[4].select, CallSelect::All);
}

fn fault(body: &str) -> String {
    doc(
        &format!("[route]\n[run]\ncalls = 4\n\n[[fault]]\n{body}"),
        "",
    )
}

#[test]
fn fault_rules_fail_with_positions() {
    let p = one(
        &fault("gateway = \"gw9\"\nkind = \"silence\""),
        "fault[0].gateway",
        ProblemKind::InvalidValue,
    );
    assert!(p.message.contains("unknown gateway"), "{}", p.message);
    let p = one(
        &fault("gateway = \"gw1\"\nkind = \"explode\""),
        "fault[0].kind",
        ProblemKind::InvalidValue,
    );
    assert!(
        p.message.contains("\"trying-then-silence\""),
        "{}",
        p.message
    );
    one(
        &fault("gateway = \"gw1\""),
        "fault[0].kind",
        ProblemKind::MissingField,
    );
    one(
        &fault("gateway = \"gw1\"\nkind = \"respond\""),
        "fault[0].status",
        ProblemKind::MissingField,
    );
    one(
        &fault("gateway = \"gw1\"\nkind = \"respond\"\nstatus = 200"),
        "fault[0].status",
        ProblemKind::InvalidValue,
    );
    one(
        &fault("gateway = \"gw1\"\nkind = \"respond\"\nstatus = 503\nq850 = 128"),
        "fault[0].q850",
        ProblemKind::InvalidValue,
    );
    let p = one(
        &fault("gateway = \"gw1\"\nkind = \"silence\"\nstatus = 503"),
        "fault[0].status",
        ProblemKind::Conflict,
    );
    assert!(
        p.message.contains("applies to kind = \"respond\""),
        "{}",
        p.message
    );
    one(
        &fault("gateway = \"gw1\"\nkind = \"tls\"\ntls = \"sloppy\""),
        "fault[0].tls",
        ProblemKind::InvalidValue,
    );
    one(
        &fault("gateway = \"gw1\"\nkind = \"close\"\nwhen = \"later\""),
        "fault[0].when",
        ProblemKind::InvalidValue,
    );
    one(
        &fault("gateway = \"gw1\"\nkind = \"delay\"\ndelay = \"0s\""),
        "fault[0].delay",
        ProblemKind::InvalidValue,
    );
    // Selections.
    for bad in ["1.5", "-0.1"] {
        let p = one(
            &fault(&format!(
                "gateway = \"gw1\"\nkind = \"silence\"\nfraction = {bad}"
            )),
            "fault[0].fraction",
            ProblemKind::InvalidValue,
        );
        assert!(p.message.contains("expected 0 to 1"), "{}", p.message);
    }
    ok(&fault(
        "gateway = \"gw1\"\nkind = \"silence\"\nfraction = 1",
    ));
    one(
        &fault("gateway = \"gw1\"\nkind = \"silence\"\ncalls = [1]\nevery = 2"),
        "fault[0].every",
        ProblemKind::Conflict,
    );
    one(
        &fault("gateway = \"gw1\"\nkind = \"silence\"\nseed = 2"),
        "fault[0].seed",
        ProblemKind::Conflict,
    );
    one(
        &fault("gateway = \"gw1\"\nkind = \"silence\"\ncalls = [5]"),
        "fault[0].calls[0]",
        ProblemKind::InvalidValue,
    );
    one(
        &fault("gateway = \"gw1\"\nkind = \"silence\"\ncalls = []"),
        "fault[0].calls",
        ProblemKind::InvalidValue,
    );
    one(
        &fault("gateway = \"gw1\"\nkind = \"silence\"\ncalls = \"some\""),
        "fault[0].calls",
        ProblemKind::InvalidValue,
    );
    one(
        &fault("gateway = \"gw1\"\nkind = \"silence\"\nevery = 0"),
        "fault[0].every",
        ProblemKind::InvalidValue,
    );
    // A fault on a gateway the route never tries.
    let text = doc(
        "[route]\ngateways = [\"gw1\"]\n\n[[fault]]\ngateway = \"gw2\"\nkind = \"silence\"",
        "",
    );
    one(&text, "fault[0].gateway", ProblemKind::Conflict);
    // Faults need a route.
    let text = doc("[[fault]]\ngateway = \"gw1\"\nkind = \"silence\"", "");
    one(&text, "route", ProblemKind::MissingField);
}

#[test]
fn capacity_and_outage_per_gateway() {
    let s = ok(&doc(
        "[route]\n\n[gateway.gw1]\ncapacity = 1\noutage = { from = \"0s\", until = \"2s\" }",
        "outage_failed_max = 0",
    ));
    let st = s.gateway.state("gw1");
    assert_eq!(st.capacity, Some(1));
    let w = st.outage.expect("outage");
    assert_eq!((w.from, w.until), (Duration::ZERO, Duration::from_secs(2)));
    assert_eq!(s.gateway.state("gw2"), Default::default());
    let p = one(
        &doc(
            "[route]\n\n[gateway.gw1]\noutage = { from = \"3s\", until = \"1s\" }",
            "",
        ),
        "gateway.gw1.outage.until",
        ProblemKind::Conflict,
    );
    assert!(
        p.message.contains("ends (1s) before it starts (3s)"),
        "{}",
        p.message
    );
    let p = one(
        &doc("[route]\n\n[gateway.gw3]\ncapacity = 1", ""),
        "gateway.gw3",
        ProblemKind::UnknownField,
    );
    assert!(p.message.contains("did you mean `gw1`"), "{}", p.message);
    one(
        &doc("[route]\n\n[gateway.gw1]\ncapacity = 0", ""),
        "gateway.gw1.capacity",
        ProblemKind::InvalidValue,
    );
    one(
        &doc("[route]\n\n[gateway.gw1]\noutage = { from = \"0s\" }", ""),
        "gateway.gw1.outage.until",
        ProblemKind::MissingField,
    );
}

#[test]
fn route_expectations_pass_side() {
    let s = ok(&doc(
        "[route]",
        "answered_by = \"gw2\"\nattempts = 2\nfailover_within = \"1s\"\nlong_path_max = 1",
    ));
    assert_eq!(s.expect.attempts, Some(2));
    assert_eq!(
        s.expect.identical_retry,
        Some(true),
        "defaults on for retries"
    );
    assert_eq!(s.expect.failover_within, Some(Duration::from_secs(1)));
    let s = ok(&doc("[route]", "attempts = 1\nno_retry = true"));
    assert_eq!(s.expect.identical_retry, None);
    let s = ok(&doc(
        "[route]\ndistribution = \"random\"\nseed = 1\n[run]\ncalls = 200",
        "random_split = { gateway = \"gw1\", within = \"99.9%\" }",
    ));
    let rs = s.expect.random_split.expect("split");
    assert_eq!((rs.gateway.as_str(), rs.within_ppm), ("gw1", 999_000));
}

#[test]
fn route_expectations_fail_side() {
    one(
        &doc("", "attempts = 2"),
        "expect.attempts",
        ProblemKind::Conflict,
    );
    one(
        &doc("[route]", "attempts = 3"),
        "expect.attempts",
        ProblemKind::InvalidValue,
    );
    one(
        &doc("[route]", "attempts = 2\nno_retry = true"),
        "expect.no_retry",
        ProblemKind::Conflict,
    );
    one(
        &doc("[route]", "no_retry = true\nfailover_within = \"1s\""),
        "expect.failover_within",
        ProblemKind::Conflict,
    );
    one(
        &doc("[route]", "attempts = 1\nidentical_retry = true"),
        "expect.identical_retry",
        ProblemKind::Conflict,
    );
    one(
        &doc("[route]\ngateways = [\"gw1\"]", "answered_by = \"gw2\""),
        "expect.answered_by",
        ProblemKind::Conflict,
    );
    one(
        &doc(
            "[route]\n[run]\ncalls = 100",
            "random_split = { gateway = \"gw1\" }",
        ),
        "expect.random_split",
        ProblemKind::Conflict,
    );
    one(
        &doc(
            "[route]\ndistribution = \"random\"",
            "random_split = { gateway = \"gw1\" }",
        ),
        "expect.random_split",
        ProblemKind::Conflict,
    );
    one(
        &doc(
            "[route]\ndistribution = \"random\"\n[run]\ncalls = 100",
            "random_split = { gateway = \"gw1\", within = \"120%\" }",
        ),
        "expect.random_split.within",
        ProblemKind::InvalidValue,
    );
    one(
        &doc("[route]", "outage_failed_max = 0"),
        "expect.outage_failed_max",
        ProblemKind::Conflict,
    );
    one(
        &doc("[route]", "no_retry = \"yes\""),
        "expect.no_retry",
        ProblemKind::WrongType,
    );
}

#[test]
fn many_failover_mistakes_are_reported_together() {
    let text = doc(
        "[route]\ngateways = [\"gw3\"]\n\n[[fault]]\ngateway = \"gw1\"\nkind = \"boom\"\nfraction = 2.0",
        "attempts = 0",
    );
    let ps = problems(&text);
    let fields: Vec<&str> = ps.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "route.gateways[0]",
            "fault[0].kind",
            "fault[0].fraction",
            "expect.attempts"
        ],
        "{ps:#?}"
    );
    let rendered = load_str(&text, "f.toml").expect_err("invalid").to_string();
    assert!(
        rendered.starts_with("f.toml:10:13: route.gateways[0]: unknown gateway"),
        "{rendered}"
    );
}
