//! Which MQTT broker to use: the embedded one, or a named broker's address — which may carry
//! a login (`mqtt://user:password@host:port`, as every MQTT tool accepts: CONTRACT §6). The
//! login is taken out of the address at once and never shown: not in the address's text, not
//! in an error.

use crate::secret::Secret;
use std::fmt;

/// The MQTT port when none is given.
pub const DEFAULT_MQTT_PORT: u16 = 1883;
/// The MQTT-over-TLS port when none is given.
pub const DEFAULT_MQTTS_PORT: u16 = 8883;

/// The user name and password written in a broker address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    /// The user name.
    pub username: String,
    /// The password, when one is written.
    pub password: Option<Secret>,
}

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
    /// `default_port` applies when the text names none. A login in the text is dropped: see
    /// [`BrokerUrl::parse_with_login`].
    pub fn parse(text: &str, default_port: Option<u16>) -> Result<Self, String> {
        Self::parse_with_login(text, default_port).map(|(url, _)| url)
    }

    /// [`BrokerUrl::parse`], and the login written before the host (`user:password@`,
    /// percent-encoded as in any URL), if any. Errors never repeat the login.
    pub fn parse_with_login(
        text: &str,
        default_port: Option<u16>,
    ) -> Result<(Self, Option<Login>), String> {
        let text = text.trim();
        let (scheme, rest) = match text.split_once("://") {
            Some((scheme, rest)) => (Some(scheme), rest),
            None => (None, text),
        };
        let authority = rest.split(['/', '?']).next().unwrap_or_default();
        let (login, host_port) = match authority.rsplit_once('@') {
            Some((userinfo, host_port)) => (Some(login_of(userinfo)), host_port),
            None => (None, authority),
        };
        let shown = match scheme {
            Some(scheme) => format!("{scheme}://{host_port}"),
            None => host_port.to_owned(),
        };
        let url = Self::parse_address(scheme, host_port, &shown, default_port)?;
        Ok((url, login))
    }

    fn parse_address(
        scheme: Option<&str>,
        authority: &str,
        shown: &str,
        default_port: Option<u16>,
    ) -> Result<Self, String> {
        let tls = match scheme {
            Some(scheme) => match scheme.to_ascii_lowercase().as_str() {
                "mqtt" | "tcp" => false,
                "mqtts" | "ssl" | "tls" => true,
                other => {
                    return Err(format!(
                        "unsupported broker scheme {other:?} (use mqtt:// or mqtts://)"
                    ));
                }
            },
            None => false,
        };
        let (host, port) = split_host_port(authority)?;
        if host.is_empty() {
            return Err(format!("no host in broker address {shown:?}"));
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

/// `user:password` (percent-encoded) as a login.
fn login_of(userinfo: &str) -> Login {
    let (username, password) = match userinfo.split_once(':') {
        Some((user, password)) => (user, Some(password)),
        None => (userinfo, None),
    };
    Login {
        username: percent_decode(username),
        password: password.map(|p| Secret::new(percent_decode(p))),
    }
}

/// Decodes `%XX` escapes (anything malformed is kept as written).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
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

    #[test]
    fn a_login_in_the_address_is_taken_out_and_never_shown() {
        let (url, login) =
            BrokerUrl::parse_with_login("mqtt://alicia:s3cr%40t@broker.lan:1884", None).unwrap();
        assert_eq!(url.to_string(), "mqtt://broker.lan:1884");
        let login = login.unwrap();
        assert_eq!(login.username, "alicia");
        assert_eq!(login.password.unwrap().expose(), "s3cr@t");
        let (_, login) = BrokerUrl::parse_with_login("user@host", None).unwrap();
        assert_eq!(login.unwrap().password, None);
        for bad in ["mqtt://u:hunter2@", "mqtt://u:hunter2@host:notaport"] {
            let error = BrokerUrl::parse(bad, None).unwrap_err();
            assert!(!error.contains("hunter2"), "{error}");
        }
    }
}

/// A broker to try, as an admin typed it: its address, login and CA file.
#[derive(Debug, Clone)]
pub struct ProbeTarget {
    /// The broker's address.
    pub url: BrokerUrl,
    /// The user name to log in with (none: anonymous).
    pub username: Option<String>,
    /// The login's password.
    pub password: Option<Secret>,
    /// CA file for `mqtts://`.
    pub ca_file: Option<std::path::PathBuf>,
}
