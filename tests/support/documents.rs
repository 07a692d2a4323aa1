//! Service documents the tests store: an LLM service's, built up with what each test needs
//! (a key, a model, an address), valid as built.

use serde_json::{Map, Value, json};

/// An LLM service's document, being built: `llm("ollama").model("llama3").into()`.
#[derive(Debug, Clone)]
pub struct LlmDocument {
    service: String,
    version: String,
    api_key: Option<String>,
    model: Option<String>,
    ip: String,
    protocol: Option<String>,
    settings: Option<Value>,
}

/// A valid, enabled LLM service named `service`: version 1.0.0, one endpoint on
/// 127.0.0.1:11434, no key, no model, no settings.
pub fn llm(service: &str) -> LlmDocument {
    LlmDocument {
        service: service.to_owned(),
        version: "1.0.0".to_owned(),
        api_key: None,
        model: None,
        ip: "127.0.0.1".to_owned(),
        protocol: None,
        settings: None,
    }
}

/// The `ollama` service of the REST and MQTT tests: version 0.4.0, a key, `model`, on
/// 10.0.0.7 over http.
pub fn ollama(model: &str) -> Value {
    llm("ollama")
        .version("0.4.0")
        .api_key("sk-ollama-secret")
        .model(model)
        .ip("10.0.0.7")
        .protocol("http")
        .build()
}

impl LlmDocument {
    /// Its `version`.
    pub fn version(mut self, version: &str) -> Self {
        self.version = version.to_owned();
        self
    }

    /// Its `config.api_key`.
    pub fn api_key(mut self, key: &str) -> Self {
        self.api_key = Some(key.to_owned());
        self
    }

    /// Its `config.model`.
    pub fn model(mut self, model: &str) -> Self {
        self.model = Some(model.to_owned());
        self
    }

    /// The address of its endpoint.
    pub fn ip(mut self, ip: &str) -> Self {
        self.ip = ip.to_owned();
        self
    }

    /// The protocol of its endpoint.
    pub fn protocol(mut self, protocol: &str) -> Self {
        self.protocol = Some(protocol.to_owned());
        self
    }

    /// Its `config.settings`.
    pub fn settings(mut self, settings: Value) -> Self {
        self.settings = Some(settings);
        self
    }

    /// The document.
    pub fn build(self) -> Value {
        let mut endpoint = json!({"type": "llm", "ip": self.ip, "port": 11434});
        if let Some(protocol) = self.protocol {
            endpoint["protocol"] = json!(protocol);
        }
        let mut config = Map::new();
        if let Some(key) = self.api_key {
            config.insert("api_key".into(), json!(key));
        }
        if let Some(model) = self.model {
            config.insert("model".into(), json!(model));
        }
        config.insert("endpoints".into(), json!([endpoint]));
        if let Some(settings) = self.settings {
            config.insert("settings".into(), settings);
        }
        json!({
            "service_name": self.service,
            "service_type": "llm",
            "enabled": true,
            "version": self.version,
            "config": config,
        })
    }
}

impl From<LlmDocument> for Value {
    fn from(document: LlmDocument) -> Self {
        document.build()
    }
}
