//! The load engine: load threads, each with its own single-threaded tokio
//! runtime, connections and recorder (nothing shared on the hot path but an
//! atomic request counter when a request total is set).

// Requests go out through `http1`, a lean HTTP/1.1 codec over tokio's
// `TcpStream`: each request is encoded once and written as stored bytes, each
// response parsed in place in a reused buffer. A hyper 1.x client (oha's
// design) measured 2.5x the user CPU per request here (channels, header maps,
// allocations: ~10 µs vs ~4 µs), and on a machine shared with the target that
// CPU is taken from the target: see scripts/load-vs-wrk.sh.

use super::LoadError;
use super::bounds;
use super::http1::{self, BodySkipper};
use super::model::{Fleet, LoadSpec, Model, OpenSchedule, RequestMix, StatusRanges};
use super::recorder::{Failure, LoadReport, Recorder};
use super::url::TargetUrl;
use std::cell::{Cell, RefCell};
use std::future::{Future, poll_fn};
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio::task::LocalSet;
use tokio::time::Sleep;

/// A request encoded once, sent as is every time.
struct Template {
    bytes: Vec<u8>,
    /// Responses to HEAD have no body whatever their headers say.
    head: bool,
}

/// The validated, immutable form of a `LoadSpec`, shared by the load threads.
struct Plan {
    addr: SocketAddr,
    templates: Vec<Template>,
    mix: RequestMix,
    expect: StatusRanges,
    keepalive: bool,
    timeout: Duration,
    warmup: Duration,
    window: Option<Duration>,
    total: Option<u64>,
    /// This generator's model: a fleet member's connections are its share.
    model: Model,
    /// Open model: this generator sends the fleet's slots `i ≡ first (mod every)`.
    fleet: Fleet,
    intervals: bool,
    raw: bool,
}

/// After a failed connect, a closed-model worker waits this long before the
/// next try, so that a dead target does not turn the generator into a busy loop.
const CONNECT_BACKOFF: Duration = Duration::from_millis(10);

/// Open model: the rate one load thread takes before another is added.
const OPEN_RATE_PER_THREAD: f64 = 20_000.0;

/// tokio's timers fire on the next millisecond tick after their deadline, and
/// the slots that fall due meanwhile go out together on that tick. Up to this
/// much of such generator lateness is not charged to the target: a request is
/// measured from when it was sent, at most this long after its intended time.
/// Any delay beyond it, and all of the wait for a free connection, counts
/// against the target, as coordinated-omission correction requires.
const TIMER_GRANULARITY: Duration = Duration::from_millis(1);

/// Open model: a request dispatched this much after its intended time counts
/// as late even if a connection was free (the generator itself fell behind).
/// Well above the tokio timer's 1 ms granularity.
const LATE_SLACK: Duration = Duration::from_millis(10);

