//! Strict RFC 3339 date-time parsing to epoch milliseconds (offset required, fraction floored to ms).

const MS_PER_DAY: i64 = 86_400_000;

/// Parses `YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm)` (`T` and `Z` may be lower case) into epoch ms.
/// Fraction digits beyond milliseconds are dropped, which floors the instant. Leap seconds (`:60`)
/// and date-times without an offset are invalid because they name no single instant.
pub fn parse_iso_ms(text: &[u8]) -> Option<f64> {
    if text.len() < 20 {
        return None;
    }
    let year = digits(text, 0, 4)?;
    let month = digits(text, 5, 2)?;
    let day = digits(text, 8, 2)?;
    let hour = digits(text, 11, 2)?;
    let minute = digits(text, 14, 2)?;
    let second = digits(text, 17, 2)?;
    if text[4] != b'-' || text[7] != b'-' || !matches!(text[10], b'T' | b't') {
        return None;
    }
    if text[13] != b':' || text[16] != b':' {
        return None;
    }
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut pos = 19;
    let mut millis = 0;
    if text[pos] == b'.' {
        pos += 1;
        let start = pos;
        while pos < text.len() && text[pos].is_ascii_digit() {
            if pos - start < 3 {
                millis = millis * 10 + i64::from(text[pos] - b'0');
            }
            pos += 1;
        }
        let count = pos - start;
        if count == 0 {
            return None;
        }
        for _ in count..3 {
            millis *= 10;
        }
    }
    let offset_minutes = match text.get(pos..)? {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let offset_hour = digits(text, pos + 1, 2)?;
            let offset_minute = digits(text, pos + 4, 2)?;
            if offset_hour > 23 || offset_minute > 59 {
                return None;
            }
            let magnitude = offset_hour * 60 + offset_minute;
            if *sign == b'-' {
                -magnitude
            } else {
                magnitude
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let ms = days * MS_PER_DAY + hour * 3_600_000 + minute * 60_000 + second * 1000 + millis
        - offset_minutes * 60_000;
    Some(ms as f64)
}

/// `count` ASCII digits at `start` as a number.
fn digits(text: &[u8], start: usize, count: usize) -> Option<i64> {
    let slice = text.get(start..start + count)?;
    let mut value = 0;
    for &byte in slice {
        if !byte.is_ascii_digit() {
            return None;
        }
        value = value * 10 + i64::from(byte - b'0');
    }
    Some(value)
}

fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let shifted_month = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::parse_iso_ms;

    fn parse(text: &str) -> Option<f64> {
        parse_iso_ms(text.as_bytes())
    }

    #[test]
    fn parses_utc_offsets_and_fractions_to_floored_ms() {
        assert_eq!(parse("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(parse("2024-02-29T12:34:56.789Z"), Some(1_709_210_096_789.0));
        assert_eq!(
            parse("2024-02-29T12:34:56.7899999z"),
            Some(1_709_210_096_789.0)
        );
        assert_eq!(
            parse("2024-02-29t14:34:56.5+02:00"),
            Some(1_709_210_096_500.0)
        );
        assert_eq!(
            parse("2024-02-29T10:04:56-02:30"),
            Some(1_709_210_096_000.0)
        );
        assert_eq!(parse("1969-12-31T23:59:59.999Z"), Some(-1.0));
        assert_eq!(parse("0000-01-01T00:00:00Z"), Some(-62_167_219_200_000.0));
    }

    #[test]
    fn rejects_incomplete_or_impossible_date_times() {
        for text in [
            "2024-02-29T12:34:56",
            "2024-02-29 12:34:56Z",
            "2023-02-29T12:34:56Z",
            "2024-13-01T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:00:60Z",
            "2024-01-01T00:00:00.Z",
            "2024-01-01T00:00:00+0200",
            "2024-01-01T00:00:00+24:00",
            "2024-01-01T00:00:00ZZ",
            "+2024-01-01T00:00:00Z",
            "2024-1-01T00:00:00Z",
            "",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
    }
}
