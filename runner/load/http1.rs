//! A lean HTTP/1.1 client codec for the load engine: requests encoded once and
//! sent as stored bytes; responses parsed in place, bodies skipped, never
//! copied. Framing follows RFC 9112 §6.3 (Content-Length, chunked, close).

use std::fmt;

/// The longest response head accepted; anything longer is not a sane target.
pub const MAX_HEAD: usize = 64 * 1024;

/// Encodes a request once; the engine sends these bytes for every repetition.
pub fn encode_request(
    method: &str,
    path: &str,
    host: &str,
    headers: &[(String, String)],
    body: Option<&[u8]>,
    keepalive: bool,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + path.len() + body.map_or(0, <[u8]>::len));
    out.extend_from_slice(method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(path.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    let has = |name: &str| headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
    if !has("host") {
        out.extend_from_slice(b"Host: ");
        out.extend_from_slice(host.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    for (k, v) in headers {
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if !keepalive && !has("connection") {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    if let Some(body) = body
        && !has("content-length")
    {
        out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    if let Some(body) = body {
        out.extend_from_slice(body);
    }
    out
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError(pub String);

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(msg: impl Into<String>) -> Result<T, ProtocolError> {
    Err(ProtocolError(msg.into()))
}

/// How the body of a response is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body (HEAD, 204, 304).
    Empty,
    Length(u64),
    Chunked,
    /// Until the server closes the connection.
    UntilClose,
}

/// A parsed response head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub status: u16,
    /// Bytes of the head, final CRLF CRLF included.
    pub len: usize,
    pub framing: Framing,
    /// The connection may carry another request after this response.
    pub keepalive: bool,
}

/// Parses a response head at the start of `buf`. `Ok(None)`: incomplete,
/// read more. Interim (1xx) responses are returned like any other; the
/// caller skips them.
pub fn parse_head(buf: &[u8], head_request: bool) -> Result<Option<Head>, ProtocolError> {
    // One pass: each line is examined as it is found, and the head ends at
    // the first empty line (this runs once per response, so it matters).
    let mut lines = Lines { buf, pos: 0 };
    let incomplete = |buf: &[u8]| {
        if buf.len() > MAX_HEAD { err(format!("response head longer than {MAX_HEAD} bytes")) } else { Ok(None) }
    };
    let Some(status_line) = lines.next() else { return incomplete(buf) };
    // "HTTP/1.1 200 OK": version, status, optional reason.
    let (http10, rest) = if let Some(r) = status_line.strip_prefix(b"HTTP/1.1 ") {
        (false, r)
    } else if let Some(r) = status_line.strip_prefix(b"HTTP/1.0 ") {
        (true, r)
    } else {
        return err(format!("not an HTTP/1.x status line: {:?}", String::from_utf8_lossy(status_line)));
    };
    let status = match rest.get(..3) {
        Some(d) if d.iter().all(u8::is_ascii_digit) && rest.get(3).is_none_or(|&b| b == b' ') => {
            d.iter().fold(0u16, |acc, &b| acc * 10 + u16::from(b - b'0'))
        }
        _ => return err(format!("invalid status in {:?}", String::from_utf8_lossy(status_line))),
    };
    if !(100..=999).contains(&status) {
        return err(format!("invalid status {status}"));
    }
    let mut content_length: Option<u64> = None;
    let mut chunked = false;
    let mut transfer_encoding = false;
    let mut close = http10;
    loop {
        let Some(line) = lines.next() else { return incomplete(buf) };
        if line.is_empty() {
            break;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return err(format!("malformed header line {:?}", String::from_utf8_lossy(line)));
        };
        let name = &line[..colon];
        // Compare lengths first: most headers are none of these three.
        match name.len() {
            14 if name.eq_ignore_ascii_case(b"content-length") => {
                let value = line[colon + 1..].trim_ascii();
                let Some(n) = parse_decimal(value) else {
                    return err(format!("invalid Content-Length {:?}", String::from_utf8_lossy(value)));
                };
                if content_length.is_some_and(|m| m != n) {
                    return err("conflicting Content-Length headers");
                }
                content_length = Some(n);
            }
            17 if name.eq_ignore_ascii_case(b"transfer-encoding") => {
                transfer_encoding = true;
                // Only the last coding decides the framing.
                let value = line[colon + 1..].trim_ascii();
                let last = value.rsplit(|&b| b == b',').next().unwrap_or_default().trim_ascii();
                chunked = last.eq_ignore_ascii_case(b"chunked");
            }
            10 if name.eq_ignore_ascii_case(b"connection") => {
                for token in line[colon + 1..].split(|&b| b == b',').map(<[u8]>::trim_ascii) {
                    if token.eq_ignore_ascii_case(b"close") {
                        close = true;
                    } else if token.eq_ignore_ascii_case(b"keep-alive") && http10 {
                        close = false;
                    }
                }
            }
            _ => {}
        }
    }
    let framing = if head_request || status < 200 || status == 204 || status == 304 {
        Framing::Empty
    } else if transfer_encoding {
        if chunked { Framing::Chunked } else { Framing::UntilClose }
    } else if let Some(n) = content_length {
        Framing::Length(n)
    } else {
        Framing::UntilClose
    };
    let keepalive = !close && framing != Framing::UntilClose;
    Ok(Some(Head { status, len: lines.pos, framing, keepalive }))
}

/// Lines of a buffer, CR LF or bare LF terminated; an unterminated tail is
/// not a line yet.
struct Lines<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Lines<'a> {
    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = &self.buf[self.pos..];
        let nl = rest.iter().position(|&b| b == b'\n')?;
        self.pos += nl + 1;
        let line = &rest[..nl];
        Some(line.strip_suffix(b"\r").unwrap_or(line))
    }
}

fn parse_decimal(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 19 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0u64, |acc, &b| acc * 10 + u64::from(b - b'0')))
}

/// Skips a response body as bytes arrive, without keeping them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodySkipper {
    Length(u64),
    /// Reading a chunk-size line.
    ChunkSize,
    /// Inside chunk data: this many bytes left, then CRLF.
    ChunkData(u64),
    /// The CRLF after chunk data.
    ChunkEnd,
    /// Trailer lines after the last (zero) chunk, up to an empty line.
    Trailers,
    UntilClose,
    Done,
}

