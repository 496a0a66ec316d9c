//! Location by value (RFC 6442): a `Geolocation: <cid:...>` header pointing at a PIDF-LO
//! document (RFC 4119, RFC 5491) carried in a `multipart/mixed` body beside the SDP, with a
//! civic address (RFC 5139) a dispatcher can act on, down to floor and room.
//!
//! [`Civic`] + [`pidf_lo`] write the document the trunk sends; [`check`] reads what arrived and
//! returns the address and every finding (Content-ID mismatch, not XML, no civic address,
//! missing dispatchable fields, no `Geolocation-Routing`). A document that is not XML is a
//! finding, never an error or a panic.

use std::fmt::Write as _;

use crate::multipart;

/// PIDF namespace.
pub const NS_PIDF: &str = "urn:ietf:params:xml:ns:pidf";
/// GEOPRIV namespace.
pub const NS_GEOPRIV: &str = "urn:ietf:params:xml:ns:pidf:geopriv10";
/// Civic address namespace.
pub const NS_CIVIC: &str = "urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr";
/// PIDF data model namespace.
pub const NS_DM: &str = "urn:ietf:params:xml:ns:pidf:data-model";

/// A civic address (RFC 5139 element names).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Civic {
    /// `country` (ISO 3166 alpha-2).
    pub country: String,
    /// `A1`: state or province.
    pub a1: String,
    /// `A3`: city.
    pub a3: String,
    /// `HNO`: house number.
    pub hno: String,
    /// `RD`: road.
    pub rd: String,
    /// `STS`: street suffix.
    pub sts: String,
    /// `PC`: postal code.
    pub pc: String,
    /// `FLR`: floor.
    pub flr: String,
    /// `ROOM`.
    pub room: String,
}

/// The fields, by element name, in document order.
const FIELDS: [&str; 9] = [
    "country", "A1", "A3", "RD", "STS", "HNO", "FLR", "ROOM", "PC",
];
/// What a dispatcher needs at the least.
const REQUIRED: [&str; 5] = ["country", "A1", "A3", "RD", "HNO"];

impl Civic {
    fn field(&self, name: &str) -> &str {
        match name {
            "country" => &self.country,
            "A1" => &self.a1,
            "A3" => &self.a3,
            "HNO" => &self.hno,
            "RD" => &self.rd,
            "STS" => &self.sts,
            "PC" => &self.pc,
            "FLR" => &self.flr,
            "ROOM" => &self.room,
            _ => "",
        }
    }

    fn field_mut(&mut self, name: &str) -> Option<&mut String> {
        Some(match name {
            "country" => &mut self.country,
            "A1" => &mut self.a1,
            "A3" => &mut self.a3,
            "HNO" => &mut self.hno,
            "RD" => &mut self.rd,
            "STS" => &mut self.sts,
            "PC" => &mut self.pc,
            "FLR" => &mut self.flr,
            "ROOM" => &mut self.room,
            _ => return None,
        })
    }

