//! Outgoing email (verification, password reset): written to the log by default, or sent over SMTP
//! when `FERROBASE_SMTP_URL` is set.
//!
//! URLs: `smtp://[user:pass@]host[:port]` (plain text: local sinks, development; default port 25),
//! `smtp+starttls://…` (STARTTLS required; 587) and `smtps://…` (implicit TLS; 465). User and
//! password are percent-decoded. TLS is rustls with the ring provider and the webpki roots.

mod smtp;
mod url;

pub use smtp::SmtpMailer;
pub use url::{Security, SmtpSettings, parse_smtp_url};

use anyhow::anyhow;
use lettre::message::Mailbox;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A plain-text (UTF-8) email to one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
}

/// How many sent emails the `log` mailer remembers.
pub const LOG_MAILER_CAPACITY: usize = 100;

/// Connect timeout, and limit on one whole SMTP exchange.
pub const DEFAULT_SMTP_TIMEOUT: Duration = Duration::from_secs(10);

/// Where emails go. Cheap to clone: clones share the remembered emails / the SMTP connection pool.
#[derive(Clone, Debug)]
pub enum Mailer {
    /// Writes every email to the log (target `ferrobase::mail`) and remembers the last 100.
    Log(LogMailer),
    /// Sends through an SMTP server.
    Smtp(SmtpMailer),
}

/// The memory of the `log` mailer.
#[derive(Clone, Debug, Default)]
pub struct LogMailer {
    sent: Arc<Mutex<VecDeque<Email>>>,
}

impl Mailer {
    /// The `log` mailer.
    pub fn log() -> Mailer {
        Mailer::Log(LogMailer::default())
    }

    /// `smtp_url` None → `log`; otherwise SMTP with [`DEFAULT_SMTP_TIMEOUT`]. `from` is a mailbox
    /// like `ferrobase <no-reply@localhost>`. An invalid URL or sender is an error.
    pub fn from_config(smtp_url: Option<&str>, from: &str) -> anyhow::Result<Mailer> {
        Mailer::from_config_with_timeout(smtp_url, from, DEFAULT_SMTP_TIMEOUT)
    }

    /// [`Mailer::from_config`] with another SMTP timeout (connect, and one whole send).
    pub fn from_config_with_timeout(smtp_url: Option<&str>, from: &str, timeout: Duration) -> anyhow::Result<Mailer> {
        let from: Mailbox = from
            .trim()
            .parse()
            .map_err(|e| anyhow!("invalid email sender `{from}` (expected like `App <no-reply@example.com>`): {e}"))?;
        let Some(url) = smtp_url else {
            return Ok(Mailer::log());
        };
        let settings = parse_smtp_url(url)?;
        Ok(Mailer::Smtp(SmtpMailer::new(settings, from, timeout)?))
    }

    /// `log`: writes the email to the log and remembers it. `smtp`: sends it; a failure (server
    /// unreachable, refused, timed out, bad recipient address) is returned for the caller to handle.
    pub async fn send(&self, email: Email) -> anyhow::Result<()> {
        match self {
            Mailer::Log(log) => {
                tracing::info!(
                    target: "ferrobase::mail",
                    to = %email.to,
                    subject = %email.subject,
                    "email (log mailer; set FERROBASE_SMTP_URL to send):\n{}",
                    email.text
                );
                let mut sent = log.sent.lock().unwrap_or_else(|e| e.into_inner());
                if sent.len() == LOG_MAILER_CAPACITY {
                    sent.pop_front();
                }
                sent.push_back(email);
                Ok(())
            }
            Mailer::Smtp(smtp) => smtp.send(&email).await,
        }
    }

    /// `log`: the remembered emails, oldest first. `smtp`: empty.
    pub fn sent(&self) -> Vec<Email> {
        match self {
            Mailer::Log(log) => log.sent.lock().unwrap_or_else(|e| e.into_inner()).iter().cloned().collect(),
            Mailer::Smtp(_) => Vec::new(),
        }
    }
}

