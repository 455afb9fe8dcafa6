//! The mailer against a real SMTP conversation, with an in-process SMTP sink that other tests reuse.

use ferrobase::mail::{Mailer, password_reset_email, verification_email};
use smtp_sink::{Behavior, SmtpSink};
use std::time::{Duration, Instant};

/// A tiny SMTP server on 127.0.0.1 that records what it receives.
#[allow(dead_code)]
pub mod smtp_sink {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD as B64;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use tokio::net::{TcpListener, TcpStream};

    /// How the sink answers.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Behavior {
        /// Accepts every message.
        Accept,
        /// Refuses every recipient with 550.
        RejectRecipients,
        /// Accepts connections and never says anything (for timeouts).
        Silent,
    }

    /// One message as received: envelope, the AUTH credentials of its connection, raw DATA.
    #[derive(Debug, Clone, Default)]
    pub struct ReceivedMessage {
        pub helo: String,
        /// `(user, password)` when the client authenticated (PLAIN or LOGIN).
        pub auth: Option<(String, String)>,
        pub auth_mechanism: Option<String>,
        pub mail_from: String,
        pub rcpt_to: Vec<String>,
        /// The DATA section, dot-unstuffed, CRLF line ends, without the final `.`.
        pub data: String,
    }

    impl ReceivedMessage {
        fn split(&self) -> (&str, &str) {
            self.data.split_once("\r\n\r\n").unwrap_or((&self.data, ""))
        }

        /// The value of a header (case-insensitive name, folded lines joined), as sent.
        pub fn header(&self, name: &str) -> Option<String> {
            let unfolded = self.split().0.replace("\r\n ", " ").replace("\r\n\t", " ");
            unfolded.split("\r\n").find_map(|line| {
                let (n, v) = line.split_once(':')?;
                n.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
            })
        }

        /// The body decoded from its Content-Transfer-Encoding (7bit, 8bit, quoted-printable, base64).
        pub fn body(&self) -> String {
            let raw = self.split().1;
            let cte = self.header("Content-Transfer-Encoding").unwrap_or_default().to_ascii_lowercase();
            match cte.as_str() {
                "base64" => {
                    let compact: String = raw.split_whitespace().collect();
                    String::from_utf8(B64.decode(compact).expect("base64 body")).expect("utf-8 body")
                }
                "quoted-printable" => decode_quoted_printable(raw),
                _ => raw.to_string(),
            }
        }
    }

    fn decode_quoted_printable(raw: &str) -> String {
        let bytes = raw.replace("=\r\n", "").into_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
            match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
                (b'=', Some(b)) => {
                    out.push(b);
                    i += 3;
                }
                (b, _) => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        String::from_utf8(out).expect("utf-8 body")
    }

    pub struct SmtpSink {
        messages: Arc<Mutex<Vec<ReceivedMessage>>>,
        task: tokio::task::JoinHandle<()>,
    }

    impl Drop for SmtpSink {
        fn drop(&mut self) {
            self.task.abort();
        }
    }

    impl SmtpSink {
        /// Starts an accepting sink; returns it and its port.
        pub async fn start() -> (SmtpSink, u16) {
            SmtpSink::start_with(Behavior::Accept).await
        }

        pub async fn start_with(behavior: Behavior) -> (SmtpSink, u16) {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind smtp sink");
            let port = listener.local_addr().unwrap().port();
            let messages = Arc::new(Mutex::new(Vec::new()));
            let store = messages.clone();
            let task = tokio::spawn(async move {
                let mut connections = tokio::task::JoinSet::new();
                while let Ok((stream, _)) = listener.accept().await {
                    let store = store.clone();
                    connections.spawn(async move {
                        if behavior == Behavior::Silent {
                            let _held = stream;
                            std::future::pending::<()>().await;
                        } else {
                            let _ = session(stream, behavior, store).await;
                        }
                    });
                }
            });
            (SmtpSink { messages, task }, port)
        }

        /// The messages received so far, in order.
        pub fn messages(&self) -> Vec<ReceivedMessage> {
            self.messages.lock().unwrap().clone()
        }

        /// Waits (up to 10 s) until at least `n` messages arrived, and returns them all.
        pub async fn wait_for(&self, n: usize) -> Vec<ReceivedMessage> {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
            loop {
                let messages = self.messages();
                if messages.len() >= n || tokio::time::Instant::now() > deadline {
                    return messages;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }

    async fn session(
        stream: TcpStream,
        behavior: Behavior,
        store: Arc<Mutex<Vec<ReceivedMessage>>>,
    ) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read);
        let mut line = Vec::new();
        macro_rules! reply {
            ($s:expr) => {
                write.write_all(format!("{}\r\n", $s).as_bytes()).await?
            };
        }
        macro_rules! next_line {
            () => {{
                line.clear();
                if lines.read_until(b'\n', &mut line).await? == 0 {
                    return Ok(());
                }
                String::from_utf8_lossy(&line).trim_end_matches(['\r', '\n']).to_string()
            }};
        }
        let decode = |s: &str| String::from_utf8(B64.decode(s.trim()).unwrap_or_default()).unwrap_or_default();
        reply!("220 sink.test ESMTP ferrobase-test-sink");
        let mut current = ReceivedMessage::default();
        loop {
            let cmd = next_line!();
            let upper = cmd.to_ascii_uppercase();
            let verb = upper.split_whitespace().next().unwrap_or("").to_string();
            match verb.as_str() {
                "EHLO" => {
                    current.helo = cmd[4..].trim().to_string();
                    reply!("250-sink.test\r\n250-AUTH PLAIN LOGIN\r\n250-8BITMIME\r\n250 SIZE 10485760");
                }
                "HELO" => {
                    current.helo = cmd[4..].trim().to_string();
                    reply!("250 sink.test");
                }
                "AUTH" => {
                    let parts: Vec<&str> = cmd.split_whitespace().collect();
                    let mechanism = parts.get(1).map(|m| m.to_ascii_uppercase()).unwrap_or_default();
                    let creds = match mechanism.as_str() {
                        "PLAIN" => {
                            let initial = match parts.get(2) {
                                Some(initial) => initial.to_string(),
                                None => {
                                    reply!("334 ");
                                    next_line!()
                                }
                            };
                            let decoded = decode(&initial);
                            let mut fields = decoded.split('\0').skip(1);
                            fields.next().zip(fields.next()).map(|(u, p)| (u.to_string(), p.to_string()))
                        }
                        "LOGIN" => {
                            let user = match parts.get(2) {
                                Some(initial) => decode(initial),
                                None => {
                                    reply!("334 VXNlcm5hbWU6");
                                    decode(&next_line!())
                                }
                            };
                            reply!("334 UGFzc3dvcmQ6");
                            Some((user, decode(&next_line!())))
                        }
                        _ => None,
                    };
                    match creds {
                        Some(creds) => {
                            current.auth = Some(creds);
                            current.auth_mechanism = Some(mechanism);
                            reply!("235 2.7.0 Authentication successful");
                        }
                        None => reply!("504 5.5.4 Unrecognized authentication type"),
                    }
                }
                "MAIL" => {
                    current.mail_from = angle(&cmd);
                    current.rcpt_to.clear();
                    reply!("250 2.1.0 OK");
                }
                "RCPT" if behavior == Behavior::RejectRecipients => reply!("550 5.1.1 No such user here"),
                "RCPT" => {
                    current.rcpt_to.push(angle(&cmd));
                    reply!("250 2.1.5 OK");
                }
                "DATA" => {
                    reply!("354 End data with <CR><LF>.<CR><LF>");
                    let mut data = String::new();
                    loop {
                        let l = next_line!();
                        if l == "." {
                            break;
                        }
                        data.push_str(l.strip_prefix('.').unwrap_or(&l));
                        data.push_str("\r\n");
                    }
                    let mut message = current.clone();
                    message.data = data;
                    store.lock().unwrap().push(message);
                    current.mail_from.clear();
                    current.rcpt_to.clear();
                    reply!("250 2.0.0 OK: queued");
                }
                "RSET" => {
                    current.mail_from.clear();
                    current.rcpt_to.clear();
                    reply!("250 2.0.0 OK");
                }
                "NOOP" => reply!("250 2.0.0 OK"),
                "QUIT" => {
                    reply!("221 2.0.0 Bye");
                    return Ok(());
                }
                _ => reply!("502 5.5.2 Command not recognized"),
            }
        }
    }

    /// The address between `<` and `>` of `MAIL FROM:<a> …` / `RCPT TO:<a>`.
    fn angle(cmd: &str) -> String {
        let start = cmd.find('<').map_or(0, |i| i + 1);
        let end = cmd[start..].find('>').map_or(cmd.len(), |i| start + i);
        cmd[start..end].to_string()
    }
}

