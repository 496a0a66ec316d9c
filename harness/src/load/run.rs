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
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use scenarios::CallSpec;
use tokio::sync::{mpsc, oneshot};

use super::conn::{self, Dial, Shared};
use super::metrics::{CallResult, Recorder};
use super::schedule::{Cursor, Schedule};
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
    /// Where the trunk's connections record their messages (`--pcap`); `None`: nowhere.
    pub capture: Option<sip::transport::capture::Capture>,
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
                capture: plan.capture.clone(),
            })
        })
        .collect();
    let mut pool_conns = Vec::new();
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
                pool_conns.push((s.gateway, c));
            }
        }
    }
    // The schedule starts once the pool is up.
    let t0 = Instant::now() + Duration::from_millis(5);
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
    let issued = issued.load(Ordering::Relaxed);
    // Anything issued but not reported by now is accounted for, not lost.
    let abandoned = issued.saturating_sub(recorder.counts.attempted);
    for _ in 0..abandoned {
        recorder.record(&CallResult::errored(0, 0, "unfinished_at_drain_bound"));
    }
    for t in tasks {
        t.abort();
    }
    let span = if interrupted || plan.schedule.duration.is_zero() {
        let rate = plan.schedule.rate_at(stopped_at).max(1e-9);
        stopped_at + Duration::from_secs_f64((1.0 / rate).min(1.0))
    } else {
        plan.schedule.duration
    };
    Ok(Ran {
        recorder,
        issued,
        abandoned,
        span,
        max_concurrent: max_conc,
        interrupted,
    })
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
        let mut rng = fastrand::Rng::with_seed(0x911);
        let mut cursor = Cursor::default();
        let mut max_conc = 0u64;
        let mut rr = 0usize;
        let gateways = self.shared.len();
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return (max_conc, true);
            }
            let elapsed = Instant::now().saturating_duration_since(self.t0);
            for (idx, at) in cursor.due(&self.schedule, elapsed, 4096) {
                let gw = (idx % gateways as u64) as usize;
                let intended_us = u64::try_from(at.as_micros()).unwrap_or(u64::MAX);
                self.issued.fetch_add(1, Ordering::Relaxed);
                let current = self.in_flight.load(Ordering::Acquire);
                if current >= self.max_concurrent {
                    let _ = self.results.send(CallResult::errored(
                        gw,
                        intended_us,
                        "refused_max_concurrent",
                    ));
                    continue;
                }
                max_conc = max_conc.max(current + 1);
                self.in_flight.fetch_add(1, Ordering::AcqRel);
                let mut pick = rng.u32(..total_weight);
                let spec = self
                    .weights
                    .iter()
                    .position(|w| {
                        let hit = pick < *w;
                        pick = pick.saturating_sub(*w);
                        hit
                    })
                    .unwrap_or(0);
                let dial = Dial {
                    idx,
                    intended: self.t0 + at,
                    intended_us,
                    spec,
                };
                match self.model {
                    Model::Pool(_) => {
                        let conns = &self.pool[gw];
                        rr = rr.wrapping_add(1);
                        let tx = &conns[(rr / gateways) % conns.len()];
                        if tx.send(dial).is_err() {
                            self.in_flight.fetch_sub(1, Ordering::AcqRel);
                            let _ = self.results.send(CallResult::errored(
                                gw,
                                intended_us,
                                "connection_task_gone",
                            ));
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
    let handle = tokio::spawn(async move {
        let mut rec = Recorder::default();
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
                    Some(r) => rec.record(&r),
                    None => break,
                },
                _ = tick.tick() => {
                    ticks += 1;
                    let now = Instant::now();
                    let dt = now.duration_since(last.2).as_secs_f64().max(1e-3);
                    let iss = issued.load(Ordering::Relaxed);
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
                        rec.record(&r);
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
