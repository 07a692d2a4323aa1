//! Which MQTT broker to use: the embedded one, or a named broker's address.

use super::{DEFAULT_MQTT_PORT, DEFAULT_MQTTS_PORT};
use std::fmt;

/// An external broker's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerUrl {
    /// TLS (`mqtts://`).
    pub tls: bool,
    /// Host name or IP.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl fmt::Display for BrokerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "mqtts" } else { "mqtt" };
        if self.host.contains(':') {
            write!(f, "{scheme}://[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{scheme}://{}:{}", self.host, self.port)
        }
    }
}

impl BrokerUrl {
    /// Parses `host`, `host:port`, or a URL with scheme `mqtt`/`tcp` or `mqtts`/`ssl`/`tls`;
    /// `default_port` applies when the text names none.
    pub fn parse(text: &str, default_port: Option<u16>) -> Result<Self, String> {
        let text = text.trim();
        let (tls, rest) = match text.split_once("://") {
            Some((scheme, rest)) => match scheme.to_ascii_lowercase().as_str() {
                "mqtt" | "tcp" => (false, rest),
                "mqtts" | "ssl" | "tls" => (true, rest),
                other => {
                    return Err(format!(
                        "unsupported broker scheme {other:?} (use mqtt:// or mqtts://)"
                    ));
                }
            },
            None => (false, text),
        };
        let authority = rest.split(['/', '?']).next().unwrap_or_default();
        let (host, port) = split_host_port(authority)?;
        if host.is_empty() {
            return Err(format!("no host in broker address {text:?}"));
        }
        let fallback = if tls {
            DEFAULT_MQTTS_PORT
        } else {
            DEFAULT_MQTT_PORT
        };
        Ok(Self {
            tls,
            host,
            port: port.or(default_port).unwrap_or(fallback),
        })
    }
}

fn split_host_port(authority: &str) -> Result<(String, Option<u16>), String> {
    let bad_port = |p: &str| format!("invalid port {p:?} in broker address");
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("unclosed [ in broker address {authority:?}"))?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse().map_err(|_| bad_port(p))?),
            None => None,
        };
        return Ok((host.to_owned(), port));
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => {
            let port = port.parse().map_err(|_| bad_port(port))?;
            Ok((host.to_owned(), Some(port)))
        }
        _ => Ok((authority.to_owned(), None)),
    }
}

/// Which broker to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrokerTarget {
    /// The embedded broker, on 127.0.0.1 at this port.
    Embedded {
        /// The TCP port it listens on, on 127.0.0.1.
        port: u16,
    },
    /// A broker named in the flags, the environment or the settings file.
    External(BrokerUrl),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_urls() {
        let parse = |t: &str| BrokerUrl::parse(t, None).unwrap().to_string();
        assert_eq!(parse("mqtts://broker.lan"), "mqtts://broker.lan:8883");
        assert_eq!(parse("ssl://broker.lan:9999"), "mqtts://broker.lan:9999");
        assert_eq!(parse("tcp://10.0.0.2:1884/"), "mqtt://10.0.0.2:1884");
        assert_eq!(parse("broker:1234"), "mqtt://broker:1234");
        assert_eq!(parse("mqtt://[::1]:1885"), "mqtt://[::1]:1885");
        assert_eq!(BrokerUrl::parse("mqtt://h", Some(7)).unwrap().port, 7);
        assert_eq!(BrokerUrl::parse("mqtt://h:8", Some(7)).unwrap().port, 8);
        assert!(BrokerUrl::parse("http://h", None).is_err());
        assert!(BrokerUrl::parse("mqtt://h:notaport", None).is_err());
        assert!(BrokerUrl::parse("mqtt://", None).is_err());
    }
}
