//! GraphQL over WebSocket at `/graphql`: the `graphql-transport-ws` protocol (the graphql-ws
//! library, as Apollo Client and urql use it) and the legacy `graphql-ws` protocol
//! (subscriptions-transport-ws). Subscriptions are served by `realtime`; queries and mutations
//! sent over the socket run through the same executor as HTTP.
//!
//! The client authenticates in `connection_init`'s payload (`{"Authorization": "Bearer …"}`,
//! an access token or the service key); a bad token closes the socket with 4403, and a socket
//! authenticated with an access token is closed with 4403 when the token expires (the client
//! reconnects with a fresh one). Close codes: 4400 invalid message, 4401 subscribe before
//! `connection_ack`, 4403 forbidden / token expired, 4408 no `connection_init` in time, 4409
//! duplicate operation id, 4429 a second `connection_init`, 4008 a client too slow to read its
//! deliveries (see `realtime`), 1001 server shutting down.

use super::HttpState;
use crate::auth::Caller;
use crate::realtime::{Outgoing, Sink, Subscription};
use async_graphql::parser::types::OperationType;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Value as Json, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::mpsc;

/// Time a client has to send `connection_init`.
const INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// Interval of the server's keep-alive messages.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Longest one write may take before the client counts as stalled.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Protocol {
    /// `graphql-transport-ws`
    TransportWs,
    /// `graphql-ws` (subscriptions-transport-ws)
    Legacy,
}

impl Protocol {
    /// The message carrying result `payload` (a GraphQL response as JSON text) of operation `id`:
    /// `next` (graphql-transport-ws) or `data` (graphql-ws).
    fn result(self, id: &str, payload: &str) -> String {
        let ty = match self {
            Protocol::TransportWs => "next",
            Protocol::Legacy => "data",
        };
        let mut m = String::with_capacity(payload.len() + id.len() + 32);
        m.push_str("{\"id\":");
        if id.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
            m.push('"');
            m.push_str(id);
            m.push('"');
        } else {
            m.push_str(&Json::String(id.to_string()).to_string());
        }
        m.push_str(",\"type\":\"");
        m.push_str(ty);
        m.push_str("\",\"payload\":");
        m.push_str(payload);
        m.push('}');
        m
    }
}

/// Whether a request asks to upgrade to a WebSocket.
pub fn is_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(axum::http::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// Accepts the upgrade with small buffers (an idle socket holds little memory) and serves it.
pub fn upgrade(s: HttpState, ws: WebSocketUpgrade, headers: &HeaderMap) -> Response {
    let header_auth = headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_string);
    let ws = ws
        .protocols(["graphql-transport-ws", "graphql-ws"])
        .read_buffer_size(1024)
        .write_buffer_size(0)
        .max_write_buffer_size(256 * 1024)
        .max_message_size(s.app.state.config.max_body_bytes)
        .max_frame_size(s.app.state.config.max_body_bytes);
    let protocol = match ws.selected_protocol().and_then(|p| p.to_str().ok()) {
        Some("graphql-ws") => Protocol::Legacy,
        _ => Protocol::TransportWs,
    };
    ws.on_upgrade(move |socket| async move {
        let rt = s.app.realtime.clone();
        rt.stats.sockets.fetch_add(1, Ordering::Relaxed);
        let (conn, rx) = Connection::new(s, protocol, header_auth);
        serve(conn, rx, socket).await;
        rt.stats.sockets.fetch_sub(1, Ordering::Relaxed);
    })
}

/// Why the server closes a socket.
struct Close(u16, String);

struct Connection {
    s: HttpState,
    protocol: Protocol,
    header_auth: Option<String>,
    caller: Option<Caller>,
    subscriptions: HashMap<String, Subscription>,
    tx: mpsc::UnboundedSender<Outgoing>,
    backlog: Arc<crate::realtime::Backlog>,
}

impl Connection {
    fn new(
        s: HttpState,
        protocol: Protocol,
        header_auth: Option<String>,
    ) -> (Connection, mpsc::UnboundedReceiver<Outgoing>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (
            Connection {
                s,
                protocol,
                header_auth,
                caller: None,
                subscriptions: HashMap::new(),
                tx,
                backlog: Default::default(),
            },
            rx,
        )
    }
}