/// The email that confirms an address; `link` carries the verification token.
pub fn verification_email(to: &str, link: &str) -> Email {
    Email {
        to: to.to_string(),
        subject: "Confirm your email".to_string(),
        text: format!(
            "Hello,\n\n\
             Please confirm your email address by opening this link:\n\n\
             {link}\n\n\
             If you did not create an account, you can ignore this email.\n"
        ),
    }
}

/// The email with a password-reset link.
pub fn password_reset_email(to: &str, link: &str) -> Email {
    Email {
        to: to.to_string(),
        subject: "Reset your password".to_string(),
        text: format!(
            "Hello,\n\n\
             Someone asked to reset the password of the account with this email address.\n\
             To choose a new password, open this link:\n\n\
             {link}\n\n\
             Your password stays the same until you do; if you did not ask for this, ignore this email.\n"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_config_picks_the_mailer() {
        let m = Mailer::from_config(None, "ferrobase <no-reply@localhost>").unwrap();
        assert!(matches!(m, Mailer::Log(_)));
        let m = Mailer::from_config(Some("smtp://user:pw@127.0.0.1:2525"), "App <app@example.com>").unwrap();
        let Mailer::Smtp(smtp) = &m else { panic!("expected smtp") };
        assert_eq!((smtp.settings().host.as_str(), smtp.settings().port), ("127.0.0.1", 2525));
        assert_eq!(smtp.from().email.to_string(), "app@example.com");
        assert!(!format!("{m:?}").contains("pw@"), "{m:?}");
        // TLS variants build their TLS parameters eagerly (rustls on ring) without a runtime.
        for url in ["smtps://smtp.example.com", "smtp+starttls://smtp.example.com:2587"] {
            assert!(matches!(Mailer::from_config(Some(url), "a@example.com").unwrap(), Mailer::Smtp(_)));
        }
        // Dropped outside a runtime before any send: no panic.
        drop(m);
    }

    #[test]
    fn from_config_errors() {
        let e = Mailer::from_config(Some("http://x"), "a@example.com").unwrap_err();
        assert!(format!("{e:#}").contains("invalid SMTP URL"), "{e:#}");
        for from in ["", "not an address", "App <app@>", "App app@example.com>"] {
            let e = Mailer::from_config(None, from).unwrap_err();
            assert!(e.to_string().contains("invalid email sender"), "{from}: {e}");
        }
    }

    #[tokio::test]
    async fn log_mailer_remembers_the_last_100() {
        let m = Mailer::from_config(None, "ferrobase <no-reply@localhost>").unwrap();
        let clone = m.clone();
        for i in 0..105 {
            m.send(verification_email(&format!("u{i}@example.com"), "http://x/verify?token=t")).await.unwrap();
        }
        let sent = clone.sent();
        assert_eq!(sent.len(), LOG_MAILER_CAPACITY);
        assert_eq!(sent[0].to, "u5@example.com");
        assert_eq!(sent[99].to, "u104@example.com");
    }

    #[tokio::test]
    async fn smtp_rejects_a_bad_recipient_before_connecting() {
        let m = Mailer::from_config(Some("smtp://127.0.0.1:9"), "a@example.com").unwrap();
        let e = m.send(verification_email("not-an-address", "l")).await.unwrap_err();
        assert!(e.to_string().contains("invalid recipient"), "{e}");
        assert!(m.sent().is_empty());
    }

    #[test]
    fn messages() {
        let v = verification_email("a@example.com", "https://app.example/verify?token=abc");
        assert_eq!((v.to.as_str(), v.subject.as_str()), ("a@example.com", "Confirm your email"));
        assert!(v.text.contains("\nhttps://app.example/verify?token=abc\n"));
        let r = password_reset_email("a@example.com", "https://app.example/reset?token=xyz");
        assert_eq!(r.subject, "Reset your password");
        assert!(r.text.contains("\nhttps://app.example/reset?token=xyz\n"));
        assert!(r.text.contains("if you did not ask for this, ignore this email"));
    }
}