    /// One line: `1 Main St, Floor 2, Room 210, Chicago, IL 60601, US`.
    pub fn one_line(&self) -> String {
        let street = [self.hno.as_str(), &self.rd, &self.sts]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        let mut parts = vec![street];
        if !self.flr.is_empty() {
            parts.push(format!("Floor {}", self.flr));
        }
        if !self.room.is_empty() {
            parts.push(format!("Room {}", self.room));
        }
        parts.push(self.a3.clone());
        parts.push(format!("{} {}", self.a1, self.pc).trim().to_owned());
        parts.push(self.country.clone());
        parts.retain(|p| !p.is_empty());
        parts.join(", ")
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A PIDF-LO document for `entity` (`pres:+13125550100@trunk.example`) at `civic`.
pub fn pidf_lo(entity: &str, civic: &Civic) -> String {
    let mut x = String::with_capacity(900);
    let _ = write!(
        x,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n\
         <presence xmlns=\"{NS_PIDF}\" xmlns:gp=\"{NS_GEOPRIV}\" xmlns:ca=\"{NS_CIVIC}\" \
         xmlns:dm=\"{NS_DM}\" entity=\"{}\">\r\n\
         <dm:device id=\"trunk-device\">\r\n<gp:geopriv>\r\n<gp:location-info>\r\n\
         <ca:civicAddress xml:lang=\"en\">\r\n",
        xml_escape(entity)
    );
    for name in FIELDS {
        let v = civic.field(name);
        if !v.is_empty() {
            let _ = write!(x, "<ca:{name}>{}</ca:{name}>\r\n", xml_escape(v));
        }
    }
    x.push_str(
        "</ca:civicAddress>\r\n</gp:location-info>\r\n<gp:usage-rules/>\r\n\
         <gp:method>Manual</gp:method>\r\n</gp:geopriv>\r\n</dm:device>\r\n</presence>\r\n",
    );
    x
}

/// What a gateway found in an INVITE's location by value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conveyed {
    /// The civic address read, when one was.
    pub civic: Option<Civic>,
    /// The `Geolocation-Routing` value (`yes`/`no`), if present.
    pub routing: Option<String>,
    /// Everything wrong or missing, in plain words; empty when the location is usable.
    pub findings: Vec<String>,
}

/// Checks location by value: `geolocation` is the Geolocation header, `routing` the
/// Geolocation-Routing header, `content_type` and `body` the INVITE's.
pub fn check(
    geolocation: Option<&str>,
    routing: Option<&str>,
    content_type: Option<&str>,
    body: &[u8],
) -> Conveyed {
    let mut out = Conveyed {
        routing: routing.map(|r| r.trim().to_ascii_lowercase()),
        ..Conveyed::default()
    };
    if out.routing.is_none() {
        out.findings
            .push("no Geolocation-Routing header (RFC 6442 §4.2)".into());
    }
    let Some(geo) = geolocation else {
        out.findings.push("no Geolocation header".into());
        return out;
    };
    let Some(cid) = geo
        .split(',')
        .map(|v| v.trim().trim_start_matches('<'))
        .find_map(|v| v.strip_prefix("cid:"))
        .map(|v| v.split('>').next().unwrap_or(v))
    else {
        out.findings.push(format!(
            "Geolocation {geo:?} is not by value (no <cid:...> URI); location by reference is not dereferenced"
        ));
        return out;
    };
    let ct = content_type.unwrap_or("");
    if multipart::media_type(ct) != "multipart/mixed" {
        out.findings.push(format!(
            "Geolocation points at cid:{cid} but the body is {:?}, not multipart/mixed",
            multipart::media_type(ct)
        ));
        return out;
    }
    let Some(boundary) = multipart::boundary(ct) else {
        out.findings
            .push("multipart/mixed body without a boundary parameter".into());
        return out;
    };
    let parts = match multipart::parse(body, boundary) {
        Ok(p) => p,
        Err(e) => {
            out.findings.push(format!("malformed multipart body: {e}"));
            return out;
        }
    };
    let Some(part) = parts.iter().find(|p| p.content_id() == Some(cid)) else {
        let ids: Vec<&str> = parts.iter().filter_map(|p| p.content_id()).collect();
        out.findings.push(format!(
            "no body part with Content-ID <{cid}> (parts carry {})",
            if ids.is_empty() {
                "no Content-ID".to_owned()
            } else {
                ids.join(", ")
            }
        ));
        return out;
    };
    if part.media_type() != "application/pidf+xml" {
        out.findings.push(format!(
            "the location part is {}, not application/pidf+xml",
            part.media_type()
        ));
    }
    read_pidf(part.body, &mut out);
    out
}

fn read_pidf(xml: &[u8], out: &mut Conveyed) {
    let Ok(text) = std::str::from_utf8(xml) else {
        out.findings.push("PIDF-LO is not UTF-8".into());
        return;
    };
    let doc = match roxmltree::Document::parse(text) {
        Ok(d) => d,
        Err(e) => {
            out.findings
                .push(format!("PIDF-LO is not well-formed XML: {e}"));
            return;
        }
    };
    let root = doc.root_element();
    if root.tag_name().namespace() != Some(NS_PIDF) || root.tag_name().name() != "presence" {
        out.findings.push(format!(
            "PIDF-LO root is <{}> in {:?}, not <presence> in {NS_PIDF}",
            root.tag_name().name(),
            root.tag_name().namespace().unwrap_or("no namespace")
        ));
    }
    let Some(addr) = root
        .descendants()
        .find(|n| n.has_tag_name((NS_CIVIC, "civicAddress")))
    else {
        out.findings.push(
            "PIDF-LO has no civicAddress (geodetic-only location is not dispatchable here)".into(),
        );
        return;
    };
    let mut civic = Civic::default();
    for el in addr.children().filter(|n| n.is_element()) {
        if el.tag_name().namespace() != Some(NS_CIVIC) {
            continue;
        }
        if let Some(slot) = civic.field_mut(el.tag_name().name()) {
            *slot = el.text().unwrap_or("").trim().to_owned();
        }
    }
    let missing: Vec<&str> = REQUIRED
        .into_iter()
        .filter(|f| civic.field(f).is_empty())
        .collect();
    if !missing.is_empty() {
        out.findings.push(format!(
            "civic address lacks {} (not dispatchable)",
            missing.join(", ")
        ));
    }
    out.civic = Some(civic);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn civic() -> Civic {
        Civic {
            country: "US".into(),
            a1: "IL".into(),
            a3: "Chicago".into(),
            hno: "1".into(),
            rd: "Main".into(),
            sts: "St".into(),
            pc: "60601".into(),
            flr: "2".into(),
            room: "210 & B".into(),
        }
    }

    fn body(pidf: &str, cid: &str) -> Vec<u8> {
        multipart::build(
            "bnd",
            &[
                (&[("Content-Type", "application/sdp")], b"v=0\r\n"),
                (
                    &[
                        ("Content-Type", "application/pidf+xml"),
                        ("Content-ID", &format!("<{cid}>")),
                    ],
                    pidf.as_bytes(),
                ),
            ],
        )
    }

    const CT: &str = "multipart/mixed;boundary=bnd";

    #[test]
    fn what_the_trunk_writes_the_gateway_reads_back() {
        let doc = pidf_lo("pres:+13125550100@trunk.invalid", &civic());
        let b = body(&doc, "loc1@trunk.invalid");
        let got = check(Some("<cid:loc1@trunk.invalid>"), Some("yes"), Some(CT), &b);
        assert!(got.findings.is_empty(), "{:?}", got.findings);
        assert_eq!(got.civic, Some(civic()));
        assert_eq!(got.routing.as_deref(), Some("yes"));
        assert_eq!(
            civic().one_line(),
            "1 Main St, Floor 2, Room 210 & B, Chicago, IL 60601, US"
        );
    }

    #[test]
    fn each_mistake_is_a_named_finding() {
        let doc = pidf_lo("pres:x@y", &civic());
        let b = body(&doc, "loc1");
        let f = check(Some("<cid:other>"), Some("yes"), Some(CT), &b).findings;
        assert!(
            f[0].contains("no body part with Content-ID <other>"),
            "{f:?}"
        );
        let f = check(Some("<cid:loc1>"), None, Some(CT), &b).findings;
        assert!(f[0].contains("Geolocation-Routing"), "{f:?}");
        let f = check(Some("<cid:loc1>"), Some("no"), Some("application/sdp"), &b).findings;
        assert!(f[0].contains("not multipart/mixed"), "{f:?}");
        let f = check(Some("<https://lis.example/x>"), Some("no"), Some(CT), &b).findings;
        assert!(f[0].contains("not by value"), "{f:?}");
        let mut thin = civic();
        thin.hno.clear();
        thin.rd.clear();
        let b = body(&pidf_lo("pres:x@y", &thin), "loc1");
        let f = check(Some("<cid:loc1>"), Some("yes"), Some(CT), &b).findings;
        assert_eq!(f, ["civic address lacks RD, HNO (not dispatchable)"]);
    }

    #[test]
    fn a_document_that_is_not_xml_is_a_finding_not_a_crash() {
        let b = body("this is <not xml", "loc1");
        let got = check(Some("<cid:loc1>"), Some("yes"), Some(CT), &b);
        assert_eq!(got.civic, None);
        assert!(
            got.findings[0].starts_with("PIDF-LO is not well-formed XML"),
            "{:?}",
            got.findings
        );
        let b = body("<presence xmlns=\"urn:x\"/>", "loc1");
        let got = check(Some("<cid:loc1>"), Some("yes"), Some(CT), &b);
        assert!(
            got.findings.iter().any(|f| f.contains("not <presence> in")),
            "{:?}",
            got.findings
        );
        assert!(
            got.findings.iter().any(|f| f.contains("no civicAddress")),
            "{:?}",
            got.findings
        );
    }
}
