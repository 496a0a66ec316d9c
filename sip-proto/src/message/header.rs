//! Header names (with RFC 3261 §7.3.3 compact forms) and the ordered header list.

use std::fmt;
use std::sync::OnceLock;

macro_rules! header_names {
    ($( $variant:ident => $canon:literal $(, $compact:literal)? ;)*) => {
        /// A header name. Known names are variants (compact forms map to them); any other name
        /// is kept as written and compares case-insensitively.
        #[derive(Debug, Clone, Eq)]
        #[non_exhaustive]
        pub enum HeaderName {
            $(
                #[doc = $canon]
                $variant,
            )*
            /// A name this crate has no variant for, as written.
            Other(String),
        }

        /// The known names without data: what a parsed header stores instead of a
        /// [`HeaderName`], and an index into [`CANON`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum Known {
            $( $variant, )*
        }

        /// Canonical long forms, in [`Known`] order.
        const CANON: &[&str] = &[ $( $canon, )* ];
        /// Every [`Known`], in order.
        pub(crate) const ALL: &[Known] = &[ $( Known::$variant, )* ];

        impl Known {
            fn compact(c: u8) -> Option<Known> {
                $( $( if c == $compact { return Some(Known::$variant); } )? )*
                None
            }

            /// The public name.
            pub(crate) fn name(self) -> HeaderName {
                match self {
                    $( Known::$variant => HeaderName::$variant, )*
                }
            }
        }

        impl HeaderName {
            /// Maps a name as written on the wire (any case, compact or long) to a `HeaderName`.
            pub fn parse(name: &str) -> HeaderName {
                match Known::lookup(name) {
                    Some(k) => k.name(),
                    None => HeaderName::Other(name.to_owned()),
                }
            }

            /// The known name without data, `None` for [`HeaderName::Other`].
            pub(crate) fn known(&self) -> Option<Known> {
                match self {
                    $( HeaderName::$variant => Some(Known::$variant), )*
                    HeaderName::Other(_) => None,
                }
            }

            /// The canonical long form (or the name as written for [`HeaderName::Other`]).
            pub fn as_str(&self) -> &str {
                match self {
                    $( HeaderName::$variant => $canon, )*
                    HeaderName::Other(s) => s,
                }
            }
        }
    };
}

/// Each [`CANON`] entry lowercased, and a mask with `0x20` where the entry has a letter, as
/// four little-endian words each (zero-padded): `(byte | mask) == lower` for every byte is a
/// case-insensitive match (only letters differ by `0x20` between cases), eight bytes a step.
static FOLDED: [[[u64; 4]; 2]; CANON.len()] = {
    let mut t = [[[0u64; 4]; 2]; CANON.len()];
    let mut i = 0;
    while i < CANON.len() {
        let c = CANON[i].as_bytes();
        let mut j = 0;
        while j < c.len() {
            let shift = 8 * (j % 8);
            t[i][0][j / 8] |= (c[j].to_ascii_lowercase() as u64) << shift;
            if c[j].is_ascii_alphabetic() {
                t[i][1][j / 8] |= 0x20 << shift;
            }
            j += 1;
        }
        i += 1;
    }
    t
};

/// Slots of the hash table [`SLOTS`] (a power of two, well above `CANON.len()`).
const NSLOTS: usize = 128;

/// The slot of a long name of length `len` with these first and last bytes, case-insensitive
/// since it folds `0x20` into both bytes. The factors are chosen so that no two known names
/// share a slot (checked when [`SLOTS`] is built): the one slot decides.
const fn slot(len: usize, first: u8, last: u8) -> usize {
    (len * 20 + (first | 0x20) as usize * 12 + (last | 0x20) as usize * 15) % NSLOTS
}

/// `1 +` the [`CANON`] index of the name in each slot, `0` for none.
static SLOTS: [u8; NSLOTS] = {
    let mut t = [0u8; NSLOTS];
    let mut i = 0;
    while i < CANON.len() {
        let c = CANON[i].as_bytes();
        assert!(c.len() > 1 && c.len() < 32);
        let h = slot(c.len(), c[0], c[c.len() - 1]);
        assert!(
            t[h] == 0,
            "two header names share a slot: change the factors of slot()"
        );
        t[h] = i as u8 + 1;
        i += 1;
    }
    t
};