impl Plan {
    fn new(spec: &LoadSpec) -> Result<Plan, LoadError> {
        let invalid = |m: String| LoadError::InvalidSpec(m);
        let target = TargetUrl::parse(&spec.base_url)?;
        match spec.model {
            Model::Closed { connections } => {
                bounds::count("connections", connections as u64, 1, bounds::MAX_CONNECTIONS).map_err(invalid)?;
            }
            Model::Open { rate, max_in_flight } => {
                bounds::rate("rate", rate, "requests").map_err(invalid)?;
                bounds::count("max_in_flight", max_in_flight as u64, 1, bounds::MAX_CONNECTIONS).map_err(invalid)?;
            }
        }
        for (key, d) in [("duration", spec.duration), ("warmup", Some(spec.warmup))] {
            if let Some(d) = d {
                bounds::duration(key, d).map_err(invalid)?;
            }
        }
        if let Some(n) = spec.total_requests {
            bounds::count("requests", n, 1, bounds::MAX_REQUESTS).map_err(invalid)?;
        }
        if spec.duration.is_some_and(|d| d.is_zero()) {
            return Err(invalid("duration must be positive".into()));
        }
        if spec.total_requests == Some(0) {
            return Err(invalid("total_requests must be positive".into()));
        }
        if spec.request_timeout.is_zero() {
            return Err(invalid("request_timeout must be positive".into()));
        }
        let weights: Vec<u32> = spec.requests.iter().map(|r| r.weight).collect();
        let mix = RequestMix::new(&weights, spec.seed)
            .ok_or_else(|| invalid("no request to send: the list is empty or every weight is 0".into()))?;
        let mut templates = Vec::with_capacity(spec.requests.len());
        for r in &spec.requests {
            let method = r.method.trim().to_ascii_uppercase();
            if method.is_empty() || !method.bytes().all(is_token_byte) {
                return Err(invalid(format!("invalid HTTP method {:?}", r.method)));
            }
            let path = join_path(&target, &r.path);
            if path.bytes().any(|b| b <= b' ' || b == 0x7f) {
                return Err(invalid(format!(
                    "invalid request path {:?}: spaces and control characters must be percent-encoded",
                    r.path
                )));
            }
            let mut headers = Vec::with_capacity(r.headers.len());
            for (k, v) in &r.headers {
                let (k, v) = (k.trim(), v.trim());
                if k.is_empty() || !k.bytes().all(is_token_byte) {
                    return Err(invalid(format!("invalid header name {k:?}")));
                }
                if v.bytes().any(|b| (b < b' ' && b != b'\t') || b == 0x7f) {
                    return Err(invalid(format!("invalid value for header {k:?}: {v:?}")));
                }
                headers.push((k.to_string(), v.to_string()));
            }
            let bytes = http1::encode_request(
                &method,
                &path,
                &target.authority,
                &headers,
                r.body.as_deref().map(str::as_bytes),
                spec.keepalive,
            );
            templates.push(Template { bytes, head: method == "HEAD" });
        }
        let fleet = spec.fleet.unwrap_or(Fleet { index: 0, count: 1 });
        if fleet.count == 0 || fleet.index >= fleet.count {
            return Err(invalid(format!("generator {} of {} does not exist", fleet.index + 1, fleet.count)));
        }
        let (model, total) = match spec.model {
            Model::Closed { connections } => {
                let mine = fleet.share(connections as u64) as usize;
                if mine == 0 {
                    return Err(invalid(format!(
                        "{connections} connections over {} generators leave generator {} none: use at most {connections} generators",
                        fleet.count,
                        fleet.index + 1
                    )));
                }
                (Model::Closed { connections: mine }, spec.total_requests.map(|n| fleet.share(n).max(1)))
            }
            // The schedule is the fleet's: `total_requests` counts its slots.
            open => (open, spec.total_requests),
        };
        let addr = pick_address(&target.resolve(&spec.base_url, spec.allow_remote)?);
        Ok(Plan {
            addr,
            templates,
            mix,
            expect: StatusRanges::new(&spec.expect_status),
            keepalive: spec.keepalive,
            timeout: spec.request_timeout,
            warmup: spec.warmup,
            window: spec.effective_duration(),
            total,
            model,
            fleet,
            intervals: spec.intervals,
            raw: spec.raw,
        })
    }
}

