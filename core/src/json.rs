//! The core's own JSON: a small parser into a [`Json`] tree that keeps every number as its text,
//! and a writer.
//!
//! Why not serde_json: the core reads every body the service sends and every loose value a binding
//! hands it, and in the npm package (WebAssembly) serde_json's parser and its per-type readers were
//! the largest single cost of the module. This parser does one thing (RFC 8259 text to a tree); the
//! wire types and option records are read from the tree by hand ([`crate::readers`]) and written
//! back by hand ([`crate::writers`]). Keeping numbers as
//! text also makes prices exact (`0.24` is read as 24 cents, never through a float) and lets the
//! validator tell `5`, `5.0` and `18446744073709551616` apart.
//!
//! Rules:
//! - Input is UTF-8; anything else, a control character inside a string, trailing text, or
//!   nesting deeper than [`MAX_DEPTH`] is an [`Error`], never a panic.
//! - A lone surrogate escape (`\ud800` without its pair: JS's `JSON.stringify` and Python's
//!   `json.dumps` write one for half an emoji cut off by slicing) is read as U+FFFD, as a UTF-8
//!   encoder would send it: a prompt with one is a prompt, not text that "is not JSON".
//! - Object members keep their order; a repeated key keeps every occurrence ([`Json::get`] returns
//!   the last, like serde_json's `Value`; a typed read reports a duplicate field).
//! - A number is read as an integer only when its text is one (`5`, `-3`); `5.0` and `5e0` are not.
//! - No serde `Deserializer` reads this tree: the typed readers are written by hand, and a generic
//!   one would be a second way to read every type (it was, until nothing but its own tests used it).

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

/// How deep arrays and objects may nest before the parser refuses the text.
pub const MAX_DEPTH: usize = 128;

