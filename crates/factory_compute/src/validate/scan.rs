//! A depth-bounded, non-recursive JSON scanner over payload bytes that also accepts the tokens
//! `NaN`, `Infinity` and `-Infinity` so that one such reading can be rejected on its own.

/// Containers may nest this deep; one more is `PAYLOAD_JSON_MALFORMED`.
pub const MAX_DEPTH: u32 = 32;

/// Where and why the payload stopped being JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScanError {
    pub offset: usize,
    pub reason: &'static str,
}

pub type ScanResult<T> = Result<T, ScanError>;

/// The content of a JSON string (between the quotes) in the payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StrSpan {
    pub start: usize,
    pub end: usize,
    /// The content holds escapes and must go through `decode_string` before use.
    pub escaped: bool,
}

/// What a scanned value was; containers are skipped, not materialised.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ValueKind {
    /// Any number, including the non-finite tokens and overflowing literals.
    Number(f64),
    String(StrSpan),
    Bool,
    Null,
    Object,
    Array,
}

/// Cursor over one payload.
pub struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Scanner<'a> {
    pub fn new(bytes: &'a [u8]) -> Scanner<'a> {
        Scanner { bytes, pos: 0 }
    }

    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    #[inline]
    pub fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    pub fn error(&self, reason: &'static str) -> ScanError {
        ScanError {
            offset: self.pos,
            reason,
        }
    }

    #[inline]
    pub fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    /// Succeeds when only whitespace is left.
    pub fn finish(&mut self) -> ScanResult<()> {
        self.skip_ws();
        if self.pos == self.bytes.len() {
            Ok(())
        } else {
            Err(self.error("unexpected characters after the JSON value"))
        }
    }

    /// Enters the container at the cursor, which must sit on `{` or `[`, at nesting `depth` (1-based).
    pub fn enter(&mut self, depth: u32) -> ScanResult<()> {
        if depth > MAX_DEPTH {
            return Err(self.error("nesting deeper than 32"));
        }
        self.pos += 1;
        Ok(())
    }

    /// Moves to the next member of an entered object: returns its key with the cursor on its value,
    /// or `None` once the closing brace is consumed.
    #[inline]
    pub fn next_member(&mut self, first: bool) -> ScanResult<Option<StrSpan>> {
        self.skip_ws();
        match self.peek() {
            Some(b'}') if first => {
                self.pos += 1;
                return Ok(None);
            }
            _ if first => {}
            Some(b',') => {
                self.pos += 1;
                self.skip_ws();
            }
            Some(b'}') => {
                self.pos += 1;
                return Ok(None);
            }
            _ => return Err(self.error("expected ',' or '}'")),
        }
        self.member_key().map(Some)
    }

    /// Moves to the next element of an entered array: `true` with the cursor on the element, or
    /// `false` once the closing bracket is consumed.
    #[inline]
    pub fn next_element(&mut self, first: bool) -> ScanResult<bool> {
        self.skip_ws();
        match self.peek() {
            Some(b']') if first => {
                self.pos += 1;
                return Ok(false);
            }
            _ if first => {}
            Some(b',') => {
                self.pos += 1;
                self.skip_ws();
            }
            Some(b']') => {
                self.pos += 1;
                return Ok(false);
            }
            _ => return Err(self.error("expected ',' or ']'")),
        }
        Ok(true)
    }

    /// Scans `"key" :` and leaves the cursor on the value.
    #[inline]
    fn member_key(&mut self) -> ScanResult<StrSpan> {
        if self.peek() != Some(b'"') {
            return Err(self.error("expected a string key"));
        }
        let key = self.string()?;
        self.skip_ws();
        if self.peek() != Some(b':') {
            return Err(self.error("expected ':'"));
        }
        self.pos += 1;
        self.skip_ws();
        Ok(key)
    }

    /// Scans any value at the cursor; a container found here sits at nesting `depth`.
    #[inline]
    pub fn value(&mut self, depth: u32) -> ScanResult<ValueKind> {
        match self.peek() {
            Some(b'{') => self.skip_container(depth).map(|()| ValueKind::Object),
            Some(b'[') => self.skip_container(depth).map(|()| ValueKind::Array),
            _ => self.scalar(),
        }
    }

    /// Skips the container at the cursor with a bit stack instead of recursion.
    fn skip_container(&mut self, depth: u32) -> ScanResult<()> {
        // Bit i of `objects` says whether the i-th innermost open container is an object.
        let mut objects: u64 = 0;
        let mut open: u32 = 0;
        loop {
            match self.peek() {
                Some(byte @ (b'{' | b'[')) => {
                    self.enter(depth + open)?;
                    let is_object = byte == b'{';
                    objects = (objects << 1) | u64::from(is_object);
                    open += 1;
                    self.skip_ws();
                    let closing = if is_object { b'}' } else { b']' };
                    if self.peek() == Some(closing) {
                        self.pos += 1;
                        open -= 1;
                        objects >>= 1;
                    } else {
                        if is_object {
                            self.member_key()?;
                        }
                        continue;
                    }
                }
                _ => {
                    self.scalar()?;
                }
            }
            // A value just ended: close containers or move to the next value.
            loop {
                if open == 0 {
                    return Ok(());
                }
                self.skip_ws();
                let in_object = objects & 1 == 1;
                match self.peek() {
                    Some(b',') => {
                        self.pos += 1;
                        self.skip_ws();
                        if in_object {
                            self.member_key()?;
                        }
                        break;
                    }
                    Some(b'}') if in_object => {}
                    Some(b']') if !in_object => {}
                    _ => return Err(self.error("expected ',' or a closing bracket")),
                }
                self.pos += 1;
                open -= 1;
                objects >>= 1;
            }
        }
    }

    /// Scans a string, number or literal.
    fn scalar(&mut self) -> ScanResult<ValueKind> {
        match self.peek() {
            Some(b'"') => self.string().map(ValueKind::String),
            Some(b'-') if self.bytes.get(self.pos + 1) == Some(&b'I') => {
                self.literal(b"-Infinity", ValueKind::Number(f64::NEG_INFINITY))
            }
            Some(b'-' | b'0'..=b'9') => self.number().map(ValueKind::Number),
            Some(b't') => self.literal(b"true", ValueKind::Bool),
            Some(b'f') => self.literal(b"false", ValueKind::Bool),
            Some(b'n') => self.literal(b"null", ValueKind::Null),
            Some(b'N') => self.literal(b"NaN", ValueKind::Number(f64::NAN)),
            Some(b'I') => self.literal(b"Infinity", ValueKind::Number(f64::INFINITY)),
            Some(_) => Err(self.error("unexpected character")),
            None => Err(self.error("unexpected end of input")),
        }
    }

    fn literal(&mut self, word: &[u8], kind: ValueKind) -> ScanResult<ValueKind> {
        if self.bytes[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(kind)
        } else {
            Err(self.error("invalid literal"))
        }
    }

    /// Scans a string at its opening quote, validating escapes and rejecting raw control characters.
    /// UTF-8 validity of the whole payload is checked before scanning starts.
    pub fn string(&mut self) -> ScanResult<StrSpan> {
        self.pos += 1;
        let start = self.pos;
        let mut escaped = false;
        loop {
            let Some(&byte) = self.bytes.get(self.pos) else {
                return Err(self.error("unterminated string"));
            };
            match byte {
                b'"' => {
                    let end = self.pos;
                    self.pos += 1;
                    return Ok(StrSpan {
                        start,
                        end,
                        escaped,
                    });
                }
                b'\\' => {
                    escaped = true;
                    match self.bytes.get(self.pos + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                            self.pos += 2
                        }
                        Some(b'u') => {
                            let hex = self.bytes.get(self.pos + 2..self.pos + 6);
                            if !hex.is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)) {
                                return Err(self.error("invalid \\u escape"));
                            }
                            self.pos += 6;
                        }
                        _ => return Err(self.error("invalid escape")),
                    }
                }
                0..=0x1F => return Err(self.error("control character in string")),
                _ => self.pos += 1,
            }
        }
    }

    /// Scans a JSON number; exact for up to 19 significant digits and |exponent| <= 22 by the
    /// fast path, correctly rounded by the standard library otherwise.
    pub fn number(&mut self) -> ScanResult<f64> {
        const POW10: [f64; 23] = [
            1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
            1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
        ];
        let bytes = self.bytes;
        let start = self.pos;
        let negative = bytes.get(self.pos) == Some(&b'-');
        if negative {
            self.pos += 1;
        }
        let mut mantissa: u64 = 0;
        let mut exponent: i64 = 0;
        let mut truncated = false;
        match bytes.get(self.pos) {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                while let Some(&digit @ b'0'..=b'9') = bytes.get(self.pos) {
                    if mantissa < 1_000_000_000_000_000_000 {
                        mantissa = mantissa * 10 + u64::from(digit - b'0');
                    } else {
                        truncated = true;
                        exponent += 1;
                    }
                    self.pos += 1;
                }
            }
            _ => return Err(self.error("invalid number")),
        }
        if bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            let fraction_start = self.pos;
            while let Some(&digit @ b'0'..=b'9') = bytes.get(self.pos) {
                if mantissa < 1_000_000_000_000_000_000 {
                    mantissa = mantissa * 10 + u64::from(digit - b'0');
                    exponent -= 1;
                } else {
                    truncated = true;
                }
                self.pos += 1;
            }
            if self.pos == fraction_start {
                return Err(self.error("invalid number: no digit after '.'"));
            }
        }
        if let Some(b'e' | b'E') = bytes.get(self.pos) {
            self.pos += 1;
            let exponent_negative = match bytes.get(self.pos) {
                Some(b'-') => {
                    self.pos += 1;
                    true
                }
                Some(b'+') => {
                    self.pos += 1;
                    false
                }
                _ => false,
            };
            let digits_start = self.pos;
            let mut written: i64 = 0;
            while let Some(&digit @ b'0'..=b'9') = bytes.get(self.pos) {
                written = (written * 10 + i64::from(digit - b'0')).min(1_000_000_000);
                self.pos += 1;
            }
            if self.pos == digits_start {
                return Err(self.error("invalid number: no digit in exponent"));
            }
            exponent += if exponent_negative { -written } else { written };
        }
        if !truncated && mantissa <= 1 << 53 && (-22..=22).contains(&exponent) {
            let magnitude = mantissa as f64;
            let scaled = if exponent < 0 {
                magnitude / POW10[(-exponent) as usize]
            } else {
                magnitude * POW10[exponent as usize]
            };
            return Ok(if negative { -scaled } else { scaled });
        }
        std::str::from_utf8(&bytes[start..self.pos])
            .ok()
            .and_then(|text| text.parse::<f64>().ok())
            .ok_or(ScanError {
                offset: start,
                reason: "invalid number",
            })
    }
}