/// RFC 9110 token characters (methods, header names).
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The base URL's path is a prefix of every request path; its query is
/// appended to requests that have none (so `perfgate load URL` sends URL).
fn join_path(target: &TargetUrl, path: &str) -> String {
    let path = path.trim();
    let mut out = target.path_prefix.clone();
    if path.is_empty() {
        if out.is_empty() {
            out.push('/');
        }
    } else {
        if !path.starts_with('/') {
            out.push('/');
        }
        out.push_str(path);
    }
    if !out.contains('?')
        && let Some(q) = &target.query
    {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// `localhost` may resolve to ::1 and 127.0.0.1 while the target listens on
/// one of them only: take the first address that accepts a connection.
pub(super) fn pick_address(addrs: &[SocketAddr]) -> SocketAddr {
    if addrs.len() > 1 {
        for a in addrs {
            if std::net::TcpStream::connect_timeout(a, Duration::from_millis(500)).is_ok() {
                return *a;
            }
        }
    }
    addrs[0]
}

pub fn run(spec: &LoadSpec) -> Result<LoadReport, LoadError> {
    let plan = Arc::new(Plan::new(spec)?);
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let threads = match plan.model {
        Model::Closed { connections } => cores.min(connections),
        // One thread sustains far more than this; spreading a modest rate
        // over more threads only multiplies timer wake-ups (CPU per request).
        Model::Open { rate, max_in_flight } => {
            let mine = rate / f64::from(plan.fleet.count);
            cores.min(max_in_flight).min((mine / OPEN_RATE_PER_THREAD).ceil() as usize)
        }
    }
    .max(1);
    let claimed = Arc::new(AtomicU64::new(0));

    let (ready_tx, ready_rx) = mpsc::channel::<Result<(), String>>();
    let mut start_txs = Vec::with_capacity(threads);
    let mut handles = Vec::with_capacity(threads);
    for index in 0..threads {
        let (start_tx, start_rx) = mpsc::channel::<Instant>();
        start_txs.push(start_tx);
        let shard = Shard { plan: plan.clone(), index, threads, claimed: claimed.clone() };
        let ready_tx = ready_tx.clone();
        let handle = std::thread::Builder::new()
            .name(format!("perfgate-load-{index}"))
            .spawn(move || shard.run(ready_tx, start_rx))
            .map_err(|e| LoadError::Generator(format!("cannot start a load thread: {e}")))?;
        handles.push(handle);
    }
    drop(ready_tx);
    // Connections are opened before the clock starts, as wrk does, so that
    // a short run does not measure connection setup.
    let mut setup_error = None;
    for _ in 0..threads {
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => setup_error = Some(e),
            Err(_) => setup_error = Some("a load thread exited during setup".into()),
        }
    }
    if let Some(e) = setup_error {
        drop(start_txs);
        for h in handles {
            let _ = h.join();
        }
        return Err(LoadError::Generator(e));
    }
    let (start, start_lag) = match spec.start_at {
        Some(at) => wait_until(at),
        None => (Instant::now(), None),
    };
    if crate::process::interrupted() {
        drop(start_txs);
        for h in handles {
            let _ = h.join();
        }
        return Err(LoadError::Generator("interrupted before the load started".into()));
    }
    for tx in &start_txs {
        let _ = tx.send(start);
    }
    let window_start = start + plan.warmup;
    if let Some(wait) = window_start.checked_duration_since(Instant::now()) {
        std::thread::sleep(wait);
    }
    let cpu_before = process_cpu();
    let mut merged = Recorder::new(plan.intervals, plan.raw);
    let mut failed = None;
    for h in handles {
        match h.join() {
            Ok(Ok(r)) => merged.merge(&r),
            Ok(Err(e)) => failed = Some(e),
            Err(_) => failed = Some("a load thread panicked".into()),
        }
    }
    let cpu = process_cpu().saturating_sub(cpu_before);
    if let Some(e) = failed {
        return Err(LoadError::Generator(e));
    }
    let mut report = LoadReport::from_recorder(merged, window_start, plan.window, cpu);
    report.start_lag = start_lag;
    Ok(report)
}

/// Sleeps (Ctrl-C ends the wait) until the wall-clock time `at`: the
/// instant it is, and how late this was when `at` had already passed.
fn wait_until(at: std::time::SystemTime) -> (Instant, Option<Duration>) {
    loop {
        let (now, wall) = (Instant::now(), std::time::SystemTime::now());
        match at.duration_since(wall) {
            Ok(ahead) if ahead.is_zero() => return (now, Some(Duration::ZERO)),
            Ok(ahead) => {
                if crate::process::interrupted() {
                    return (now, None);
                }
                std::thread::sleep(ahead.min(Duration::from_millis(100)));
            }
            // Already past: the schedule still counts from `at`, so a late
            // generator's first slots are due at once and counted late.
            Err(past) => {
                let late = past.duration();
                return (now.checked_sub(late).unwrap_or(now), Some(late));
            }
        }
    }
}

/// User + system CPU time of this whole process so far.
pub(super) fn process_cpu() -> Duration {
    // SAFETY: getrusage only writes the struct we pass.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return Duration::ZERO;
    }
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, (t.tv_usec as u32).saturating_mul(1000));
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// One load thread's share of the work: every `threads`-th connection
/// (closed model) or schedule slot (open model), starting at `index`.
struct Shard {
    plan: Arc<Plan>,
    index: usize,
    threads: usize,
    claimed: Arc<AtomicU64>,
}