/// The length of each [`CANON`] entry.
static LENS: [u8; CANON.len()] = {
    let mut t = [0u8; CANON.len()];
    let mut i = 0;
    while i < CANON.len() {
        t[i] = CANON[i].len() as u8;
        i += 1;
    }
    t
};

/// Whether the name that is the first `n` bytes of `b` is [`CANON`] entry `i` in any case; `b`
/// holds at least `n` rounded up to a multiple of 8 bytes (what follows the name is ignored).
#[inline(always)]
fn matches_folded(b: &[u8], n: usize, i: usize) -> bool {
    if usize::from(LENS[i]) != n || n == 0 || b.len() < n.next_multiple_of(8) {
        return false;
    }
    let [lower, mask] = &FOLDED[i];
    // Whole words while the name fills them, then the last word without the bytes past it.
    let mut k = 0;
    loop {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[8 * k..8 * k + 8]);
        let diff = (u64::from_le_bytes(w) | mask[k]) ^ lower[k];
        let left = n - 8 * k;
        if left <= 8 {
            return diff & (u64::MAX >> (64 - 8 * left)) == 0;
        }
        if diff != 0 {
            return false;
        }
        k += 1;
    }
}

impl Known {
    /// Classifies a name as written (any case, compact or long); `None` for a name with no
    /// variant.
    pub(crate) fn lookup(name: &str) -> Option<Known> {
        Known::lookup_bytes(name.as_bytes())
    }

    /// [`Known::lookup`] on the bytes of a name.
    pub(crate) fn lookup_bytes(b: &[u8]) -> Option<Known> {
        Known::lookup_short(b, b.len())
    }

    /// The name that is the first `n` bytes of `line`: its [`slot`] by length, first and last
    /// byte, then one case-insensitive compare with the name there. The compare reads whole
    /// words of `line`, past the name when it is long enough.
    #[inline(always)]
    pub(crate) fn lookup_in(line: &[u8], n: usize) -> Option<Known> {
        if n > 1 && n < 32 && line.len() >= n.next_multiple_of(8) {
            let i = usize::from(SLOTS[slot(n, line[0], line[n - 1])]).checked_sub(1)?;
            return matches_folded(line, n, i).then_some(ALL[i]);
        }
        Known::lookup_short(line, n)
    }

    /// [`Known::lookup_in`] for compact forms and for names too close to the end of `line`.
    #[inline(never)]
    fn lookup_short(line: &[u8], n: usize) -> Option<Known> {
        match n {
            0 => None,
            1 => Known::compact(line[0].to_ascii_lowercase()),
            n if n < 32 => {
                let mut padded = [0u8; 32];
                padded[..n].copy_from_slice(&line[..n]);
                let i = usize::from(SLOTS[slot(n, line[0], line[n - 1])]).checked_sub(1)?;
                matches_folded(&padded, n, i).then_some(ALL[i])
            }
            _ => None,
        }
    }

    /// The canonical long form.
    pub(crate) fn as_str(self) -> &'static str {
        CANON[self as usize]
    }
}

header_names! {
    Accept => "Accept";
    AcceptContact => "Accept-Contact", b'a';
    Allow => "Allow";
    AllowEvents => "Allow-Events", b'u';
    Authorization => "Authorization";
    CallId => "Call-ID", b'i';
    Contact => "Contact", b'm';
    ContentDisposition => "Content-Disposition";
    ContentEncoding => "Content-Encoding", b'e';
    ContentId => "Content-ID";
    ContentLength => "Content-Length", b'l';
    ContentType => "Content-Type", b'c';
    CSeq => "CSeq";
    Date => "Date";
    Event => "Event", b'o';
    Expires => "Expires";
    From => "From", b'f';
    Geolocation => "Geolocation";
    GeolocationRouting => "Geolocation-Routing";
    MaxForwards => "Max-Forwards";
    PAssertedIdentity => "P-Asserted-Identity";
    Privacy => "Privacy";
    ProxyAuthorization => "Proxy-Authorization";
    ProxyRequire => "Proxy-Require";
    Reason => "Reason";
    RecordRoute => "Record-Route";
    ReferTo => "Refer-To", b'r';
    ReferredBy => "Referred-By", b'b';
    RemotePartyId => "Remote-Party-ID";
    Require => "Require";
    RetryAfter => "Retry-After";
    Route => "Route";
    Server => "Server";
    SessionExpires => "Session-Expires", b'x';
    Subject => "Subject", b's';
    Supported => "Supported", b'k';
    To => "To", b't';
    Unsupported => "Unsupported";
    UserAgent => "User-Agent";
    Via => "Via", b'v';
    Warning => "Warning";
    WwwAuthenticate => "WWW-Authenticate";
}

