//! WebSocket load for `websocket` scenarios: `clients` connections opened
//! evenly over `ramp`, optionally churned (closed and reopened) and sending
//! messages at a fixed rate whose echo round trip is timed by the sequence
//! number in the payload. Each client keeps its own HDR histograms and
//! counters; they are merged once every client has finished.
//!
//! Phases, from the start: ramp (connect), warmup (load, nothing recorded),
//! window (recorded). Connection events (connect time, failed upgrades,
//! unexpected disconnects) count in the ramp and the window; message events
//! only in the window.

use super::LoadError;
use super::bounds;
use super::recorder::new_histogram;
use super::url::TargetUrl;
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::sleep_until;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::{self, Message};

/// What every message perfgate sends starts with, then a 20-digit sequence
/// number; the rest is padding up to `message_size`.
const MARK: &str = "pg ";
const SEQ_DIGITS: usize = 20;
/// A failed connection is retried after this pause, so a dead target is not
/// hammered in a tight loop.
const RECONNECT_BACKOFF: Duration = Duration::from_millis(100);
/// How long a client waits for the echoes still owed to it before closing.
const DRAIN: Duration = Duration::from_secs(1);
/// How long a client waits, after the window, for the caller to be done
/// with the window's end (a scrape) before it closes anyway.
const RELEASE_WAIT: Duration = Duration::from_secs(30);
/// How long a client waits for the server's answer to its close frame.
const CLOSE_WAIT: Duration = Duration::from_secs(1);

#[derive(Debug, Clone)]
pub struct WsSpec {
    /// `ws://host:port/path` (or `http://`, the same endpoint).
    pub url: String,
    pub clients: usize,
    pub ramp: Duration,
    pub warmup: Duration,
    pub duration: Duration,
    /// Disconnect-and-reconnect cycles per second over all clients.
    pub churn: Option<f64>,
    /// Messages per second over all clients.
    pub rate: Option<f64>,
    pub message_size: usize,
    /// For TCP connect plus the upgrade handshake.
    pub connect_timeout: Duration,
    /// Connect to non-loopback addresses too; off: every resolved address
    /// must be loopback.
    pub allow_remote: bool,
}

/// What a WebSocket load run measured. Times in the histograms are
/// nanoseconds; the accessors return seconds.
#[derive(Debug, Clone)]
pub struct WsReport {
    /// Length of the recorded message window.
    pub window: Duration,
    /// Successful upgrades in the ramp and the window.
    pub connects: u64,
    /// TCP connect or upgrade handshake failures (including timeouts).
    pub failed_upgrades: u64,
    /// Connections the server closed or that broke, not ones perfgate closed.
    pub unexpected_disconnects: u64,
    /// TCP connect + upgrade handshake, per successful connection.
    pub connect_time: Histogram<u64>,
    /// Echo round trip from each message's intended send time.
    pub rtt: Histogram<u64>,
    /// Messages sent in the window.
    pub sent: u64,
    /// Data messages (text or binary) received in the window: echoes and
    /// whatever the server pushes.
    pub received: u64,
    /// Messages sent in the window whose echo never came back.
    pub unanswered: u64,
    /// Why connections failed or dropped, most frequent first.
    pub failures: Vec<(String, u64)>,
    /// User + system CPU of this process during the window.
    pub generator_cpu: Duration,
}

impl WsReport {
    fn seconds(h: &Histogram<u64>, q: f64) -> f64 {
        if h.is_empty() { 0.0 } else { h.value_at_quantile(q) as f64 / 1e9 }
    }
    pub fn rtt_at(&self, q: f64) -> f64 {
        Self::seconds(&self.rtt, q)
    }
    pub fn rtt_max(&self) -> f64 {
        if self.rtt.is_empty() { 0.0 } else { self.rtt.max() as f64 / 1e9 }
    }
    pub fn rtt_mean(&self) -> f64 {
        if self.rtt.is_empty() { 0.0 } else { self.rtt.mean() / 1e9 }
    }
    pub fn connect_at(&self, q: f64) -> f64 {
        Self::seconds(&self.connect_time, q)
    }
    pub fn connect_max(&self) -> f64 {
        if self.connect_time.is_empty() { 0.0 } else { self.connect_time.max() as f64 / 1e9 }
    }
    pub fn sent_per_second(&self) -> f64 {
        self.sent as f64 / self.window.as_secs_f64().max(1e-9)
    }
    /// Cores this process used during the window.
    pub fn generator_cpu_utilization(&self) -> f64 {
        self.generator_cpu.as_secs_f64() / self.window.as_secs_f64().max(1e-9)
    }
    pub fn received_per_second(&self) -> f64 {
        self.received as f64 / self.window.as_secs_f64().max(1e-9)
    }
}

