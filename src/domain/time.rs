//! Instants as milliseconds since the Unix epoch, supplied by the caller.
//!
//! The domain never reads a clock (`SystemTime::now` panics on `wasm32-unknown-unknown`); the
//! server passes `Date.now()`, tests pass whatever instant they need.

use core::fmt;

/// One millisecond-precision instant in UTC.
///
/// Stored as an `i64` of milliseconds since 1970-01-01T00:00:00Z and shown as RFC 3339
/// (`2026-11-23T11:17:20Z`, seconds precision: what people and clients need).
///
/// # Example
/// ```
/// use keyward::domain::Timestamp;
/// let t = Timestamp::from_millis(1_795_000_000_000);
/// assert_eq!(t.to_rfc3339(), "2026-11-18T11:06:40Z");
/// assert_eq!(t.plus_days(1).as_millis() - t.as_millis(), 86_400_000);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Timestamp(i64);

const MS_PER_SECOND: i64 = 1_000;
const MS_PER_DAY: i64 = 86_400_000;

impl Timestamp {
    /// The instant `ms` milliseconds after the Unix epoch.
    #[must_use]
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms)
    }

    /// Milliseconds since the Unix epoch.
    #[must_use]
    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// Whole seconds since the Unix epoch (rounded down).
    #[must_use]
    pub const fn as_seconds(self) -> i64 {
        self.0.div_euclid(MS_PER_SECOND)
    }

    /// This instant plus `days` days (saturating).
    #[must_use]
    pub const fn plus_days(self, days: i64) -> Self {
        Self(self.0.saturating_add(days.saturating_mul(MS_PER_DAY)))
    }

    /// This instant plus `seconds` seconds (saturating).
    #[must_use]
    pub const fn plus_seconds(self, seconds: i64) -> Self {
        Self(self.0.saturating_add(seconds.saturating_mul(MS_PER_SECOND)))
    }

    /// The UTC calendar day, `YYYY-MM-DD`.
    #[must_use]
    pub fn date(self) -> String {
        let (y, m, d) = civil_from_days(self.as_millis().div_euclid(MS_PER_DAY));
        format!("{y:04}-{m:02}-{d:02}")
    }

    /// RFC 3339 in UTC with seconds precision, e.g. `2026-11-23T11:17:20Z`.
    #[must_use]
    pub fn to_rfc3339(self) -> String {
        self.to_string()
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day).
///
/// Howard Hinnant's `civil_from_days`, exact for every `i64` day count we can produce.
const fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let d = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
    let m = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
    let y = if m <= 2 { y + 1 } else { y };
    // Both casts are in range by the bounds noted above.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    (y, m as u32, d as u32)
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.as_seconds();
        let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
        let sod = secs.rem_euclid(86_400);
        write!(f, "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}Z", sod / 3_600, sod % 3_600 / 60, sod % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_epoch_and_known_instants() {
        assert_eq!(Timestamp::from_millis(0).to_rfc3339(), "1970-01-01T00:00:00Z");
        // 2000-02-29 (leap day in a century leap year), 12:34:56.789
        assert_eq!(Timestamp::from_millis(951_827_696_789).to_rfc3339(), "2000-02-29T12:34:56Z");
        assert_eq!(Timestamp::from_millis(1_795_000_000_000).to_rfc3339(), "2026-11-18T11:06:40Z");
        // last second of a year
        assert_eq!(Timestamp::from_millis(1_767_225_599_000).to_rfc3339(), "2025-12-31T23:59:59Z");
    }

    #[test]
    fn dates() {
        assert_eq!(Timestamp::from_millis(951_827_696_789).date(), "2000-02-29");
        assert_eq!(Timestamp::from_millis(1_767_225_599_999).date(), "2025-12-31");
        assert_eq!(Timestamp::from_millis(1_767_225_600_000).date(), "2026-01-01");
        assert_eq!(Timestamp::from_millis(-1).date(), "1969-12-31");
    }

    #[test]
    fn formats_before_epoch() {
        assert_eq!(Timestamp::from_millis(-1).to_rfc3339(), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn arithmetic_saturates() {
        let t = Timestamp::from_millis(i64::MAX - 5);
        assert_eq!(t.plus_days(1).as_millis(), i64::MAX);
        assert_eq!(Timestamp::from_millis(0).plus_seconds(90).as_millis(), 90_000);
        assert_eq!(Timestamp::from_millis(1_999).as_seconds(), 1);
        assert_eq!(Timestamp::from_millis(-1).as_seconds(), -1);
    }

    /// Every day of two whole 400-year cycles (1600-01-01 to 2400-12-31) against a naive calendar
    /// counted one day at a time: every day of the cycle `civil_from_days` works in is checked.
    #[test]
    fn every_day_of_two_gregorian_cycles_matches_a_naive_calendar() {
        const fn leap(y: i64) -> bool {
            y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
        }
        const fn month_len(y: i64, m: u32) -> u32 {
            match m {
                2 if leap(y) => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            }
        }
        let mut day: i64 = -(1600..1970).map(|y| if leap(y) { 366 } else { 365 }).sum::<i64>();
        let (mut y, mut m, mut d) = (1600_i64, 1_u32, 1_u32);
        while y <= 2400 {
            assert_eq!(civil_from_days(day), (y, m, d), "day {day}");
            day += 1;
            d += 1;
            if d > month_len(y, m) {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
        assert_eq!(day, 157_420, "2401-01-01");
        // and through the public forms
        assert_eq!(Timestamp::from_millis(0).plus_days(-135_140).date(), "1600-01-01");
        assert_eq!(Timestamp::from_millis(0).plus_days(157_113).to_rfc3339(), "2400-02-29T00:00:00Z");
    }
}