/// What the tasks of one load thread share: no locks, as they all run on
/// this thread.
struct Local {
    plan: Arc<Plan>,
    recorder: RefCell<Recorder>,
    /// Start of the measured window.
    window_start: Instant,
    /// End of the measured window, if the run is time-limited.
    window_end: Option<Instant>,
    claimed: Arc<AtomicU64>,
}

impl Shard {
    fn run(self, ready: mpsc::Sender<Result<(), String>>, start: mpsc::Receiver<Instant>) -> Result<Recorder, String> {
        let rt = match tokio::runtime::Builder::new_current_thread().enable_io().enable_time().build() {
            Ok(rt) => rt,
            Err(e) => {
                let msg = format!("cannot build a tokio runtime: {e}");
                let _ = ready.send(Err(msg.clone()));
                return Err(msg);
            }
        };
        let local = LocalSet::new();
        let plan = self.plan.clone();
        let mut conns: Vec<Option<Conn>> = Vec::new();
        if let Model::Closed { connections } = plan.model {
            let mine = (self.index..connections).step_by(self.threads).count();
            conns = if plan.keepalive {
                local.block_on(&rt, async {
                    let tasks: Vec<_> = (0..mine)
                        .map(|_| {
                            let plan = plan.clone();
                            tokio::task::spawn_local(async move {
                                tokio::time::timeout(plan.timeout, connect(plan.addr)).await.ok().and_then(Result::ok)
                            })
                        })
                        .collect();
                    let mut out = Vec::with_capacity(mine);
                    for t in tasks {
                        out.push(t.await.ok().flatten());
                    }
                    out
                })
            } else {
                (0..mine).map(|_| None).collect()
            };
        }
        let _ = ready.send(Ok(()));
        // The coordinator counts ready messages until every sender is gone:
        // holding this one while waiting would hang it if another thread died.
        drop(ready);
        let Ok(start) = start.recv() else {
            return Err("load cancelled during setup".into());
        };
        let window_start = start + plan.warmup;
        let ctx = Rc::new(Local {
            plan: plan.clone(),
            recorder: RefCell::new(Recorder::new(plan.intervals, plan.raw)),
            window_start,
            window_end: plan.window.map(|w| window_start + w),
            claimed: self.claimed.clone(),
        });
        match plan.model {
            Model::Closed { .. } => local.block_on(&rt, async {
                let workers: Vec<_> = conns
                    .into_iter()
                    .enumerate()
                    .map(|(i, conn)| {
                        let stream = (self.index + i * self.threads) as u64 + 1;
                        tokio::task::spawn_local(closed_worker(ctx.clone(), stream, conn))
                    })
                    .collect();
                for w in workers {
                    let _ = w.await;
                }
            }),
            Model::Open { rate, max_in_flight } => {
                let schedule = OpenSchedule::new(rate, plan.warmup, plan.window, plan.total);
                // Split the cap so the threads together never exceed it.
                let cap = max_in_flight / self.threads + usize::from(self.index < max_in_flight % self.threads);
                // Thread t of T in generator g of N: the fleet's slots g + N·t, g + N·(t + T), …
                let (g, n) = (plan.fleet.index as usize, plan.fleet.count as usize);
                let (first, every) = (g + n * self.index, n * self.threads);
                local.block_on(&rt, open_scheduler(ctx.clone(), start, schedule, first, every, cap));
            }
        }
        drop(local);
        let ctx = Rc::try_unwrap(ctx).map_err(|_| "a load task outlived its thread".to_string())?;
        Ok(ctx.recorder.into_inner())
    }
}