impl PartialEq for HeaderName {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (HeaderName::Other(a), HeaderName::Other(b)) => a.eq_ignore_ascii_case(b),
            (HeaderName::Other(_), _) | (_, HeaderName::Other(_)) => false,
            _ => std::mem::discriminant(self) == std::mem::discriminant(other),
        }
    }
}

impl fmt::Display for HeaderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for HeaderName {
    fn from(s: &str) -> Self {
        HeaderName::parse(s)
    }
}

/// One header line (after unfolding): name and value with surrounding whitespace removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The name.
    pub name: HeaderName,
    /// The value, unfolded and trimmed.
    pub value: String,
    /// 1-based line of the header in the message it was parsed from (0 when built).
    pub line: u32,
}

/// The headers of a message, in wire order.
///
/// A parsed message keeps its header block as one string and each header as a span of it
/// (name, value, line); the value-only accessors ([`Headers::get`], [`Headers::get_all`],
/// [`Headers::values`], [`Headers::count`]) read those spans directly. [`Header`] values are
/// built on first use of [`Headers::iter`] or [`Headers::get_header`], and any change turns
/// the list into owned headers.
#[derive(Clone)]
pub struct Headers {
    repr: Repr,
}

#[derive(Clone)]
enum Repr {
    Built(Vec<Header>),
    Parsed {
        raw: Raw,
        /// Bit `k as u8` set when a header with known name `k` is present: a lookup of an
        /// absent known header answers without a scan.
        present: u64,
        cache: OnceLock<Vec<Header>>,
    },
}

// Every known name has a bit in `present`.
const _: () = assert!(ALL.len() <= 64);

/// The bit of `k` in [`Repr::Parsed`]'s `present`.
fn bit(k: Known) -> u64 {
    1u64 << (k as u8)
}

/// The values of the headers with one name: what [`Headers::get`], [`Headers::get_all`] and
/// [`Headers::count`] read. A known name on a parsed list compares one byte a header and
/// slices only the matches.
pub(crate) enum Matching<'a, 'n> {
    Absent,
    Known(&'a str, std::slice::Iter<'a, Span>, Known),
    Built(std::slice::Iter<'a, Header>, &'n HeaderName),
    Views(Views<'a>, &'n HeaderName),
}

impl<'a> Iterator for Matching<'a, '_> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        match self {
            Matching::Absent => None,
            Matching::Known(text, it, k) => it
                .find(|s| s.known == Some(*k))
                .map(|s| text.get(s.value.0..s.value.1).unwrap_or("")),
            Matching::Built(it, name) => it.find(|h| h.name == **name).map(|h| h.value.as_str()),
            Matching::Views(it, name) => it.find(|h| h.is(name)).map(|h| h.value),
        }
    }
}

/// A parsed header block: the text and one span per header.
#[derive(Debug, Clone)]
pub(crate) struct Raw {
    /// The header block as received, then the unfolded values of folded headers.
    pub(crate) text: String,
    /// The headers, in order.
    pub(crate) spans: Vec<Span>,
}

/// One parsed header: where its name and (unfolded, trimmed) value are in [`Raw::text`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Span {
    /// The known name, `None` for a name kept as written.
    pub(crate) known: Option<Known>,
    pub(crate) name: (usize, usize),
    pub(crate) value: (usize, usize),
    /// 1-based line in the message.
    pub(crate) line: u32,
}

/// A header as the parser and the accessors see it, borrowed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct View<'a> {
    pub(crate) known: Option<Known>,
    /// The canonical name for a known header, else the name as written.
    pub(crate) name: &'a str,
    pub(crate) value: &'a str,
    pub(crate) line: u32,
}

