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

    /// True for 127.0.0.0/8, ::1 (and IPv4-mapped loopback) and `localhost`.
    pub fn is_loopback(&self) -> bool {
        let host = self.host.trim_end_matches('.');
        if host.eq_ignore_ascii_case("localhost") {
            return true;
        }
        match host.parse::<IpAddr>() {
            Ok(IpAddr::V4(v4)) => v4.is_loopback(),
            Ok(IpAddr::V6(v6)) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
            Err(_) => false,
        }
    }

    /// Addresses to connect to. Resolution happens once per run, never per
    /// connection; an IP literal needs no resolver at all.
    pub fn resolve(&self) -> Result<Vec<SocketAddr>, LoadError> {
        if let Ok(ip) = self.host.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, self.port)]);
        }
        let addrs: Vec<SocketAddr> = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|e| LoadError::Resolve { host: self.host.clone(), reason: e.to_string() })?
            .collect();
        if addrs.is_empty() {
            return Err(LoadError::Resolve { host: self.host.clone(), reason: "no address".into() });
        }
        Ok(addrs)
    }
}

/// Refuses any target but this machine unless `allow_remote`: load tests
/// must never hit a host by accident (a typo, a production URL pasted in).
/// Host names other than `localhost` are refused without being resolved.
pub fn ensure_loopback(url: &str, allow_remote: bool) -> Result<(), LoadError> {
    let target = TargetUrl::parse(url)?;
    if allow_remote || target.is_loopback() {
        Ok(())
    } else {
        Err(LoadError::NotLoopback { url: url.to_string(), host: target.host })
    }
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
            "http://LOCALHOST./",
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
            assert!(matches!(err, LoadError::NotLoopback { .. }), "{remote}: {err}");
            assert!(err.to_string().contains("--allow-remote"), "{err}");
            assert!(ensure_loopback(remote, true).is_ok(), "{remote} with allow_remote");
        }
        assert!(matches!(ensure_loopback("gopher://x/", true), Err(LoadError::InvalidUrl { .. })));
    }
}
