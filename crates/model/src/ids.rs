//! Request ids on the bus (CONTRACT §10): 32 lowercase hex digits, 128 random bits. Making
//! one needs the OS's generator (the core's `random`); telling one is pure.

/// True for the shape of a request id: exactly 32 lowercase hex digits.
pub fn is_request_id(text: &str) -> bool {
    text.len() == 32
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_32_lowercase_hex_digits() {
        assert!(is_request_id("0123456789abcdef0123456789abcdef"));
        assert!(!is_request_id("0123456789ABCDEF0123456789abcdef"));
        assert!(!is_request_id("0123456789abcdef"));
        assert!(!is_request_id("r1"));
    }
}
