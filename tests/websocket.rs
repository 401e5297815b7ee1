//! The WebSocket load engine against a real WebSocket server on loopback
//! (tokio-tungstenite in this process, on its own runtime): echo timing,
//! churn, refused upgrades and dropped connections.
#![allow(clippy::result_large_err)] // tungstenite's handshake callback type

use futures_util::{SinkExt, StreamExt};
use perfgate::load::{WindowEdge, WsSpec, ws};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};

#[derive(Clone, Copy, Default)]
struct Behaviour {
    /// Echo each text message after this delay.
    echo_delay: Duration,
    /// Close the connection (with a close frame) after this many messages.
    close_after: Option<u64>,
    /// Push a server message to each client this often.
    push_every: Option<Duration>,
}

#[derive(Default)]
struct Seen {
    upgrades: AtomicU64,
    open: AtomicI64,
    echoed: AtomicU64,
}

/// Serves WebSocket upgrades on `/echo` (other paths get 404) on a thread
/// of its own until the test process ends.
fn serve(b: Behaviour) -> (SocketAddr, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let (tx, rx) = std::sync::mpsc::channel();
    let seen2 = seen.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            loop {
                let (tcp, _) = listener.accept().await.unwrap();
                let seen = seen2.clone();
                tokio::spawn(async move {
                    let check = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
                        if req.uri().path() == "/echo" {
                            Ok(resp)
                        } else {
                            let mut r = ErrorResponse::new(Some("not found".into()));
                            *r.status_mut() = tokio_tungstenite::tungstenite::http::StatusCode::NOT_FOUND;
                            Err(r)
                        }
                    };
                    let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(tcp, check).await else { return };
                    seen.upgrades.fetch_add(1, Ordering::SeqCst);
                    seen.open.fetch_add(1, Ordering::SeqCst);
                    let mut n = 0u64;
                    let mut push = b.push_every.map(tokio::time::interval);
                    loop {
                        let tick = async {
                            match push.as_mut() {
                                Some(p) => {
                                    p.tick().await;
                                }
                                None => std::future::pending::<()>().await,
                            }
                        };
                        tokio::select! {
                            msg = ws.next() => match msg {
                                Some(Ok(Message::Text(t))) => {
                                    n += 1;
                                    if b.close_after.is_some_and(|c| n > c) {
                                        let _ = ws.close(None).await;
                                        break;
                                    }
                                    if !b.echo_delay.is_zero() {
                                        tokio::time::sleep(b.echo_delay).await;
                                    }
                                    if ws.send(Message::Text(t)).await.is_err() {
                                        break;
                                    }
                                    seen.echoed.fetch_add(1, Ordering::SeqCst);
                                }
                                Some(Ok(_)) => {}
                                _ => break,
                            },
                            _ = tick => {
                                if ws.send(Message::text("{\"update\":1}")).await.is_err() {
                                    break;
                                }
                            }
                        }
                    }
                    seen.open.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
    });
    (rx.recv().unwrap(), seen)
}

fn spec(addr: SocketAddr, path: &str) -> WsSpec {
    WsSpec {
        url: format!("ws://{addr}{path}"),
        clients: 10,
        ramp: Duration::from_millis(200),
        warmup: Duration::from_millis(200),
        duration: Duration::from_secs(1),
        churn: None,
        rate: None,
        message_size: 64,
        connect_timeout: Duration::from_secs(5),
        allow_remote: false,
    }
}

