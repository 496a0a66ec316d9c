//! ANI policy vocabulary (ICD 5.1.7): the URI forms that carry a calling number and the named
//! findings a gateway records about the caller identity headers, shared by the gateway (which
//! records them), scenario files (which expect them) and the harness (which judges them).
//! Also the dial-string form a scenario may write (RFC 3966 `phone-context`, ICD 5.2).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::model::UnknownName;

/// The URI form that carried a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AniForm {
    /// A `tel:` URI (RFC 3966), like `<tel:+13125550100>`.
    #[serde(rename = "tel")]
    Tel,
    /// A `sip:`/`sips:` URI with `;user=phone` (RFC 3261 §19.1.1: the user part is a telephone
    /// number), like `<sip:+13125550100@trunk;user=phone>`.
    #[serde(rename = "sip-user-phone")]
    SipUserPhone,
    /// A `sip:`/`sips:` URI without `user=phone`.
    #[serde(rename = "sip")]
    Sip,
}

impl AniForm {
    /// Every form.
    pub const ALL: [AniForm; 3] = [AniForm::Tel, AniForm::SipUserPhone, AniForm::Sip];

    /// The spelling used in scenario files and observations.
    pub fn as_str(&self) -> &'static str {
        match self {
            AniForm::Tel => "tel",
            AniForm::SipUserPhone => "sip-user-phone",
            AniForm::Sip => "sip",
        }
    }

    /// The RFC 3325 scheme group: `sip` (sip and sips) or `tel`; a P-Asserted-Identity may
    /// hold at most one URI of each.
    pub fn scheme(&self) -> &'static str {
        match self {
            AniForm::Tel => "tel",
            AniForm::SipUserPhone | AniForm::Sip => "sip",
        }
    }
}

impl fmt::Display for AniForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AniForm {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AniForm::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| UnknownName::new("ANI form", s))
    }
}

/// A named finding about the caller identity headers of an INVITE (ICD 5.1.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum AniFinding {
    /// From and P-Asserted-Identity carry different numbers (compared in E.164 form).
    #[serde(rename = "from-pai-mismatch")]
    FromPaiMismatch,
    /// More than one P-Asserted-Identity URI of the same scheme (RFC 3325 §9.1 allows at most
    /// one sip/sips and one tel).
    #[serde(rename = "pai-duplicated")]
    PaiDuplicated,
    /// A calling number (From or P-Asserted-Identity) that is not in E.164 form
    /// (`3125550100`, `13125550100`, an extension).
    #[serde(rename = "not-e164")]
    NotE164,
    /// `Privacy: id` (RFC 3323/3325) was requested; an emergency call still uses the asserted
    /// identity. Informational: not a defect by itself.
    #[serde(rename = "privacy-id")]
    PrivacyId,
}

impl AniFinding {
    /// Every finding.
    pub const ALL: [AniFinding; 4] = [
        AniFinding::FromPaiMismatch,
        AniFinding::PaiDuplicated,
        AniFinding::NotE164,
        AniFinding::PrivacyId,
    ];

    /// The spelling used in scenario files, observations and reports.
    pub fn as_str(&self) -> &'static str {
        match self {
            AniFinding::FromPaiMismatch => "from-pai-mismatch",
            AniFinding::PaiDuplicated => "pai-duplicated",
            AniFinding::NotE164 => "not-e164",
            AniFinding::PrivacyId => "privacy-id",
        }
    }

    /// Whether the finding is a defect of the trunk's identity headers (everything but
    /// `privacy-id`, which a caller may legitimately request).
    pub fn is_problem(&self) -> bool {
        !matches!(self, AniFinding::PrivacyId)
    }
}

impl fmt::Display for AniFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AniFinding {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AniFinding::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| UnknownName::new("ANI finding", s))
    }
}

/// The number of a dial string: `911` of `911;phone-context=+1`.
pub fn dialled_number(dial: &str) -> &str {
    dial.split(';').next().unwrap_or(dial)
}

/// The numbers the E911 route carries (ICD 5.2): 911 and 933 (the test call). Every other
/// number, an access code in front of 911 included, must never reach the E911 gateways.
pub const EMERGENCY_NUMBERS: [&str; 2] = ["911", "933"];

/// Whether the dial string `dial` is one of [`EMERGENCY_NUMBERS`] (parameters such as
/// `phone-context` dropped: `911;phone-context=+1` is 911, `9911` and `+1911` are not).
pub fn is_emergency_number(dial: &str) -> bool {
    EMERGENCY_NUMBERS.contains(&dialled_number(dial))
}

/// The number in E.164 form, if it has one: `+` and 1 to 15 digits as written; a North American
/// 10-digit number (`3125550100`) or 11 digits starting with 1 (`13125550100`) with `+1`
/// supplied. Visual separators are ignored. `None` for anything else (an extension, `911`).
pub fn e164(number: &str) -> Option<String> {
    let plus = number.trim_start().starts_with('+');
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    let nanp = |d: &str| matches!(d.as_bytes().first(), Some(b'2'..=b'9'));
    match (plus, digits.len()) {
        (true, 1..=15) if !digits.starts_with('0') => Some(format!("+{digits}")),
        (false, 10) if nanp(&digits) => Some(format!("+1{digits}")),
        (false, 11) if digits.starts_with('1') && nanp(&digits[1..]) => Some(format!("+{digits}")),
        _ => None,
    }
}

/// Whether `number` is written in E.164 form (`+` then digits, no national prefix).
pub fn is_e164(number: &str) -> bool {
    let n: String = number
        .chars()
        .filter(|c| !matches!(c, '-' | '.' | '(' | ')' | ' '))
        .collect();
    n.starts_with('+') && e164(&n).is_some_and(|e| e == n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_forms_of_a_north_american_number() {
        assert_eq!(e164("+13125550100").as_deref(), Some("+13125550100"));
        assert_eq!(e164("3125550100").as_deref(), Some("+13125550100"));
        assert_eq!(e164("13125550100").as_deref(), Some("+13125550100"));
        assert_eq!(e164("+1-312-555-0100").as_deref(), Some("+13125550100"));
        assert_eq!(e164("4122"), None);
        assert_eq!(e164("911"), None);
        assert_eq!(e164("0312555010"), None);
        assert!(is_e164("+13125550100") && is_e164("+1.312.555.0100"));
        assert!(!is_e164("3125550100") && !is_e164("13125550100") && !is_e164("4122"));
    }

    #[test]
    fn names_round_trip() {
        for f in AniFinding::ALL {
            assert_eq!(f.as_str().parse::<AniFinding>(), Ok(f));
        }
        for f in AniForm::ALL {
            assert_eq!(f.as_str().parse::<AniForm>(), Ok(f));
        }
        assert!("mismatch".parse::<AniFinding>().is_err());
        assert_eq!(dialled_number("911;phone-context=+1"), "911");
        assert_eq!(dialled_number("933"), "933");
    }
}