/// One client's measurements; merged into the report at the end.
struct ClientStats {
    connects: u64,
    failed_upgrades: u64,
    unexpected_disconnects: u64,
    connect_time: Histogram<u64>,
    rtt: Histogram<u64>,
    sent: u64,
    received: u64,
    unanswered: u64,
    failures: Vec<(String, u64)>,
}

impl ClientStats {
    fn new() -> ClientStats {
        ClientStats {
            connects: 0,
            failed_upgrades: 0,
            unexpected_disconnects: 0,
            connect_time: new_histogram(),
            rtt: new_histogram(),
            sent: 0,
            received: 0,
            unanswered: 0,
            failures: Vec::new(),
        }
    }

    fn failure(&mut self, why: String) {
        match self.failures.iter_mut().find(|(k, _)| *k == why) {
            Some((_, n)) => *n += 1,
            None => self.failures.push((why, 1)),
        }
    }
}

/// The run's fixed plan, shared read-only by every client task.
struct Plan {
    addr: SocketAddr,
    url: String,
    clients: usize,
    ramp: Duration,
    churn: Option<f64>,
    rate: Option<f64>,
    message_size: usize,
    connect_timeout: Duration,
    /// Start of the run (first connect).
    start: Instant,
    /// End of the ramp, start of the warmup.
    warm: Instant,
    /// Start of the recorded window.
    window_start: Instant,
    window_end: Instant,
}

impl Plan {
    /// Connection events count outside the warmup.
    fn counts_connection(&self, t: Instant) -> bool {
        t < self.window_end && !(t >= self.warm && t < self.window_start)
    }
    fn in_window(&self, t: Instant) -> bool {
        t >= self.window_start && t < self.window_end
    }
    /// The `m`-th event of client `i` when events over all clients come at
    /// `per_second`, round-robin from the end of the ramp.
    fn event_time(&self, per_second: f64, i: usize, m: u64) -> Instant {
        let k = i as f64 + m as f64 * self.clients as f64;
        self.warm + Duration::from_secs_f64(k / per_second)
    }
    /// The first event index of client `i` at or after `now`.
    fn first_event_from(&self, per_second: f64, i: usize, now: Instant) -> u64 {
        let since = now.saturating_duration_since(self.warm).as_secs_f64();
        let m = ((since * per_second - i as f64) / self.clients as f64).ceil().max(0.0) as u64;
        // Floating point may land one short.
        if self.event_time(per_second, i, m) < now { m + 1 } else { m }
    }
}

/// The recorded window's edges, announced to the caller as they pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowEdge {
    Start = 0,
    End = 1,
}

/// Sleeps until `at`, or returns false as soon as the run is interrupted.
fn sleep_until_or_interrupted(at: Instant) -> bool {
    loop {
        if crate::process::interrupted() {
            return false;
        }
        let now = Instant::now();
        if now >= at {
            return true;
        }
        std::thread::sleep((at - now).min(Duration::from_millis(50)));
    }
}

