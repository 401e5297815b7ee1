//! Resource sampler: reads CPU time, resident memory and threads of a target's
//! whole process tree from procfs at a fixed interval, so that `analyze` can
//! report CPU per request and RSS over the measured window only (DESIGN §5).

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::Read;
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One reading of the process tree at time `t`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResourceSample {
    /// Seconds since the sampler started.
    pub t: f64,
    /// Cumulative user CPU seconds of the tree (live processes, plus the
    /// children they have reaped).
    pub cpu_user: f64,
    /// Cumulative system CPU seconds of the tree.
    pub cpu_system: f64,
    /// Sum of the resident set sizes over the tree.
    pub rss_bytes: u64,
    /// Sum of the thread counts over the tree.
    pub threads: u64,
}

/// What [`sample_tree`] reads: the numbers of a [`ResourceSample`] without
/// its time, plus how many processes the tree had.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TreeReading {
    pub cpu_user: f64,
    pub cpu_system: f64,
    pub rss_bytes: u64,
    pub threads: u64,
    /// Root plus live descendants (zombies included until reaped).
    pub processes: u64,
}

/// Samples a process tree on a background thread until stopped.
///
/// Samples are also taken synchronously by [`Sampler::start`],
/// [`Sampler::mark`] and [`Sampler::stop`], so that a window delimited by
/// marks has readings exactly at its edges instead of up to one interval
/// away (when load stops at the end of a window, interpolating between an
/// idle and a busy reading would misattribute CPU).
#[derive(Debug)]
pub struct Sampler {
    root_pid: i32,
    started: Instant,
    samples: Arc<Mutex<Vec<ResourceSample>>>,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// Shortest interval accepted: a zero interval would spin.
const MIN_INTERVAL: Duration = Duration::from_millis(5);

impl Sampler {
    /// Takes a first sample now, then one every `interval` (100 ms is the
    /// intended rate) until [`Sampler::stop`]. If the background thread
    /// cannot be spawned, only the synchronous samples (start, marks, stop)
    /// are taken, which is still enough for window metrics.
    pub fn start(root_pid: i32, interval: Duration) -> Sampler {
        let interval = interval.max(MIN_INTERVAL);
        let started = Instant::now();
        let samples = Arc::new(Mutex::new(Vec::with_capacity(1024)));
        record(root_pid, started, &samples);

        let (tx, rx) = mpsc::channel::<()>();
        let shared = Arc::clone(&samples);
        let thread = std::thread::Builder::new()
            .name(format!("sampler-{root_pid}"))
            .spawn(move || {
                let mut next = started + interval;
                loop {
                    let wait = next.saturating_duration_since(Instant::now());
                    match rx.recv_timeout(wait) {
                        Err(mpsc::RecvTimeoutError::Timeout) => {}
                        // A stop request, or the Sampler was dropped.
                        _ => return,
                    }
                    record(root_pid, started, &shared);
                    // Ticks stay on the start + k·interval grid; ticks missed
                    // because the machine stalled are skipped, not bunched.
                    next += interval;
                    let now = Instant::now();
                    if next <= now {
                        next = now + interval;
                    }
                }
            })
            .ok();
        Sampler { root_pid, started, samples, stop: Some(tx), thread }
    }

    /// Takes a sample now and returns its time: the value to pass as `from`
    /// or `to` to [`window_metrics`].
    pub fn mark(&self) -> f64 {
        record(self.root_pid, self.started, &self.samples)
    }