/// Appends the decoded content of a validated JSON string to `out`. Lone surrogates become U+FFFD,
/// as `String.prototype.toWellFormed` does in JavaScript.
pub fn decode_string(raw: &[u8], out: &mut Vec<u8>) {
    let mut index = 0;
    while index < raw.len() {
        let byte = raw[index];
        if byte != b'\\' {
            out.push(byte);
            index += 1;
            continue;
        }
        let unescaped = match raw.get(index + 1) {
            Some(b'b') => b'\x08',
            Some(b'f') => b'\x0C',
            Some(b'n') => b'\n',
            Some(b'r') => b'\r',
            Some(b't') => b'\t',
            Some(b'u') => {
                let unit = hex4(raw, index + 2);
                index += 6;
                let code_point = if (0xD800..0xDC00).contains(&unit)
                    && raw.get(index) == Some(&b'\\')
                    && raw.get(index + 1) == Some(&b'u')
                    && (0xDC00..0xE000).contains(&hex4(raw, index + 2))
                {
                    let low = hex4(raw, index + 2);
                    index += 6;
                    0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                } else {
                    unit
                };
                let ch = char::from_u32(code_point).unwrap_or('\u{FFFD}');
                out.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
                continue;
            }
            Some(&other) => other,
            None => break,
        };
        out.push(unescaped);
        index += 2;
    }
}