/// Serves one socket until either side closes it.
async fn serve(mut conn: Connection, mut rx: mpsc::UnboundedReceiver<Outgoing>, mut socket: WebSocket) {
    let mut shutdown = conn.s.shutdown.clone();
    let init_deadline = tokio::time::sleep(INIT_TIMEOUT);
    tokio::pin!(init_deadline);
    let mut keep_alive = tokio::time::interval(KEEP_ALIVE);
    keep_alive.tick().await;
    // Set once the caller is known to hold an expiring token.
    let mut expiry: Option<std::pin::Pin<Box<tokio::time::Sleep>>> = None;
    // Futures that live as long as the socket (not made again on every wake-up).
    let backlog = conn.backlog.clone();
    let too_slow = backlog.notify.notified();
    tokio::pin!(too_slow);
    let stopping = crate::workers::stopped(&mut shutdown);
    tokio::pin!(stopping);
    let close = loop {
        tokio::select! {
            // In this order: a socket woken for a delivery (the common case under load) sends it
            // without first polling its reads and timers.
            biased;
            _ = &mut too_slow => break Some(slow_close()),
            Some(out) = rx.recv() => {
                conn.backlog.dequeued(&out);
                let Outgoing::Next { op_id, payload } = out;
                if !conn.subscriptions.contains_key(&*op_id) {
                    continue; // completed meanwhile
                }
                let msg = conn.protocol.result(&op_id, &payload);
                // A client that stops reading blocks this write; its queue then fills.
                tokio::select! {
                    sent = socket.send(Message::Text(msg.into())) => if sent.is_err() { break None },
                    _ = &mut too_slow => break Some(slow_close()),
                }
            }
            incoming = socket.recv() => {
                let text = match incoming {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Binary(_))) => break Some(Close(4400, "binary messages are not supported".into())),
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break None,
                    Some(Ok(_)) => continue, // ping/pong frames
                };
                match conn.handle(&text, &mut socket).await {
                    Ok(Some(expires_at)) => {
                        let now = chrono::Utc::now().timestamp();
                        let left = Duration::from_secs(expires_at.saturating_sub(now).max(0) as u64);
                        expiry = Some(Box::pin(tokio::time::sleep(left)));
                    }
                    Ok(None) => {}
                    Err(c) => break Some(c),
                }
            }
            _ = &mut init_deadline, if conn.caller.is_none() => {
                break Some(Close(4408, "Connection initialisation timeout".into()));
            }
            _ = async { expiry.as_mut().expect("guarded").await }, if expiry.is_some() => {
                break Some(Close(4403, "Forbidden: the access token expired; reconnect with a fresh one".into()));
            }
            _ = keep_alive.tick(), if conn.caller.is_some() => {
                let ka = match conn.protocol { Protocol::TransportWs => r#"{"type":"ping"}"#, Protocol::Legacy => r#"{"type":"ka"}"# };
                if !send(&mut socket, ka.to_string()).await {
                    break None;
                }
            }
            _ = &mut stopping => {
                // Deliveries already queued go out first.
                while let Ok(out) = rx.try_recv() {
                    conn.backlog.dequeued(&out);
                    let Outgoing::Next { op_id, payload } = out;
                    if !send(&mut socket, conn.protocol.result(&op_id, &payload)).await {
                        break;
                    }
                }
                break Some(Close(1001, "the server is shutting down".into()));
            }
        }
    };
    conn.subscriptions.clear();
    if let Some(Close(code, reason)) = close {
        let frame = CloseFrame { code, reason: Utf8Bytes::from(reason) };
        let _ = tokio::time::timeout(WRITE_TIMEOUT, socket.send(Message::Close(Some(frame)))).await;
    }
}

fn slow_close() -> Close {
    Close(crate::realtime::SLOW_CLOSE_CODE, "too slow: deliveries were not read in time".into())
}

/// Sends a text message; `false` when the socket is gone or stalled.
async fn send(socket: &mut WebSocket, text: String) -> bool {
    matches!(tokio::time::timeout(WRITE_TIMEOUT, socket.send(Message::Text(text.into()))).await, Ok(Ok(())))
}