impl BodySkipper {
    pub fn new(framing: Framing) -> BodySkipper {
        match framing {
            Framing::Empty | Framing::Length(0) => BodySkipper::Done,
            Framing::Length(n) => BodySkipper::Length(n),
            Framing::Chunked => BodySkipper::ChunkSize,
            Framing::UntilClose => BodySkipper::UntilClose,
        }
    }

    pub fn is_done(&self) -> bool {
        *self == BodySkipper::Done
    }

    /// Consumes body bytes from the start of `buf`; returns how many. Stops
    /// early at the end of the body, or when a line is incomplete (the
    /// unconsumed rest must be kept and more read after it).
    pub fn consume(&mut self, buf: &[u8]) -> Result<usize, ProtocolError> {
        let mut at = 0;
        loop {
            let rest = &buf[at..];
            match *self {
                BodySkipper::Done => return Ok(at),
                BodySkipper::UntilClose => return Ok(buf.len()),
                BodySkipper::Length(n) => {
                    let take = n.min(rest.len() as u64);
                    at += take as usize;
                    *self = if take == n { BodySkipper::Done } else { BodySkipper::Length(n - take) };
                    if !self.is_done() {
                        return Ok(at);
                    }
                }
                BodySkipper::ChunkData(n) => {
                    let take = n.min(rest.len() as u64);
                    at += take as usize;
                    if take < n {
                        *self = BodySkipper::ChunkData(n - take);
                        return Ok(at);
                    }
                    *self = BodySkipper::ChunkEnd;
                }
                BodySkipper::ChunkEnd => {
                    if rest.len() < 2 {
                        return Ok(at);
                    }
                    if &rest[..2] != b"\r\n" {
                        return err("missing CRLF after chunk data");
                    }
                    at += 2;
                    *self = BodySkipper::ChunkSize;
                }
                BodySkipper::ChunkSize => {
                    let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
                        if rest.len() > 1024 {
                            return err("chunk size line too long");
                        }
                        return Ok(at);
                    };
                    let line = rest[..nl].strip_suffix(b"\r").unwrap_or(&rest[..nl]);
                    // Chunk extensions (";name=value") are allowed and ignored.
                    let hex = line.split(|&b| b == b';').next().unwrap_or_default().trim_ascii();
                    let size = parse_hex(hex).ok_or_else(|| {
                        ProtocolError(format!("invalid chunk size {:?}", String::from_utf8_lossy(line)))
                    })?;
                    at += nl + 1;
                    *self = if size == 0 { BodySkipper::Trailers } else { BodySkipper::ChunkData(size) };
                }
                BodySkipper::Trailers => {
                    let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
                        if rest.len() > MAX_HEAD {
                            return err("trailers too long");
                        }
                        return Ok(at);
                    };
                    let empty = nl == 0 || (nl == 1 && rest[0] == b'\r');
                    at += nl + 1;
                    if empty {
                        *self = BodySkipper::Done;
                    }
                }
            }
        }
    }
}

