//! Shards and `merge` on loopback: two generators started together (`--shard`, `--start-at`),
//! each with its own embedded gateways, merged into one report whose counts and histograms are
//! exactly the sums of the parts and whose accounting equals one run of the same total.

use std::path::Path;
use std::time::{Duration, SystemTime};

use clap::Parser;
use harness::cli::{Cli, Command, run_command};
use harness::load::{self, LoadArgs, state};
use reports::load::LoadReport;

fn args(extra: &[&str]) -> LoadArgs {
    let mut v = vec!["e911-harness", "load"];
    v.extend_from_slice(extra);
    match Cli::try_parse_from(v) {
        Ok(Cli {
            command: Command::Load(a),
        }) => a,
        other => panic!("{other:?}"),
    }
}

fn read(dir: &Path) -> LoadReport {
    let text = std::fs::read_to_string(dir.join("report.json")).unwrap();
    reports::from_json_str(&text).unwrap().load.unwrap()
}

const COMMON: [&str; 9] = [
    "--rate",
    "150",
    "--mix",
    "911=70,933=30",
    "--max-lag",
    "60s",
    "--slo",
    "p99_setup<60s",
    "--quiet",
];

fn shard_args(out: &Path, shard: &str, start_at: &str) -> LoadArgs {
    let mut v = COMMON.to_vec();
    v.extend([
        "--calls=90",
        "--seed=7",
        "--shard",
        shard,
        "--start-at",
        start_at,
        "--out",
        out.to_str().unwrap(),
    ]);
    args(&v)
}

