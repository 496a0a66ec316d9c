//! What `load` can be asked for on this machine: the rate has a ceiling the generator can
//! schedule without its timer queue outgrowing memory, and the number of calls in progress is
//! capped by the memory available. Asking for more is a usage error that says why and what the
//! largest accepted value is, instead of a run that grows until the machine swaps
//! (`--rate 1e9` used to reach 2.85 GB).

/// Highest `--rate` (calls per second) accepted.
pub const MAX_RATE: f64 = 50_000.0;

/// Memory budgeted per call in progress (connection buffers, transaction, histograms' share),
/// deliberately above what `bench/memory.sh` measures.
pub const BYTES_PER_CALL: u64 = 64 * 1024;

/// The memory available to the process, from `/proc/meminfo` (`MemAvailable`); `None` where
/// it cannot be read.
pub fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Checks this generator's rate (`--rate`, divided among `--shard`s) and `--max-concurrent`
/// against the ceilings; the error names the flag, the limit and why.
pub fn check(rate: f64, max_concurrent: u64, available: Option<u64>) -> Result<(), String> {
    if rate > MAX_RATE {
        return Err(format!(
            "--rate {rate} per generator is above the ceiling of {MAX_RATE} calls per second (beyond it the schedule outgrows memory before a single call is judged); spread it over generators with --shard I/N and merge their reports"
        ));
    }
    if let Some(bytes) = available {
        // Half of what is available, so the gateways and the OS keep the rest.
        let cap = (bytes / 2 / BYTES_PER_CALL).max(1);
        if max_concurrent > cap {
            return Err(format!(
                "--max-concurrent {max_concurrent} needs about {} MiB (~{} KiB per call in progress); with {} MiB available the most this machine can hold is {cap}",
                max_concurrent.saturating_mul(BYTES_PER_CALL) / (1024 * 1024),
                BYTES_PER_CALL / 1024,
                bytes / (1024 * 1024)
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_and_concurrency_are_bounded_and_say_why() {
        let gib = 1024 * 1024 * 1024;
        assert!(check(100.0, 20_000, Some(8 * gib)).is_ok());
        let e = check(1e9, 20_000, Some(8 * gib)).unwrap_err();
        assert!(e.contains("--rate") && e.contains("50000"), "{e}");
        let e = check(100.0, 10_000_000, Some(8 * gib)).unwrap_err();
        assert!(e.contains("--max-concurrent") && e.contains("65536"), "{e}");
        assert!(check(100.0, 10_000_000, None).is_ok());
        // Read from /proc/meminfo on Linux (this tool's platform): a figure, not a guess.
        if cfg!(target_os = "linux") {
            assert!(available_memory().is_some_and(|b| b > 0));
        }
    }
}