    /// Stops sampling (after one last sample) and returns all samples in
    /// time order.
    pub fn stop(mut self) -> Vec<ResourceSample> {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        record(self.root_pid, self.started, &self.samples);
        std::mem::take(&mut *lock(&self.samples))
    }
}

fn lock(samples: &Mutex<Vec<ResourceSample>>) -> std::sync::MutexGuard<'_, Vec<ResourceSample>> {
    samples.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Reads the tree under the lock, so that samples from the background thread
/// and from marks are appended in time order.
fn record(root_pid: i32, started: Instant, samples: &Mutex<Vec<ResourceSample>>) -> f64 {
    let mut guard = lock(samples);
    let t = started.elapsed().as_secs_f64();
    if let Some(r) = sample_tree(root_pid) {
        guard.push(ResourceSample {
            t,
            cpu_user: r.cpu_user,
            cpu_system: r.cpu_system,
            rss_bytes: r.rss_bytes,
            threads: r.threads,
        });
    }
    t
}

/// The fields of `/proc/<pid>/stat` the sampler needs.
#[derive(Debug, Clone, Copy, PartialEq)]
struct ProcStat {
    pid: i32,
    ppid: i32,
    utime: u64,
    stime: u64,
    cutime: u64,
    cstime: u64,
    threads: u64,
    rss_pages: u64,
}

/// Parses one `/proc/<pid>/stat` line. The command name is in parentheses
/// and may itself contain spaces and parentheses, so fields are counted
/// from the last `)`.
fn parse_stat(text: &str) -> Option<ProcStat> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let pid = text[..open].trim().parse().ok()?;
    // Field 3 (state) is index 0 here; field n is index n − 3.
    let mut fields = text.get(close + 1..)?.split_ascii_whitespace();
    let mut nth = |skip: usize| fields.nth(skip);
    let ppid = nth(1)?.parse().ok()?; // field 4
    let utime = nth(9)?.parse().ok()?; // field 14
    let stime = nth(0)?.parse().ok()?; // field 15
    // cutime/cstime are signed in the kernel's format; negative never occurs
    // in practice but must not wrap.
    let cutime = nth(0)?.parse::<i64>().ok()?.max(0) as u64; // field 16
    let cstime = nth(0)?.parse::<i64>().ok()?.max(0) as u64; // field 17
    let threads = nth(2)?.parse::<i64>().ok()?.max(0) as u64; // field 20
    let rss_pages = nth(3)?.parse::<i64>().ok()?.max(0) as u64; // field 24
    Some(ProcStat { pid, ppid, utime, stime, cutime, cstime, threads, rss_pages })
}

/// Reads a small procfs file into `buf`. procfs answers a read with as much
/// of the file as fits, so a short read means the end: stopping there saves
/// the extra read that `read_to_string` would make, a quarter of the
/// syscalls per file on a sampler that reads dozens of files per sample.
fn read_to(path: &str, buf: &mut String) -> Option<()> {
    let mut file = File::open(path).ok()?;
    let mut bytes = std::mem::take(buf).into_bytes();
    bytes.clear();
    let mut chunk = [0u8; 4096];
    let result = loop {
        match file.read(&mut chunk) {
            Ok(0) => break Some(()),
            Ok(n) => {
                bytes.extend_from_slice(&chunk[..n]);
                if n < chunk.len() {
                    break Some(());
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break None,
        }
    };
    // Reading never splits a character in these ASCII files; lossy keeps a
    // strange command name from failing the whole read.
    *buf = match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    };
    result
}

fn read_stat(pid: i32, buf: &mut String) -> Option<ProcStat> {
    read_to(&format!("/proc/{pid}/stat"), buf)?;
    parse_stat(buf)
}

fn clock_ticks_per_second() -> f64 {
    static TICKS: OnceLock<f64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        // SAFETY: sysconf has no preconditions.
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        if ticks > 0 { ticks as f64 } else { 100.0 }
    })
}

fn page_size() -> u64 {
    static PAGE: OnceLock<u64> = OnceLock::new();
    *PAGE.get_or_init(|| {
        // SAFETY: sysconf has no preconditions.
        let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        if size > 0 { size as u64 } else { 4096 }
    })
}

/// Whether the kernel has `/proc/<pid>/task/<tid>/children`
/// (CONFIG_PROC_CHILDREN): then the tree can be walked from the root in a
/// few reads instead of reading every process on the machine.
fn children_files_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| std::path::Path::new("/proc/thread-self/children").exists())
}

