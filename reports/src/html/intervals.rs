//! The load run's interval log (`setup.hlog`, HdrHistogram interval log format, V2 compressed
//! histograms): read back into one histogram per interval for the plots over time, and merged
//! into the run's full distribution for the percentile plot.

use base64::Engine as _;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};

/// One interval of the log.
#[derive(Debug, Clone)]
pub(super) struct Interval {
    /// Its start, seconds from the log's first interval.
    pub(super) start_s: f64,
    /// Its length, seconds.
    pub(super) length_s: f64,
    /// The values recorded in it (µs).
    pub(super) hist: Histogram<u64>,
}

/// The intervals of `log`, in order; entries that cannot be read are skipped.
pub(super) fn parse(log: &[u8]) -> Vec<Interval> {
    let mut de = Deserializer::new();
    let mut out = Vec::new();
    for entry in IntervalLogIterator::new(log) {
        let Ok(LogEntry::Interval(ih)) = entry else {
            continue;
        };
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(ih.encoded_histogram())
        else {
            continue;
        };
        let Ok(hist) = de.deserialize::<u64, _>(&mut bytes.as_slice()) else {
            continue;
        };
        out.push(Interval {
            start_s: ih.start_timestamp().as_secs_f64(),
            length_s: ih.duration().as_secs_f64(),
            hist,
        });
    }
    if let Some(t0) = out.iter().map(|i| i.start_s).reduce(f64::min) {
        for i in &mut out {
            i.start_s -= t0;
        }
    }
    out
}

/// Every interval merged: the run's distribution.
pub(super) fn merged(intervals: &[Interval]) -> Option<Histogram<u64>> {
    let mut it = intervals.iter();
    let mut all = it.next()?.hist.clone();
    for i in it {
        let _ = all.add(&i.hist);
    }
    Some(all)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use hdrhistogram::serialization::V2DeflateSerializer;
    use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
    use std::time::{Duration, SystemTime};

    /// A log as `load` writes it: 1 s intervals, V2 deflate, base time = start time.
    pub(crate) fn sample_log() -> Vec<u8> {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut buf = Vec::new();
        let mut ser = V2DeflateSerializer::new();
        let mut log = IntervalLogWriterBuilder::new()
            .with_start_time(start)
            .with_base_time(start)
            .with_max_value_divisor(1000.0)
            .begin_log_with(&mut buf, &mut ser)
            .unwrap();
        for sec in 0..3u64 {
            let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
            for v in 1..=100u64 {
                h.record(v * 100 * (sec + 1)).unwrap();
            }
            log.write_histogram(
                &h,
                Duration::from_secs(sec),
                Duration::from_secs(1),
                Tag::new("setup"),
            )
            .unwrap();
        }
        drop(log);
        buf
    }

    #[test]
    fn reads_back_what_load_writes() {
        let iv = parse(&sample_log());
        assert_eq!(iv.len(), 3);
        assert_eq!(iv[2].start_s, 2.0);
        assert_eq!(iv[0].length_s, 1.0);
        assert_eq!(iv[1].hist.len(), 100);
        let all = merged(&iv).unwrap();
        assert_eq!(all.len(), 300);
        assert!(all.max() >= 29_900, "{}", all.max());
        assert!(parse(b"not a log").is_empty());
    }
}