/// Closed model: send, wait for the whole response, record, repeat.
async fn closed_worker(ctx: Rc<Local>, stream: u64, mut conn: Option<Conn>) {
    let plan = &*ctx.plan;
    let mut timer = Timer::new();
    let mut n = 0u64;
    // The next request starts as soon as the previous one ended: its end
    // time is the next start time, one clock read per request instead of two.
    let mut begin = Instant::now();
    loop {
        // Ctrl-C ends the run between requests: the caller reports it.
        if ctx.window_end.is_some_and(|end| begin >= end) || crate::process::interrupted() {
            break;
        }
        let measured = begin >= ctx.window_start;
        if measured
            && let Some(total) = plan.total
            && ctx.claimed.fetch_add(1, Ordering::Relaxed) >= total
        {
            break;
        }
        let which = plan.mix.pick(stream, n);
        n += 1;
        let outcome = exchange(plan, &mut conn, &mut timer, which, begin + plan.timeout).await;
        let end = Instant::now();
        if measured {
            record(&ctx, plan, outcome, end - begin, end, false);
        }
        begin = end;
        if matches!(outcome, Outcome::Failed(Failure::Connect)) {
            let mut wake = end + CONNECT_BACKOFF;
            if let Some(e) = ctx.window_end {
                wake = wake.min(e);
            }
            tokio::time::sleep_until(wake.into()).await;
            begin = Instant::now();
        }
    }
}

#[inline]
fn record(ctx: &Local, plan: &Plan, outcome: Outcome, latency: Duration, end: Instant, late: bool) {
    let mut rec = ctx.recorder.borrow_mut();
    match outcome {
        Outcome::Response(status) => {
            let failure = (!plan.expect.accepts(status)).then_some(Failure::Status(status));
            rec.response(latency, failure, end);
            rec.detail(latency, ctx.window_start, end);
        }
        Outcome::Failed(f) => rec.no_response(f, end),
    }
    if late {
        rec.late += 1;
    }
    rec.tick(ctx.window_start, end);
}

/// One unit of open-model concurrency: a (lazily opened) connection and its
/// timeout timer. Idle slots wait in a LIFO pool, so the most recently used
/// (warm) connections are reused first.
struct Slot {
    conn: Option<Conn>,
    timer: Timer,
}

struct OpenPool {
    idle: RefCell<Vec<Slot>>,
    created: Cell<usize>,
    returned: Notify,
}

/// Open model: dispatch slots `first`, `first + every`, … (this thread's
/// share of the fleet's schedule) at `start + i/rate`, whatever happened to the
/// previous requests. A slot with no free connection waits for one and is
/// then sent at once, counted late; latency always counts from the intended
/// time, so a stalled server shows up in the percentiles (no coordinated
/// omission).
async fn open_scheduler(
    ctx: Rc<Local>,
    start: Instant,
    schedule: OpenSchedule,
    first: usize,
    every: usize,
    cap: usize,
) {
    if cap == 0 {
        return;
    }
    let pool = Rc::new(OpenPool { idle: RefCell::new(Vec::new()), created: Cell::new(0), returned: Notify::new() });
    let mut i = first as u64;
    // A time-limited run stops sending at the window's end: slots still due
    // then are counted as unsent, not sent after the window has closed.
    let past_window = || ctx.window_end.is_some_and(|end| Instant::now() >= end);
    while i < schedule.end && !crate::process::interrupted() {
        let due = start + schedule.offset(i);
        if Instant::now() < due {
            tokio::time::sleep_until(due.into()).await;
        }
        if past_window() {
            break;
        }
        let mut waited = false;
        let slot = loop {
            if let Some(s) = pool.idle.borrow_mut().pop() {
                break s;
            }
            if pool.created.get() < cap {
                pool.created.set(pool.created.get() + 1);
                break Slot { conn: None, timer: Timer::new() };
            }
            waited = true;
            pool.returned.notified().await;
        };
        if past_window() {
            pool.idle.borrow_mut().push(slot);
            break;
        }
        let now = Instant::now();
        let late = waited || now.saturating_duration_since(due) > LATE_SLACK;
        let intended = if waited { due } else { now.min(due + TIMER_GRANULARITY) };
        let measured = schedule.is_measured(i);
        tokio::task::spawn_local(open_request(ctx.clone(), pool.clone(), slot, i, intended, measured, late));
        i += every as u64;
    }
    if !crate::process::interrupted() {
        ctx.recorder.borrow_mut().unsent += schedule.measured_left(i, every as u64);
    }
    // Drain: every request in flight finishes (or times out) and is counted.
    while pool.idle.borrow().len() < pool.created.get() {
        pool.returned.notified().await;
    }
}