/// One reading of `root_pid` and all its live descendants: `None` when the
/// root does not exist (or procfs is unavailable).
///
/// CPU is utime + stime plus cutime + cstime of every process: a child that
/// exits and is reaped by a parent in the tree moves its CPU time (and that
/// of its own reaped children) into the parent's cutime/cstime, so the tree
/// total stays cumulative across short-lived children. Time of a process
/// that leaves the tree without being reaped inside it (re-parented to init
/// by a double fork, or auto-reaped because its parent ignores SIGCHLD) is
/// lost, which makes the total drop; [`window_metrics`] tolerates that.
///
/// RSS is the sum of the processes' resident sets (as `ps` shows them):
/// pages shared between processes of the tree count once per process. PSS
/// (smaps_rollup) would not double count, but walks page tables on every
/// read, which is too heavy to do ten times a second.
pub fn sample_tree(root_pid: i32) -> Option<TreeReading> {
    if root_pid <= 0 {
        return None;
    }
    let mut buf = String::with_capacity(1024);
    let stats = if children_files_available() {
        tree_by_children(root_pid, &mut buf)?
    } else {
        tree_by_scan(root_pid, &mut buf)?
    };
    Some(sum(&stats))
}

fn sum(stats: &[ProcStat]) -> TreeReading {
    let ticks = clock_ticks_per_second();
    let (mut user, mut system, mut threads, mut pages) = (0u64, 0u64, 0u64, 0u64);
    for s in stats {
        user += s.utime + s.cutime;
        system += s.stime + s.cstime;
        threads += s.threads;
        pages += s.rss_pages;
    }
    TreeReading {
        cpu_user: user as f64 / ticks,
        cpu_system: system as f64 / ticks,
        rss_bytes: pages * page_size(),
        threads,
        processes: stats.len() as u64,
    }
}

/// Walks down from the root through the `children` file of each of its
/// threads (a child is listed under the thread that forked it).
fn tree_by_children(root_pid: i32, buf: &mut String) -> Option<Vec<ProcStat>> {
    let root = read_stat(root_pid, buf)?;
    let mut stats = vec![root];
    let mut seen = HashSet::from([root_pid]);
    let mut next = 0;
    while next < stats.len() {
        let pid = stats[next].pid;
        next += 1;
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { continue };
        let mut children = Vec::new();
        for task in tasks.flatten() {
            let Some(tid) = task.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else { continue };
            if read_to(&format!("/proc/{pid}/task/{tid}/children"), buf).is_some() {
                children.extend(buf.split_ascii_whitespace().filter_map(|s| s.parse::<i32>().ok()));
            }
        }
        for child in children {
            // `seen` guards against a pid reused while we walk.
            if seen.insert(child)
                && let Some(s) = read_stat(child, buf)
            {
                stats.push(s);
            }
        }
    }
    Some(stats)
}

/// Reads every process's stat and keeps the root's descendants by parent
/// pid: one read per process on the machine, used when the kernel has no
/// `children` files.
fn tree_by_scan(root_pid: i32, buf: &mut String) -> Option<Vec<ProcStat>> {
    let mut all = Vec::with_capacity(512);
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|s| s.parse::<i32>().ok()) else { continue };
        if let Some(s) = read_stat(pid, buf) {
            all.push(s);
        }
    }
    descendants(&all, root_pid)
}

/// The root and everything below it in `all`, root first; `None` if the
/// root is not in `all`.
fn descendants(all: &[ProcStat], root_pid: i32) -> Option<Vec<ProcStat>> {
    let root = all.iter().find(|s| s.pid == root_pid)?;
    let mut by_parent: HashMap<i32, Vec<&ProcStat>> = HashMap::new();
    for s in all {
        if s.pid != root_pid {
            by_parent.entry(s.ppid).or_default().push(s);
        }
    }
    let mut tree = vec![*root];
    let mut next = 0;
    while next < tree.len() {
        if let Some(children) = by_parent.remove(&tree[next].pid) {
            tree.extend(children.into_iter().copied());
        }
        next += 1;
    }
    Some(tree)
}

