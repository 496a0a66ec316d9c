//! One load run: connect the pool, walk the open-loop schedule, hand each due call to a
//! connection (or a fresh connection task), fold finished calls into a [`Recorder`] and show
//! progress; then drain in-flight calls (bounded) and account for every call issued.
//!
//! The concurrency cap is checked when a call is due: a call that cannot start because
//! `max_concurrent` calls are in progress is recorded as errored with cause
//! `refused_max_concurrent`, never dropped silently.

use std::io::IsTerminal as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use scenarios::CallSpec;
use tokio::sync::{mpsc, oneshot};

use super::callers::Callers;
use super::conn::{self, Dial, Shared};
use super::live::LoadMetrics;
use super::metrics::{CallResult, Recorder};
use super::schedule::{Cursor, Profile, Schedule};
use crate::originate::uac::Target;

/// How calls map to connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    /// This many long-lived connections per gateway, calls spread round-robin.
    Pool(usize),
    /// A new connection (TCP connect and TLS handshake) for every call.
    PerCall,
}

/// Everything a run needs, resolved from the command line.
#[derive(Debug, Clone)]
pub struct Plan {
    /// When calls are due.
    pub schedule: Schedule,
    /// Gateways, calls spread round-robin over them.
    pub targets: Vec<Target>,
    /// TLS client configuration.
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// Connection model.
    pub model: Model,
    /// Hold between ACK and BYE.
    pub hold: Duration,
    /// Attempt timeout.
    pub timeout: Duration,
    /// Connect plus handshake bound.
    pub connect_timeout: Duration,
    /// Concurrency cap.
    pub max_concurrent: u64,
    /// Call specs and their weights.
    pub mix: Vec<(CallSpec, u32)>,
    /// Host the trunk writes in its URIs.
    pub local_host: String,
    /// Show live progress on stderr.
    pub progress: bool,
    /// `--metrics-listen`: the live metrics to feed.
    pub live: Option<Arc<LoadMetrics>>,
    /// `--start-at`: when the schedule starts (wall clock).
    pub start_at: Option<SystemTime>,
    /// `--callers`: per-call caller rows.
    pub callers: Option<Arc<Callers>>,
    /// Where the trunk's connections record their messages (`--pcap`); `None`: nowhere.
    pub capture: Option<sip::transport::capture::Capture>,
    /// `--media`: every answered call carries SRTP; what it recorded is added up here.
    pub media: Option<MediaPlan>,
}

/// `--media`: where the calls' media records go, and the embedded gateways (their counters),
/// when they are.
#[derive(Debug, Clone)]
pub struct MediaPlan {
    /// The trunk's side of every call.
    pub tally: Arc<super::media::Tally>,
    /// The embedded gateways, for their media counters.
    pub gateways: Option<Arc<crate::run::Embedded>>,
}

