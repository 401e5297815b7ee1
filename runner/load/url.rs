//! Target URLs: parsing `http://host:port/prefix` and the safety rule that
//! load goes only to this machine (127.0.0.0/8, ::1, localhost) unless the
//! user explicitly allows a remote target.

use super::LoadError;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

/// A parsed plain-HTTP target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetUrl {
    /// Host as written, without IPv6 brackets.
    pub host: String,
    pub port: u16,
    /// Value for the `Host` header (`host:port` as written in the URL).
    pub authority: String,
    /// Path of the URL without a trailing slash ("" for `http://h:p/`).
    pub path_prefix: String,
    /// Query string of the URL, if any (without `?`).
    pub query: Option<String>,
}

impl TargetUrl {
    pub fn parse(url: &str) -> Result<TargetUrl, LoadError> {
        let bad = |why: &str| LoadError::InvalidUrl { url: url.to_string(), reason: why.to_string() };
        let uri: http::Uri = url.trim().parse().map_err(|e| bad(&format!("{e}")))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => return Err(bad("https is not supported: perfgate load speaks plain HTTP/1.1")),
            Some(other) => return Err(bad(&format!("scheme {other:?} is not supported; use http://"))),
            None => return Err(bad("missing scheme; write e.g. http://127.0.0.1:8080/")),
        }
        let authority = uri.authority().ok_or_else(|| bad("missing host"))?;
        if authority.as_str().contains('@') {
            return Err(bad("credentials in the URL are not supported; pass an Authorization header"));
        }
        let host = authority.host().trim_start_matches('[').trim_end_matches(']').to_string();
        if host.is_empty() {
            return Err(bad("missing host"));
        }
        let port = authority.port_u16().unwrap_or(80);
        let path = uri.path().trim_end_matches('/').to_string();
        Ok(TargetUrl {
            host,
            port,
            authority: authority.as_str().to_string(),
            path_prefix: path,
            query: uri.query().map(str::to_string),
        })
    }

    /// Addresses to connect to, checked by [`resolve_guarded`]. Resolution
    /// happens once per run, never per connection; an IP literal needs no
    /// resolver at all.
    pub fn resolve(&self, url: &str, allow_remote: bool) -> Result<Vec<SocketAddr>, LoadError> {
        resolve_guarded(&self.host, self.port, url, allow_remote)
    }
}

/// True for 127.0.0.0/8, ::1 and IPv4-mapped loopback.
pub fn is_loopback_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
    }
}

/// Every address `host:port` resolves to — the addresses the caller then
/// connects to, so what was checked is what is loaded — refused unless all
/// of them are loopback or `allow_remote`. A name is resolved (an
/// `/etc/hosts` alias of 127.0.0.1 is fine); whatever the resolver makes of
/// `127.0.0.1.` or `4123427.0.0.1`, the answer is what is checked.
pub fn resolve_guarded(host: &str, port: u16, url: &str, allow_remote: bool) -> Result<Vec<SocketAddr>, LoadError> {
    let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => match (host, port).to_socket_addrs() {
            Ok(addrs) => addrs.collect(),
            // Unresolvable is refused either way; without consent, say why it must be loopback.
            Err(e) if !allow_remote => {
                return Err(LoadError::NotLoopback { url: url.to_string(), host: format!("{host} (unresolved: {e})") });
            }
            Err(e) => return Err(LoadError::Resolve { host: host.to_string(), reason: e.to_string() }),
        },
    };
    if addrs.is_empty() {
        return Err(LoadError::Resolve { host: host.to_string(), reason: "no address".into() });
    }
    if !allow_remote && let Some(remote) = addrs.iter().find(|a| !is_loopback_ip(a.ip())) {
        let host = if host == remote.ip().to_string() { host.to_string() } else { format!("{host} = {}", remote.ip()) };
        return Err(LoadError::NotLoopback { url: url.to_string(), host });
    }
    Ok(addrs)
}

/// Refuses any target but this machine unless `allow_remote`: load tests
/// must never hit a host by accident (a typo, a production URL pasted in).
/// The URL is resolved and every address it names must be loopback.
pub fn ensure_loopback(url: &str, allow_remote: bool) -> Result<(), LoadError> {
    let target = TargetUrl::parse(url)?;
    if allow_remote {
        return Ok(()); // resolved when used, not here: the network may be elsewhere
    }
    resolve_guarded(&target.host, target.port, url, false).map(|_| ())
}

