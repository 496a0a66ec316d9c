//! The requirement catalogue: every id a scenario may cite, with its title.
//!
//! Ids are the section numbers of the E911 interface control document (`ICD 5.1.9`, summarised in
//! `e911-interface.md`) and the RFCs it leans on. Reports use the titles in their requirements matrix.

/// One requirement a scenario can give evidence for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Requirement {
    /// The id as written in scenarios and reports, e.g. `ICD 5.1.9`.
    pub id: &'static str,
    /// A short title.
    pub title: &'static str,
}

const fn req(id: &'static str, title: &'static str) -> Requirement {
    Requirement { id, title }
}

/// Every known requirement, ICD sections first in document order, then RFCs by number.
pub const ALL: &[Requirement] = &[
    req(
        "ICD 4",
        "Signalling and media: SIP over TLS on 5061, SRTP media on ports 30000-60000",
    ),
    req(
        "ICD 5.1",
        "SIP trunk and TLS profile: TLS 1.2, public-CA RSA certificates, ECDHE secp384r1, no mutual TLS",
    ),
    req(
        "ICD 5.1.1",
        "External trunk type BYOC Carrier / Generic BYOC Carrier",
    ),
    req("ICD 5.1.2", "Trunk protocol TLS"),
    req("ICD 5.1.3", "Trunk in service"),
    req("ICD 5.1.4", "Inbound SIP termination identifier"),
    req("ICD 5.1.5", "Trunk TLS transport settings"),
    req(
        "ICD 5.1.6",
        "Gateways gw1 and gw2 on port 5061, tried as an ordered pair",
    ),
    req(
        "ICD 5.1.7",
        "Prioritized caller selection: the ANI sent and the header that carries it",
    ),
    req(
        "ICD 5.1.8",
        "SIP access control: only the gateways' source addresses are trusted",
    ),
    req(
        "ICD 5.1.9",
        "E911-Organization-ID header: exactly one, carrying the organization's UUID",
    ),
    req(
        "ICD 5.2",
        "Number plan: 911 and 933 route to the E911 trunks, no access code; 933 reads back number and address",
    ),
    req(
        "ICD 5.3",
        "Outbound route and failover: sequential or random distribution, retry on rejection or transport failure",
    ),
    req("RFC 3261", "SIP: Session Initiation Protocol"),
    req(
        "RFC 4119",
        "A presence-based GEOPRIV location object format (PIDF-LO)",
    ),
    req("RFC 4475", "SIP torture test messages"),
    req(
        "RFC 5922",
        "Domain certificates in SIP: TLS server identity",
    ),
    req(
        "RFC 6076",
        "Basic telephony SIP end-to-end performance metrics",
    ),
    req("RFC 6442", "Location conveyance for SIP"),
];

/// Requirements no certify scenario can prove from the wire, and how to establish them instead.
/// The certification summary lists them under "Not covered by this run" with this note.
pub const OFF_THE_WIRE: &[(&str, &str)] = &[
    (
        "ICD 5.1.1",
        "a Genesys admin setting (external trunk type), not visible in SIP: confirm it in the trunk configuration",
    ),
    (
        "ICD 5.1.4",
        "the inbound SIP termination identifier concerns calls from the gateways to the trunk; the harness places calls toward the gateways only",
    ),
    (
        "ICD 5.1.5",
        "a Genesys admin setting (the trunk's transport: TLS, port 5061, its TLS profile); what it puts on the wire is judged by transport.tls (ICD 5.1.2) and transport.tls-profile (ICD 5.1)",
    ),
    (
        "ICD 5.1.8",
        "the trunk's allow-list of gateway source addresses is checked on the trunk side: confirm the access-control list holds only the gateways' addresses",
    ),
    (
        "RFC 4475",
        "proved by the test suite (`cargo test`: every RFC 4475 and RFC 5118 torture message against the parser and the gateway); for an SBC or proxy, run `e911-harness torture --target HOST:PORT`",
    ),
    (
        "RFC 6076",
        "measured by `e911-harness load` (SRD, SDD, SER, SEER, ISA, SCR in its report)",
    ),
];

/// How `id` is established when no scenario proves it ([`OFF_THE_WIRE`]).
pub fn off_the_wire(id: &str) -> Option<&'static str> {
    OFF_THE_WIRE.iter().find(|(i, _)| *i == id).map(|(_, n)| *n)
}

/// The requirement with exactly this id (case and spacing as written in [`ALL`]).
pub fn find(id: &str) -> Option<&'static Requirement> {
    ALL.iter().find(|r| r.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_well_formed() {
        for (i, r) in ALL.iter().enumerate() {
            assert!(
                ALL[..i].iter().all(|o| o.id != r.id),
                "{} listed twice",
                r.id
            );
            let (prefix, number) = r.id.split_once(' ').expect("prefix and number");
            assert!(prefix == "ICD" || prefix == "RFC", "{}", r.id);
            assert!(
                number
                    .split('.')
                    .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())),
                "{}",
                r.id
            );
            assert!(!r.title.is_empty() && !r.title.ends_with('.'), "{}", r.id);
        }
    }

    #[test]
    fn catalogue_covers_the_interface_document() {
        let mut expected = vec![
            "ICD 4".to_owned(),
            "ICD 5.1".to_owned(),
            "ICD 5.2".to_owned(),
            "ICD 5.3".to_owned(),
        ];
        expected.extend((1..=9).map(|n| format!("ICD 5.1.{n}")));
        expected.extend(
            [
                "RFC 3261", "RFC 5922", "RFC 6442", "RFC 4119", "RFC 6076", "RFC 4475",
            ]
            .map(String::from),
        );
        for id in &expected {
            assert!(find(id).is_some(), "{id} missing");
        }
        assert_eq!(
            ALL.len(),
            expected.len(),
            "catalogue has ids the document does not"
        );
    }

    #[test]
    fn find_is_exact() {
        assert_eq!(find("ICD 5.1.9").map(|r| r.id), Some("ICD 5.1.9"));
        assert!(find("icd 5.1.9").is_none());
        assert!(find("ICD 5.1.10").is_none());
        assert!(find("ICD 5.01").is_none());
        assert!(find("").is_none());
    }
}