/// Four hex digits at `start`; never panics (a short or bad sequence reads as U+FFFD).
fn hex4(raw: &[u8], start: usize) -> u32 {
    let Some(digits) = raw.get(start..start + 4) else {
        return 0xFFFD;
    };
    digits
        .iter()
        .try_fold(0u32, |acc, &digit| {
            Some(acc * 16 + char::from(digit).to_digit(16)?)
        })
        .unwrap_or(0xFFFD)
}

#[cfg(test)]
mod tests {
    use super::{decode_string, Scanner, ValueKind};

    fn number(text: &str) -> Option<f64> {
        let mut scanner = Scanner::new(text.as_bytes());
        let value = scanner.number().ok()?;
        scanner.finish().ok()?;
        Some(value)
    }

    #[test]
    fn numbers_match_the_standard_library() {
        for text in [
            "0",
            "-0",
            "1",
            "12.5",
            "-3.25e2",
            "1e22",
            "1e23",
            "123456789012345678901234567890",
            "0.1",
            "0.30000000000000004",
            "9007199254740993",
            "2.2250738585072014e-308",
            "5e-324",
            "1.7976931348623157e308",
            "1e400",
            "-1e400",
            "0.000000000000000000000000001",
            "1E+2",
            "4.35",
            "1700000000000.999",
        ] {
            let expected: f64 = text.parse().unwrap();
            let actual = number(text).unwrap();
            assert_eq!(actual.to_bits(), expected.to_bits(), "{text}");
        }
    }

    #[test]
    fn malformed_numbers_are_errors() {
        for text in ["-", "01", "1.", ".5", "1e", "1e+", "+1", "0x10", "1.e5"] {
            assert_eq!(number(text), None, "{text}");
        }
    }

    #[test]
    fn deep_nesting_stops_at_the_limit() {
        let ok = format!("{}{}", "[".repeat(32), "]".repeat(32));
        assert_eq!(Scanner::new(ok.as_bytes()).value(1), Ok(ValueKind::Array));
        let deep = format!("{}{}", "[".repeat(33), "]".repeat(33));
        assert_eq!(
            Scanner::new(deep.as_bytes()).value(1).unwrap_err().reason,
            "nesting deeper than 32"
        );
    }

    #[test]
    fn decodes_escapes_and_replaces_lone_surrogates() {
        let mut out = Vec::new();
        decode_string(br#"a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00\ud800x"#, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a\"\\/\u{8}\u{c}\n\r\t\u{e9}\u{1F600}\u{FFFD}x"
        );
    }
}
