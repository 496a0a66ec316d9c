//! A run's exact state in its report, and back: every histogram of the [`Recorder`] as base64
//! of HdrHistogram's V2 + DEFLATE encoding (the interval log's own encoding), the counters the
//! report does not already hold, and the interval log read back. `merge` rebuilds a recorder
//! per run from these and adds them; nothing is averaged.

use std::path::Path;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
use hdrhistogram::serialization::{Deserializer, Serializer as _, V2DeflateSerializer};
use reports::load::LoadReport;
use reports::load_detail::{LoadState, STATE_VERSION, StateHistogram, StateSlice};

use super::metrics::{CLASS_NAMES, Metric, Recorder, Slice, histogram};

/// Base64 of the V2 + DEFLATE encoding of `h`.
pub fn encode(h: &Histogram<u64>) -> String {
    let mut buf = Vec::new();
    // Serializing into a Vec cannot fail for histograms of our bounds.
    if V2DeflateSerializer::new().serialize(h, &mut buf).is_err() {
        buf.clear();
    }
    STANDARD.encode(buf)
}

/// The histogram `encode` wrote.
pub fn decode(text: &str) -> Result<Histogram<u64>, String> {
    let bytes = STANDARD
        .decode(text.trim())
        .map_err(|e| format!("not base64: {e}"))?;
    let h: Histogram<u64> = Deserializer::new()
        .deserialize(&mut &bytes[..])
        .map_err(|e| format!("not an HdrHistogram V2 encoding: {e:?}"))?;
    // Re-bound into the recorder's own shape so adding never fails on a range.
    let mut out = histogram();
    out.add(&h)
        .map_err(|e| format!("histogram out of range: {e:?}"))?;
    Ok(out)
}

/// The facts of a run beside its recorder.
#[derive(Debug, Clone)]
pub struct Facts {
    /// Wall-clock time of t0.
    pub started: SystemTime,
    /// Span the rates are over.
    pub span: Duration,
    /// Calls issued.
    pub issued: u64,
    /// Calls abandoned at the drain bound.
    pub abandoned: u64,
    /// SLOs as given.
    pub slos: Vec<String>,
    /// Length of each step of a `steps:` profile.
    pub step_each: Option<Duration>,
}

/// Milliseconds since the Unix epoch.
pub fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn slice_state(label: &str, s: &Slice) -> StateSlice {
    StateSlice {
        label: label.to_owned(),
        counts: s.counts,
        completed: s.completed,
        ineffective: s.ineffective,
        setup_hdr: encode(&s.setup),
    }
}

fn slice_from(s: &StateSlice) -> Result<Slice, String> {
    Ok(Slice {
        counts: s.counts,
        completed: s.completed,
        ineffective: s.ineffective,
        setup: decode(&s.setup_hdr).map_err(|e| format!("slice {:?}: {e}", s.label))?,
    })
}

/// The state of `rec` for the report.
pub fn export(rec: &Recorder, f: &Facts) -> LoadState {
    let mut keys: Vec<_> = rec.hists.keys().copied().collect();
    keys.sort();
    LoadState {
        version: STATE_VERSION,
        started_unix_ms: unix_ms(f.started),
        span_us: u64::try_from(f.span.as_micros()).unwrap_or(u64::MAX),
        issued: f.issued,
        abandoned: f.abandoned,
        completed: rec.completed,
        slos: f.slos.clone(),
        gateways: rec.gateways.clone(),
        histograms: keys
            .into_iter()
            .map(|k| StateHistogram {
                metric: k.0.name().to_owned(),
                outcome: CLASS_NAMES[k.1].to_owned(),
                gateway: rec
                    .gateways
                    .get(k.2)
                    .cloned()
                    .unwrap_or_else(|| format!("#{}", k.2)),
                hdr: encode(&rec.hists[&k]),
            })
            .collect(),
        dials: rec
            .dials
            .iter()
            .zip(&rec.by_dial)
            .map(|(d, s)| slice_state(d, s))
            .collect(),
        steps: rec
            .steps
            .iter()
            .zip(&rec.by_step)
            .map(|(d, s)| slice_state(d, s))
            .collect(),
        step_each_ms: f
            .step_each
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
    }
}