/// Runs the spec and returns what was measured. Blocking: it runs its own
/// tokio runtime, and calls `at_edge` on this thread when the recorded
/// window starts and ends (not at all for an edge Ctrl-C cut short). It
/// connects to whatever the URL names: check it with `ensure_loopback`
/// first.
pub fn run(spec: &WsSpec, mut at_edge: impl FnMut(WindowEdge)) -> Result<WsReport, LoadError> {
    let invalid = LoadError::InvalidSpec;
    bounds::count("clients", spec.clients as u64, 1, bounds::MAX_CONNECTIONS).map_err(invalid)?;
    bounds::count("message_size", spec.message_size as u64, 0, bounds::MAX_MESSAGE).map_err(invalid)?;
    for (key, rate) in [("churn", spec.churn), ("rate", spec.rate)] {
        if let Some(r) = rate {
            bounds::rate(key, r, "events").map_err(invalid)?;
        }
    }
    for (key, d) in [("duration", spec.duration), ("warmup", spec.warmup), ("ramp", spec.ramp)] {
        bounds::duration(key, d).map_err(invalid)?;
    }
    let http_url = match spec.url.split_once("://") {
        Some(("ws", rest)) => format!("http://{rest}"),
        Some(("http", _)) => spec.url.clone(),
        Some((scheme, _)) => {
            return Err(LoadError::InvalidUrl {
                url: spec.url.clone(),
                reason: format!("scheme {scheme:?} is not supported; use ws:// (or http://)"),
            });
        }
        None => return Err(LoadError::InvalidUrl { url: spec.url.clone(), reason: "no scheme".into() }),
    };
    let target = TargetUrl::parse(&http_url)?;
    let addrs = target.resolve(&spec.url, spec.allow_remote)?;
    if addrs.is_empty() {
        return Err(LoadError::Resolve { host: target.host.clone(), reason: "no addresses".into() });
    }
    // `localhost` may resolve to ::1 first while the service listens on 127.0.0.1.
    let addr = super::engine::pick_address(&addrs);
    let path = if target.path_prefix.is_empty() { "/".to_string() } else { target.path_prefix.clone() };
    let query = target.query.as_ref().map(|q| format!("?{q}")).unwrap_or_default();
    let url = format!("ws://{}{path}{query}", target.authority);

    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores.clamp(1, 4))
        .thread_name("perfgate-ws")
        .enable_all()
        .build()
        .map_err(|e| LoadError::Generator(format!("cannot build a tokio runtime: {e}")))?;
    let start = Instant::now();
    let warm = start + spec.ramp;
    let window_start = warm + spec.warmup;
    let plan = Arc::new(Plan {
        addr,
        url,
        clients: spec.clients,
        ramp: spec.ramp,
        churn: spec.churn,
        rate: spec.rate,
        message_size: spec.message_size.max(MARK.len() + SEQ_DIGITS + 1),
        connect_timeout: spec.connect_timeout,
        start,
        warm,
        window_start,
        window_end: window_start + spec.duration,
    });
    let mut cpu_edges = [None, None];
    let (stop_tx, stop_rx) = watch::channel(false);
    let tasks: Vec<_> = (0..plan.clients).map(|i| rt.spawn(client(plan.clone(), i, stop_rx.clone()))).collect();
    // The clients run on the runtime's workers; this thread marks the
    // window's edges for the caller (sampler marks, counter scrapes) and
    // watches for Ctrl-C, which stops every client at once.
    for (edge, at) in [(WindowEdge::Start, plan.window_start), (WindowEdge::End, plan.window_end)] {
        if !sleep_until_or_interrupted(at) {
            break;
        }
        cpu_edges[edge as usize] = Some(super::engine::process_cpu());
        at_edge(edge);
    }
    // Interrupted, or the window's end is recorded: the clients may close.
    let _ = stop_tx.send(true);
    let stats = rt.block_on(async {
        let mut all = Vec::with_capacity(tasks.len());
        for t in tasks {
            match t.await {
                Ok(s) => all.push(s),
                Err(e) => return Err(format!("a WebSocket client task failed: {e}")),
            }
        }
        Ok(all)
    });
    drop(stop_tx);
    let generator_cpu = match cpu_edges {
        [Some(a), Some(b)] => b.saturating_sub(a),
        _ => Duration::ZERO,
    };
    let stats = stats.map_err(LoadError::Generator)?;
    let window = Instant::now().min(plan.window_end).saturating_duration_since(plan.window_start);
    let mut report = WsReport {
        window: if window.is_zero() { spec.duration } else { window },
        connects: 0,
        failed_upgrades: 0,
        unexpected_disconnects: 0,
        connect_time: new_histogram(),
        rtt: new_histogram(),
        sent: 0,
        received: 0,
        unanswered: 0,
        failures: Vec::new(),
        generator_cpu,
    };
    for s in stats {
        report.connects += s.connects;
        report.failed_upgrades += s.failed_upgrades;
        report.unexpected_disconnects += s.unexpected_disconnects;
        report.connect_time.add(&s.connect_time).expect("histograms share bounds");
        report.rtt.add(&s.rtt).expect("histograms share bounds");
        report.sent += s.sent;
        report.received += s.received;
        report.unanswered += s.unanswered;
        for (why, n) in s.failures {
            match report.failures.iter_mut().find(|(k, _)| *k == why) {
                Some((_, m)) => *m += n,
                None => report.failures.push((why, n)),
            }
        }
    }
    report.failures.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(report)
}