/// The sum of one metric's histograms over the parts, read from their serialized state.
fn summed(parts: &[&LoadReport], metric: &str) -> hdrhistogram::Histogram<u64> {
    let mut sum = load::metrics::histogram();
    for p in parts {
        for h in &p.state.as_ref().unwrap().histograms {
            if h.metric == metric {
                sum.add(state::decode(&h.hdr).unwrap()).unwrap();
            }
        }
    }
    sum
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_shards_merge_to_the_sum_of_their_parts_and_the_accounting_of_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let (a_dir, b_dir, merged, single) = (
        dir.path().join("shard0"),
        dir.path().join("shard1"),
        dir.path().join("merged"),
        dir.path().join("single"),
    );
    // Far enough ahead for both to generate certificates and connect on a busy machine.
    let at = SystemTime::now() + Duration::from_secs(10);
    let at = humantime::format_rfc3339_millis(at).to_string();
    let (ra, rb) = tokio::join!(
        load::load_cmd(shard_args(&a_dir, "0/2", &at)),
        load::load_cmd(shard_args(&b_dir, "1/2", &at)),
    );
    assert_eq!((ra.unwrap(), rb.unwrap()), (0, 0));
    let (a, b) = (read(&a_dir), read(&b_dir));
    assert_eq!(a.counts.attempted + b.counts.attempted, 90);
    assert_eq!(a.counts.attempted, 45, "shard 0 places calls 0, 2, 4, ...");
    assert_eq!(
        a.state.as_ref().unwrap().started_unix_ms,
        b.state.as_ref().unwrap().started_unix_ms,
        "--start-at starts both shards at the same instant"
    );

    // The run folder stands for its shard folders (as the Kubernetes merge step uses it).
    let cmd = Cli::try_parse_from([
        "e911-harness",
        "merge",
        dir.path().to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
    ])
    .unwrap()
    .command;
    assert_eq!(run_command(cmd).await.unwrap(), 0);
    let m = read(&merged);
    // Counts are the sums of the parts, and the identity holds on the sum.
    let sum = |f: fn(&LoadReport) -> u64| f(&a) + f(&b);
    assert_eq!(m.counts.attempted, sum(|l| l.counts.attempted));
    assert_eq!(m.counts.answered, sum(|l| l.counts.answered));
    assert_eq!(m.counts.errored, sum(|l| l.counts.errored));
    assert!(m.counts.balanced());
    assert_eq!(m.tls_handshakes, sum(|l| l.tls_handshakes));
    // Histograms are the sums of the parts' histograms: the same counts at the same values.
    for metric in ["setup", "lag", "setup_uncorrected"] {
        let want = summed(&[&a, &b], metric);
        let got = summed(&[&m], metric);
        assert_eq!(got, want, "{metric}");
    }
    assert_eq!(
        m.metrics["setup"].count,
        a.metrics["setup"].count + b.metrics["setup"].count
    );
    assert_eq!(m.merged_from.len(), 2);
    // The interval logs were aligned and added: every answered call is in exactly one second.
    let (_, intervals) = state::read_interval_log(&merged.join("setup.hlog")).unwrap();
    let logged: u64 = intervals.iter().map(|h| h.len()).sum();
    assert_eq!(logged, m.counts.answered);
    for f in ["report.json", "junit.xml", "summary.md", "setup.hlog"] {
        assert!(merged.join(f).is_file(), "{f}");
    }
    let junit = std::fs::read_to_string(merged.join("junit.xml")).unwrap();
    assert!(
        junit.contains("merge.shards") && junit.contains("slo p99_setup"),
        "{junit}"
    );

    // One generator placing the same total: the same accounting, call for call per dial.
    let mut v = COMMON.to_vec();
    v.extend(["--calls=90", "--seed=7", "--out", single.to_str().unwrap()]);
    assert_eq!(load::load_cmd(args(&v)).await.unwrap(), 0);
    let s = read(&single);
    assert_eq!(s.counts, m.counts);
    let per_dial = |l: &LoadReport| {
        l.by_dial
            .iter()
            .map(|d| (d.label.clone(), d.counts.attempted))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        per_dial(&s),
        per_dial(&m),
        "the mix is drawn per call index"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_refuses_what_is_not_one_run_and_flags_a_missing_shard() {
    let dir = tempfile::tempdir().unwrap();
    let (a_dir, c_dir, merged) = (
        dir.path().join("a"),
        dir.path().join("c"),
        dir.path().join("m"),
    );
    let mut v = COMMON.to_vec();
    v.extend([
        "--calls=20",
        "--seed=7",
        "--transport",
        "tcp",
        "--shard",
        "0/2",
        "--out",
        a_dir.to_str().unwrap(),
    ]);
    load::load_cmd(args(&v)).await.unwrap();
    // Only shard 0 of 2: merged, but the merged report says it is not the whole run (exit 3).
    let merge = |dirs: Vec<&str>| {
        let mut v = vec!["e911-harness", "merge"];
        v.extend(dirs);
        v.extend(["--out", merged.to_str().unwrap()]);
        Cli::try_parse_from(v).unwrap().command
    };
    assert_eq!(
        run_command(merge(vec![a_dir.to_str().unwrap()]))
            .await
            .unwrap(),
        3
    );
    let m = read(&merged);
    assert!(!m.merged_from.is_empty());
    let junit = std::fs::read_to_string(merged.join("junit.xml")).unwrap();
    assert!(junit.contains("shard 1/2 missing"), "{junit}");
    // Another seed is another run: refused with both folders and the field named.
    let mut v = COMMON.to_vec();
    v.extend([
        "--calls=20",
        "--transport",
        "tcp",
        "--seed=8",
        "--shard",
        "1/2",
        "--out",
        c_dir.to_str().unwrap(),
    ]);
    load::load_cmd(args(&v)).await.unwrap();
    let err = load::merge::merge(&load::merge::MergeArgs {
        dirs: vec![a_dir.clone(), c_dir.clone()],
        out: merged.clone(),
        slo: None,
        max_lag: None,
    })
    .unwrap_err();
    assert!(err.contains("differ in seed"), "{err}");
    // A folder without a report is named.
    let err = load::merge::merge(&load::merge::MergeArgs {
        dirs: vec![dir.path().join("nothing")],
        out: merged,
        slo: None,
        max_lag: None,
    })
    .unwrap_err();
    assert!(err.contains("nothing/report.json"), "{err}");
}
