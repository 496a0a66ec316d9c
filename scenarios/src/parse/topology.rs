//! `topologies` and `topology_note` (see [`crate::topology`]).

use super::values::{choose, list, non_empty};
use crate::topology::{Applicability, Topology};
use crate::walk::{Ctx, Obj};

/// Reads the two top-level fields; `None` after a problem.
pub(crate) fn applicability(ctx: &mut Ctx<'_>, root: &Obj<'_, '_>) -> Option<Applicability> {
    let before = ctx.problems.len();
    let given = root.get("topologies");
    let topologies = match &given {
        Some(f) => list(
            ctx,
            f,
            "must name at least one topology: \"direct\", \"sut\"",
            |ctx, f, s| {
                let options: Vec<(&str, Topology)> =
                    Topology::ALL.iter().map(|t| (t.as_str(), *t)).collect();
                choose(ctx, f, s, "topology", &options)
            },
            |a, b| a == b,
            |t| format!("topology {t:?}"),
        ),
        None => Some(Topology::ALL.to_vec()),
    };
    let note = root.get("topology_note");
    let note_text = note.as_ref().and_then(|f| non_empty(ctx, f));
    if let (Some(ts), true) = (&topologies, ctx.problems.len() == before) {
        let leaves_out = Topology::ALL.iter().any(|t| !ts.contains(t));
        match (leaves_out, &note, &given) {
            (true, None, Some(f)) => {
                ctx.invalid(
                    &f.span(),
                    &f.path,
                    "leaves a topology out: say why in `topology_note` (reports show it as the reason the scenario did not run there)",
                );
            }
            (false, Some(f), _) => ctx.invalid(
                &f.span(),
                &f.path,
                "only explains a topology the scenario leaves out; it runs in every one (drop it, or set `topologies`)",
            ),
            _ => {}
        }
    }
    (ctx.problems.len() == before).then(|| Applicability {
        topologies: topologies.unwrap_or_default(),
        topology_note: note_text,
    })
}