/// Resource use of the tree over a window of time.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowMetrics {
    /// CPU seconds (user + system) the tree used in the window.
    pub cpu_seconds: f64,
    pub cpu_user: f64,
    pub cpu_system: f64,
    /// Average number of cores busy: `cpu_seconds / seconds`.
    pub cpu_utilization: f64,
    /// Largest RSS reading in the window.
    pub rss_peak: u64,
    /// Time-weighted mean RSS over the window.
    pub rss_mean: f64,
    /// Least-squares slope of RSS against time, in bytes per second: a
    /// steady positive value over a long window suggests a leak.
    pub rss_growth: f64,
    /// Thread count at the last reading in the window.
    pub threads_end: u64,
    /// Readings used for the peak, the slope and the thread count.
    pub samples: usize,
    /// Length of the window actually covered by readings.
    pub seconds: f64,
}

/// Resource use between `from` and `to` (seconds on the sampler's clock).
///
/// Edges: the window is clipped to the span the samples cover, and the
/// cumulative CPU and the RSS are interpolated linearly at the edges. With
/// [`Sampler::mark`] there is a reading exactly at each edge, so the
/// interpolation is exact there. `seconds` is the clipped length; CPU
/// utilization divides by it.
///
/// CPU that goes backwards between two readings (a process left the tree
/// with its CPU time, see [`sample_tree`]) counts as zero for that step,
/// like a Prometheus counter reset: the figure can then undercount by the
/// CPU that process used since the previous reading, but is never negative.
///
/// `None` when the window is empty or inverted, or no readings overlap it.
pub fn window_metrics(samples: &[ResourceSample], from: f64, to: f64) -> Option<WindowMetrics> {
    if !(from.is_finite() && to.is_finite() && from < to) {
        return None;
    }
    let mut owned: Vec<ResourceSample>;
    let mut samples = samples;
    if samples.iter().any(|s| !s.t.is_finite()) || !samples.is_sorted_by(|a, b| a.t <= b.t) {
        owned = samples.iter().copied().filter(|s| s.t.is_finite()).collect();
        owned.sort_by(|a, b| a.t.total_cmp(&b.t));
        samples = &owned;
    }
    let a = from.max(samples.first()?.t);
    let b = to.min(samples.last()?.t);
    if a >= b {
        return None;
    }

    let t: Vec<f64> = samples.iter().map(|s| s.t).collect();
    let user = increasing(samples.iter().map(|s| s.cpu_user));
    let system = increasing(samples.iter().map(|s| s.cpu_system));
    let cpu_user = interpolate(&t, &user, b) - interpolate(&t, &user, a);
    let cpu_system = interpolate(&t, &system, b) - interpolate(&t, &system, a);
    let cpu_seconds = cpu_user + cpu_system;
    let seconds = b - a;

    let rss: Vec<f64> = samples.iter().map(|s| s.rss_bytes as f64).collect();
    let rss_mean = integrate(&t, &rss, a, b) / seconds;

    let inside = readings_in(samples, a, b);
    let rss_peak = inside.iter().map(|s| s.rss_bytes).max().unwrap_or(0);
    let threads_end = inside.iter().rev().find(|s| s.t <= b).or(inside.last()).map_or(0, |s| s.threads);
    let rss_growth = slope(inside.iter().map(|s| (s.t, s.rss_bytes as f64)));

    Some(WindowMetrics {
        cpu_seconds,
        cpu_user,
        cpu_system,
        cpu_utilization: cpu_seconds / seconds,
        rss_peak,
        rss_mean,
        rss_growth,
        threads_end,
        samples: inside.len(),
        seconds,
    })
}