#[tokio::test]
async fn smtp_sends_a_verification_email_with_auth() {
    let (sink, port) = SmtpSink::start().await;
    let url = format!("smtp://user:secret@127.0.0.1:{port}");
    let mailer = Mailer::from_config(Some(&url), "App <app@example.com>").unwrap();
    let link = "http://localhost:8080/auth/verify?token=abcDEF123_-xyz";
    mailer.send(verification_email("alice@example.org", link)).await.unwrap();

    let messages = sink.wait_for(1).await;
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!(m.auth, Some(("user".to_string(), "secret".to_string())));
    assert_eq!(m.mail_from, "app@example.com");
    assert_eq!(m.rcpt_to, vec!["alice@example.org".to_string()]);
    assert_eq!(m.header("Subject").as_deref(), Some("Confirm your email"));
    assert_eq!(m.header("From").as_deref(), Some("App <app@example.com>"));
    assert_eq!(m.header("To").as_deref(), Some("alice@example.org"));
    let message_id = m.header("Message-ID").unwrap();
    assert!(message_id.starts_with('<') && message_id.ends_with("@example.com>"), "{message_id}");
    assert!(
        m.header("Content-Type").unwrap().starts_with("text/plain; charset=utf-8"),
        "{:?}",
        m.header("Content-Type")
    );
    assert!(m.body().contains(link), "{}", m.data);
    // `sent()` is only the log mailer's memory.
    assert!(mailer.sent().is_empty());

    // A second email reuses the pool; a long link with non-ASCII text comes back intact once decoded.
    let long = format!("https://app.example.com/auth/reset?token={}&next=%2Fhome", "x".repeat(90));
    let mut reset = password_reset_email("bob@example.org", &long);
    reset.text.push_str("Grüße — ferrobase\n");
    mailer.send(reset).await.unwrap();
    let messages = sink.wait_for(2).await;
    assert_eq!(messages.len(), 2);
    let m = &messages[1];
    assert_eq!(m.rcpt_to, vec!["bob@example.org".to_string()]);
    assert_eq!(m.header("Subject").as_deref(), Some("Reset your password"));
    let body = m.body();
    assert!(body.contains(&long) && body.contains("Grüße — ferrobase"), "{body}");
    assert!(body.contains("if you did not ask for this, ignore this email"));
}

