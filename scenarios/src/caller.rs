//! Prioritized caller selection (ICD 5.1.7): which number the trunk sends as the ANI, and how a
//! scenario's `[caller]` becomes it. The trunk emulation sends what [`selection`] picks, and the
//! verdict judges with the same rules, so both sides read one model.
//!
//! The trunk walks an ordered list of sources and sends the first number it finds. The two
//! orders the interface recommends are [`ORDER_WITH_DIDS`] (users may or may not have a DID) and
//! [`ORDER_WITHOUT_DIDS`] (users have no DID); any other order can be configured. Two fallbacks
//! hold whatever the order: a phone not tied to a user has no user-level numbers (call source
//! DID of the user, user extension), so it falls to the site ANI; an empty site ANI falls to the
//! trunk ANI. [`select`] is pure and says, step by step, why each source was passed over, so a
//! report can show exactly how the ANI was chosen.

use std::fmt;
use std::str::FromStr;

use crate::{CallerSpec, Scenario};

/// A place the trunk can take the calling number from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// The call's source: the queue or campaign DID, or else the user's own DID.
    CallSource,
    /// The user's extension.
    UserExtension,
    /// The site's ANI.
    SiteAni,
    /// The trunk's own ANI.
    TrunkAni,
}

/// Users may or may not have a DID: Call Source, User Extension, Site ANI, Trunk ANI.
pub const ORDER_WITH_DIDS: [Source; 4] = [
    Source::CallSource,
    Source::UserExtension,
    Source::SiteAni,
    Source::TrunkAni,
];

/// Users have no DID: User Extension, Site ANI, Trunk ANI.
pub const ORDER_WITHOUT_DIDS: [Source; 3] =
    [Source::UserExtension, Source::SiteAni, Source::TrunkAni];

impl Source {
    /// Every source.
    pub const ALL: [Source; 4] = ORDER_WITH_DIDS;

    /// The kebab-case name used in scenario files.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::CallSource => "call-source",
            Source::UserExtension => "user-extension",
            Source::SiteAni => "site-ani",
            Source::TrunkAni => "trunk-ani",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Source {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Source::ALL
            .into_iter()
            .find(|src| src.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown caller source `{s}` (expected one of {})",
                    Source::ALL.map(Source::as_str).join(", ")
                )
            })
    }
}

/// Everything the trunk knows about who is calling.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caller {
    /// The queue or campaign DID the call is placed for, if any.
    pub call_source_did: Option<String>,
    /// The user's own DID, if the user has one.
    pub user_did: Option<String>,
    /// The user's extension, if any.
    pub user_extension: Option<String>,
    /// Whether the phone is tied to a user (a shared or unassigned phone is not).
    pub phone_tied_to_user: bool,
    /// The site's ANI (may be empty).
    pub site_ani: Option<String>,
    /// The trunk's ANI.
    pub trunk_ani: Option<String>,
}

/// The ANI the trunk sends and how it was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// The number sent, `None` when no source had one.
    pub ani: Option<String>,
    /// The source it came from.
    pub source: Option<Source>,
    /// The sources passed over before it, each with the reason.
    pub passed_over: Vec<(Source, &'static str)>,
}

impl Selection {
    /// One line for reports: `site-ani (+13125550100) after call-source: no DID; ...`.
    pub fn explain(&self) -> String {
        let chosen = match (&self.source, &self.ani) {
            (Some(s), Some(a)) => format!("{s} ({a})"),
            _ => "no number at all".to_owned(),
        };
        if self.passed_over.is_empty() {
            return chosen;
        }
        let skipped: Vec<String> = self
            .passed_over
            .iter()
            .map(|(s, why)| format!("{s}: {why}"))
            .collect();
        format!("{chosen} after {}", skipped.join("; "))
    }
}