async fn open_request(
    ctx: Rc<Local>,
    pool: Rc<OpenPool>,
    mut slot: Slot,
    i: u64,
    intended: Instant,
    measured: bool,
    late: bool,
) {
    let plan = &*ctx.plan;
    let which = plan.mix.pick(0, i);
    let deadline = Instant::now() + plan.timeout;
    let outcome = exchange(plan, &mut slot.conn, &mut slot.timer, which, deadline).await;
    let end = Instant::now();
    if measured {
        record(&ctx, plan, outcome, end.saturating_duration_since(intended), end, late);
    }
    pool.idle.borrow_mut().push(slot);
    pool.returned.notify_one();
}

/// A keep-alive connection and its read buffer, reused across requests.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    /// Unconsumed bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    /// A response has been read on it: a failure before the next response's
    /// first byte may just mean the server closed an idle connection.
    reused: bool,
}

/// Enough for any ordinary response head and a good read size.
const READ_BUF: usize = 16 * 1024;

impl Conn {
    /// Reads more bytes after the unconsumed ones; Ok(0) at end of stream.
    async fn fill(&mut self) -> std::io::Result<usize> {
        if self.start == self.end {
            (self.start, self.end) = (0, 0);
        } else if self.end == self.buf.len() {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                (self.start, self.end) = (0, self.end - self.start);
            } else if self.buf.len() < http1::MAX_HEAD + READ_BUF {
                // Only a huge head or chunk line needs more room.
                self.buf.resize(self.buf.len() * 2, 0);
            }
        }
        let n = self.stream.read(&mut self.buf[self.end..]).await?;
        self.end += n;
        Ok(n)
    }
}

async fn connect(addr: SocketAddr) -> Result<Conn, Failure> {
    let stream = TcpStream::connect(addr).await.map_err(|_| Failure::Connect)?;
    // Requests are small and written at once; Nagle would only add delay.
    let _ = stream.set_nodelay(true);
    Ok(Conn { stream, buf: vec![0; READ_BUF], start: 0, end: 0, reused: false })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// A complete response (body read to the end) with this status.
    Response(u16),
    Failed(Failure),
}

/// How one attempt on a connection ended.
enum Attempt {
    /// Status, and whether the connection can carry another request.
    Response(u16, bool),
    /// A reused keep-alive connection failed before any byte of the
    /// response: the server had closed it. Retried on a new connection.
    Stale,
    Failed(Failure),
}

/// Sends request `which` and reads its whole response, (re)connecting as
/// needed. A connection is dropped after any failure: its state is unknown.
async fn exchange(plan: &Plan, slot: &mut Option<Conn>, timer: &mut Timer, which: usize, deadline: Instant) -> Outcome {
    let template = &plan.templates[which];
    loop {
        let fresh = slot.is_none();
        if fresh {
            match tokio::time::timeout_at(deadline.into(), connect(plan.addr)).await {
                Ok(Ok(c)) => *slot = Some(c),
                Ok(Err(f)) => return Outcome::Failed(f),
                Err(_) => return Outcome::Failed(Failure::Timeout),
            }
        }
        let conn = slot.as_mut().expect("connected above");
        let attempt = with_deadline(timer, deadline, send_on(conn, template)).await;
        match attempt {
            Some(Attempt::Response(status, keepalive)) => {
                if plan.keepalive && keepalive {
                    conn.reused = true;
                } else {
                    *slot = None;
                }
                return Outcome::Response(status);
            }
            Some(Attempt::Stale) if !fresh => *slot = None,
            Some(Attempt::Stale) => {
                *slot = None;
                return Outcome::Failed(Failure::Closed);
            }
            Some(Attempt::Failed(f)) => {
                *slot = None;
                return Outcome::Failed(f);
            }
            None => {
                *slot = None;
                return Outcome::Failed(Failure::Timeout);
            }
        }
    }
}

