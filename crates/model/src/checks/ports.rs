//! No two enabled services listen on the same host and port (`localhost`, `127.0.0.1` and
//! `::1` are one host; UDP and TCP ports are apart).

use super::{Check, CheckKind, Severity, enabled};
use serde_json::Value;
use std::collections::BTreeMap;

/// How many of the other services a port-clash finding names, at most.
const RELATED_NAMED: usize = 8;

/// A listening address: host (loopback names folded together), port, and UDP or not.
type Address = (String, u16, bool);

pub(super) fn port_clashes(documents: &BTreeMap<&str, &Value>, checks: &mut Vec<Check>) {
    let mut listeners: BTreeMap<Address, Vec<(&str, usize)>> = BTreeMap::new();
    for (name, document) in documents {
        if !enabled(document) {
            continue;
        }
        let endpoints = document
            .pointer("/config/endpoints")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for (index, endpoint) in endpoints.iter().enumerate() {
            if let Some(address) = address_of(endpoint) {
                let users = listeners.entry(address).or_default();
                if !users.iter().any(|(user, _)| user == name) {
                    users.push((name, index));
                }
            }
        }
    }
    for ((host, port, udp), users) in listeners {
        if users.len() < 2 {
            continue;
        }
        let transport = if udp { "udp" } else { "tcp" };
        for (position, (name, index)) in users.iter().enumerate() {
            // Each finding names a few of the others, so that a clash among thousands of
            // (announced) services stays linear in size.
            let others: Vec<String> = users
                .iter()
                .enumerate()
                .filter(|(other, _)| *other != position)
                .take(RELATED_NAMED)
                .map(|(_, (other, _))| (*other).to_owned())
                .collect();
            let unnamed = users.len() - 1 - others.len();
            let mut named = others.join(", ");
            if unnamed > 0 {
                named.push_str(&format!(" and {unnamed} more services"));
            }
            checks.push(Check {
                id: format!("port_clash:{name}:{index}"),
                kind: CheckKind::PortClash,
                severity: Severity::Error,
                service: (*name).to_owned(),
                path: format!("/config/endpoints/{index}/port"),
                message: format!(
                    "{name} and {named} {} use {host}:{port}/{transport}",
                    if users.len() == 2 { "both" } else { "all" }
                ),
                related: others,
            });
        }
    }
}

pub(super) fn address_of(endpoint: &Value) -> Option<Address> {
    let ip = endpoint.get("ip").and_then(Value::as_str)?;
    let (host, url_port) = split_host(ip);
    let port = endpoint
        .get("port")
        .and_then(Value::as_u64)
        .and_then(|p| u16::try_from(p).ok())
        .or(url_port)?;
    let udp = endpoint.get("protocol").and_then(Value::as_str) == Some("udp");
    Some((host, port, udp))
}

/// The host of an `ip` field (a host, an IP address or a URL), loopback names folded into
/// one, and the port a URL names.
pub(super) fn split_host(ip: &str) -> (String, Option<u16>) {
    let rest = ip.split_once("://").map_or(ip, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']').unwrap_or((bracketed, ""));
        (host, after.strip_prefix(':').and_then(|p| p.parse().ok()))
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) if !host.contains(':') => (host, port.parse().ok()),
            _ => (authority, None),
        }
    };
    let host = host.to_ascii_lowercase();
    let host = match host.as_str() {
        "localhost" | "127.0.0.1" | "::1" | "0:0:0:0:0:0:0:1" => "localhost".to_owned(),
        _ => host,
    };
    (host, port)
}
