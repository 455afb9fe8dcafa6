//! A real WebSocket client for GraphQL subscriptions (both protocols), for the tests.

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// `graphql-transport-ws` (graphql-ws library)
    TransportWs,
    /// `graphql-ws` (subscriptions-transport-ws)
    Legacy,
}

pub const PROTOCOLS: [Protocol; 2] = [Protocol::TransportWs, Protocol::Legacy];

pub struct Ws {
    pub protocol: Protocol,
    stream: WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>,
}

/// How long a test waits for a message it expects.
const WAIT: Duration = Duration::from_secs(15);

impl Ws {
    /// Connects to `http_url`'s `/graphql` with `protocol` (no `connection_init` yet).
    pub async fn open(http_url: &str, protocol: Protocol) -> Ws {
        let url = format!("{}/graphql", http_url.replace("http://", "ws://"));
        let mut request = url.into_client_request().unwrap();
        let name = match protocol {
            Protocol::TransportWs => "graphql-transport-ws",
            Protocol::Legacy => "graphql-ws",
        };
        request.headers_mut().insert("sec-websocket-protocol", name.parse().unwrap());
        let (stream, response) = tokio_tungstenite::connect_async(request).await.expect("websocket connects");
        assert_eq!(response.headers()["sec-websocket-protocol"], name);
        Ws { protocol, stream }
    }

    /// Connects and initialises with `token` (an access token or the service key, or none);
    /// waits for `connection_ack`.
    pub async fn connect(http_url: &str, protocol: Protocol, token: Option<&str>) -> Ws {
        let mut ws = Ws::open(http_url, protocol).await;
        ws.init(token).await;
        let ack = ws.recv().await;
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        ws
    }

    pub async fn init(&mut self, token: Option<&str>) {
        let payload = match token {
            Some(t) => json!({ "Authorization": format!("Bearer {t}") }),
            None => json!({}),
        };
        self.send(json!({ "type": "connection_init", "payload": payload })).await;
    }

    pub async fn send(&mut self, v: Value) {
        self.stream.send(Message::Text(v.to_string().into())).await.expect("send");
    }

    /// Starts operation `id`.
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        let ty = match self.protocol {
            Protocol::TransportWs => "subscribe",
            Protocol::Legacy => "start",
        };
        self.send(json!({ "id": id, "type": ty, "payload": { "query": query, "variables": variables } })).await;
    }

    /// Stops operation `id`.
    pub async fn complete(&mut self, id: &str) {
        let ty = match self.protocol {
            Protocol::TransportWs => "complete",
            Protocol::Legacy => "stop",
        };
        self.send(json!({ "id": id, "type": ty })).await;
    }

    /// The next message other than keep-alives (panics after 15 s or on close).
    pub async fn recv(&mut self) -> Value {
        // One deadline for the call: keep-alive pings do not extend it.
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.stream.next()).await.expect("a message within 15 s");
            match msg {
                Some(Ok(Message::Text(t))) => {
                    let v: Value = serde_json::from_str(&t).expect("JSON message");
                    match v["type"].as_str() {
                        Some("ka") | Some("pong") => continue,
                        Some("ping") => {
                            self.send(json!({"type": "pong"})).await;
                            continue;
                        }
                        _ => return v,
                    }
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!("expected a message, got {other:?}"),
            }
        }
    }

    /// The payload of the next result for operation `id` (`next` / `data`).
    pub async fn next_data(&mut self, id: &str) -> Value {
        let m = self.recv().await;
        let ty = match self.protocol {
            Protocol::TransportWs => "next",
            Protocol::Legacy => "data",
        };
        assert_eq!((m["type"].as_str(), m["id"].as_str()), (Some(ty), Some(id)), "{m}");
        m["payload"].clone()
    }

    /// Waits for the server to close the socket; its close code and reason.
    pub async fn closed(&mut self) -> (u16, String) {
        loop {
            let msg = tokio::time::timeout(WAIT, self.stream.next()).await.expect("closed within 15 s");
            match msg {
                Some(Ok(Message::Close(Some(frame)))) => return (frame.code.into(), frame.reason.to_string()),
                Some(Ok(Message::Close(None))) | None => return (1005, String::new()),
                Some(Err(e)) => panic!("socket error before close: {e}"),
                Some(Ok(_)) => continue,
            }
        }
    }
}
