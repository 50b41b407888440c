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

    /// 00:00 UTC of the next day of the month `day` strictly after this instant (`day` is
    /// 1..=28, so every month has it); `None` for another `day`.
    ///
    /// ```
    /// use keyward::domain::Timestamp;
    /// let t = Timestamp::parse_rfc3339("2026-12-15T10:00:00Z").unwrap();
    /// assert_eq!(t.next_day_of_month(1).unwrap().to_rfc3339(), "2027-01-01T00:00:00Z");
    /// assert_eq!(t.next_day_of_month(20).unwrap().to_rfc3339(), "2026-12-20T00:00:00Z");
    /// ```
    #[must_use]
    pub const fn next_day_of_month(self, day: u8) -> Option<Self> {
        if day < 1 || day > 28 {
            return None;
        }
        let (y, m, _) = civil_from_days(self.0.div_euclid(MS_PER_DAY));
        let this_month = Self(days_from_civil(y, m as i64, day as i64) * MS_PER_DAY);
        if this_month.0 > self.0 {
            return Some(this_month);
        }
        let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m as i64 + 1) };
        Some(Self(days_from_civil(ny, nm, day as i64) * MS_PER_DAY))
    }

    /// 00:00 UTC of the day after this instant's.
    #[must_use]
    pub const fn next_midnight(self) -> Self {
        Self((self.0.div_euclid(MS_PER_DAY) + 1) * MS_PER_DAY)
    }

    /// This instant rounded up to a whole second.
    #[must_use]
    pub const fn ceil_second(self) -> Self {
        Self(
            self.0.div_euclid(MS_PER_SECOND) * MS_PER_SECOND
                + if self.0.rem_euclid(MS_PER_SECOND) == 0 { 0 } else { MS_PER_SECOND },
        )
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

impl Timestamp {
    /// Read an RFC 3339 instant: `YYYY-MM-DDTHH:MM:SS`, optional fraction (kept to the
    /// millisecond), then `Z` or `±HH:MM` (`t` and `z` in lower case too, RFC 3339 §5.6).
    /// `None` for anything else, an impossible date (`2026-02-30`) or a leap second included.
    ///
    /// ```
    /// use keyward::domain::Timestamp;
    /// let t = Timestamp::parse_rfc3339("2026-11-18T12:06:40.5+01:00").unwrap();
    /// assert_eq!(t, Timestamp::from_millis(1_795_000_000_500));
    /// assert!(Timestamp::parse_rfc3339("2026-11-18 12:06:40Z").is_none());
    /// ```
    #[must_use]
    pub fn parse_rfc3339(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        let num = |from: usize, len: usize| -> Option<i64> {
            let digits = b.get(from..from + len)?;
            digits.iter().try_fold(0i64, |n, d| d.is_ascii_digit().then(|| n * 10 + i64::from(d - b'0')))
        };
        let at = |i: usize, c: &[u8]| b.get(i).is_some_and(|x| c.contains(x));
        if !(at(4, b"-") && at(7, b"-") && at(10, b"Tt") && at(13, b":") && at(16, b":")) {
            return None;
        }
        let (y, mo, d) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
        let (h, mi, sec) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
        if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59 {
            return None;
        }
        let mut i = 19;
        let mut ms = 0;
        if at(i, b".") {
            let start = i + 1;
            i = start;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == start {
                return None;
            }
            let digits = s.get(start..i.min(start + 3))?;
            ms = digits.parse::<i64>().ok()? * 10_i64.pow(3 - u32::try_from(digits.len()).ok()?);
        }
        let offset_min = match b.get(i..) {
            Some(b"Z" | b"z") => 0,
            Some([sign @ (b'+' | b'-'), _, _, b':', _, _]) => {
                let (oh, om) = (num(i + 1, 2)?, num(i + 4, 2)?);
                if oh > 23 || om > 59 {
                    return None;
                }
                let m = oh * 60 + om;
                if *sign == b'-' {
                    -m
                } else {
                    m
                }
            }
            _ => return None,
        };
        let days = days_from_civil(y, mo, d);
        let secs = days * 86_400 + h * 3_600 + mi * 60 + sec - offset_min * 60;
        Some(Self(secs * MS_PER_SECOND + ms))
    }
}

/// Days in month `m` of year `y` (proleptic Gregorian).
const fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// (year, month, day) to days since 1970-01-01: Howard Hinnant's `days_from_civil`.
const fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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
    fn parses_what_it_formats_and_refuses_the_rest() {
        for ms in [0, 951_827_696_000, 1_795_000_000_000, -86_400_000, 4_102_444_799_000] {
            let t = Timestamp::from_millis(ms);
            assert_eq!(Timestamp::parse_rfc3339(&t.to_rfc3339()), Some(t), "{t}");
        }
        let p = |s: &str| Timestamp::parse_rfc3339(s).map(Timestamp::as_millis);
        assert_eq!(p("2000-02-29T12:34:56.789Z"), Some(951_827_696_789));
        assert_eq!(p("2000-02-29T12:34:56.7891234Z"), Some(951_827_696_789));
        assert_eq!(p("2000-02-29T12:34:56.7Z"), Some(951_827_696_700));
        assert_eq!(p("2000-02-29t12:34:56z"), Some(951_827_696_000));
        assert_eq!(p("2000-02-29T14:34:56+02:00"), Some(951_827_696_000));
        assert_eq!(p("2000-02-29T10:04:56-02:30"), Some(951_827_696_000));
        for bad in [
            "",
            "2000-02-29",
            "2000-02-29T12:34:56",
            "2000-02-29 12:34:56Z",
            "2001-02-29T12:34:56Z",
            "1900-02-29T00:00:00Z",
            "2000-13-01T00:00:00Z",
            "2000-00-01T00:00:00Z",
            "2000-04-31T00:00:00Z",
            "2000-01-01T24:00:00Z",
            "2000-01-01T00:60:00Z",
            "2000-01-01T00:00:60Z",
            "2000-01-01T00:00:00.Z",
            "2000-01-01T00:00:00+0200",
            "2000-01-01T00:00:00+24:00",
            "2000-01-01T00:00:00Zjunk",
            "+2000-01-01T00:00:00Z",
            "２000-01-01T00:00:00Z",
        ] {
            assert_eq!(p(bad), None, "{bad}");
        }
    }

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