impl Connection {
    /// Handles one client message; `Ok(Some(t))` when the connection was just authenticated with
    /// a token expiring at `t`.
    async fn handle(&mut self, text: &str, socket: &mut WebSocket) -> Result<Option<i64>, Close> {
        let invalid = |what: &str| Close(4400, format!("Invalid message: {what}"));
        let msg: Json = serde_json::from_str(text).map_err(|_| invalid("not JSON"))?;
        let ty = msg.get("type").and_then(Json::as_str).ok_or_else(|| invalid("no type"))?;
        let id = msg.get("id").and_then(Json::as_str).map(str::to_string);
        match (ty, self.protocol) {
            ("connection_init", _) => {
                if self.caller.is_some() {
                    return Err(Close(4429, "Too many initialisation requests".into()));
                }
                let payload = msg.get("payload").cloned().unwrap_or(Json::Null);
                let auth = authorization(&payload).or_else(|| self.header_auth.clone());
                let st = &self.s.app.state;
                let caller = match Caller::from_authorization(auth.as_deref(), &st.service_key, &st.jwt) {
                    Ok(c) => c,
                    Err(e) => {
                        if self.protocol == Protocol::Legacy {
                            let m = json!({"type": "connection_error", "payload": {"message": e.message}});
                            send(socket, m.to_string()).await;
                        }
                        return Err(Close(4403, format!("Forbidden: {}", e.message)));
                    }
                };
                let expires = caller.user().and_then(|u| u.expires_at);
                self.caller = Some(caller);
                send(socket, r#"{"type":"connection_ack"}"#.to_string()).await;
                if self.protocol == Protocol::Legacy {
                    send(socket, r#"{"type":"ka"}"#.to_string()).await;
                }
                Ok(expires)
            }
            ("ping", Protocol::TransportWs) => {
                let mut pong = json!({"type": "pong"});
                if let Some(p) = msg.get("payload") {
                    pong["payload"] = p.clone();
                }
                send(socket, pong.to_string()).await;
                Ok(None)
            }
            ("pong", Protocol::TransportWs) => Ok(None),
            ("subscribe", Protocol::TransportWs) | ("start", Protocol::Legacy) => {
                let Some(caller) = self.caller.clone() else {
                    return Err(Close(4401, "Unauthorized".into()));
                };
                let id = id.ok_or_else(|| invalid("no id"))?;
                if self.subscriptions.contains_key(&id) {
                    return Err(Close(4409, format!("Subscriber for {id} already exists")));
                }
                let payload = msg.get("payload").cloned().unwrap_or(Json::Null);
                self.operation(id, payload, caller, socket).await;
                Ok(None)
            }
            ("complete", Protocol::TransportWs) | ("stop", Protocol::Legacy) => {
                let id = id.ok_or_else(|| invalid("no id"))?;
                if self.subscriptions.remove(&id).is_some() && self.protocol == Protocol::Legacy {
                    send(socket, json!({"id": id, "type": "complete"}).to_string()).await;
                }
                Ok(None)
            }
            ("connection_terminate", Protocol::Legacy) => Err(Close(1000, "terminated".into())),
            (other, _) => Err(invalid(&format!("unknown type {other:?}"))),
        }
    }

    /// Starts operation `id`: a subscription is registered; a query or mutation runs once.
    async fn operation(&mut self, id: String, payload: Json, caller: Caller, socket: &mut WebSocket) {
        let app = &self.s.app;
        let request = match crate::graphql::params::request(payload) {
            Ok(r) => r,
            Err(e) => {
                self.send_errors(&id, &[e.into_server_error(async_graphql::Pos::default())], socket).await;
                return;
            }
        };
        if app.executor.operation_type(&request) != Some(OperationType::Subscription) {
            let response = app.executor.execute(request, caller, None).await;
            let payload = serde_json::to_string(&response).expect("responses serialize");
            send(socket, self.protocol.result(&id, &payload)).await;
            send(socket, json!({"id": id, "type": "complete"}).to_string()).await;
            return;
        }
        let max = app.state.config.max_subscriptions_per_socket;
        if self.subscriptions.len() >= max {
            let e = crate::error::ApiError::bad_input(format!(
                "this connection already has {max} subscriptions (max_subscriptions_per_socket)"
            ));
            self.send_errors(&id, &[e.into_server_error(async_graphql::Pos::default())], socket).await;
            return;
        }
        match app.executor.subscribe(&request, &caller).await {
            Ok(subscribed) => {
                let sink = Sink { op_id: Arc::from(id.as_str()), tx: self.tx.clone(), backlog: self.backlog.clone() };
                let sub = app.realtime.add(subscribed, sink);
                self.subscriptions.insert(id, sub);
            }
            Err(errors) => self.send_errors(&id, &errors, socket).await,
        }
    }

    async fn send_errors(&self, id: &str, errors: &[async_graphql::ServerError], socket: &mut WebSocket) {
        let payload = serde_json::to_value(errors).expect("errors serialize");
        send(socket, json!({"id": id, "type": "error", "payload": payload}).to_string()).await;
    }
}

/// The `Authorization` value of a `connection_init` payload: `{"Authorization": "Bearer …"}`
/// (any case), or the same under `headers`, or `{"token": "…"}`.
fn authorization(payload: &Json) -> Option<String> {
    let o = payload.as_object()?;
    let find = |o: &serde_json::Map<String, Json>| {
        o.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
            .and_then(|(_, v)| v.as_str())
            .map(str::to_string)
    };
    find(o)
        .or_else(|| o.get("headers").and_then(Json::as_object).and_then(find))
        .or_else(|| o.get("token").and_then(Json::as_str).map(|t| format!("Bearer {t}")))
}

#[cfg(test)]
mod tests {
    use super::Protocol;

    #[test]
    fn result_messages_are_json_with_the_operation_id_escaped() {
        for id in ["1", "sub-é", "a\"b\\c", "tab\there"] {
            for (p, ty) in [(Protocol::TransportWs, "next"), (Protocol::Legacy, "data")] {
                let m: serde_json::Value = serde_json::from_str(&p.result(id, r#"{"data":{"x":1}}"#)).unwrap();
                assert_eq!(m, serde_json::json!({"id": id, "type": ty, "payload": {"data": {"x": 1}}}));
            }
        }
    }
}
