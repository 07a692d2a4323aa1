//! Calling the app's router in process (`oneshot`), with the peer address the rate limit needs.

use alicia_config_manager::api;
use alicia_config_manager::core::settings::Settings;
use alicia_config_manager::core::{Core, CoreRuntime};
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use std::net::SocketAddr;
use tower::ServiceExt;

/// One answer: status, headers, and the body as JSON (`Value::Null` when empty or not JSON).
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A request to send.
pub struct Call {
    request: axum::http::request::Builder,
    body: Body,
    peer: SocketAddr,
    host: Option<String>,
}

impl Call {
    pub fn new(method: Method, uri: &str) -> Self {
        Self {
            request: Request::builder().method(method).uri(uri),
            body: Body::empty(),
            peer: SocketAddr::from(([127, 0, 0, 1], 40000)),
            host: Some("localhost:3000".to_owned()),
        }
    }

    pub fn get(uri: &str) -> Self {
        Self::new(Method::GET, uri)
    }

    pub fn json(mut self, body: &Value) -> Self {
        self.request = self.request.header("content-type", "application/json");
        self.body = Body::from(serde_json::to_vec(body).unwrap());
        self
    }

    pub fn raw(mut self, content_type: Option<&str>, body: impl Into<Body>) -> Self {
        if let Some(content_type) = content_type {
            self.request = self.request.header("content-type", content_type);
        }
        self.body = body.into();
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.request = self.request.header(name, value);
        self
    }

    /// The `Host` header sent (`None`: none at all); `localhost:3000` unless set.
    pub fn host(mut self, host: Option<&str>) -> Self {
        self.host = host.map(str::to_owned);
        self
    }

    pub fn peer(mut self, ip: [u8; 4]) -> Self {
        self.peer = SocketAddr::from((ip, 40000));
        self
    }

    pub async fn send(self, app: &Router) -> Answer {
        let mut request = self.request.body(self.body).unwrap();
        if let Some(host) = &self.host {
            request
                .headers_mut()
                .insert(axum::http::header::HOST, host.parse().unwrap());
        }
        request.extensions_mut().insert(ConnectInfo(self.peer));
        let response = app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
            text,
        }
    }
}

/// The app's router over a real core on a real (embedded) broker, without a rate limit.
pub struct App {
    pub app: Router,
    pub core: Core,
    pub broker: super::TestBroker,
    pub _runtime: CoreRuntime,
    pub dir: tempfile::TempDir,
}

/// The router over a fresh core (its settings changed by `tweak` first).
pub async fn app(tweak: impl FnOnce(&mut Settings)) -> App {
    let broker = super::TestBroker::embedded();
    let dir = tempfile::tempdir().unwrap();
    let (core, runtime) = super::start_core(dir.path(), broker.port, |s| {
        s.api.rate_limit_max = 0;
        tweak(s);
    })
    .await;
    let app = api::router(core.clone(), &core.settings.api);
    App {
        app,
        core,
        broker,
        _runtime: runtime,
        dir,
    }
}

/// A core whose broker is not there (for the 503 answers and `degraded`).
pub async fn app_without_broker() -> (Router, Core, CoreRuntime, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = super::settings_for(dir.path(), super::free_port());
    settings.api.rate_limit_max = 0;
    let (core, runtime) = Core::start(settings).await.unwrap();
    (
        api::router(core.clone(), &core.settings.api),
        core,
        runtime,
        dir,
    )
}
