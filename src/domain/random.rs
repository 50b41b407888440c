//! Randomness is injected: the domain asks a [`RandomSource`] for bytes and never owns an RNG.

/// The random source could not produce bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RandomError;

impl core::fmt::Display for RandomError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("random source failed")
    }
}

impl std::error::Error for RandomError {}

/// Where random bytes come from: a CSPRNG in production (getrandom → `crypto.getRandomValues`),
/// a deterministic stream in tests.
pub trait RandomSource {
    /// Fill `buf` entirely with random bytes.
    ///
    /// # Errors
    /// [`RandomError`] when the source cannot deliver; callers must not fall back to weaker bytes.
    fn fill(&self, buf: &mut [u8]) -> Result<(), RandomError>;
}

/// The base62 alphabet shared by token bodies, checksums and ids: `0-9A-Za-z`.
pub const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Append `n` uniformly distributed base62 characters to `out`.
///
/// Rejection sampling: a byte is used only if it is below 248 (= 4 × 62), so `byte % 62` is
/// unbiased; other bytes are thrown away and more are drawn.
///
/// # Errors
/// [`RandomError`] when the source fails.
pub fn push_base62(rng: &dyn RandomSource, n: usize, out: &mut String) -> Result<(), RandomError> {
    let mut buf = [0u8; 48];
    let mut left = n;
    while left > 0 {
        rng.fill(&mut buf)?;
        for &b in &buf {
            if left == 0 {
                break;
            }
            if b < 248 {
                out.push(base62_digit(u32::from(b)));
                left -= 1;
            }
        }
    }
    Ok(())
}

/// The base62 digit of `n % 62`.
#[must_use]
pub fn base62_digit(n: u32) -> char {
    char::from(base62_byte(n))
}

/// The base62 digit of `n % 62`, as an ASCII byte.
#[must_use]
pub fn base62_byte(n: u32) -> u8 {
    // n % 62 < 62: the fallback is unreachable, and keeps this panic-free.
    BASE62.get((n % 62) as usize).copied().unwrap_or(b'0')
}

/// Whether `b` is in the base62 alphabet.
#[must_use]
pub const fn is_base62(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

#[cfg(test)]
pub(crate) mod testing {
    use super::{RandomError, RandomSource};
    use core::cell::Cell;

    /// A deterministic xorshift stream for tests; never for secrets.
    pub struct SeqRandom(pub Cell<u64>);

    impl SeqRandom {
        pub fn new(seed: u64) -> Self {
            Self(Cell::new(seed | 1))
        }
    }

    impl RandomSource for SeqRandom {
        fn fill(&self, buf: &mut [u8]) -> Result<(), RandomError> {
            for b in buf {
                let mut x = self.0.get();
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                self.0.set(x);
                *b = (x >> 24) as u8;
            }
            Ok(())
        }
    }

    /// Always fails.
    pub struct BrokenRandom;
    impl RandomSource for BrokenRandom {
        fn fill(&self, _: &mut [u8]) -> Result<(), RandomError> {
            Err(RandomError)
        }
    }

    /// Replays fixed bytes, cycling.
    pub struct FixedRandom(pub Vec<u8>);
    impl RandomSource for FixedRandom {
        fn fill(&self, buf: &mut [u8]) -> Result<(), RandomError> {
            for (i, b) in buf.iter_mut().enumerate() {
                *b = self.0[i % self.0.len()];
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    #[test]
    fn rejects_biased_bytes() {
        // 248..=255 must be skipped; 0 and 61 map to '0' and 'z', 62 wraps to '0'.
        let rng = FixedRandom(vec![255, 248, 0, 61, 62, 247]);
        let mut s = String::new();
        push_base62(&rng, 4, &mut s).unwrap();
        assert_eq!(s, "0z0z"); // 247 % 62 = 61 → 'z'
    }

    #[test]
    fn all_rejected_bytes_keep_drawing_until_failure() {
        let mut s = String::new();
        assert_eq!(push_base62(&BrokenRandom, 3, &mut s), Err(RandomError));
    }

    #[test]
    fn distribution_is_roughly_uniform() {
        let rng = SeqRandom::new(42);
        let mut s = String::new();
        push_base62(&rng, 62_000, &mut s).unwrap();
        let mut counts = [0u32; 62];
        for b in s.bytes() {
            let i = BASE62.iter().position(|&c| c == b).unwrap();
            counts[i] += 1;
        }
        // Expected 1000 each; a biased mapping (e.g. % 62 over all 256) would put ~1.3× on the
        // first 8 symbols.
        for c in counts {
            assert!((850..1150).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn base62_is_exactly_the_alphabet() {
        for b in 0..=u8::MAX {
            assert_eq!(is_base62(b), BASE62.contains(&b), "{b}");
        }
    }
}