/// Checks a URL template that holds `{port}` (the port perfgate picks for
/// the target at each start): `{port}` may only be the port — a host that
/// changes with the port (`http://127.0.0.{port}:8080/`) would be checked
/// as one address and loaded as another — and the URL must pass
/// [`ensure_loopback`]. The final URL is checked again when it is used.
pub fn ensure_loopback_template(template: &str, allow_remote: bool) -> Result<(), LoadError> {
    let sample = port_only_in_port(template)?;
    ensure_loopback(&sample, allow_remote)
}

/// The template's `http://` form with `{port}` = 1, if `{port}` stands
/// only for the port (the host is the same whatever the port). No
/// resolution: `validate` checks this too.
pub fn port_only_in_port(template: &str) -> Result<String, LoadError> {
    let http_form = match template.strip_prefix("ws://") {
        Some(rest) => format!("http://{rest}"),
        None => template.to_string(),
    };
    let (a, b) = (http_form.replace("{port}", "1"), http_form.replace("{port}", "65535"));
    let (ta, tb) = (TargetUrl::parse(&a)?, TargetUrl::parse(&b)?);
    if ta.host != tb.host {
        return Err(LoadError::InvalidUrl {
            url: template.to_string(),
            reason: "`{port}` may only stand for the port (e.g. http://127.0.0.1:{port}/), not inside the host".into(),
        });
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_targets() {
        let t = TargetUrl::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.authority.as_str(), t.path_prefix.as_str()),
            ("127.0.0.1", 8080, "127.0.0.1:8080", "")
        );
        let t = TargetUrl::parse("http://localhost/api/?x=1").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.path_prefix.as_str(), t.query.as_deref()),
            ("localhost", 80, "/api", Some("x=1"))
        );
        let t = TargetUrl::parse("http://[::1]:9000/a").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.authority.as_str()), ("::1", 9000, "[::1]:9000"));
        for bad in [
            "",
            "127.0.0.1:80",
            "https://127.0.0.1/",
            "ftp://127.0.0.1/",
            "http://",
            "not a url",
            "http://u:p@127.0.0.1/",
        ] {
            assert!(TargetUrl::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn loopback_only_unless_allowed() {
        for ok in [
            "http://127.0.0.1:1/",
            "http://127.1.2.3/",
            "http://localhost:8080/",
            "http://LOCALHOST/",
            "http://[::1]:80/",
            "http://[::ffff:127.0.0.1]/",
        ] {
            assert!(ensure_loopback(ok, false).is_ok(), "{ok}");
        }
        for remote in [
            "http://10.0.0.1/",
            "http://192.168.1.1:80/",
            "http://0.0.0.0:80/",
            "http://example.com/",
            "http://localhost.example.com/",
            "http://[::]/",
            "http://[2001:db8::1]/",
            "http://128.0.0.1/",
        ] {
            let err = ensure_loopback(remote, false).unwrap_err();
            // A name is resolved: refused as remote, or as unresolvable where there is no DNS.
            let ok = match &err {
                LoadError::NotLoopback { .. } => err.to_string().contains("--allow-remote"),
                LoadError::Resolve { .. } => remote.contains("example.com"),
                _ => false,
            };
            assert!(ok, "{remote}: {err}");
            assert!(ensure_loopback(remote, true).is_ok(), "{remote} with allow_remote");
        }
        assert!(matches!(ensure_loopback("gopher://x/", true), Err(LoadError::InvalidUrl { .. })));
    }

    /// The repros: a host that changes with `{port}`, and addresses
    /// whose spelling is not what the resolver makes of them.
    #[test]
    fn the_checked_address_is_the_loaded_one() {
        for template in ["http://127.0.0.{port}:8080/", "http://{port}27.0.0.1/", "ws://127.{port}.0.1/ws"] {
            let err = ensure_loopback_template(template, false).unwrap_err();
            assert!(err.to_string().contains("may only stand for the port"), "{template}: {err}");
        }
        assert!(ensure_loopback_template("http://127.0.0.1:{port}/debug/pprof", false).is_ok());
        assert!(ensure_loopback_template("ws://localhost:{port}/ws", false).is_ok());
        // What resolves is checked: every address of a name must be loopback.
        let addrs = resolve_guarded("localhost", 80, "http://localhost/", false).unwrap();
        assert!(addrs.iter().all(|a| is_loopback_ip(a.ip())));
        let err = resolve_guarded("23.0.0.1", 80, "http://4123427.0.0.1/", false).unwrap_err();
        assert!(matches!(err, LoadError::NotLoopback { .. }), "{err}");
        assert!(resolve_guarded("23.0.0.1", 80, "http://23.0.0.1/", true).is_ok());
    }
}
