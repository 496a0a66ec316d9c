//! Header names (with RFC 3261 §7.3.3 compact forms) and the ordered header list.

use std::fmt;

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

        impl HeaderName {
            /// Maps a name as written on the wire (any case, compact or long) to a `HeaderName`.
            pub fn parse(name: &str) -> HeaderName {
                if name.len() == 1 {
                    let c = name.as_bytes()[0].to_ascii_lowercase();
                    $( $( if c == $compact { return HeaderName::$variant; } )? )*
                }
                $( if name.eq_ignore_ascii_case($canon) { return HeaderName::$variant; } )*
                HeaderName::Other(name.to_owned())
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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    items: Vec<Header>,
}

impl Headers {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty list with room for `n` headers.
    pub fn with_capacity(n: usize) -> Self {
        Headers {
            items: Vec::with_capacity(n),
        }
    }

    /// Appends a header.
    pub fn push(&mut self, name: impl Into<HeaderName>, value: impl Into<String>) {
        self.items.push(Header {
            name: name.into(),
            value: value.into(),
            line: 0,
        });
    }

    pub(crate) fn push_parsed(&mut self, h: Header) {
        self.items.push(h);
    }

    /// Inserts a header before all others (for a new top Via).
    pub fn push_front(&mut self, name: impl Into<HeaderName>, value: impl Into<String>) {
        self.items.insert(
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
        self.items
            .iter()
            .find(|h| &h.name == name)
            .map(|h| h.value.as_str())
    }

    /// The first header with this name, with its line number.
    pub fn get_header(&self, name: &HeaderName) -> Option<&Header> {
        self.items.iter().find(|h| &h.name == name)
    }

    /// The value of the first header whose name matches `name` case-insensitively (also compact).
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(&HeaderName::parse(name))
    }

    /// Every header line with this name, in order.
    pub fn get_all<'a>(&'a self, name: &'a HeaderName) -> impl Iterator<Item = &'a str> + 'a {
        self.items
            .iter()
            .filter(move |h| &h.name == name)
            .map(|h| h.value.as_str())
    }

    /// Every comma-separated value of every header line with this name (`Via: a, b` gives two),
    /// splitting only at top-level commas (not inside quotes or `<>`).
    pub fn values<'a>(&'a self, name: &'a HeaderName) -> impl Iterator<Item = &'a str> + 'a {
        self.get_all(name).flat_map(split_list)
    }

    /// How many header lines have this name.
    pub fn count(&self, name: &HeaderName) -> usize {
        self.items.iter().filter(|h| &h.name == name).count()
    }

    /// Removes every header with this name; returns how many were removed.
    pub fn remove(&mut self, name: &HeaderName) -> usize {
        let before = self.items.len();
        self.items.retain(|h| &h.name != name);
        before - self.items.len()
    }

    /// Replaces every header with this name by one with `value` (appended where the first was).
    pub fn set(&mut self, name: impl Into<HeaderName>, value: impl Into<String>) {
        let name = name.into();
        let value = value.into();
        match self.items.iter().position(|h| h.name == name) {
            Some(i) => {
                self.items[i].value = value;
                let mut j = i + 1;
                while j < self.items.len() {
                    if self.items[j].name == name {
                        self.items.remove(j);
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
        self.items.iter()
    }

    /// Number of header lines.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are no headers.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

impl<'a> IntoIterator for &'a Headers {
    type Item = &'a Header;
    type IntoIter = std::slice::Iter<'a, Header>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
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
    let mut done = false;
    std::iter::from_fn(move || {
        while !done {
            if i >= bytes.len() {
                done = true;
                let part = value[start..].trim();
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
                    let part = value[start..i - 1].trim();
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
mod tests {
    use super::*;

    #[test]
    fn compact_and_case_insensitive_names() {
        assert_eq!(HeaderName::parse("v"), HeaderName::Via);
        assert_eq!(HeaderName::parse("I"), HeaderName::CallId);
        assert_eq!(HeaderName::parse("cseq"), HeaderName::CSeq);
        assert_eq!(
            HeaderName::parse("content-length"),
            HeaderName::ContentLength
        );
        let org = HeaderName::parse("e911-organization-id");
        assert_eq!(org, HeaderName::parse("E911-Organization-ID"));
        assert_ne!(org, HeaderName::parse("E911-Organization"));
        assert_eq!(org.as_str(), "e911-organization-id");
    }

    #[test]
    fn splits_only_top_level_commas() {
        let v: Vec<_> =
            split_list(r#""Doe, John" <sip:a@b;x=1,2>, <sip:c@d> ,, sip:e@f"#).collect();
        assert_eq!(
            v,
            vec![r#""Doe, John" <sip:a@b;x=1,2>"#, "<sip:c@d>", "sip:e@f"]
        );
    }

    #[test]
    fn set_replaces_all() {
        let mut h = Headers::new();
        h.push("Route", "a");
        h.push("Via", "x");
        h.push("route", "b");
        h.set("ROUTE", "c");
        assert_eq!(h.get_all(&HeaderName::Route).collect::<Vec<_>>(), vec!["c"]);
        assert_eq!(h.len(), 2);
    }
}