/// A JSON value. Numbers are kept as their (validated) text. Text borrows from the parsed input
/// where it can (`Json<'static>` owns everything): a typed read then copies each string once, into
/// its field, and never copies a key or a number.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Json<'a> {
    /// `null`
    #[default]
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number, exactly as written (`5`, `-0.24`, `1e3`).
    Number(Cow<'a, str>),
    /// A string, unescaped.
    String(Cow<'a, str>),
    /// An array.
    Array(Vec<Json<'a>>),
    /// An object, members in their order.
    Object(Vec<(Cow<'a, str>, Json<'a>)>),
}

/// Why a text is not JSON, or why a [`Json`] is not the type asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl Error {
    /// An error saying `message` (the typed readers' errors).
    pub(crate) fn new(message: String) -> Self {
        Error(message)
    }
}

/// Parses JSON text.
///
/// # Errors
/// When `bytes` is not one JSON value (see the module's rules), with the byte offset.
pub fn parse(bytes: &[u8]) -> Result<Json<'_>, Error> {
    let text = std::str::from_utf8(bytes).map_err(|e| Error(format!("not UTF-8 at byte {}", e.valid_up_to())))?;
    let mut p = Parser { s: text.as_bytes(), text, at: 0 };
    p.space();
    let v = p.value(0)?;
    p.space();
    if p.at < p.s.len() {
        return Err(p.fail("trailing characters"));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    at: usize,
}

impl<'a> Parser<'a> {
    fn fail(&self, what: &str) -> Error {
        Error(format!("{what} at byte {}", self.at))
    }

    // Inlined even in the size-optimized wasm build: it is every byte's read.
    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    fn space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn literal(&mut self, word: &str, v: Json<'a>) -> Result<Json<'a>, Error> {
        if self.s.get(self.at..self.at + word.len()) == Some(word.as_bytes()) {
            self.at += word.len();
            Ok(v)
        } else {
            Err(self.fail("expected a value"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json<'a>, Error> {
        match self.peek() {
            Some(b'n') => self.literal("null", Json::Null),
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'"') => Ok(Json::String(self.string()?)),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'[') => self.array(depth + 1),
            Some(b'{') => self.object(depth + 1),
            Some(_) => Err(self.fail("expected a value")),
            None => Err(self.fail("unexpected end of text")),
        }
    }

    fn digits(&mut self) -> usize {
        let from = self.at;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
        self.at - from
    }

    fn number(&mut self) -> Result<Json<'a>, Error> {
        let from = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek() {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.fail("invalid number")),
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            if self.digits() == 0 {
                return Err(self.fail("invalid number"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if self.digits() == 0 {
                return Err(self.fail("invalid number"));
            }
        }
        Ok(Json::Number(Cow::Borrowed(self.text.get(from..self.at).unwrap_or_default())))
    }

    fn hex4(&mut self) -> Result<u32, Error> {
        let digits = self.text.get(self.at..self.at + 4).filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()));
        let n = digits.and_then(|d| u32::from_str_radix(d, 16).ok()).ok_or_else(|| self.fail("invalid \\u escape"))?;
        self.at += 4;
        Ok(n)
    }

    fn string(&mut self) -> Result<Cow<'a, str>, Error> {
        self.at += 1; // the opening quote
        let start = self.at;
        let mut out = String::new();
        loop {
            // Take the run up to the next quote, backslash or control character in one go.
            let from = self.at;
            let rest = self.s.get(from..).unwrap_or_default();
            self.at = from + rest.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20).unwrap_or(rest.len());
            let run = self.text.get(from..self.at).unwrap_or_default();
            match self.peek() {
                Some(b'"') => {
                    self.at += 1;
                    if from == start {
                        return Ok(Cow::Borrowed(run)); // no escape: borrowed, not copied
                    }
                    out.push_str(run);
                    return Ok(Cow::Owned(out));
                }
                Some(b'\\') => {
                    out.push_str(run);
                    self.at += 1;
                    let c = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.at += 1;
                            let c = self.unicode()?;
                            out.push(c);
                            continue;
                        }
                        _ => return Err(self.fail("invalid escape")),
                    };
                    self.at += 1;
                    out.push(c);
                }
                Some(_) => return Err(self.fail("control character in a string")),
                None => return Err(self.fail("unterminated string")),
            }
        }
    }

    /// The character of a `\u` escape (after the `u`), a surrogate pair read whole; a lone
    /// surrogate is U+FFFD (an escape after it that is not its pair is left to be read next).
    fn unicode(&mut self) -> Result<char, Error> {
        let hi = self.hex4()?;
        if (0xD800..0xDC00).contains(&hi) && self.s.get(self.at..self.at + 2) == Some(b"\\u") {
            let back = self.at;
            self.at += 2;
            let lo = self.hex4()?;
            if (0xDC00..0xE000).contains(&lo) {
                return Ok(char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)).unwrap_or(char::REPLACEMENT_CHARACTER));
            }
            self.at = back;
        }
        Ok(char::from_u32(hi).unwrap_or(char::REPLACEMENT_CHARACTER))
    }

    fn array(&mut self, depth: usize) -> Result<Json<'a>, Error> {
        if depth > MAX_DEPTH {
            return Err(self.fail("nested too deep"));
        }
        self.at += 1;
        let mut items = Vec::new();
        self.space();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(Json::Array(items));
        }
        loop {
            self.space();
            items.push(self.value(depth)?);
            self.space();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    return Ok(Json::Array(items));
                }
                _ => return Err(self.fail("expected `,` or `]`")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json<'a>, Error> {
        if depth > MAX_DEPTH {
            return Err(self.fail("nested too deep"));
        }
        self.at += 1;
        let mut members = Vec::new();
        self.space();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(Json::Object(members));
        }
        loop {
            self.space();
            if self.peek() != Some(b'"') {
                return Err(self.fail("expected a key"));
            }
            let key = self.string()?;
            self.space();
            if self.peek() != Some(b':') {
                return Err(self.fail("expected `:`"));
            }
            self.at += 1;
            self.space();
            members.push((key, self.value(depth)?));
            self.space();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return Ok(Json::Object(members));
                }
                _ => return Err(self.fail("expected `,` or `}`")),
            }
        }
    }
}

impl<'a> Json<'a> {
    /// The member `key` of an object (the last one if it repeats).
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Json<'a>> {
        match self {
            Json::Object(m) => m.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The text of a string.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        if let Json::String(s) = self { Some(s) } else { None }
    }

    /// Whether this is an object.
    #[must_use]
    pub fn is_object(&self) -> bool {
        matches!(self, Json::Object(_))
    }

    /// Whether this is `null`.
    #[must_use]
    pub fn is_null(&self) -> bool {
        matches!(self, Json::Null)
    }