fn parse_hex(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 15 {
        return None;
    }
    s.iter().try_fold(0u64, |acc, &b| Some(acc * 16 + u64::from((b as char).to_digit(16)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(s: &str) -> Head {
        parse_head(s.as_bytes(), false).unwrap().unwrap()
    }

    #[test]
    fn encodes_requests() {
        let r = encode_request("GET", "/a?b=1", "127.0.0.1:80", &[], None, true);
        assert_eq!(r, b"GET /a?b=1 HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n");
        let h = vec![("X-A".to_string(), "1".to_string())];
        let r = encode_request("POST", "/", "h", &h, Some(b"hey"), false);
        assert_eq!(r, b"POST / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nConnection: close\r\nContent-Length: 3\r\n\r\nhey");
        let h = vec![("host".to_string(), "other".to_string())];
        let r = encode_request("GET", "/", "h", &h, None, true);
        assert_eq!(r, b"GET / HTTP/1.1\r\nhost: other\r\n\r\n");
    }

    #[test]
    fn parses_heads_and_framing() {
        let h = head("HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello");
        assert_eq!((h.status, h.framing, h.keepalive), (200, Framing::Length(13), true));
        assert_eq!(h.len, "HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\n".len());
        let h = head("HTTP/1.1 500 Internal Server Error\r\ntransfer-encoding: gzip, chunked\r\n\r\n");
        assert_eq!((h.status, h.framing, h.keepalive), (500, Framing::Chunked, true));
        let h = head("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        assert_eq!((h.framing, h.keepalive), (Framing::Length(0), false));
        let h = head("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n");
        assert!(!h.keepalive, "HTTP/1.0 closes by default");
        let h = head("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\n");
        assert!(h.keepalive);
        let h = head("HTTP/1.1 200 OK\r\n\r\n");
        assert_eq!((h.framing, h.keepalive), (Framing::UntilClose, false));
        let h = head("HTTP/1.1 204 No Content\r\n\r\n");
        assert_eq!((h.framing, h.keepalive), (Framing::Empty, true));
        let h = head("HTTP/1.1 100 Continue\r\n\r\n");
        assert_eq!((h.status, h.framing), (100, Framing::Empty));
        let h = parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", true).unwrap().unwrap();
        assert_eq!(h.framing, Framing::Empty, "HEAD responses have no body");
        let h = head("HTTP/1.1 404\r\nContent-Length: 1\r\n\r\n");
        assert_eq!(h.status, 404, "the reason phrase is optional");
    }

    #[test]
    fn incomplete_and_malformed_heads() {
        assert_eq!(parse_head(b"HTTP/1.1 200 OK\r\nContent-Le", false), Ok(None));
        assert_eq!(parse_head(b"", false), Ok(None));
        for bad in [
            "HTTP/2 200 OK\r\n\r\n",
            "HTTP/1.1 20 OK\r\n\r\n",
            "HTTP/1.1 2000 OK\r\n\r\n",
            "HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        ] {
            assert!(parse_head(bad.as_bytes(), false).is_err(), "{bad:?}");
        }
        assert!(parse_head(&vec![b'a'; MAX_HEAD + 1], false).is_err());
    }

    fn skip_all(framing: Framing, pieces: &[&[u8]]) -> (BodySkipper, Vec<u8>) {
        // Feeds the pieces one at a time, keeping unconsumed bytes, as the engine does.
        let mut s = BodySkipper::new(framing);
        let mut pending: Vec<u8> = Vec::new();
        for p in pieces {
            pending.extend_from_slice(p);
            if !s.is_done() {
                let n = s.consume(&pending).unwrap();
                pending.drain(..n);
            }
        }
        (s, pending)
    }

    #[test]
    fn skips_bodies_across_reads() {
        let (s, rest) = skip_all(Framing::Length(5), &[b"he", b"llo", b"NEXT"]);
        assert!(s.is_done());
        assert_eq!(rest, b"NEXT");
        let (s, rest) = skip_all(Framing::Length(5), &[b"helloNEXT"]);
        assert!(s.is_done());
        assert_eq!(rest, b"NEXT", "bytes after the body belong to the next response");
        let body: &[u8] = b"5\r\nhello\r\n1A;ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: 1\r\n\r\nNEXT";
        for split in 0..body.len() {
            let (s, rest) = skip_all(Framing::Chunked, &[&body[..split], &body[split..]]);
            assert!(s.is_done(), "split at {split}");
            assert_eq!(rest, b"NEXT", "split at {split}");
        }
        let (s, _) = skip_all(Framing::Chunked, &[b"3\r\nabc\r\n0\r\n\r\n"]);
        assert!(s.is_done());
        let (s, _) = skip_all(Framing::Length(10), &[b"abc"]);
        assert_eq!(s, BodySkipper::Length(7));
        let (s, _) = skip_all(Framing::UntilClose, &[b"anything"]);
        assert_eq!(s, BodySkipper::UntilClose);
    }

    #[test]
    fn rejects_bad_chunks() {
        assert!(BodySkipper::new(Framing::Chunked).consume(b"zz\r\n").is_err());
        let mut s = BodySkipper::new(Framing::Chunked);
        assert!(s.consume(b"3\r\nabcX\r\n").is_err());
    }
}