#[tokio::test]
async fn smtp_without_credentials_skips_auth() {
    let (sink, port) = SmtpSink::start().await;
    let mailer =
        Mailer::from_config(Some(&format!("smtp://127.0.0.1:{port}")), "ferrobase <no-reply@localhost>").unwrap();
    mailer.send(verification_email("carol@example.org", "http://l/v?token=1")).await.unwrap();
    let m = &sink.wait_for(1).await[0];
    assert_eq!(m.auth, None);
    assert_eq!(m.mail_from, "no-reply@localhost");
}

#[tokio::test]
async fn smtp_failures_are_errors_not_panics() {
    let email = || verification_email("dave@example.org", "http://l/v?token=1");

    // Nothing listens on the port: refused at once.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mailer = Mailer::from_config(Some(&format!("smtp://127.0.0.1:{port}")), "a@example.com").unwrap();
    let started = Instant::now();
    let e = mailer.send(email()).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert!(e.to_string().contains(&format!("127.0.0.1:{port}")), "{e}");

    // A server that accepts and never answers: the transport's timeout ends the attempt.
    let (_silent, port) = SmtpSink::start_with(Behavior::Silent).await;
    let url = format!("smtp://127.0.0.1:{port}");
    let mailer = Mailer::from_config_with_timeout(Some(&url), "a@example.com", Duration::from_secs(1)).unwrap();
    let started = Instant::now();
    let e = mailer.send(email()).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
    assert!(e.to_string().contains("within"), "{e}");

    // The server refuses the recipient: the SMTP error comes back.
    let (sink, port) = SmtpSink::start_with(Behavior::RejectRecipients).await;
    let mailer = Mailer::from_config(Some(&format!("smtp://127.0.0.1:{port}")), "a@example.com").unwrap();
    let e = mailer.send(email()).await.unwrap_err();
    assert!(e.to_string().contains("550") || e.to_string().to_lowercase().contains("no such user"), "{e}");
    assert!(sink.messages().is_empty());
}