    /// The value of a number written as an integer that fits a `u64`.
    #[must_use]
    pub fn as_u64(&self) -> Option<u64> {
        if let Json::Number(t) = self { parse_u64(t) } else { None }
    }

    /// The JSON type in words, for messages (`a string`, `a number`, …); a number JSON cannot
    /// hold, as the npm package writes it (`{"not_json": "NaN"}`, wasm/ts/driver.ts), by name.
    #[must_use]
    pub fn kind(&self) -> &str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Number(_) => "a number",
            Json::String(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => self.not_json().unwrap_or("an object"),
        }
    }

    /// A number JSON cannot hold, as the npm package writes it: `{"not_json": "NaN"}` → `NaN`.
    fn not_json(&self) -> Option<&str> {
        match self {
            Json::Object(m) => match m.as_slice() {
                [(k, Json::String(what))] if k == "not_json" => Some(what),
                _ => None,
            },
            _ => None,
        }
    }

    /// `self` with the members of `over` laid on it, objects merged recursively.
    pub fn merge(&mut self, over: Json<'a>) {
        match (self, over) {
            (Json::Object(base), Json::Object(over)) => {
                for (k, v) in over {
                    match base.iter_mut().rev().find(|(bk, _)| *bk == k) {
                        Some((_, slot)) => slot.merge(v),
                        None => base.push((k, v)),
                    }
                }
            }
            (slot, v) => *slot = v,
        }
    }

    /// Appends the compact JSON text of this value to `out`.
    pub fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Number(t) => out.push_str(t),
            Json::String(s) => write_str(s, out),
            Json::Array(items) => crate::writers::write_list(items, out),
            Json::Object(members) => {
                out.push('{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_str(k, out);
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
        }
    }

    /// A copy that owns all its text.
    #[must_use]
    pub fn into_owned(self) -> Json<'static> {
        match self {
            Json::Null => Json::Null,
            Json::Bool(b) => Json::Bool(b),
            Json::Number(t) => Json::Number(Cow::Owned(t.into_owned())),
            Json::String(s) => Json::String(Cow::Owned(s.into_owned())),
            Json::Array(items) => Json::Array(items.into_iter().map(Json::into_owned).collect()),
            Json::Object(members) => Json::Object(members.into_iter().map(|(k, v)| (Cow::Owned(k.into_owned()), v.into_owned())).collect()),
        }
    }
}

impl fmt::Display for Json<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        self.write(&mut s);
        f.write_str(&s)
    }
}