impl View<'_> {
    fn is(&self, name: &HeaderName) -> bool {
        match (self.known, name) {
            (_, HeaderName::Other(o)) => self.known.is_none() && self.name.eq_ignore_ascii_case(o),
            (Some(k), n) => n.known() == Some(k),
            (None, _) => false,
        }
    }

    fn to_header(self) -> Header {
        Header {
            name: match self.known {
                Some(k) => k.name(),
                None => HeaderName::Other(self.name.to_owned()),
            },
            value: self.value.to_owned(),
            line: self.line,
        }
    }
}

/// Iterator over [`View`]s.
pub(crate) enum Views<'a> {
    Built(std::slice::Iter<'a, Header>),
    Parsed(&'a str, std::slice::Iter<'a, Span>),
}

impl<'a> Iterator for Views<'a> {
    type Item = View<'a>;
    fn next(&mut self) -> Option<View<'a>> {
        match self {
            Views::Built(it) => it.next().map(|h| View {
                known: h.name.known(),
                name: h.name.as_str(),
                value: &h.value,
                line: h.line,
            }),
            Views::Parsed(text, it) => it.next().map(|s| View {
                known: s.known,
                name: match s.known {
                    Some(k) => k.as_str(),
                    None => text.get(s.name.0..s.name.1).unwrap_or(""),
                },
                value: text.get(s.value.0..s.value.1).unwrap_or(""),
                line: s.line,
            }),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Views::Built(it) => it.size_hint(),
            Views::Parsed(_, it) => it.size_hint(),
        }
    }
}

impl Default for Headers {
    fn default() -> Self {
        Headers {
            repr: Repr::Built(Vec::new()),
        }
    }
}

impl PartialEq for Headers {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self.views().zip(other.views()).all(|(a, b)| {
                a.known == b.known
                    && (a.known.is_some() || a.name.eq_ignore_ascii_case(b.name))
                    && a.value == b.value
                    && a.line == b.line
            })
    }
}

impl Eq for Headers {}

impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.views().map(|v| (v.name, v.value, v.line)))
            .finish()
    }
}

impl Headers {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty list with room for `n` headers.
    pub fn with_capacity(n: usize) -> Self {
        Headers {
            repr: Repr::Built(Vec::with_capacity(n)),
        }
    }

    /// The headers of a parsed header block.
    pub(crate) fn parsed(raw: Raw) -> Self {
        let present = raw
            .spans
            .iter()
            .filter_map(|s| s.known)
            .fold(0, |m, k| m | bit(k));
        Headers {
            repr: Repr::Parsed {
                raw,
                present,
                cache: OnceLock::new(),
            },
        }
    }

    /// The values of the headers named `name`, in order.
    fn matching<'a, 'n>(&'a self, name: &'n HeaderName) -> Matching<'a, 'n> {
        match (&self.repr, name.known()) {
            (Repr::Built(v), _) => Matching::Built(v.iter(), name),
            (Repr::Parsed { present, .. }, Some(k)) if present & bit(k) == 0 => Matching::Absent,
            (Repr::Parsed { raw, .. }, Some(k)) => Matching::Known(&raw.text, raw.spans.iter(), k),
            (Repr::Parsed { .. }, None) => Matching::Views(self.views(), name),
        }
    }

