//! Small text helpers shared by the rules.

/// How many characters (Unicode scalar values) `s` holds: `s.chars().count()`, counted as the
/// bytes that do not continue a UTF-8 sequence. The same number in a tenth of the browser
/// module's code (`core`'s counter is a word-at-a-time loop of about 0.8 KiB).
#[must_use]
pub fn char_count(s: &str) -> usize {
    s.bytes().filter(|&b| !(0x80..0xC0).contains(&b)).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn counts_characters_not_bytes() {
        assert_eq!(char_count(""), 0);
        assert_eq!(char_count("kw_3f9A"), 7);
        assert_eq!(char_count("é"), 1);
        assert_eq!(char_count("€•𝄞a"), 4);
    }

    proptest! {
        #[test]
        fn counts_as_chars_count_does(s in any::<String>()) {
            prop_assert_eq!(char_count(&s), s.chars().count());
        }
    }
}