type Ws = WebSocketStream<TcpStream>;

async fn connect(plan: &Plan) -> Result<Ws, String> {
    let tcp = TcpStream::connect(plan.addr).await.map_err(|e| format!("connect: {}", e.kind()))?;
    let _ = tcp.set_nodelay(true);
    match tokio_tungstenite::client_async(plan.url.as_str(), tcp).await {
        Ok((ws, _response)) => Ok(ws),
        Err(tungstenite::Error::Http(resp)) => Err(format!("upgrade refused: HTTP {}", resp.status().as_u16())),
        Err(e) => Err(format!("upgrade failed: {}", short_error(&e))),
    }
}

fn short_error(e: &tungstenite::Error) -> String {
    match e {
        tungstenite::Error::Io(io) => format!("io {}", io.kind()),
        tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => "closed".into(),
        tungstenite::Error::Protocol(p) => format!("protocol: {p}"),
        other => other.to_string(),
    }
}

/// How a connection ended.
enum Ended {
    /// Closed by perfgate to churn: reconnect now.
    Churned,
    /// The window is over (or the run was interrupted).
    Finished,
    /// The server closed it or it broke: reconnect after a pause.
    Dropped,
}

/// One client slot: connect (at its place in the ramp), hold the connection,
/// and reconnect whenever churn or a failure ends it, until the window ends.
async fn client(plan: Arc<Plan>, i: usize, stop: watch::Receiver<bool>) -> ClientStats {
    let mut stop = stop;
    let stop = &mut stop;
    let mut stats = ClientStats::new();
    let offset = plan.ramp.mul_f64(i as f64 / plan.clients as f64);
    let mut next_connect = plan.start + offset;
    let mut seq: u64 = 0;
    loop {
        tokio::select! {
            _ = sleep_until(next_connect.into()) => {}
            _ = stopped(stop) => return stats,
        }
        let began = Instant::now();
        if began >= plan.window_end {
            return stats;
        }
        let counted = plan.counts_connection(began);
        let attempt = tokio::select! {
            r = tokio::time::timeout(plan.connect_timeout, connect(&plan)) => r,
            _ = stopped(stop) => return stats,
        };
        let ws = match attempt {
            Ok(Ok(ws)) => ws,
            failed => {
                if counted {
                    stats.failed_upgrades += 1;
                    stats.failure(match failed {
                        Ok(Err(why)) => why,
                        _ => format!("upgrade timed out after {:?}", plan.connect_timeout),
                    });
                }
                next_connect = Instant::now() + RECONNECT_BACKOFF;
                continue;
            }
        };
        if counted {
            stats.connects += 1;
            stats.connect_time.saturating_record(nanos(began.elapsed()));
        }
        match session(&plan, i, ws, &mut seq, &mut stats, stop).await {
            Ended::Churned => next_connect = Instant::now(),
            Ended::Finished => return stats,
            Ended::Dropped => next_connect = Instant::now() + RECONNECT_BACKOFF,
        }
    }
}

