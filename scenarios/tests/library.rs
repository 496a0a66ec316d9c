//! Lints the shipped scenario library, as SIPp's `dtd_check.sh` does for its scenarios, and holds
//! the copy built into the crate equal to the files on disk.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use scenarios::{OrgFinding, SHIPPED_DIR, SHIPPED_FILES, load_paths, shipped};

/// `scenarios/library/` in this checkout (the tests run in the source tree; the binary does not).
fn library_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("library")
}

#[test]
fn the_built_in_library_is_the_folder_on_disk() {
    let mut on_disk: Vec<(String, String)> = std::fs::read_dir(library_dir())
        .expect("library dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
        .map(|p| {
            let name = p.file_name().unwrap().to_str().unwrap().to_owned();
            (name, std::fs::read_to_string(&p).expect("readable"))
        })
        .collect();
    on_disk.sort();
    let built_in: Vec<(String, String)> = SHIPPED_FILES
        .iter()
        .map(|f| (f.name.to_owned(), f.text.to_owned()))
        .collect();
    let names = |files: &[(String, String)]| files.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&built_in),
        names(&on_disk),
        "the same files (rebuild the crate)"
    );
    for ((name, built), (_, disk)) in built_in.iter().zip(&on_disk) {
        assert!(
            built == disk,
            "{name}: the built-in copy differs from the file"
        );
    }
}

#[test]
fn shipped_loads_what_the_folder_loads_named_library_slash_file() {
    let from_disk = load_paths(&[library_dir()]).expect("library loads");
    let built_in = shipped().unwrap_or_else(|e| panic!("built-in library has problems:\n{e}"));
    assert_eq!(built_in.len(), from_disk.len());
    for (b, d) in built_in.iter().zip(&from_disk) {
        let file = d.source.as_ref().and_then(|p| p.file_name()).unwrap();
        assert_eq!(b.source, Some(Path::new(SHIPPED_DIR).join(file)));
        assert_eq!(
            b.source.as_ref().unwrap().to_str().unwrap(),
            format!("library/{}", file.to_str().unwrap())
        );
        let same = scenarios::Scenario {
            source: d.source.clone(),
            ..b.clone()
        };
        assert_eq!(&same, d, "{}", b.name);
    }
}

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
        // A [caller] scenario leaves call.ani empty for the harness to fill in.
        for n in numbers.into_iter().flatten().filter(|n| !n.is_empty()) {
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

#[test]
fn library_covers_every_fault_class_and_both_distributions() {
    use scenarios::{Distribution, FaultKind, FaultWhen, TlsFaultKind};
    let all = load_paths(&[library_dir()]).expect("library loads");
    let routed: Vec<_> = all.iter().filter(|s| s.route.is_some()).collect();
    let has = |pred: &dyn Fn(&FaultKind) -> bool| {
        routed
            .iter()
            .any(|s| s.faults.iter().any(|f| pred(&f.kind)))
    };
    assert!(has(&|k| matches!(
        k,
        FaultKind::Respond {
            status: 503,
            q850: None,
            ..
        }
    )));
    assert!(has(&|k| matches!(
        k,
        FaultKind::Respond {
            status: 503,
            q850: Some(34),
            ..
        }
    )));
    assert!(has(&|k| matches!(
        k,
        FaultKind::Respond {
            status: 486,
            q850: None,
            ..
        }
    )));
    assert!(has(&|k| matches!(
        k,
        FaultKind::Respond { status: 403, .. }
    )));
    assert!(has(&|k| *k == FaultKind::TryingThenSilence));
    assert!(has(&|k| *k == FaultKind::Silence));
    assert!(has(&|k| *k == FaultKind::Close(FaultWhen::BeforeInvite)));
    assert!(has(&|k| *k == FaultKind::Reset(FaultWhen::AfterInvite)));
    for t in [
        TlsFaultKind::Untrusted,
        TlsFaultKind::Expired,
        TlsFaultKind::WrongName,
    ] {
        assert!(has(&|k| *k == FaultKind::Tls(t)), "{t:?}");
    }
    let state = |pred: &dyn Fn(&scenarios::GatewayState) -> bool| {
        routed.iter().any(|s| s.gateway.states.values().any(pred))
    };
    assert!(state(&|s| s.outage.is_some()), "outage");
    assert!(state(&|s| s.capacity.is_some()), "capacity");
    let random: Vec<_> = routed
        .iter()
        .filter(|s| s.route.as_ref().unwrap().distribution == Distribution::Random)
        .collect();
    assert!(random.iter().any(|s| s.expect.random_split.is_some()));
    assert!(
        random.iter().any(|s| !s.faults.is_empty()),
        "failover under Random"
    );
    assert!(routed.iter().any(|s| s.health.is_some()), "OPTIONS probing");
    // Every media fault, each declaring the finding it must produce.
    for m in ["none", "wrong-port", "wrong-key", "plain-rtp", "late"] {
        let s = routed
            .iter()
            .find(|s| {
                s.faults
                    .iter()
                    .any(|f| matches!(&f.kind, FaultKind::Media(k) if k.as_str() == m))
            })
            .unwrap_or_else(|| panic!("media fault {m}"));
        assert!(s.expect.media_findings.is_some(), "{}", s.name);
    }
    // Certify must stay quick: short attempt timeouts everywhere.
    for s in &routed {
        let r = s.route.as_ref().unwrap();
        assert!(
            r.attempt_timeout <= std::time::Duration::from_millis(500),
            "{}: attempt_timeout {:?}",
            s.name,
            r.attempt_timeout
        );
    }
}