/// Runs `fut` until it completes (Some) or the deadline passes (None).
async fn with_deadline<F: Future>(timer: &mut Timer, deadline: Instant, fut: F) -> Option<F::Output> {
    let mut fut = pin!(fut);
    poll_fn(|cx| {
        if let Poll::Ready(v) = fut.as_mut().poll(cx) {
            return Poll::Ready(Some(v));
        }
        if timer.poll_expired(cx, deadline) {
            return Poll::Ready(None);
        }
        Poll::Pending
    })
    .await
}

async fn send_on(conn: &mut Conn, template: &Template) -> Attempt {
    // An error before the first response byte on a reused connection is a
    // server-side close of an idle connection, not a failed request.
    let lost = |conn: &Conn, f: Failure| if conn.reused { Attempt::Stale } else { Attempt::Failed(f) };
    if conn.start != conn.end {
        // Bytes nobody asked for: the server is not speaking HTTP/1.1 as we know it.
        return Attempt::Failed(Failure::Protocol);
    }
    if conn.stream.write_all(&template.bytes).await.is_err() {
        return lost(conn, Failure::Io);
    }
    let mut first_byte = true;
    // Interim (1xx) responses precede the final one: skip them.
    let head = loop {
        let head = loop {
            match http1::parse_head(&conn.buf[conn.start..conn.end], template.head) {
                Ok(Some(h)) => break h,
                Ok(None) => {}
                Err(_) => return Attempt::Failed(Failure::Protocol),
            }
            match conn.fill().await {
                Ok(0) if first_byte => return lost(conn, Failure::Closed),
                Ok(0) => return Attempt::Failed(Failure::Closed),
                Ok(_) => first_byte = false,
                Err(_) if first_byte => return lost(conn, Failure::Io),
                Err(_) => return Attempt::Failed(Failure::Io),
            }
        };
        conn.start += head.len;
        match head.status {
            101 => return Attempt::Failed(Failure::Protocol),
            100..=199 => continue,
            _ => break head,
        }
    };
    // The whole body is read (and skipped, never buffered) before the
    // request counts as done.
    let mut body = BodySkipper::new(head.framing);
    loop {
        match body.consume(&conn.buf[conn.start..conn.end]) {
            Ok(n) => conn.start += n,
            Err(_) => return Attempt::Failed(Failure::Protocol),
        }
        if body.is_done() {
            return Attempt::Response(head.status, head.keepalive);
        }
        match conn.fill().await {
            Ok(0) if body == BodySkipper::UntilClose => return Attempt::Response(head.status, false),
            Ok(0) => return Attempt::Failed(Failure::Closed),
            Ok(_) => {}
            Err(_) => return Attempt::Failed(Failure::Io),
        }
    }
}

/// A request-timeout timer that is re-armed lazily: deadlines only move
/// forward, so an armed timer that fires early is simply re-armed to the
/// current deadline. That touches tokio's timer wheel about once per timeout
/// period instead of twice per request.
struct Timer {
    sleep: Pin<Box<Sleep>>,
}

impl Timer {
    fn new() -> Timer {
        // Far enough to never fire before the first real deadline re-arms it.
        let far = tokio::time::Instant::now() + Duration::from_secs(86_400 * 365);
        Timer { sleep: Box::pin(tokio::time::sleep_until(far)) }
    }

    fn poll_expired(&mut self, cx: &mut Context<'_>, deadline: Instant) -> bool {
        let deadline = tokio::time::Instant::from_std(deadline);
        if self.sleep.deadline() > deadline {
            self.sleep.as_mut().reset(deadline);
        }
        loop {
            match self.sleep.as_mut().poll(cx) {
                Poll::Pending => return false,
                Poll::Ready(()) if tokio::time::Instant::now() >= deadline => return true,
                Poll::Ready(()) => self.sleep.as_mut().reset(deadline),
            }
        }
    }
}