/// Sends and receives on one connection until churn, the end of the window,
/// or a drop ends it.
async fn session(
    plan: &Plan,
    i: usize,
    mut ws: Ws,
    seq: &mut u64,
    stats: &mut ClientStats,
    stop: &mut watch::Receiver<bool>,
) -> Ended {
    let now = Instant::now();
    let mut pending: VecDeque<(u64, Instant)> = VecDeque::new();
    let mut send_m = plan.rate.map(|r| plan.first_event_from(r, i, now));
    let churn_m = plan.churn.map(|c| plan.first_event_from(c, i, now));
    let churn_at = match (plan.churn, churn_m) {
        (Some(c), Some(m)) => plan.event_time(c, i, m),
        _ => plan.window_end,
    };
    let padding = "x".repeat(plan.message_size - MARK.len() - SEQ_DIGITS - 1);
    loop {
        let next_send = match (plan.rate, send_m) {
            (Some(r), Some(m)) => plan.event_time(r, i, m),
            _ => plan.window_end,
        };
        let wake = next_send.min(churn_at).min(plan.window_end);
        tokio::select! {
            biased;
            _ = stopped(stop) => {
                // After the window (not on Ctrl-C), the echoes owed still count.
                if Instant::now() >= plan.window_end {
                    drain(plan, &mut ws, &mut pending, stats).await;
                }
                close(&mut ws).await;
                return Ended::Finished;
            }
            msg = ws.next() => {
                let at = Instant::now();
                match msg {
                    Some(Ok(m)) if m.is_text() || m.is_binary() => on_message(plan, &m, at, &mut pending, stats),
                    Some(Ok(Message::Close(frame))) => {
                        if plan.counts_connection(at) {
                            stats.unexpected_disconnects += 1;
                            let code = frame.map(|f| u16::from(f.code).to_string()).unwrap_or_else(|| "none".into());
                            stats.failure(format!("closed by the server (code {code})"));
                        }
                        settle_unanswered(plan, &mut pending, stats);
                        return Ended::Dropped;
                    }
                    Some(Ok(_)) => {} // ping, pong: tungstenite answers pings itself
                    Some(Err(e)) => {
                        if plan.counts_connection(at) {
                            stats.unexpected_disconnects += 1;
                            stats.failure(format!("connection broke: {}", short_error(&e)));
                        }
                        settle_unanswered(plan, &mut pending, stats);
                        return Ended::Dropped;
                    }
                    None => {
                        if plan.counts_connection(at) {
                            stats.unexpected_disconnects += 1;
                            stats.failure("connection closed without a close frame".into());
                        }
                        settle_unanswered(plan, &mut pending, stats);
                        return Ended::Dropped;
                    }
                }
            }
            _ = sleep_until(wake.into()) => {
                let now = Instant::now();
                if now >= plan.window_end || now >= churn_at {
                    let finished = now >= plan.window_end;
                    if !drain(plan, &mut ws, &mut pending, stats).await {
                        return Ended::Dropped;
                    }
                    if finished {
                        // Stay connected until the caller has scraped the
                        // window's end: a client gauge read while clients
                        // are leaving would count whoever had not left yet.
                        let _ = tokio::time::timeout(RELEASE_WAIT, stopped(stop)).await;
                    }
                    close(&mut ws).await;
                    return if finished { Ended::Finished } else { Ended::Churned };
                }
                if let Some(m) = send_m.as_mut() && now >= next_send {
                    *seq += 1;
                    let text = format!("{MARK}{:0width$} {padding}", *seq, width = SEQ_DIGITS);
                    if plan.in_window(next_send) {
                        stats.sent += 1;
                    }
                    pending.push_back((*seq, next_send));
                    *m += 1;
                    if let Err(e) = ws.send(Message::text(text)).await {
                        if plan.counts_connection(now) {
                            stats.unexpected_disconnects += 1;
                            stats.failure(format!("connection broke: {}", short_error(&e)));
                        }
                        settle_unanswered(plan, &mut pending, stats);
                        return Ended::Dropped;
                    }
                }
            }
        }
    }
}

/// Counts a received data message, and times it if it is one of our echoes.
fn on_message(plan: &Plan, m: &Message, at: Instant, pending: &mut VecDeque<(u64, Instant)>, stats: &mut ClientStats) {
    if plan.in_window(at) {
        stats.received += 1;
    }
    let Message::Text(text) = m else { return };
    let Some(digits) = text.as_str().strip_prefix(MARK).and_then(|rest| rest.get(..SEQ_DIGITS)) else {
        return;
    };
    let Ok(got) = digits.parse::<u64>() else { return };
    // Echoes come back in order on one connection; anything older than this
    // one was skipped by the server.
    while let Some(&(seq, intended)) = pending.front() {
        if seq > got {
            break;
        }
        pending.pop_front();
        if seq == got {
            if plan.in_window(intended) {
                stats.rtt.saturating_record(nanos(at.saturating_duration_since(intended)));
            }
            break;
        }
        if plan.in_window(intended) {
            stats.unanswered += 1;
        }
    }
}

