//! Lints the shipped scenario library, as SIPp's `dtd_check.sh` does for its scenarios.

use std::collections::HashSet;

use scenarios::{OrgFinding, library_dir, load_paths};

#[test]
fn every_shipped_scenario_is_valid_and_names_are_unique() {
    let dir = library_dir();
    assert!(dir.is_absolute(), "{}", dir.display());
    let all = load_paths(std::slice::from_ref(&dir))
        .unwrap_or_else(|e| panic!("shipped library has problems:\n{e}"));
    let files = std::fs::read_dir(&dir).expect("library dir").filter(|e| {
        e.as_ref()
            .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "toml"))
    });
    assert_eq!(all.len(), files.count(), "every *.toml file loaded");
    let mut names = HashSet::new();
    for s in &all {
        assert!(names.insert(s.name.as_str()), "{} twice", s.name);
        let source = s.source.as_ref().expect("loaded from a file");
        assert_eq!(
            source.file_stem().and_then(|x| x.to_str()),
            Some(s.name.as_str()),
            "file named after the scenario"
        );
        assert!(
            s.description.ends_with('.'),
            "{}: description is a sentence",
            s.name
        );
        assert!(!s.expect.is_empty(), "{} checks something", s.name);
    }
}

#[test]
fn library_holds_the_foundation_scenarios() {
    let all = load_paths(&[library_dir()]).expect("library loads");
    let by_name = |n: &str| {
        all.iter()
            .find(|s| s.name == n)
            .unwrap_or_else(|| panic!("{n} missing"))
    };
    for name in [
        "basic-911",
        "basic-933-readback",
        "org-header-missing",
        "org-header-duplicated",
        "org-wrong",
        "org-malformed-uuid",
        "ani-from-pai",
        "ani-from-only",
    ] {
        by_name(name);
    }
    assert_eq!(by_name("basic-911").expect.status, Some(200));
    assert_eq!(
        by_name("org-header-missing").call.org_headers,
        Vec::<String>::new()
    );
    assert_eq!(by_name("org-header-duplicated").call.org_headers.len(), 2);
    assert_eq!(
        by_name("org-malformed-uuid").expect.org_finding,
        Some(OrgFinding::Malformed)
    );
    let pai = by_name("ani-from-pai");
    assert_ne!(
        pai.call.from_user.as_deref(),
        Some(pai.call.ani.as_str()),
        "From and PAI disagree"
    );
    assert_eq!(by_name("basic-933-readback").call.dial, "933");
}

#[test]
fn library_numbers_stay_in_the_fictional_555_01xx_range() {
    for s in load_paths(&[library_dir()]).expect("library loads") {
        let numbers = [
            Some(&s.call.ani),
            s.call.from_user.as_ref(),
            s.expect.ani.as_ref(),
        ];
        for n in numbers.into_iter().flatten() {
            let digits = n.trim_start_matches("+1");
            assert!(
                digits.len() == 10 && &digits[3..7] == "5550" && &digits[7..8] == "1",
                "{}: {n}",
                s.name
            );
        }
    }
}

#[test]
fn resolved_scenarios_written_as_toml_load_back_unchanged() {
    for s in load_paths(&[library_dir()]).expect("library loads") {
        let text = toml::to_string(&s).expect("serializes");
        assert!(text.contains("hold = \""), "defaults spelled out: {text}");
        let again = scenarios::load_str(&text, "resolved.toml")
            .unwrap_or_else(|e| panic!("{}:\n{e}\n{text}", s.name));
        assert_eq!(again, scenarios::Scenario { source: None, ..s });
    }
}