    /// Every header, borrowed, without building [`Header`] values.
    pub(crate) fn views(&self) -> Views<'_> {
        match &self.repr {
            Repr::Built(v) => Views::Built(v.iter()),
            Repr::Parsed { raw, .. } => Views::Parsed(&raw.text, raw.spans.iter()),
        }
    }

    fn items(&self) -> &Vec<Header> {
        match &self.repr {
            Repr::Built(v) => v,
            Repr::Parsed { cache, .. } => {
                cache.get_or_init(|| self.views().map(View::to_header).collect())
            }
        }
    }

    fn items_mut(&mut self) -> &mut Vec<Header> {
        if let Repr::Parsed { cache, .. } = &mut self.repr {
            let v = match cache.take() {
                Some(v) => v,
                None => self.views().map(View::to_header).collect(),
            };
            self.repr = Repr::Built(v);
        }
        match &mut self.repr {
            Repr::Built(v) => v,
            Repr::Parsed { .. } => unreachable!("converted to built headers above"),
        }
    }

    /// Appends a header.
    pub fn push(&mut self, name: impl Into<HeaderName>, value: impl Into<String>) {
        self.items_mut().push(Header {
            name: name.into(),
            value: value.into(),
            line: 0,
        });
    }

    /// Inserts a header before all others (for a new top Via).
    pub fn push_front(&mut self, name: impl Into<HeaderName>, value: impl Into<String>) {
        self.items_mut().insert(
            0,
            Header {
                name: name.into(),
                value: value.into(),
                line: 0,
            },
        );
    }

    /// The value of the first header with this name.
    pub fn get(&self, name: &HeaderName) -> Option<&str> {
        self.matching(name).next()
    }

    /// The first header with this name, with its line number.
    pub fn get_header(&self, name: &HeaderName) -> Option<&Header> {
        self.items().iter().find(|h| &h.name == name)
    }

    /// The value of the first header whose name matches `name` case-insensitively (also compact).
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(&HeaderName::parse(name))
    }

    /// Every header line with this name, in order.
    pub fn get_all<'a>(&'a self, name: &'a HeaderName) -> impl Iterator<Item = &'a str> + 'a {
        self.matching(name)
    }

    /// Every comma-separated value of every header line with this name (`Via: a, b` gives two),
    /// splitting only at top-level commas (not inside quotes or `<>`).
    pub fn values<'a>(&'a self, name: &'a HeaderName) -> impl Iterator<Item = &'a str> + 'a {
        self.get_all(name).flat_map(split_list)
    }

    /// How many header lines have this name.
    pub fn count(&self, name: &HeaderName) -> usize {
        self.matching(name).count()
    }

    /// Removes every header with this name; returns how many were removed.
    pub fn remove(&mut self, name: &HeaderName) -> usize {
        let items = self.items_mut();
        let before = items.len();
        items.retain(|h| &h.name != name);
        before - items.len()
    }

    /// Replaces every header with this name by one with `value` (appended where the first was).
    pub fn set(&mut self, name: impl Into<HeaderName>, value: impl Into<String>) {
        let name = name.into();
        let value = value.into();
        let items = self.items_mut();
        match items.iter().position(|h| h.name == name) {
            Some(i) => {
                items[i].value = value;
                let mut j = i + 1;
                while j < items.len() {
                    if items[j].name == name {
                        items.remove(j);
                    } else {
                        j += 1;
                    }
                }
            }
            None => self.push(name, value),
        }
    }

    /// All headers, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Header> {
        self.items().iter()
    }

    /// Number of header lines.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Built(v) => v.len(),
            Repr::Parsed { raw, .. } => raw.spans.len(),
        }
    }

    /// Whether there are no headers.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<'a> IntoIterator for &'a Headers {
    type Item = &'a Header;
    type IntoIter = std::slice::Iter<'a, Header>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// `s.trim()`, quicker when `s` starts and ends with a visible ASCII character (a parsed value
/// always does).
#[inline]
pub(crate) fn trim(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(&a), Some(&z)) if a.is_ascii_graphic() && z.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}

/// Splits a header value at top-level commas (outside quoted strings and `<...>`), trimming each
/// part and skipping empty parts.
pub fn split_list(value: &str) -> impl Iterator<Item = &str> {
    let bytes = value.as_bytes();
    let mut start = 0;
    let mut i = 0;
    let mut in_quotes = false;
    let mut in_angle = false;
    // Most values hold no comma at all: then the value is the only part.
    let mut done = memchr::memchr(b',', bytes).is_none();
    let mut single = done.then(|| trim(value)).filter(|p| !p.is_empty());
    std::iter::from_fn(move || {
        if let Some(p) = single.take() {
            return Some(p);
        }
        while !done {
            if i >= bytes.len() {
                done = true;
                let part = trim(&value[start..]);
                if !part.is_empty() {
                    return Some(part);
                }
                return None;
            }
            let b = bytes[i];
            i += 1;
            match b {
                b'\\' if in_quotes => i += 1,
                b'"' => in_quotes = !in_quotes,
                b'<' if !in_quotes => in_angle = true,
                b'>' if !in_quotes => in_angle = false,
                b',' if !in_quotes && !in_angle => {
                    let part = trim(&value[start..i - 1]);
                    start = i;
                    if !part.is_empty() {
                        return Some(part);
                    }
                }
                _ => {}
            }
        }
        None
    })
}

#[cfg(test)]
#[path = "header_tests.rs"]
mod tests;
