//! The SMTP side of the mailer: a lettre transport (pooled, rustls on ring) built lazily on first send.

use super::Email;
use super::url::{Security, SmtpSettings};
use anyhow::{Context, anyhow};
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::{AsyncSmtpTransport, AsyncSmtpTransportBuilder};
use lettre::{AsyncTransport, Message, Tokio1Executor};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Transport = AsyncSmtpTransport<Tokio1Executor>;

/// Sends through one SMTP server. Cheap to clone (clones share the connection pool).
#[derive(Clone)]
pub struct SmtpMailer {
    inner: Arc<Inner>,
}

struct Inner {
    settings: SmtpSettings,
    from: Mailbox,
    timeout: Duration,
    builder: AsyncSmtpTransportBuilder,
    /// Built on first use: lettre's pool spawns a tokio task when built, so building needs a runtime.
    transport: Mutex<Option<Transport>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Dropping lettre's pool spawns a cleanup task, which panics outside a tokio runtime.
        // There the connections die with the process anyway, so just forget the pool.
        let slot = self.transport.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Some(transport) = slot.take()
            && tokio::runtime::Handle::try_current().is_err()
        {
            std::mem::forget(transport);
        }
    }
}

impl fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("settings", &self.inner.settings)
            .field("from", &self.inner.from.to_string())
            .field("timeout", &self.inner.timeout)
            .finish()
    }
}

impl SmtpMailer {
    pub fn new(settings: SmtpSettings, from: Mailbox, timeout: Duration) -> anyhow::Result<SmtpMailer> {
        let tls_parameters = || {
            TlsParameters::new(settings.host.clone())
                .with_context(|| format!("cannot set up TLS for SMTP host `{}`", settings.host))
        };
        let tls = match settings.security {
            Security::Plain => Tls::None,
            Security::StartTls => Tls::Required(tls_parameters()?),
            Security::Tls => Tls::Wrapper(tls_parameters()?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(settings.host.clone())
            .port(settings.port)
            .tls(tls)
            .timeout(Some(timeout));
        if let Some((user, pass)) = &settings.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), pass.clone()));
        }
        let inner = Inner { settings, from, timeout, builder, transport: Mutex::new(None) };
        Ok(SmtpMailer { inner: Arc::new(inner) })
    }

    pub fn settings(&self) -> &SmtpSettings {
        &self.inner.settings
    }

    pub fn from(&self) -> &Mailbox {
        &self.inner.from
    }

    fn transport(&self) -> Transport {
        let mut slot = self.inner.transport.lock().unwrap_or_else(|e| e.into_inner());
        slot.get_or_insert_with(|| self.inner.builder.clone().build()).clone()
    }

    /// Drops the pool, e.g. after a timeout left a connection in an unknown state.
    fn reset(&self) {
        let old = self.inner.transport.lock().unwrap_or_else(|e| e.into_inner()).take();
        drop(old);
    }

    pub async fn send(&self, email: &Email) -> anyhow::Result<()> {
        let to: Mailbox = email.to.parse().map_err(|e| anyhow!("invalid recipient address `{}`: {e}", email.to))?;
        let from = &self.inner.from;
        let message_id = format!("<{}@{}>", uuid::Uuid::now_v7().simple(), from.email.domain());
        let message = Message::builder()
            .from(from.clone())
            .message_id(Some(message_id))
            .to(to)
            .subject(email.subject.as_str())
            .header(ContentType::TEXT_PLAIN)
            .body(email.text.clone())
            .context("cannot build the email")?;
        let SmtpSettings { host, port, .. } = &self.inner.settings;
        let timeout = self.inner.timeout;
        let transport = self.transport();
        match tokio::time::timeout(timeout, transport.send(message)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(anyhow!("sending email through SMTP server {host}:{port} failed: {}", error_chain(&e))),
            Err(_) => {
                self.reset();
                Err(anyhow!("SMTP server {host}:{port} did not complete the exchange within {timeout:?}"))
            }
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}