/// Appends `s` as a JSON string literal. Runs of plain text are copied whole: only `"`, `\\` and
/// control characters (all ASCII, so a cut before one is a character boundary) are escaped.
pub fn write_str(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(s.len() + 2);
    out.push('"');
    let mut from = 0;
    for (i, b) in s.bytes().enumerate() {
        let escaped = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(s.get(from..i).unwrap_or_default());
        if escaped.is_empty() {
            out.push_str("\\u00");
            out.push(char::from(HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0')));
            out.push(char::from(HEX.get(usize::from(b & 15)).copied().unwrap_or(b'0')));
        } else {
            out.push_str(escaped);
        }
        from = i + 1;
    }
    out.push_str(s.get(from..).unwrap_or_default());
    out.push('"');
}

/// Whether a number's text is an integer (no fraction, no exponent).
fn is_integer(t: &str) -> bool {
    !t.bytes().any(|b| matches!(b, b'.' | b'e' | b'E'))
}

/// The value of a number's text when it is an integer that fits a `u64` (`-0` is 0; `5.0` is not
/// an integer): how every typed reader reads a count.
pub(crate) fn integer(t: &str) -> Option<u64> {
    match classify(t) {
        Num::U(n) => Some(n),
        Num::I(n) => u64::try_from(n).ok(),
        _ => None,
    }
}

/// A number's text, classified once, out of line: every typed read shares this instead of carrying
/// its own copy of the integer parsing. No float is parsed, so that the typed readers (and the npm
/// package's wasm) carry no float parser.
enum Num {
    U(u64),
    I(i64),
    /// An integer beyond 64 bits.
    Big,
    /// A fraction or an exponent.
    Fraction,
}

#[inline(never)]
fn classify(t: &str) -> Num {
    if !is_integer(t) {
        Num::Fraction
    } else if let Some(n) = parse_u64(t) {
        Num::U(n)
    } else if let Some(n) = parse_i64(t) {
        Num::I(n)
    } else {
        Num::Big
    }
}

/// What `str::parse::<u64>` gives (an optional `+`, then ASCII digits, no overflow), without
/// std's generic integer parser: its `u64` and `i64` copies were ~1 KB of the npm package's
/// WebAssembly (2026-12-05).
pub(crate) fn parse_u64(s: &str) -> Option<u64> {
    let digits = s.strip_prefix('+').unwrap_or(s);
    if digits.is_empty() {
        return None;
    }
    digits.bytes().try_fold(0u64, |n, b| if b.is_ascii_digit() { n.checked_mul(10)?.checked_add(u64::from(b.wrapping_sub(b'0'))) } else { None })
}

/// What `str::parse::<i64>` gives (an optional sign, then ASCII digits, in range); see
/// [`parse_u64`].
pub(crate) fn parse_i64(s: &str) -> Option<i64> {
    match s.strip_prefix('-') {
        Some(magnitude) if !magnitude.starts_with('+') => 0i64.checked_sub_unsigned(parse_u64(magnitude)?),
        Some(_) => None,
        None => i64::try_from(parse_u64(s)?).ok(),
    }
}

/// Reads a [`Json`] from any serde format (a binding's own values). Numbers keep their text: an
/// integer as written, a float in its shortest round-trip form (as serde_json writes it).
impl<'de> serde::Deserialize<'de> for Json<'static> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json<'static>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<Json<'static>, E> {
        Ok(Json::Null)
    }
    fn visit_none<E>(self) -> Result<Json<'static>, E> {
        Ok(Json::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Json<'static>, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Json<'static>, E> {
        Ok(Json::Bool(b))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Json<'static>, E> {
        Ok(Json::Number(Cow::Owned(n.to_string())))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Json<'static>, E> {
        Ok(Json::Number(Cow::Owned(n.to_string())))
    }
    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Json<'static>, E> {
        if n.is_finite() { Ok(crate::writers::float(n)) } else { Err(E::custom("a JSON number must be finite")) }
    }
    fn visit_str<E>(self, s: &str) -> Result<Json<'static>, E> {
        Ok(Json::String(Cow::Owned(s.to_owned())))
    }
    fn visit_string<E>(self, s: String) -> Result<Json<'static>, E> {
        Ok(Json::String(Cow::Owned(s)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json<'static>, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element()? {
            items.push(v);
        }
        Ok(Json::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json<'static>, A::Error> {
        let mut members = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Json<'static>>()? {
            members.push((Cow::Owned(k), v));
        }
        Ok(Json::Object(members))
    }
}

