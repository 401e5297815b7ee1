//! Test targets for the load generator: a small HTTP/1.1 server on loopback,
//! run on its own thread and tokio runtime inside the test process, that can
//! answer fast, fail, sleep, hang, or stall periodically (coordinated omission).
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Routes (by path, query ignored):
/// - `/status/N`: answers status N;
/// - `/sleep/MS`: answers after MS milliseconds;
/// - `/hang`: reads the request and never answers;
/// - `/chunked`: a chunked body written in pieces;
/// - `/big`: a 1 MiB body;
/// - `/http10`: an HTTP/1.0 response delimited by closing the connection;
/// - `/close`: announces `Connection: close` and closes;
/// - `/silent-close`: answers normally, then closes without announcing it
///   (as servers do with idle keep-alive connections);
/// - `/continue`: a `100 Continue` interim response before the final one;
/// - anything else: 200 "ok" (no body for HEAD).
///
/// With `stall = Some((period, pause))`, every answer that would be sent
/// during the first `pause` of each `period` (counted from the server's
/// start) is held until that pause ends: the server freezes periodically.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub stall: Option<(Duration, Duration)>,
}

/// What the server saw, for assertions.
#[derive(Debug, Default)]
pub struct Seen {
    pub connections: AtomicU64,
    pub requests: AtomicU64,
    pub by_path: Mutex<HashMap<String, u64>>,
    /// Head and body of the last request.
    pub last: Mutex<Option<(String, Vec<u8>)>>,
}

impl Seen {
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::SeqCst)
    }
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }
    pub fn path(&self, p: &str) -> u64 {
        self.by_path.lock().unwrap().get(p).copied().unwrap_or(0)
    }
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub seen: Arc<Seen>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    pub fn start(options: Options) -> TestServer {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        std_listener.set_nonblocking(true).unwrap();
        let addr = std_listener.local_addr().unwrap();
        let seen = Arc::new(Seen::default());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let seen2 = seen.clone();
        let thread = std::thread::Builder::new()
            .name("test-server".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                rt.block_on(async move {
                    let listener = TcpListener::from_std(std_listener).unwrap();
                    let epoch = Instant::now();
                    let accept = async {
                        loop {
                            let Ok((stream, _)) = listener.accept().await else { continue };
                            seen2.connections.fetch_add(1, Ordering::SeqCst);
                            let _ = stream.set_nodelay(true);
                            tokio::spawn(serve(stream, seen2.clone(), options, epoch));
                        }
                    };
                    tokio::select! {
                        _ = accept => {}
                        _ = rx => {}
                    }
                });
                // Dropping the runtime cancels every connection task, hanging ones included.
                drop(rt);
            })
            .unwrap();
        TestServer { addr, seen, shutdown: Some(tx), thread: Some(thread) }
    }

    pub fn fast() -> TestServer {
        TestServer::start(Options::default())
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn serve(mut stream: TcpStream, seen: Arc<Seen>, options: Options, epoch: Instant) {
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        // Read one request head (and its body, by Content-Length).
        let head_end = loop {
            if let Some(i) = find(&buf, b"\r\n\r\n") {
                break i + 4;
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let mut lines = head.split("\r\n");
        let request_line = lines.next().unwrap_or_default();
        let head_request = request_line.starts_with("HEAD ");
        let path = request_line.split(' ').nth(1).unwrap_or("/").split('?').next().unwrap_or("/").to_string();
        let mut content_length = 0usize;
        let mut close = false;
        for line in lines {
            if let Some((k, v)) = line.split_once(':') {
                let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_ascii_lowercase());
                if k == "content-length" {
                    content_length = v.parse().unwrap_or(0);
                } else if k == "connection" && v == "close" {
                    close = true;
                }
            }
        }
        while buf.len() < head_end + content_length {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let body = buf[head_end..head_end + content_length].to_vec();
        buf.drain(..head_end + content_length);
        seen.requests.fetch_add(1, Ordering::SeqCst);
        *seen.by_path.lock().unwrap().entry(path.clone()).or_default() += 1;
        *seen.last.lock().unwrap() = Some((head, body));

        let mut status = 200u16;
        if let Some(code) = path.strip_prefix("/status/") {
            status = code.parse().unwrap_or(500);
        } else if let Some(ms) = path.strip_prefix("/sleep/") {
            tokio::time::sleep(Duration::from_millis(ms.parse().unwrap_or(0))).await;
        } else if path == "/hang" {
            // Never answer; the load generator's timeout must end the request.
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return;
        }
        if let Some((period, pause)) = options.stall {
            let phase = Duration::from_nanos((epoch.elapsed().as_nanos() % period.as_nanos()) as u64);
            if phase < pause {
                tokio::time::sleep(pause - phase).await;
            }
        }
        match path.as_str() {
            "/chunked" => {
                let pieces: [&[u8]; 4] = [
                    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
                    b"lo\r\n1a;ext=1\r\nabcdefghijklmnopqrstuvwxyz\r",
                    b"\n0\r\n",
                    b"X-Trailer: 1\r\n\r\n",
                ];
                for p in pieces {
                    if stream.write_all(p).await.is_err() {
                        return;
                    }
                    let _ = stream.flush().await;
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                continue;
            }
            "/big" => {
                let body = vec![b'x'; 1 << 20];
                let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
                if stream.write_all(head.as_bytes()).await.is_err() || stream.write_all(&body).await.is_err() {
                    return;
                }
                continue;
            }
            "/http10" => {
                let _ = stream.write_all(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close").await;
                let _ = stream.shutdown().await;
                return;
            }
            "/close" | "/silent-close" => {
                let announce = if path == "/close" { "Connection: close\r\n" } else { "" };
                let r = format!("HTTP/1.1 200 OK\r\n{announce}Content-Length: 2\r\n\r\nok");
                let _ = stream.write_all(r.as_bytes()).await;
                let _ = stream.shutdown().await;
                return;
            }
            "/continue" => {
                if stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            _ => {}
        }
        let reason = match status {
            200 => "OK",
            404 => "Not Found",
            500 => "Internal Server Error",
            _ => "Status",
        };
        let body = b"ok";
        let response = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Length: {}\r\nContent-Type: text/plain\r\n{}\r\n",
            body.len(),
            if close { "Connection: close\r\n" } else { "" }
        );
        let mut out = response.into_bytes();
        if !head_request {
            out.extend_from_slice(body);
        }
        if stream.write_all(&out).await.is_err() {
            return;
        }
        if close {
            let _ = stream.shutdown().await;
            return;
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A loopback port with (almost certainly) nothing listening on it.
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}
