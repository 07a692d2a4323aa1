//! Randomness from the operating system's generator (getrandom), for everything that must not
//! be guessed: API tokens, PIN salts, instance ids, command request ids.
//!
//! fastrand's generator is fast but predictable: its free functions are banned by `clippy.toml`;
//! a seeded `fastrand::Rng` remains right where a reproducible, non-secret sequence is wanted
//! (the simulated fleet, reconnect jitter).

pub use alicia_model::ids::is_request_id;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

/// `N` bytes from the OS generator; an error when it cannot give any (never a weaker source).
pub fn secret_bytes<const N: usize>() -> std::io::Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|error| {
        std::io::Error::other(format!("the OS random generator failed: {error}"))
    })?;
    Ok(bytes)
}

/// A secret of `N` random bytes as lower-case hex (`2 × N` digits), e.g. an API token.
pub fn secret_hex<const N: usize>() -> std::io::Result<String> {
    Ok(hex(&secret_bytes::<N>()?))
}

/// A unique id of 16 hex digits: random from the OS generator; should it ever fail, the clock
/// and a process-wide counter (still unique, no longer unguessable — ids are not secrets).
pub fn unique_id() -> String {
    match secret_bytes::<8>() {
        Ok(bytes) => hex(&bytes),
        Err(error) => {
            static COUNTER: AtomicU64 = AtomicU64::new(0);
            tracing::warn!(%error, "ids fall back to the clock and a counter");
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            format!(
                "{:016x}",
                nanos ^ COUNTER.fetch_add(1, Ordering::Relaxed).rotate_left(48)
            )
        }
    }
}

/// A request id for the bus (`/set`, change sets: CONTRACT §10): 32 lowercase hex digits,
/// 128 bits from the OS generator (the clock and a counter should it ever fail).
pub fn request_id() -> String {
    secret_hex::<16>().unwrap_or_else(|_| format!("{}{}", unique_id(), unique_id()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut text, byte| {
        let _ = write!(text, "{byte:02x}"); // writing to a String cannot fail
        text
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_hex_of_the_asked_length_and_differ() {
        let a = secret_hex::<24>().unwrap();
        let b = secret_hex::<24>().unwrap();
        assert_eq!(a.len(), 48);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(a, b);
        assert_eq!(unique_id().len(), 16);
        assert_ne!(unique_id(), unique_id());
        let id = request_id();
        assert!(is_request_id(&id), "{id}");
        assert!(!is_request_id(&id.to_uppercase()));
        assert!(!is_request_id(&id[1..]));
        assert!(!is_request_id("r1"));
    }
}