/// Rebuilds the recorder of a report (without its interval histograms: [`read_interval_log`]).
pub fn import(l: &LoadReport) -> Result<(Recorder, Facts), String> {
    let st = l
        .state
        .as_ref()
        .ok_or("the report has no `load.state` (written by an older harness?)")?;
    if st.version != STATE_VERSION {
        return Err(format!(
            "load.state version {} is not the {STATE_VERSION} this harness reads",
            st.version
        ));
    }
    let mut rec = Recorder::new(
        st.gateways.clone(),
        st.dials.iter().map(|s| s.label.clone()).collect(),
        st.steps.iter().map(|s| s.label.clone()).collect(),
    );
    for h in &st.histograms {
        let metric = Metric::ALL
            .into_iter()
            .find(|m| m.name() == h.metric)
            .ok_or_else(|| format!("unknown metric {:?}", h.metric))?;
        let class = CLASS_NAMES
            .iter()
            .position(|c| *c == h.outcome)
            .ok_or_else(|| format!("unknown outcome {:?}", h.outcome))?;
        let gw = rec
            .gateways
            .iter()
            .position(|g| *g == h.gateway)
            .ok_or_else(|| format!("histogram of unknown gateway {:?}", h.gateway))?;
        let hist =
            decode(&h.hdr).map_err(|e| format!("{} {} {}: {e}", h.metric, h.outcome, h.gateway))?;
        rec.hists.insert((metric, class, gw), hist);
    }
    rec.by_dial = st.dials.iter().map(slice_from).collect::<Result<_, _>>()?;
    rec.by_step = st.steps.iter().map(slice_from).collect::<Result<_, _>>()?;
    rec.counts = l.counts;
    for (status, n) in &l.rejected_by_status {
        let s: u16 = status
            .parse()
            .map_err(|_| format!("rejected_by_status: {status:?} is not a status code"))?;
        rec.rejected_by_status.insert(s, *n);
    }
    rec.errored_by_cause = l.errored_by_cause.clone();
    rec.teardown_failures = l.teardown_failures.clone();
    rec.retransmissions = l.retransmissions;
    rec.completed = st.completed;
    rec.tls_full = l.tls.full;
    rec.tls_resumed = l.tls.resumed;
    rec.tls_pooled = l.tls.pooled;
    rec.late_starts = l.late_starts;
    rec.ani = l.ani_check.clone();
    let facts = Facts {
        started: SystemTime::UNIX_EPOCH + Duration::from_millis(st.started_unix_ms),
        span: Duration::from_micros(st.span_us),
        issued: st.issued,
        abandoned: st.abandoned,
        slos: st.slos.clone(),
        step_each: st.step_each_ms.map(Duration::from_millis),
    };
    Ok((rec, facts))
}

/// The per-second histograms of an interval log, with the log's start time.
pub fn read_interval_log(path: &Path) -> Result<(SystemTime, Vec<Histogram<u64>>), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut start: Option<Duration> = None;
    let mut base: Option<Duration> = None;
    let mut out: Vec<Histogram<u64>> = Vec::new();
    let mut de = Deserializer::new();
    for (n, entry) in IntervalLogIterator::new(&bytes).enumerate() {
        let entry = entry.map_err(|e| format!("{}: entry {}: {e:?}", path.display(), n + 1))?;
        match entry {
            LogEntry::StartTime(d) => start = Some(d),
            LogEntry::BaseTime(d) => base = Some(d),
            LogEntry::Interval(i) => {
                let raw = STANDARD.decode(i.encoded_histogram()).map_err(|e| {
                    format!("{}: interval {}: not base64: {e}", path.display(), n + 1)
                })?;
                let h: Histogram<u64> = de
                    .deserialize(&mut &raw[..])
                    .map_err(|e| format!("{}: interval {}: {e:?}", path.display(), n + 1))?;
                // Timestamps are relative to BaseTime when there is one; seconds from StartTime.
                let at = base.map_or(i.start_timestamp(), |b| b + i.start_timestamp());
                let rel = match start {
                    Some(s) if at >= s => at - s,
                    _ => at,
                };
                let sec = rel.as_secs_f64().round() as usize;
                if sec > 31 * 24 * 3600 {
                    return Err(format!(
                        "{}: interval at {sec} s is past any run's length",
                        path.display()
                    ));
                }
                if out.len() <= sec {
                    out.resize_with(sec + 1, histogram);
                }
                out[sec]
                    .add(&h)
                    .map_err(|e| format!("{}: interval {}: {e:?}", path.display(), n + 1))?;
            }
        }
    }
    let start = start.ok_or_else(|| format!("{}: no #[StartTime: ...] line", path.display()))?;
    Ok((SystemTime::UNIX_EPOCH + start, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_round_trip_exactly() {
        let mut h = histogram();
        for v in [1u64, 7, 1_000, 12_345, 999_999, 3_000_000] {
            h.record_n(v, v % 5 + 1).unwrap();
        }
        let back = decode(&encode(&h)).unwrap();
        assert_eq!(back, h);
        assert_eq!(back.value_at_quantile(0.99), h.value_at_quantile(0.99));
        assert!(decode("not base64!").unwrap_err().contains("base64"));
        assert!(decode("AAAA").unwrap_err().contains("HdrHistogram"));
    }
}