/// A cumulative series made non-decreasing: each step adds its increase,
/// and a decrease adds nothing.
fn increasing(values: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut out = Vec::new();
    let mut previous: Option<f64> = None;
    let mut total = 0.0;
    for v in values {
        if let Some(p) = previous {
            total += (v - p).max(0.0);
        }
        previous = Some(v);
        out.push(total);
    }
    out
}

/// Index of the segment `[t[i], t[i+1]]` holding `x` (`t` sorted, `x`
/// within its range).
fn segment(t: &[f64], x: f64) -> usize {
    t.partition_point(|&ti| ti <= x).saturating_sub(1).min(t.len().saturating_sub(2))
}

/// The piecewise-linear function through `(t, y)` at `x`.
fn interpolate(t: &[f64], y: &[f64], x: f64) -> f64 {
    if t.len() < 2 {
        return y.first().copied().unwrap_or(0.0);
    }
    let i = segment(t, x);
    let dt = t[i + 1] - t[i];
    if dt <= 0.0 {
        return y[i + 1];
    }
    let f = ((x - t[i]) / dt).clamp(0.0, 1.0);
    y[i] + (y[i + 1] - y[i]) * f
}

/// Integral over `[a, b]` of the piecewise-linear function through `(t, y)`.
fn integrate(t: &[f64], y: &[f64], a: f64, b: f64) -> f64 {
    let mut points = vec![(a, interpolate(t, y, a))];
    points.extend(t.iter().zip(y).filter(|&(&ti, _)| ti > a && ti < b).map(|(&ti, &yi)| (ti, yi)));
    points.push((b, interpolate(t, y, b)));
    points.windows(2).map(|w| (w[1].0 - w[0].0) * (w[0].1 + w[1].1) / 2.0).sum()
}

/// The readings inside `[a, b]`; when fewer than two fall inside (a window
/// shorter than the interval, without marks), the readings just around it.
fn readings_in(samples: &[ResourceSample], a: f64, b: f64) -> &[ResourceSample] {
    let lo = samples.partition_point(|s| s.t < a);
    let hi = samples.partition_point(|s| s.t <= b);
    if hi >= lo + 2 {
        return &samples[lo..hi];
    }
    let lo = samples.partition_point(|s| s.t <= a).saturating_sub(1);
    let hi = (samples.partition_point(|s| s.t < b) + 1).min(samples.len());
    &samples[lo..hi.max(lo)]
}

/// Ordinary least-squares slope of y on x; 0 when undefined.
fn slope(points: impl Iterator<Item = (f64, f64)> + Clone) -> f64 {
    let n = points.clone().count() as f64;
    if n < 2.0 {
        return 0.0;
    }
    let (sx, sy) = points.clone().fold((0.0, 0.0), |(sx, sy), (x, y)| (sx + x, sy + y));
    let (mx, my) = (sx / n, sy / n);
    let (sxy, sxx) =
        points.fold((0.0, 0.0), |(sxy, sxx), (x, y)| (sxy + (x - mx) * (y - my), sxx + (x - mx) * (x - mx)));
    if sxx > 0.0 { sxy / sxx } else { 0.0 }
}

/// CPU time (user + system) this process has used: the load generator's
/// own cost, recorded next to the target's.
pub fn self_cpu() -> Duration {
    // SAFETY: getrusage only writes into the struct we pass; all-zero is a
    // valid `rusage`.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return Duration::ZERO;
    }
    timeval(usage.ru_utime) + timeval(usage.ru_stime)
}

