//! Parsing of `FERROBASE_SMTP_URL`: `smtp://`, `smtp+starttls://` and `smtps://`.
//!
//! Error messages never repeat the password.

use anyhow::{Context, bail};
use std::fmt;

/// How the connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// `smtp://`: plain text, no TLS (local sinks, development). Default port 25.
    Plain,
    /// `smtp+starttls://`: plain connection upgraded with STARTTLS, which is required. Default port 587.
    StartTls,
    /// `smtps://`: TLS from the first byte (implicit TLS). Default port 465.
    Tls,
}

impl Security {
    pub fn default_port(self) -> u16 {
        match self {
            Security::Plain => 25,
            Security::StartTls => 587,
            Security::Tls => 465,
        }
    }
}

/// A parsed SMTP URL.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub security: Security,
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    pub port: u16,
    /// Percent-decoded `(user, password)`.
    pub credentials: Option<(String, String)>,
}

impl fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("security", &self.security)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.credentials.as_ref().map(|(user, _)| user))
            .finish_non_exhaustive()
    }
}

/// Parses `scheme://[user:pass@]host[:port][/]`.
pub fn parse_smtp_url(url: &str) -> anyhow::Result<SmtpSettings> {
    parse(url.trim())
        .context("invalid SMTP URL (expected smtp://, smtp+starttls:// or smtps://[user:pass@]host[:port])")
}

fn parse(url: &str) -> anyhow::Result<SmtpSettings> {
    let Some((scheme, rest)) = url.split_once("://") else {
        bail!("missing scheme");
    };
    let security = match scheme.to_ascii_lowercase().as_str() {
        "smtp" => Security::Plain,
        "smtp+starttls" => Security::StartTls,
        "smtps" => Security::Tls,
        other => bail!("unsupported scheme `{other}`"),
    };
    if rest.contains(['?', '#']) {
        bail!("query parameters and fragments are not supported");
    }
    let authority = match rest.split_once('/') {
        Some((authority, "")) => authority,
        Some(_) => bail!("a path is not supported"),
        None => rest,
    };
    let (credentials, host_port) = match authority.rsplit_once('@') {
        Some((userinfo, host_port)) => {
            let Some((user, pass)) = userinfo.split_once(':') else {
                bail!("credentials must be `user:password`");
            };
            let user = percent_decode(user).context("bad user name")?;
            let pass = percent_decode(pass).context("bad password")?;
            if user.is_empty() {
                bail!("empty user name");
            }
            (Some((user, pass)), host_port)
        }
        None => (None, authority),
    };
    let (host, port) = split_host_port(host_port)?;
    let port = match port {
        None => security.default_port(),
        Some(p) => match p.parse::<u16>() {
            Ok(p) if p > 0 => p,
            _ => bail!("invalid port `{p}`"),
        },
    };
    Ok(SmtpSettings { security, host, port, credentials })
}

fn split_host_port(host_port: &str) -> anyhow::Result<(String, Option<&str>)> {
    if let Some(bracketed) = host_port.strip_prefix('[') {
        let Some((ip, after)) = bracketed.split_once(']') else {
            bail!("unclosed `[` in host");
        };
        if ip.parse::<std::net::Ipv6Addr>().is_err() {
            bail!("invalid IPv6 address `{ip}`");
        }
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':').context("unexpected characters after `]`")?),
        };
        return Ok((ip.to_string(), port));
    }
    let (host, port) = match host_port.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (host_port, None),
    };
    if host.is_empty() {
        bail!("missing host");
    }
    if !host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')) {
        bail!("invalid host `{host}`");
    }
    Ok((host.to_ascii_lowercase(), port))
}

fn percent_decode(s: &str) -> anyhow::Result<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
            let byte = hex.and_then(|h| u8::from_str_radix(h, 16).ok()).context("malformed percent-encoding")?;
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).context("percent-encoding is not UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(url: &str) -> SmtpSettings {
        parse_smtp_url(url).unwrap_or_else(|e| panic!("{url}: {e:#}"))
    }

    fn err(url: &str) -> String {
        format!("{:#}", parse_smtp_url(url).expect_err(url))
    }

    #[test]
    fn schemes_and_default_ports() {
        let s = ok("smtp://localhost");
        assert_eq!((s.security, s.host.as_str(), s.port, s.credentials), (Security::Plain, "localhost", 25, None));
        let s = ok("smtp+starttls://mail.example.com");
        assert_eq!((s.security, s.port), (Security::StartTls, 587));
        let s = ok("smtps://mail.example.com/");
        assert_eq!((s.security, s.port), (Security::Tls, 465));
        assert_eq!(ok("SMTPS://Mail.Example.COM").host, "mail.example.com");
    }

    #[test]
    fn ports() {
        assert_eq!(ok("smtp://127.0.0.1:2525").port, 2525);
        assert_eq!(ok("smtps://mail.example.com:10465").port, 10465);
        let s = ok("smtp://[::1]:1025");
        assert_eq!((s.host.as_str(), s.port), ("::1", 1025));
        assert_eq!(ok("smtp://[::1]").port, 25);
        assert!(err("smtp://host:0").contains("invalid port"));
        assert!(err("smtp://host:65536").contains("invalid port"));
        assert!(err("smtp://host:abc").contains("invalid port"));
        assert!(err("smtp://host:").contains("invalid port"));
        assert!(err("smtp://[::1]x").contains("after `]`"));
        assert!(err("smtp://[nope]:25").contains("invalid IPv6"));
    }

    #[test]
    fn credentials() {
        let s = ok("smtp://user:secret@127.0.0.1:2525");
        assert_eq!(s.credentials, Some(("user".into(), "secret".into())));
        assert_eq!((s.host.as_str(), s.port), ("127.0.0.1", 2525));
        // Percent-encoded user and password; an `@` inside the password encoded or not.
        let s = ok("smtps://me%40example.com:p%3Ass%2Fw%25rd@smtp.example.com");
        assert_eq!(s.credentials, Some(("me@example.com".into(), "p:ss/w%rd".into())));
        let s = ok("smtp://apikey:a@b@relay.local");
        assert_eq!(s.credentials, Some(("apikey".into(), "a@b".into())));
        assert_eq!(s.host, "relay.local");
        // An empty password is allowed (some relays use a token as the user name).
        assert_eq!(ok("smtp://token:@relay").credentials, Some(("token".into(), String::new())));
        assert!(err("smtp://useronly@host").contains("user:password"));
        assert!(err("smtp://:pass@host").contains("empty user"));
        assert!(err("smtp://user:%zz@host").contains("percent"));
    }

    #[test]
    fn invalid_urls() {
        assert!(err("localhost:25").contains("missing scheme"));
        assert!(err("http://localhost").contains("unsupported scheme `http`"));
        assert!(err("smtp://").contains("missing host"));
        assert!(err("smtp://user:pw@").contains("missing host"));
        assert!(err("smtp://host/path").contains("path"));
        assert!(err("smtp://host?tls=required").contains("query"));
        assert!(err("smtp://ho st").contains("invalid host"));
        // The message says what is expected.
        assert!(err("ftp://x").contains("smtp+starttls://"));
    }

    #[test]
    fn secrets_stay_out_of_errors_and_debug() {
        for url in ["smtp://user:hunter2@host:bad", "ftp://user:hunter2@host", "smtp://user:hunter2@ho st"] {
            assert!(!err(url).contains("hunter2"), "{url}");
        }
        let dbg = format!("{:?}", ok("smtp://user:hunter2@host"));
        assert!(dbg.contains("user") && !dbg.contains("hunter2"), "{dbg}");
    }
}