fn present(n: &Option<String>) -> Option<&str> {
    n.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Walks `order` for `caller` and returns the first number found. The interface's fallbacks
/// apply whatever `order` says: the site ANI and then the trunk ANI are tried last when the
/// order does not end with them.
pub fn select(caller: &Caller, order: &[Source]) -> Selection {
    let mut passed_over = Vec::new();
    let mut walk: Vec<Source> = order.to_vec();
    for fallback in [Source::SiteAni, Source::TrunkAni] {
        if !walk.contains(&fallback) {
            walk.push(fallback);
        }
    }
    for source in walk {
        let (number, why_not) = match source {
            Source::CallSource => match present(&caller.call_source_did) {
                Some(n) => (Some(n), ""),
                None if !caller.phone_tied_to_user => (
                    None,
                    "no queue or campaign DID, and the phone is not tied to a user",
                ),
                None => (present(&caller.user_did), "no queue, campaign or user DID"),
            },
            Source::UserExtension if !caller.phone_tied_to_user => {
                (None, "the phone is not tied to a user")
            }
            Source::UserExtension => (present(&caller.user_extension), "the user has no extension"),
            Source::SiteAni => (present(&caller.site_ani), "the site ANI is empty"),
            Source::TrunkAni => (present(&caller.trunk_ani), "the trunk has no ANI"),
        };
        match number {
            Some(n) => {
                return Selection {
                    ani: Some(n.to_owned()),
                    source: Some(source),
                    passed_over,
                };
            }
            None => passed_over.push((source, why_not)),
        }
    }
    Selection {
        ani: None,
        source: None,
        passed_over,
    }
}

/// The [`Caller`] and source order a scenario's `[caller]` describes.
pub fn caller_of(spec: &CallerSpec) -> (Caller, Vec<Source>) {
    let caller = Caller {
        call_source_did: spec.call_source_did.clone(),
        user_did: spec.user_did.clone(),
        user_extension: spec.user_extension.clone(),
        phone_tied_to_user: spec.phone_tied_to_user,
        site_ani: spec.site_ani.clone(),
        trunk_ani: spec.trunk_ani.clone(),
    };
    // The scenarios crate only accepts the names `Source` parses.
    let order = spec
        .order
        .sources()
        .into_iter()
        .filter_map(|s| s.parse().ok())
        .collect();
    (caller, order)
}

/// The caller selection of `sc`, when it has a `[caller]`.
pub fn selection(sc: &Scenario) -> Option<Selection> {
    sc.caller.as_ref().map(|spec| {
        let (caller, order) = caller_of(spec);
        select(&caller, &order)
    })
}

/// Why a scenario's `[caller]` cannot give the call its ANI.
pub fn caller_problem(sc: &Scenario) -> Option<String> {
    let sel = selection(sc)?;
    match &sel.ani {
        None => Some(format!(
            "caller: no source has a number ({}), so the trunk has no ANI to send",
            sel.explain()
        )),
        Some(ani) if !sc.call.ani.is_empty() && sc.call.ani != *ani => Some(format!(
            "call.ani: {:?} disagrees with the caller selection (ICD 5.1.7), which sends {}; leave call.ani out or make them agree",
            sc.call.ani,
            sel.explain()
        )),
        Some(_) => None,
    }
}

/// `sc` with its ANI chosen by its `[caller]`; `None` when it has no `[caller]` or the ANI is
/// already the selected one. A selection without a number leaves the ANI as it is.
pub fn with_selected_ani(sc: &Scenario) -> Option<Scenario> {
    let ani = selection(sc)?.ani?;
    if sc.call.ani == ani {
        return None;
    }
    let mut out = sc.clone();
    if out.call.ani.is_empty() {
        out.call.ani = ani;
    }
    Some(out)
}

/// Every `[caller]` problem of `scenarios`, one line each, prefixed with the scenario's file.
pub fn caller_problems(scenarios: &[Scenario]) -> Vec<String> {
    scenarios
        .iter()
        .filter_map(|sc| {
            let p = caller_problem(sc)?;
            let file = sc
                .source
                .as_ref()
                .map_or_else(|| sc.name.clone(), |s| s.display().to_string());
            Some(format!("{file}: {p}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> Caller {
        Caller {
            call_source_did: Some("+13125550100".into()),
            user_did: Some("+13125550101".into()),
            user_extension: Some("4102".into()),
            phone_tied_to_user: true,
            site_ani: Some("+13125550199".into()),
            trunk_ani: Some("+13125550000".into()),
        }
    }

    fn pick(c: &Caller, order: &[Source]) -> (Option<String>, Option<Source>) {
        let s = select(c, order);
        (s.ani, s.source)
    }

    #[test]
    fn each_step_of_the_did_order_falls_to_the_next() {
        let mut c = full();
        assert_eq!(
            pick(&c, &ORDER_WITH_DIDS),
            (Some("+13125550100".into()), Some(Source::CallSource))
        );
        c.call_source_did = None;
        assert_eq!(
            pick(&c, &ORDER_WITH_DIDS),
            (Some("+13125550101".into()), Some(Source::CallSource)),
            "the user's DID is the call source when there is no queue or campaign"
        );
        c.user_did = None;
        assert_eq!(
            pick(&c, &ORDER_WITH_DIDS),
            (Some("4102".into()), Some(Source::UserExtension))
        );
        c.user_extension = Some("  ".into());
        assert_eq!(
            pick(&c, &ORDER_WITH_DIDS),
            (Some("+13125550199".into()), Some(Source::SiteAni))
        );
        c.site_ani = Some(String::new());
        let s = select(&c, &ORDER_WITH_DIDS);
        assert_eq!(s.ani.as_deref(), Some("+13125550000"));
        assert_eq!(s.source, Some(Source::TrunkAni));
        assert_eq!(
            s.explain(),
            "trunk-ani (+13125550000) after call-source: no queue, campaign or user DID; \
             user-extension: the user has no extension; site-ani: the site ANI is empty"
        );
        c.trunk_ani = None;
        assert_eq!(pick(&c, &ORDER_WITH_DIDS), (None, None));
    }

    #[test]
    fn the_no_did_order_starts_at_the_extension() {
        assert_eq!(
            pick(&full(), &ORDER_WITHOUT_DIDS),
            (Some("4102".into()), Some(Source::UserExtension))
        );
    }

    #[test]
    fn a_phone_not_tied_to_a_user_goes_to_the_site() {
        let mut c = full();
        c.phone_tied_to_user = false;
        c.call_source_did = None;
        assert_eq!(
            pick(&c, &ORDER_WITH_DIDS),
            (Some("+13125550199".into()), Some(Source::SiteAni))
        );
        // A queue DID is not a user-level number: it still wins for a shared phone.
        c.call_source_did = Some("+13125550100".into());
        assert_eq!(
            pick(&c, &ORDER_WITH_DIDS),
            (Some("+13125550100".into()), Some(Source::CallSource))
        );
    }

    #[test]
    fn site_and_trunk_are_appended_to_a_custom_order() {
        let mut c = full();
        c.user_extension = None;
        assert_eq!(
            pick(&c, &[Source::UserExtension]),
            (Some("+13125550199".into()), Some(Source::SiteAni))
        );
        assert_eq!(
            pick(&c, &[Source::TrunkAni, Source::SiteAni]),
            (Some("+13125550000".into()), Some(Source::TrunkAni))
        );
    }

    #[test]
    fn names_round_trip_and_unknown_names_list_the_choices() {
        for s in Source::ALL {
            assert_eq!(s.as_str().parse::<Source>(), Ok(s));
        }
        let err = "site".parse::<Source>().unwrap_err();
        assert!(
            err.contains("call-source, user-extension, site-ani, trunk-ani"),
            "{err}"
        );
    }

    fn load(caller: &str, ani: &str) -> Scenario {
        let text = format!(
            "name = \"t\"\ndescription = \"d.\"\nrequirements = [\"ICD 5.1.7\"]\n\
             [call]\ndial = \"911\"\n{ani}\n[caller]\n{caller}\n[expect]\nstatus = 200\n"
        );
        crate::load_str(&text, "t.toml").unwrap_or_else(|e| panic!("{e}\n{text}"))
    }

    #[test]
    fn the_selected_ani_is_filled_in() {
        let sc = load(
            "user_did = \"+13125550101\"\nsite_ani = \"+13125550199\"",
            "",
        );
        assert_eq!(sc.call.ani, "");
        let resolved = with_selected_ani(&sc).expect("resolved");
        assert_eq!(resolved.call.ani, "+13125550101");
        assert_eq!(caller_problem(&resolved), None);
        assert_eq!(with_selected_ani(&resolved), None);
    }

    #[test]
    fn a_disagreeing_call_ani_is_a_problem_and_is_kept() {
        let sc = load("site_ani = \"+13125550199\"", "ani = \"+13125550100\"");
        let p = caller_problem(&sc).expect("problem");
        assert!(p.starts_with("call.ani: \"+13125550100\" disagrees"), "{p}");
        assert!(p.contains("site-ani (+13125550199)"), "{p}");
        assert_eq!(
            with_selected_ani(&sc).map(|s| s.call.ani),
            Some("+13125550100".into())
        );
        let agree = load("site_ani = \"+13125550199\"", "ani = \"+13125550199\"");
        assert_eq!(caller_problem(&agree), None);
    }

    #[test]
    fn the_named_orders_map_to_the_interface_orders() {
        let sc = load(
            "user_extension = \"4102\"\ncall_source_did = \"+13125550100\"\norder = \"without-dids\"",
            "",
        );
        let (_, order) = caller_of(sc.caller.as_ref().expect("caller"));
        assert_eq!(order, ORDER_WITHOUT_DIDS.to_vec());
        assert_eq!(selection(&sc).and_then(|s| s.ani).as_deref(), Some("4102"));
    }
}