fn timeval(tv: libc::timeval) -> Duration {
    Duration::from_secs(tv.tv_sec.max(0) as u64) + Duration::from_micros(tv.tv_usec.clamp(0, 999_999) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(t: f64, cpu_user: f64, cpu_system: f64, rss_bytes: u64, threads: u64) -> ResourceSample {
        ResourceSample { t, cpu_user, cpu_system, rss_bytes, threads }
    }

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance
    }

    #[test]
    fn parses_stat_with_awkward_command_names() {
        let line = "4242 (we(ir) d) S 17 4242 4242 0 -1 4194560 3000 0 0 0 250 75 12 3 20 0 7 0 \
                    123456 50000000 1234 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
        let s = parse_stat(line).unwrap();
        assert_eq!(
            s,
            ProcStat { pid: 4242, ppid: 17, utime: 250, stime: 75, cutime: 12, cstime: 3, threads: 7, rss_pages: 1234 }
        );
        assert_eq!(parse_stat("12 (x) S 1 2 3"), None);
        assert_eq!(parse_stat(""), None);
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn descendants_follow_parent_pids_only_below_the_root() {
        let p = |pid, ppid| ProcStat { pid, ppid, utime: 1, stime: 0, cutime: 0, cstime: 0, threads: 1, rss_pages: 1 };
        // 10 → 11 → 13 (a grandchild with a smaller pid after wraparound: 5),
        // 12 is a sibling of the root, 1 is init.
        let all = [p(1, 0), p(9, 1), p(10, 9), p(11, 10), p(5, 11), p(12, 9), p(14, 10)];
        let mut tree: Vec<i32> = descendants(&all, 10).unwrap().iter().map(|s| s.pid).collect();
        tree.sort();
        assert_eq!(tree, [5, 10, 11, 14]);
        assert!(descendants(&all, 99).is_none());
    }

    #[test]
    fn window_cpu_utilization_and_rss_from_a_synthetic_series() {
        // 1.5 cores busy (1.0 user, 0.5 system), RSS growing 2 MB/s from
        // 100 MB, 8 threads, one reading every 100 ms for 10 s.
        let samples: Vec<_> = (0..=100)
            .map(|i| {
                let t = i as f64 * 0.1;
                sample(t, 3.0 + t, 1.0 + 0.5 * t, 100_000_000 + (2_000_000.0 * t) as u64, 8)
            })
            .collect();
        let w = window_metrics(&samples, 2.0, 8.0).unwrap();
        assert!(close(w.cpu_seconds, 9.0, 1e-9), "{w:?}");
        assert!(close(w.cpu_user, 6.0, 1e-9) && close(w.cpu_system, 3.0, 1e-9), "{w:?}");
        assert!(close(w.cpu_utilization, 1.5, 1e-9), "{w:?}");
        assert!(close(w.seconds, 6.0, 1e-9));
        assert!(close(w.rss_growth, 2_000_000.0, 1e-3), "{w:?}");
        assert_eq!(w.rss_peak, 116_000_000);
        assert!(close(w.rss_mean, 110_000_000.0, 1.0), "{w:?}");
        assert_eq!(w.threads_end, 8);
        assert_eq!(w.samples, 61);
    }

    #[test]
    fn window_edges_between_readings_are_interpolated() {
        let samples = [sample(0.0, 0.0, 0.0, 100, 1), sample(1.0, 2.0, 0.0, 300, 2), sample(2.0, 2.0, 0.0, 100, 3)];
        // Half of the first second (1 CPU-s) and half of the idle second.
        let w = window_metrics(&samples, 0.5, 1.5).unwrap();
        assert!(close(w.cpu_seconds, 1.0, 1e-12), "{w:?}");
        assert!(close(w.cpu_utilization, 1.0, 1e-12), "{w:?}");
        // RSS rises 200→300 then falls 300→200: mean 250.
        assert!(close(w.rss_mean, 250.0, 1e-9), "{w:?}");
        assert_eq!(w.rss_peak, 300);
        // A window inside one interval uses the two readings around it.
        let w = window_metrics(&samples, 0.25, 0.75).unwrap();
        assert!(close(w.cpu_seconds, 1.0, 1e-12), "{w:?}");
        assert_eq!(w.samples, 2);
        assert!(close(w.rss_growth, 200.0, 1e-9), "{w:?}");
        // Clipped to what the readings cover.
        let w = window_metrics(&samples, -5.0, 1.0).unwrap();
        assert!(close(w.seconds, 1.0, 1e-12) && close(w.cpu_seconds, 2.0, 1e-12), "{w:?}");
    }

    #[test]
    fn cpu_never_goes_negative_when_a_process_leaves_the_tree() {
        // A child with 5 CPU-s leaves the tree between 1.0 and 1.1; the rest
        // keeps using 1 core.
        let samples = [
            sample(0.0, 10.0, 0.0, 0, 1),
            sample(1.0, 11.0, 0.0, 0, 1),
            sample(1.1, 6.0, 0.0, 0, 1),
            sample(2.0, 6.9, 0.0, 0, 1),
        ];
        let w = window_metrics(&samples, 0.0, 2.0).unwrap();
        assert!(close(w.cpu_seconds, 1.9, 1e-9), "{w:?}");
        let w = window_metrics(&samples, 1.0, 1.1).unwrap();
        assert_eq!(w.cpu_seconds, 0.0);
    }

    #[test]
    fn empty_or_degenerate_windows_have_no_metrics() {
        let samples = [sample(0.0, 0.0, 0.0, 1, 1), sample(1.0, 1.0, 0.0, 1, 1)];
        assert!(window_metrics(&[], 0.0, 1.0).is_none());
        assert!(window_metrics(&samples[..1], 0.0, 1.0).is_none());
        assert!(window_metrics(&samples, 1.0, 1.0).is_none());
        assert!(window_metrics(&samples, 1.0, 0.5).is_none());
        assert!(window_metrics(&samples, f64::NAN, 0.5).is_none());
        assert!(window_metrics(&samples, 2.0, 3.0).is_none());
        // Unsorted input is sorted rather than misread.
        let w = window_metrics(&[samples[1], samples[0]], 0.0, 1.0).unwrap();
        assert!(close(w.cpu_seconds, 1.0, 1e-12));
    }

    #[test]
    fn self_cpu_grows_with_work() {
        let before = self_cpu();
        let start = Instant::now();
        let mut x = 0u64;
        while start.elapsed() < Duration::from_millis(50) {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
        assert!(self_cpu() > before);
    }

    #[test]
    fn sample_tree_of_a_missing_process_is_none() {
        assert!(sample_tree(-1).is_none());
        assert!(sample_tree(0).is_none());
        assert!(sample_tree(i32::MAX).is_none());
    }

    #[test]
    fn both_ways_of_finding_descendants_agree() {
        use std::os::unix::process::CommandExt;
        // Its own process group, so that killing it leaves no sleeps behind.
        let mut child = std::process::Command::new("sh")
            .arg("-c")
            .arg("sleep 30 & sleep 30 & (sleep 30; true) & wait")
            .process_group(0)
            .spawn()
            .unwrap();
        let root = child.id() as i32;
        let mut buf = String::new();
        let pids = |stats: Vec<ProcStat>| {
            let mut pids: Vec<i32> = stats.iter().map(|s| s.pid).collect();
            pids.sort();
            pids
        };
        // sh, two sleeps, a subshell and its sleep; the shell needs a moment
        // to fork them.
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut scanned = pids(tree_by_scan(root, &mut buf).unwrap());
        while scanned.len() < 5 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
            scanned = pids(tree_by_scan(root, &mut buf).unwrap());
        }
        let walked = children_files_available().then(|| pids(tree_by_children(root, &mut buf).unwrap()));
        // SAFETY: signals the group created above.
        unsafe { libc::kill(-root, libc::SIGKILL) };
        let _ = child.wait();
        assert_eq!(scanned.len(), 5, "{scanned:?}");
        assert!(scanned.contains(&root));
        if let Some(walked) = walked {
            assert_eq!(scanned, walked);
        }
    }

    /// A real tree: `sh` starting two Python children, one burning about one
    /// core, one holding 64 MiB. The root (`sh`) uses almost nothing, so the
    /// readings must come from the descendants.
    #[test]
    fn samples_a_real_process_tree_with_its_descendants() {
        use std::os::unix::process::CommandExt;
        if std::process::Command::new("python3").arg("-c").arg("").status().map(|s| !s.success()).unwrap_or(true) {
            eprintln!("skipped: python3 not available");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let (busy, alloc, ready) = (dir.path().join("busy.py"), dir.path().join("alloc.py"), dir.path().join("ready"));
        std::fs::write(&busy, "import time\nend = time.time() + 20\nwhile time.time() < end:\n    pass\n").unwrap();
        std::fs::write(
            &alloc,
            "import sys, time\nb = bytearray(64 << 20)\nfor i in range(0, len(b), 4096):\n    b[i] = 1\n\
             open(sys.argv[1], 'w').close()\ntime.sleep(20)\n",
        )
        .unwrap();
        let mut child = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("python3 {} & python3 {} {} & wait", busy.display(), alloc.display(), ready.display()))
            .process_group(0)
            .spawn()
            .unwrap();
        let root = child.id() as i32;

        let sampler = Sampler::start(root, Duration::from_millis(100));
        // The window starts once the memory is held, so RSS is flat in it.
        let deadline = Instant::now() + Duration::from_secs(15);
        while !ready.exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let from = sampler.mark();
        let during = sample_tree(root).unwrap();
        std::thread::sleep(Duration::from_millis(1500));
        let to = sampler.mark();
        let samples = sampler.stop();
        // SAFETY: signals the group created above.
        unsafe { libc::kill(-root, libc::SIGKILL) };
        let _ = child.wait();

        assert!(ready.exists(), "alloc.py never got ready");
        assert!(during.processes >= 3, "{during:?}");
        assert!(during.threads >= 3, "{during:?}");
        assert!(samples.len() >= 15, "{} samples", samples.len());
        assert!(samples.windows(2).all(|w| w[0].t <= w[1].t));
        let w = window_metrics(&samples, from, to).unwrap();
        // At most the one busy core; at least a clear share of it even on
        // an overloaded machine. The root alone would read ~0.
        assert!(w.cpu_seconds > 0.05 && w.cpu_utilization < 1.3, "{w:?}");
        assert!(w.rss_peak >= 64 << 20, "{w:?}");
        assert!(w.rss_mean >= (64 << 20) as f64, "{w:?}");
        assert!(w.threads_end >= 3, "{w:?}");
        assert!(w.rss_growth.abs() < 4e6, "{w:?}");
    }

    /// CPU of children that exit inside the window is kept (it moves into
    /// the parent's cutime when reaped) rather than lost at each exit. The
    /// shell's `times` builtin is the oracle: its own and its children's CPU.
    #[test]
    fn cpu_of_children_that_exit_is_kept() {
        // The final sleep lets a reading see the shell after its last child
        // is reaped; its own CPU (~1 ms) is within the tolerance.
        let script =
            "for n in 1 2 3 4; do (i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done) & wait; done; times; sleep 0.5";
        let child = std::process::Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let sampler = Sampler::start(child.id() as i32, Duration::from_millis(20));
        let out = child.wait_with_output().unwrap();
        let samples = sampler.stop();
        assert!(out.status.success());
        let seconds = |token: &str| -> f64 {
            let (m, s) = token.trim_end_matches('s').split_once('m').unwrap();
            m.parse::<f64>().unwrap() * 60.0 + s.parse::<f64>().unwrap()
        };
        let reported: f64 = String::from_utf8_lossy(&out.stdout).split_whitespace().map(seconds).sum();
        let (from, to) = (samples.first().unwrap().t, samples.last().unwrap().t);
        let w = window_metrics(&samples, from, to).unwrap();
        assert!(reported > 0.1, "{reported}");
        assert!((w.cpu_seconds - reported).abs() < 0.05, "{w:?} reported {reported}");
    }
}
