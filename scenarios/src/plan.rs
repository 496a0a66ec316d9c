//! Test plans for certifying a real originator (a lab BYOC trunk, a customer SBC or PBX) that
//! calls the embedded gateways: the calls an operator (or an unattended originator) places, in
//! order, each with what must arrive at the gateways and the faults the gateways apply while it
//! runs. `e911-harness certify --originator PLAN` walks a plan; the format is documented in
//! `docs/originator-plan.md`.
//!
//! A [`PlanStep`] carries its call as a [`Scenario`] (the dialled number, the org, the ANI or
//! the caller selection that supplies it, the faults, the expectations), so the verdicts that
//! judge a scenario's calls at the gateways judge a step's calls unchanged. What only a step
//! has (the instruction to the operator, its wait, the gateways kept down) sits beside it.
//!
//! # Invariants
//! Like a [`Scenario`], a [`Plan`] only exists if its file had no problem: every step has a
//! unique name and an instruction, the scenario of each step passed the scenario rules, its
//! route is the plan's, and what the gateways cannot observe is not asked for (a failover time
//! from a gateway that is down refuses connections unseen).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::LoadError;
use crate::model::Scenario;

/// A test plan: the originator under test, the steps an operator walks, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Unique id, `[a-z0-9][a-z0-9-]*`.
    pub name: String,
    /// One sentence saying what the plan certifies.
    pub description: String,
    /// The organization id every call must carry (ICD 5.1.9).
    pub org_id: String,
    /// How the originator's OPTIONS probing is judged (ICD 5.1.3).
    pub probing: ProbingSpec,
    /// After a step's calls have ended, how long the gateways are watched for a late retry
    /// before the step is judged.
    pub settle: Duration,
    /// The steps, in order; never empty.
    pub steps: Vec<PlanStep>,
    /// The file the plan was loaded from.
    pub source: Option<PathBuf>,
}

/// One step of a plan: the calls the operator places and what must arrive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanStep {
    /// What the operator does, in one or two sentences ("dial 911 from a shared phone").
    pub say: String,
    /// How long the harness waits for the step's calls.
    pub timeout: Duration,
    /// Gateways kept down (connection refused) for the whole step.
    pub down: Vec<String>,
    /// The step as a scenario: `name`, `description` (= `say`), `requirements`, the call as it
    /// must arrive (`call.dial`, `call.ani` or `caller`, `call.org_headers`, `call.tls`), the
    /// route the originator is configured with, the faults, the gateways' states, `run.calls`
    /// and the expectations.
    pub scenario: Scenario,
}

impl PlanStep {
    /// The step's name.
    pub fn name(&self) -> &str {
        &self.scenario.name
    }

    /// How many calls the step expects.
    pub fn calls(&self) -> u32 {
        self.scenario.run.calls
    }
}

/// How the originator's OPTIONS probing of the gateways is judged (ICD 5.1.3; ICD 5.3: "trunks
/// may be probed with SIP OPTIONS").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProbingSpec {
    /// Whether the originator must probe every gateway; `false`: probing is judged when it
    /// happens, and reported as not exercised when it does not.
    pub required: bool,
    /// The longest median interval between two probes of one gateway.
    pub interval_max: Option<Duration>,
}

/// Default wait for a step's calls.
pub const DEFAULT_STEP_TIMEOUT: Duration = Duration::from_secs(120);

/// Default watch for a late retry after a step's calls ended.
pub const DEFAULT_SETTLE: Duration = Duration::from_secs(3);

/// The most calls one step may expect.
pub const MAX_STEP_CALLS: u32 = 20;

/// Whether `text` is a plan rather than a scenario: its document has a top-level `[plan]`
/// table (a scenario never does). Text that is not TOML is not a plan.
pub fn looks_like_plan(text: &str) -> bool {
    toml::de::DeTable::parse(text).is_ok_and(|doc| doc.get_ref().contains_key("plan"))
}

/// Parses and validates one plan; `origin` names the text in problems.
pub fn load_plan_str(text: &str, origin: &str) -> Result<Plan, LoadError> {
    crate::parse::plan(text, origin).map_err(LoadError::new)
}

/// Reads, parses and validates one plan file; `source` is set to `path`.
pub fn load_plan_file(path: &Path) -> Result<Plan, LoadError> {
    let label = path.display().to_string();
    // Bounded like every input file (a regular file of at most 1 MiB).
    let text = crate::load::read_text(path)
        .map_err(|e| LoadError::new(vec![crate::load::io_problem(&label, "cannot read", &e)]))?;
    load_plan_str(&text, &label).map(|plan| plan.sourced(path))
}

impl Plan {
    /// The plan with `source` (its own and every step's) set to `path`.
    fn sourced(mut self, path: &Path) -> Plan {
        self.source = Some(path.to_owned());
        for step in &mut self.steps {
            step.scenario.source = Some(path.to_owned());
        }
        self
    }
}

/// The plans built into the crate, so a binary copied anywhere still has them: the example
/// plan for a Genesys Cloud BYOC trunk (`scenarios/plans/genesys-byoc.toml`).
pub const SHIPPED_PLANS: &[crate::ShippedFile] = &[crate::ShippedFile {
    name: "genesys-byoc.toml",
    text: include_str!("../plans/genesys-byoc.toml"),
}];

/// The folder shipped plans are named in (`plans/genesys-byoc.toml`).
pub const SHIPPED_PLAN_DIR: &str = "plans";

/// The shipped plan called `name` (`genesys-byoc`, or its file name), loaded from the copy
/// built into the crate with `source` = `plans/<file name>`; `None` when no plan has that name.
pub fn shipped_plan(name: &str) -> Option<Result<Plan, LoadError>> {
    let file = SHIPPED_PLANS
        .iter()
        .find(|f| f.name == name || f.name.strip_suffix(".toml") == Some(name))?;
    let path = Path::new(SHIPPED_PLAN_DIR).join(file.name);
    Some(load_plan_str(file.text, &path.display().to_string()).map(|plan| plan.sourced(&path)))
}
