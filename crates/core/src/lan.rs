//! This machine's addresses on its networks, for the URLs remote clients use when the REST
//! server listens beyond loopback: IPv4 first, then global IPv6; loopback and link-local
//! addresses left out (a phone on the Wi-Fi cannot use them).

pub use alicia_model::settings::api::http_url as url;
use std::net::IpAddr;

/// The addresses other devices on the network can reach this machine at.
pub fn lan_addresses() -> Vec<IpAddr> {
    let mut addresses: Vec<IpAddr> = if_addrs::get_if_addrs()
        .map(|interfaces| interfaces.into_iter().map(|i| i.ip()).collect())
        .unwrap_or_default();
    addresses.retain(|ip| reachable(*ip));
    addresses.sort_by_key(|ip| (ip.is_ipv6(), *ip));
    addresses.dedup();
    addresses
}

fn reachable(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => !v4.is_loopback() && !v4.is_link_local() && !v4.is_unspecified(),
        IpAddr::V6(v6) => {
            // fe80::/10 is link-local.
            !v6.is_loopback() && !v6.is_unspecified() && (v6.segments()[0] & 0xffc0) != 0xfe80
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_and_link_local_are_not_for_others() {
        assert!(!reachable("127.0.0.1".parse().unwrap()));
        assert!(!reachable("169.254.1.2".parse().unwrap()));
        assert!(!reachable("fe80::1".parse().unwrap()));
        assert!(!reachable("::1".parse().unwrap()));
        assert!(reachable("192.168.1.20".parse().unwrap()));
        assert!(reachable("2001:db8::5".parse().unwrap()));
        assert_eq!(
            url("192.168.1.20".parse().unwrap(), 3000, "/api"),
            "http://192.168.1.20:3000/api"
        );
        assert_eq!(
            url("2001:db8::5".parse().unwrap(), 3000, "/api"),
            "http://[2001:db8::5]:3000/api"
        );
        assert!(lan_addresses().iter().all(|ip| reachable(*ip)));
    }
}
