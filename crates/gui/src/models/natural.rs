//! Natural order for names and ids, as people count: `kitchen-2` before `kitchen-10`, case
//! aside. Digit runs compare by their value (leading zeros aside), everything else letter by
//! letter, lower-cased.

use std::cmp::Ordering;
use std::iter::Peekable;
use std::str::Chars;

/// Compares `a` and `b` in natural order.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.chars().peekable(), b.chars().peekable());
    loop {
        match (a.peek().copied(), b.peek().copied()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let order = compare_numbers(&digits(&mut a), &digits(&mut b));
                if order != Ordering::Equal {
                    return order;
                }
            }
            (Some(x), Some(y)) => {
                let order = x.to_lowercase().cmp(y.to_lowercase());
                if order != Ordering::Equal {
                    return order;
                }
                a.next();
                b.next();
            }
        }
    }
}

fn digits(chars: &mut Peekable<Chars<'_>>) -> String {
    let mut run = String::new();
    while let Some(c) = chars.next_if(char::is_ascii_digit) {
        run.push(c);
    }
    run
}

/// Two runs of digits by value, of any length.
fn compare_numbers(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_count_as_people_count() {
        let mut names = vec![
            "kitchen-10",
            "Kitchen-2",
            "kitchen-1",
            "hall",
            "kitchen-02b",
        ];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            names,
            [
                "hall",
                "kitchen-1",
                "Kitchen-2",
                "kitchen-02b",
                "kitchen-10"
            ]
        );
        assert_eq!(
            natural_cmp("a99999999999999999999999", "a100000000000000000000000"),
            Ordering::Less
        );
        assert_eq!(natural_cmp("lamp", "lamp"), Ordering::Equal);
        assert_eq!(natural_cmp("lamp", "lamp-2"), Ordering::Less);
    }
}