/// Waits (up to `DRAIN`) for the echoes still owed before closing; false if
/// the connection dropped meanwhile.
async fn drain(plan: &Plan, ws: &mut Ws, pending: &mut VecDeque<(u64, Instant)>, stats: &mut ClientStats) -> bool {
    let deadline = Instant::now() + DRAIN;
    while !pending.is_empty() {
        match tokio::time::timeout_at(deadline.into(), ws.next()).await {
            Ok(Some(Ok(m))) if m.is_text() || m.is_binary() => on_message(plan, &m, Instant::now(), pending, stats),
            Ok(Some(Ok(Message::Close(_)))) | Ok(Some(Err(_))) | Ok(None) => {
                settle_unanswered(plan, pending, stats);
                return false;
            }
            Ok(Some(Ok(_))) => {}
            Err(_) => break,
        }
    }
    settle_unanswered(plan, pending, stats);
    true
}

/// Messages still waiting for their echo when a connection ends are lost.
fn settle_unanswered(plan: &Plan, pending: &mut VecDeque<(u64, Instant)>, stats: &mut ClientStats) {
    stats.unanswered += pending.drain(..).filter(|(_, intended)| plan.in_window(*intended)).count() as u64;
}

/// Sends a close frame and waits briefly for the server's answer.
async fn close(ws: &mut Ws) {
    let _ = tokio::time::timeout(CLOSE_WAIT, async {
        if ws.close(None).await.is_err() {
            return;
        }
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
}

/// Resolves once the run is told to stop: Ctrl-C, or the window's end has
/// been recorded.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    // The guard wait_for returns must not live across an await in a task.
    let _ = stop.wait_for(|s| *s).await.map(|_| ());
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(clients: usize) -> Plan {
        let start = Instant::now();
        Plan {
            addr: "127.0.0.1:1".parse().unwrap(),
            url: "ws://127.0.0.1:1/".into(),
            clients,
            ramp: Duration::from_secs(1),
            churn: None,
            rate: None,
            message_size: 64,
            connect_timeout: Duration::from_secs(1),
            start,
            warm: start + Duration::from_secs(1),
            window_start: start + Duration::from_secs(2),
            window_end: start + Duration::from_secs(5),
        }
    }

    #[test]
    fn events_are_spread_round_robin_over_clients() {
        let p = plan(4);
        // 8 events/s over 4 clients: client 1 gets events at 1/8, 5/8, 9/8 s after the ramp.
        let t = |m| p.event_time(8.0, 1, m).duration_since(p.warm).as_secs_f64();
        assert!((t(0) - 0.125).abs() < 1e-9 && (t(1) - 0.625).abs() < 1e-9 && (t(2) - 1.125).abs() < 1e-9);
        // From 0.7 s on, the next one is m = 2.
        assert_eq!(p.first_event_from(8.0, 1, p.warm + Duration::from_millis(700)), 2);
        assert_eq!(p.first_event_from(8.0, 1, p.warm + Duration::from_millis(625)), 1);
        assert_eq!(p.first_event_from(8.0, 1, p.start), 0);
    }

    #[test]
    fn warmup_events_are_not_counted() {
        let p = plan(1);
        assert!(p.counts_connection(p.start), "ramp counts for connections");
        assert!(!p.counts_connection(p.warm + Duration::from_millis(10)));
        assert!(p.counts_connection(p.window_start));
        assert!(!p.counts_connection(p.window_end));
        assert!(!p.in_window(p.start) && p.in_window(p.window_start));
    }

    #[test]
    fn echoes_match_pending_messages_in_order() {
        let p = plan(1);
        let mut stats = ClientStats::new();
        let t0 = p.window_start + Duration::from_millis(10);
        let mut pending: VecDeque<(u64, Instant)> = (1..=3).map(|s| (s, t0)).collect();
        let echo = |s: u64| Message::text(format!("{MARK}{s:020} xxxx"));
        // 2 comes back first: 1 was skipped by the server.
        on_message(&p, &echo(2), t0 + Duration::from_millis(5), &mut pending, &mut stats);
        assert_eq!((stats.unanswered, stats.rtt.len(), pending.len()), (1, 1, 1));
        assert!((stats.rtt.max() as f64 - 5e6).abs() < 5e3);
        // A server push is counted but not timed.
        on_message(&p, &Message::text("{\"panels\":[]}"), t0, &mut pending, &mut stats);
        assert_eq!((stats.received, stats.rtt.len()), (2, 1));
        settle_unanswered(&p, &mut pending, &mut stats);
        assert_eq!(stats.unanswered, 2);
    }
}