fn wait_for(what: &str, f: impl Fn() -> bool) {
    let until = Instant::now() + Duration::from_secs(5);
    while !f() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn echoes_are_timed_and_churned_clients_reconnect() {
    let (addr, seen) = serve(Behaviour { push_every: Some(Duration::from_millis(100)), ..Default::default() });
    let mut s = spec(addr, "/echo");
    s.clients = 20;
    s.rate = Some(400.0);
    s.churn = Some(10.0);
    let mut edges = Vec::new();
    let r = ws::run(&s, |e| edges.push((e, Instant::now()))).unwrap();
    assert_eq!(edges.iter().map(|e| e.0).collect::<Vec<_>>(), vec![WindowEdge::Start, WindowEdge::End]);
    let window = edges[1].1 - edges[0].1;
    assert!(window >= Duration::from_millis(990) && window < Duration::from_millis(1500), "{window:?}");
    // 400 msg/s for 1 s: the schedule is exact, whatever the machine's noise.
    assert!((380..=420).contains(&r.sent), "sent {}", r.sent);
    assert_eq!(r.unanswered, 0, "a local echo server answers everything");
    assert_eq!(r.rtt.len(), r.sent, "each echo is timed once");
    assert!(r.rtt_at(0.5) > 0.0 && r.rtt_at(0.5) < 0.5, "p50 {}", r.rtt_at(0.5));
    // Received: the echoes plus ~10 pushes per client per second.
    assert!(r.received > r.sent + 100, "received {} sent {}", r.received, r.sent);
    // 20 initial connections in the ramp, then ~10 reconnects in the window
    // (and ~2 in the warmup, not counted).
    assert_eq!((r.failed_upgrades, r.unexpected_disconnects), (0, 0), "{:?}", r.failures);
    assert!((27..=33).contains(&r.connects), "connects {}", r.connects);
    assert_eq!(r.connect_time.len(), r.connects);
    assert!((30..=36).contains(&seen.upgrades.load(Ordering::SeqCst)), "upgrades {:?}", seen.upgrades);
    // Every connection was closed at the end.
    wait_for("all connections closed", || seen.open.load(Ordering::SeqCst) == 0);
}

#[test]
fn round_trip_counts_from_the_intended_send_time() {
    let (addr, _) = serve(Behaviour { echo_delay: Duration::from_millis(40), ..Default::default() });
    let mut s = spec(addr, "/echo");
    s.clients = 2;
    s.rate = Some(20.0);
    let r = ws::run(&s, |_| {}).unwrap();
    assert!(r.sent >= 18, "sent {}", r.sent);
    let p50 = r.rtt_at(0.5);
    assert!((0.040..0.200).contains(&p50), "p50 {p50}");
    assert!(r.rtt_at(0.0) >= 0.040, "no echo can beat the server's delay: min {}", r.rtt_at(0.0));
}

#[test]
fn refused_upgrades_are_counted_with_the_status() {
    let (addr, seen) = serve(Behaviour::default());
    let r = ws::run(&spec(addr, "/nope"), |_| {}).unwrap();
    assert_eq!(r.connects, 0);
    assert!(r.failed_upgrades >= 10, "{}", r.failed_upgrades);
    assert!(r.failures[0].0.contains("HTTP 404"), "{:?}", r.failures);
    assert_eq!(seen.upgrades.load(Ordering::SeqCst), 0);
}

#[test]
fn server_closes_are_unexpected_disconnects_and_clients_come_back() {
    let (addr, seen) = serve(Behaviour { close_after: Some(5), ..Default::default() });
    let mut s = spec(addr, "/echo");
    s.clients = 4;
    s.rate = Some(80.0);
    let r = ws::run(&s, |_| {}).unwrap();
    // Each connection lives for 5 messages at 20 msg/s per client (~250 ms),
    // then reconnects after a 100 ms pause.
    assert!(r.unexpected_disconnects >= 8, "{} {:?}", r.unexpected_disconnects, r.failures);
    assert!(r.failures.iter().any(|(w, _)| w.contains("closed by the server")), "{:?}", r.failures);
    assert!(r.connects > 4 + 8, "{}", r.connects);
    // The sixth message of each connection is never echoed.
    assert!(r.unanswered >= 4, "{}", r.unanswered);
    assert!(seen.echoed.load(Ordering::SeqCst) > 0);
}

#[test]
fn a_closed_port_fails_every_upgrade_without_hanging() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut s = spec(format!("127.0.0.1:{port}").parse().unwrap(), "/echo");
    s.clients = 3;
    let started = Instant::now();
    let r = ws::run(&s, |_| {}).unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(r.connects, 0);
    assert!(r.failures[0].0.contains("connect"), "{:?}", r.failures);
}