/// Writes a [`Json`] to any serde format. A number goes out as an integer when its text is one
/// that fits 64 bits, otherwise as a float (where the format has nothing exact).
impl serde::Serialize for Json<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self {
            Json::Null => s.serialize_unit(),
            Json::Bool(b) => s.serialize_bool(*b),
            Json::Number(t) => {
                if let Some(n) = parse_u64(t) {
                    s.serialize_u64(n)
                } else if let Some(n) = parse_i64(t) {
                    s.serialize_i64(n)
                } else {
                    s.serialize_f64(t.parse().unwrap_or(0.0))
                }
            }
            Json::String(v) => s.serialize_str(v),
            Json::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for v in items {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            Json::Object(members) => {
                let mut map = s.serialize_map(Some(members.len()))?;
                for (k, v) in members {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The core's integer readers give what std's do, on any text and on digit strings.
        #[test]
        fn integer_readers_agree_with_std(s in "[-+]{0,2}[0-9]{0,21}|\\PC{0,6}") {
            proptest::prop_assert_eq!(parse_u64(&s), s.parse::<u64>().ok());
            proptest::prop_assert_eq!(parse_i64(&s), s.parse::<i64>().ok());
        }
    }

    #[test]
    fn integer_readers_at_the_edges() {
        for s in ["", "+", "-", "0", "-0", "+0", "18446744073709551615", "18446744073709551616", "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "-+1", "+-1", "++1", "007", " 1", "1 ", "١"] {
            assert_eq!(parse_u64(s), s.parse::<u64>().ok(), "{s:?}");
            assert_eq!(parse_i64(s), s.parse::<i64>().ok(), "{s:?}");
        }
    }

    #[test]
    fn reads_what_serde_json_reads() {
        let cases = [
            r#"{"a":[1,-2,3.5,1e3,true,false,null],"b":"x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00","c":{}}"#,
            "[]",
            " 0 ",
            "\"\"",
            "-0.0e+5",
            "[[[[]]]]",
        ];
        for c in cases {
            let ours = parse(c.as_bytes()).unwrap();
            let theirs: serde_json::Value = serde_json::from_str(c).unwrap();
            let back: serde_json::Value = serde_json::from_str(&ours.to_string()).unwrap();
            assert_eq!(back, theirs, "{c}");
        }
    }

    #[test]
    fn refuses_what_is_not_json() {
        let cases: [&[u8]; 16] = [
            b"", b"nul", b"01", b"1.", b"-", b"1e", b"[1,]", b"{\"a\" 1}", b"{a:1}", b"\"\\x\"", b"\"\\ud800\\u00\"", b"\"a\nb\"", b"1 2", b"\"abc",
            b"\xff", b"{\"a\":1,}",
        ];
        for c in cases {
            assert!(parse(c).is_err(), "{:?}", String::from_utf8_lossy(c));
            assert!(serde_json::from_slice::<serde_json::Value>(c).is_err(), "serde_json accepts {:?}", String::from_utf8_lossy(c));
        }
    }

    #[test]
    fn a_lone_surrogate_is_the_replacement_character() {
        let text = |j: &str| parse(j.as_bytes()).ok().and_then(|v| v.as_str().map(str::to_owned));
        assert_eq!(text(r#""a\ud800""#).as_deref(), Some("a\u{FFFD}"));
        assert_eq!(text(r#""\udc00b""#).as_deref(), Some("\u{FFFD}b"));
        // The escape after a lone high surrogate is its own character, not lost with it.
        assert_eq!(text(r#""\ud800\u0041""#).as_deref(), Some("\u{FFFD}A"));
        assert_eq!(text(r#""\ud800\ud83d\ude00""#).as_deref(), Some("\u{FFFD}\u{1F600}"));
        assert_eq!(text(r#""\ud83d\ude00""#).as_deref(), Some("\u{1F600}"));
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(parse(deep.as_bytes()).is_err());
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse(ok.as_bytes()).is_ok());
    }

    #[test]
    fn numbers_keep_their_text() {
        assert_eq!(parse(b"0.24").unwrap(), Json::Number("0.24".into()));
        assert_eq!(parse(b"18446744073709551616").unwrap().as_u64(), None);
        assert_eq!(parse(b"18446744073709551615").unwrap().as_u64(), Some(u64::MAX));
    }

    #[test]
    fn merge_lays_members_over() {
        let mut a = parse(br#"{"x":1,"o":{"p":1,"q":2}}"#).unwrap();
        a.merge(parse(br#"{"o":{"q":3},"y":true}"#).unwrap());
        assert_eq!(a.to_string(), r#"{"x":1,"o":{"p":1,"q":3},"y":true}"#);
    }

    #[test]
    fn writes_escapes() {
        let mut s = String::new();
        write_str("a\"\\\n\u{1}é", &mut s);
        assert_eq!(s, "\"a\\\"\\\\\\n\\u0001é\"");
        // Every escape at every position, and text that needs none, round trip.
        for text in ["", "plain", "\"", "\\x\\", "a\tb\rc\u{1f}d", "ünï\u{7f}\"end"] {
            let mut w = String::new();
            write_str(text, &mut w);
            assert_eq!(parse(w.as_bytes()).unwrap(), Json::String(text.into()), "{w}");
            assert_eq!(w, serde_json::to_string(text).unwrap());
        }
    }

    /// A value read from serde (a binding's own values) and the same value's serde_json text read
    /// by the parser give the same tree, floats included: both are written by zmij.
    #[test]
    fn serde_values_and_their_text_read_alike() {
        for v in [serde_json::json!(1.0), serde_json::json!(0.1), serde_json::json!(1.0 / 15.0), serde_json::json!(-2.5e-300), serde_json::json!(1e21), serde_json::json!([u64::MAX, i64::MIN, {"x": 0.65}])] {
            let from_serde: Json<'static> = serde::Deserialize::deserialize(&v).unwrap();
            let text = v.to_string();
            assert_eq!(from_serde, parse(text.as_bytes()).unwrap(), "{text}");
        }
    }
}