impl Plan {
    /// The labels of a `steps:` profile's steps (`step 1: 500/s`); empty for other profiles.
    pub fn step_labels(&self) -> Vec<String> {
        match &self.schedule.profile {
            Profile::Steps { rates, .. } => rates
                .iter()
                .enumerate()
                .map(|(k, r)| format!("step {}: {r}/s", k + 1))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// A fresh recorder for this plan's gateways, mix and steps.
    pub fn recorder(&self) -> Recorder {
        Recorder::new(
            self.targets.iter().map(|t| t.name.clone()).collect(),
            self.mix.iter().map(|m| m.0.dial.clone()).collect(),
            self.step_labels(),
        )
    }
}

/// What a run produced.
#[derive(Debug)]
pub struct Ran {
    /// Everything recorded.
    pub recorder: Recorder,
    /// Calls the scheduler issued (accounted in `recorder`).
    pub issued: u64,
    /// Calls that finished only by being abandoned at the drain bound.
    pub abandoned: u64,
    /// Span the schedule covered, for the rates.
    pub span: Duration,
    /// Most calls in progress at once.
    pub max_concurrent: u64,
    /// Stopped by Ctrl-C.
    pub interrupted: bool,
    /// Wall-clock time of t0 (the schedule's origin).
    pub started: SystemTime,
}

/// Places the calls of `plan`; `stop` ends the schedule early (Ctrl-C).
pub async fn run(plan: &Plan, stop: &Arc<AtomicBool>) -> anyhow::Result<Ran> {
    let (results_tx, results_rx) = mpsc::unbounded_channel::<CallResult>();
    let in_flight = Arc::new(AtomicU64::new(0));
    let run_tag = format!("{:08x}", fastrand::u32(..));
    let specs: Vec<CallSpec> = plan.mix.iter().map(|m| m.0.clone()).collect();
    let shared: Vec<Arc<Shared>> = plan
        .targets
        .iter()
        .enumerate()
        .map(|(gateway, target)| {
            Arc::new(Shared {
                gateway,
                target: target.clone(),
                tls: plan.tls.clone(),
                specs: specs.clone(),
                local_host: plan.local_host.clone(),
                run: run_tag.clone(),
                hold: plan.hold,
                timeout: plan.timeout,
                connect_timeout: plan.connect_timeout,
                results: results_tx.clone(),
                in_flight: in_flight.clone(),
                callers: plan.callers.clone(),
                capture: plan.capture.clone(),
                media: plan.media.as_ref().map(|m| m.tally.clone()),
            })
        })
        .collect();
    let mut pool_conns = Vec::new();
    let mut pool_handshakes = Vec::new();
    if let Model::Pool(n) = plan.model {
        for s in &shared {
            for k in 0..n {
                let c = conn::connect(s).await.map_err(|why| {
                    anyhow::anyhow!(
                        "connecting pool connection {} of {n} to {} ({}): {why}",
                        k + 1,
                        s.target.name,
                        s.target.addr
                    )
                })?;
                pool_handshakes.extend(c.handshake());
                pool_conns.push((s.gateway, c));
            }
        }
    }
    if let Some(live) = &plan.live {
        for resumed in &pool_handshakes {
            live.handshake(*resumed);
        }
    }
    // The schedule starts once the pool is up, or at --start-at.
    let (t0, started) = origin(plan.start_at);
    let mut pool: Vec<Vec<mpsc::UnboundedSender<Dial>>> = vec![Vec::new(); shared.len()];
    let mut tasks = Vec::new();
    for (gw, c) in pool_conns {
        let (tx, rx) = mpsc::unbounded_channel();
        pool[gw].push(tx);
        tasks.push(tokio::spawn(conn::serve(shared[gw].clone(), rx, Some(c))));
    }

    let issued = Arc::new(AtomicU64::new(0));
    let (stop_agg, agg) = aggregator(results_rx, plan, issued.clone(), in_flight.clone(), t0);

    let sched = Dispatcher {
        schedule: plan.schedule.clone(),
        model: plan.model,
        max_concurrent: plan.max_concurrent,
        weights: plan.mix.iter().map(|m| m.1).collect(),
        shared: shared.clone(),
        pool,
        results: results_tx.clone(),
        in_flight: in_flight.clone(),
        issued: issued.clone(),
        stop: stop.clone(),
        runtime: tokio::runtime::Handle::current(),
        t0,
    };
    // The scheduler runs on its own OS thread with std sleeps (tens of microseconds of jitter,
    // against the millisecond granularity of tokio's timer), so the runtime's load does not
    // delay when calls are handed out; connection tasks are woken through their channels.
    let (max_conc, mut interrupted) = tokio::task::spawn_blocking(move || sched.run()).await?;
    let stopped_at = t0.elapsed();
    // Drain in-flight calls, bounded by the longest a call can still take.
    let drain = plan.timeout * 2 + plan.hold + plan.connect_timeout + Duration::from_secs(1);
    let deadline = Instant::now() + drain;
    while in_flight.load(Ordering::Acquire) > 0 && Instant::now() < deadline {
        if stop.load(Ordering::Relaxed) {
            interrupted = true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = stop_agg.send(());
    let mut recorder = agg.await?;
    for resumed in pool_handshakes {
        recorder.handshake(resumed);
    }
    let issued = issued.load(Ordering::Relaxed);
    // Anything issued but not reported by now is accounted for, not lost.
    let abandoned = issued.saturating_sub(recorder.counts.attempted);
    for _ in 0..abandoned {
        let r = CallResult::errored(0, 0, "unfinished_at_drain_bound");
        if let Some(live) = &plan.live {
            live.record(&r);
        }
        recorder.record(&r);
    }
    for t in tasks {
        t.abort();
    }
    // The span the schedule offered calls over: to the last call plus one gap, or the whole
    // duration when it ran to its end (a count bound can end it earlier).
    let ended = {
        let rate = plan.schedule.rate_at(stopped_at).max(1e-9);
        stopped_at + Duration::from_secs_f64((1.0 / rate).min(1.0))
    };
    let span = if interrupted || plan.schedule.duration.is_zero() {
        ended
    } else {
        ended.min(plan.schedule.duration)
    };
    Ok(Ran {
        recorder,
        issued,
        abandoned,
        span,
        max_concurrent: max_conc,
        interrupted,
        started,
    })
}

/// How late a generator may be for `--start-at` and still join the shared schedule.
const MAX_JOIN_LATE: Duration = Duration::from_secs(30);

/// t0 and its wall-clock time: `start_at` when it is still ahead or passed at most
/// [`MAX_JOIN_LATE`] ago, else 5 ms from now.
fn origin(start_at: Option<SystemTime>) -> (Instant, SystemTime) {
    let (now, wall) = (Instant::now(), SystemTime::now());
    let soon = Duration::from_millis(5);
    match start_at.map(|at| (at, at.duration_since(wall))) {
        Some((at, Ok(wait))) => {
            if wait > Duration::from_secs(1) {
                eprintln!(
                    "waiting {} for --start-at {}",
                    humantime::format_duration(Duration::from_secs(wait.as_secs())),
                    humantime::format_rfc3339_millis(at)
                );
            }
            (now + wait, at)
        }
        // A shard that is ready a little late still joins the shared schedule: the calls
        // already due go out at once, counted as late starts and in the generator's lag (so
        // the shards' schedules, and their merge, stay aligned). Far too late (clocks that
        // differ), it starts its own.
        Some((at, Err(late))) if late.duration() <= MAX_JOIN_LATE => {
            eprintln!(
                "warning: --start-at {} passed {} ago (the pool took that long); joining the shared schedule late: the calls already due start at once",
                humantime::format_rfc3339_millis(at),
                humantime::format_duration(late.duration())
            );
            (now.checked_sub(late.duration()).unwrap_or(now), at)
        }
        Some((at, Err(late))) => {
            eprintln!(
                "warning: --start-at {} passed {} ago (do the clocks differ?); starting now, on a schedule of its own",
                humantime::format_rfc3339_millis(at),
                humantime::format_duration(late.duration())
            );
            (now + soon, wall + soon)
        }
        None => (now + soon, wall + soon),
    }
}

/// The scheduling loop and what it needs; runs on a dedicated thread.
struct Dispatcher {
    schedule: Schedule,
    model: Model,
    max_concurrent: u64,
    weights: Vec<u32>,
    shared: Vec<Arc<Shared>>,
    pool: Vec<Vec<mpsc::UnboundedSender<Dial>>>,
    results: mpsc::UnboundedSender<CallResult>,
    in_flight: Arc<AtomicU64>,
    issued: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    runtime: tokio::runtime::Handle,
    t0: Instant,
}

impl Dispatcher {
    /// Hands out every due call until the schedule ends or `stop`; returns (most calls in
    /// progress at once, interrupted). Dropping `self` at the end closes the pool channels, so
    /// pool connections end once their calls are done.
    fn run(self) -> (u64, bool) {
        let total_weight: u32 = self.weights.iter().sum::<u32>().max(1);
        let mut cursor = Cursor::new(&self.schedule);
        let mut max_conc = 0u64;
        let mut rr = 0usize;
        let gateways = self.shared.len();
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return (max_conc, true);
            }
            let now = Instant::now();
            if now < self.t0 {
                // Before t0 (--start-at, or the pool's 5 ms): no call is due yet, not even call 0.
                std::thread::sleep((self.t0 - now).min(Duration::from_millis(50)));
                continue;
            }
            let elapsed = now - self.t0;
            for (idx, at) in cursor.due(&self.schedule, elapsed, 4096) {
                let gw = (idx % gateways as u64) as usize;
                let intended_us = u64::try_from(at.as_micros()).unwrap_or(u64::MAX);
                self.issued.fetch_add(1, Ordering::Relaxed);
                let mut pick = (super::callers::splitmix(self.schedule.seed ^ idx)
                    % u64::from(total_weight)) as u32;
                let spec = self
                    .weights
                    .iter()
                    .position(|w| {
                        let hit = pick < *w;
                        pick = pick.saturating_sub(*w);
                        hit
                    })
                    .unwrap_or(0);
                let step = self.schedule.step_of(at).unwrap_or(0);
                let dial = Dial {
                    idx,
                    intended: self.t0 + at,
                    intended_us,
                    spec,
                    step: u16::try_from(step).unwrap_or(u16::MAX),
                };
                let current = self.in_flight.load(Ordering::Acquire);
                if current >= self.max_concurrent {
                    let _ = self
                        .results
                        .send(dial.errored(gw, "refused_max_concurrent"));
                    continue;
                }
                max_conc = max_conc.max(current + 1);
                self.in_flight.fetch_add(1, Ordering::AcqRel);
                match self.model {
                    Model::Pool(_) => {
                        let conns = &self.pool[gw];
                        rr = rr.wrapping_add(1);
                        let tx = &conns[(rr / gateways) % conns.len()];
                        if tx.send(dial).is_err() {
                            self.in_flight.fetch_sub(1, Ordering::AcqRel);
                            let _ = self.results.send(dial.errored(gw, "connection_task_gone"));
                        }
                    }
                    Model::PerCall => {
                        let (tx, rx) = mpsc::unbounded_channel();
                        let _ = tx.send(dial);
                        drop(tx);
                        self.runtime
                            .spawn(conn::serve(self.shared[gw].clone(), rx, None));
                    }
                }
            }
            let Some(next) = cursor.next_at(&self.schedule) else {
                return (max_conc, false);
            };
            // Sleep to the next call, at most 50 ms at a time to notice Ctrl-C.
            let now = Instant::now();
            let wake = (self.t0 + next).min(now + Duration::from_millis(50));
            if wake > now {
                std::thread::sleep(wake - now);
            }
        }
    }
}

/// Folds results into a recorder and shows progress until told to stop; returns the recorder.
fn aggregator(
    mut rx: mpsc::UnboundedReceiver<CallResult>,
    plan: &Plan,
    issued: Arc<AtomicU64>,
    in_flight: Arc<AtomicU64>,
    t0: Instant,
) -> (oneshot::Sender<()>, tokio::task::JoinHandle<Recorder>) {
    let (stop_tx, mut stop_rx) = oneshot::channel::<()>();
    let total = plan.schedule.duration;
    let tty = std::io::stderr().is_terminal();
    let show = plan.progress;
    let schedule = plan.schedule.clone();
    let live = plan.live.clone();
    let mut rec = plan.recorder();
    let handle = tokio::spawn(async move {
        let mut issued_told = 0u64;
        let bar = (show && tty).then(|| {
            let b = ProgressBar::with_draw_target(
                Some(total.as_secs().max(1)),
                ProgressDrawTarget::stderr_with_hz(4),
            );
            b.set_style(
                ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len}s {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            b
        });
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let mut last = (0u64, 0u64, Instant::now());
        let mut ticks = 0u64;
        loop {
            tokio::select! {
                r = rx.recv() => match r {
                    Some(r) => {
                        // The gauges (in progress, offered rate) move on the tick below.
                        if let Some(live) = &live {
                            live.record(&r);
                        }
                        rec.record(&r);
                    }
                    None => break,
                },
                _ = tick.tick() => {
                    ticks += 1;
                    let now = Instant::now();
                    let dt = now.duration_since(last.2).as_secs_f64().max(1e-3);
                    let iss = issued.load(Ordering::Relaxed);
                    if let Some(live) = &live {
                        live.issued(iss - issued_told);
                        issued_told = iss;
                        live.set_now(in_flight.load(Ordering::Relaxed), schedule.rate_at(t0.elapsed()));
                    }
                    let ans = rec.counts.answered;
                    let offered = (iss - last.0) as f64 / dt;
                    let achieved = (ans - last.1) as f64 / dt;
                    last = (iss, ans, now);
                    let elapsed = t0.elapsed();
                    let failed = rec.counts.rejected + rec.counts.timed_out + rec.counts.errored;
                    let p99 = rec
                        .intervals
                        .iter()
                        .rev()
                        .find(|h| !h.is_empty())
                        .map_or(0.0, |h| h.value_at_quantile(0.99) as f64 / 1000.0);
                    let msg = format!(
                        "target {:.0}/s offered {offered:.0}/s achieved {achieved:.0}/s in flight {} failed {failed} p99 setup {p99:.2} ms",
                        schedule.rate_at(elapsed),
                        in_flight.load(Ordering::Relaxed),
                    );
                    if let Some(b) = &bar {
                        b.set_position(elapsed.as_secs().min(total.as_secs()));
                        b.set_message(msg);
                    } else if show && ticks.is_multiple_of(5) {
                        eprintln!("[{:>5.1}s] {msg}", elapsed.as_secs_f64());
                    }
                }
                _ = &mut stop_rx => {
                    while let Ok(r) = rx.try_recv() {
                        if let Some(live) = &live {
                            live.record(&r);
                        }
                        rec.record(&r);
                    }
                    if let Some(live) = &live {
                        live.issued(issued.load(Ordering::Relaxed) - issued_told);
                        live.set_now(in_flight.load(Ordering::Relaxed), 0.0);
                    }
                    break;
                }
            }
        }
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        rec
    });
    (stop_tx, handle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shard_a_little_late_joins_the_shared_schedule() {
        let wall = SystemTime::now();
        // Ahead: t0 is then.
        let ahead = wall + Duration::from_millis(1500);
        let (t0, started) = origin(Some(ahead));
        assert_eq!(started, ahead);
        assert!(t0 > Instant::now() + Duration::from_millis(1000));
        // A little late: still the shared t0, in the past.
        let passed = wall - Duration::from_secs(2);
        let (t0, started) = origin(Some(passed));
        assert_eq!(started, passed);
        assert!(t0 + Duration::from_millis(1500) < Instant::now());
        // Far too late: a schedule of its own, starting now.
        let stale = wall - MAX_JOIN_LATE - Duration::from_secs(1);
        let (t0, started) = origin(Some(stale));
        assert!(started > wall);
        assert!(t0 >= Instant::now() - Duration::from_millis(100));
        let (_, started) = origin(None);
        assert!(started >= wall);
    }
}
