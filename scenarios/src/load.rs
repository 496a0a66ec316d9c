//! Loading scenarios from strings, files and directories, and the shipped library built into
//! the crate.

use std::fs;
use std::path::{Path, PathBuf};

use toml::de::DeTable;

use crate::error::{LoadError, Problem, ProblemKind};
use crate::model::Scenario;
use crate::parse::{self, Parsed};
use crate::walk::Ctx;

/// Largest scenario or location-table file read (the shipped scenarios are a few KiB).
pub const MAX_INPUT_FILE_BYTES: u64 = 1024 * 1024;

/// Reads a small input file (a scenario, a location table, a waiver list, a PEM file) whole:
/// refused when it is not a regular file (a FIFO, `/dev/zero`, a directory) or larger than
/// `max_bytes`; never reads more than `max_bytes + 1` bytes whatever its size claims.
pub fn read_input_file(path: &Path, max_bytes: u64) -> std::io::Result<Vec<u8>> {
    use std::io::{Error, ErrorKind, Read};
    let meta = fs::metadata(path)?;
    if !meta.is_file() {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            "not a regular file (a device, FIFO or directory is never read as input)",
        ));
    }
    let too_large = || {
        Error::new(
            ErrorKind::InvalidInput,
            format!("larger than the {max_bytes}-byte limit for an input file"),
        )
    };
    if meta.len() > max_bytes {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    fs::File::open(path)?
        .take(max_bytes + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max_bytes {
        return Err(too_large());
    }
    Ok(bytes)
}

/// [`read_input_file`] as UTF-8 text with the input limit ([`MAX_INPUT_FILE_BYTES`]).
pub fn read_text(path: &Path) -> std::io::Result<String> {
    String::from_utf8(read_input_file(path, MAX_INPUT_FILE_BYTES)?)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"))
}

/// One file of the shipped scenario library, as it was when this crate was built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShippedFile {
    /// The file name in `scenarios/library/`, like `basic-911.toml`.
    pub name: &'static str,
    /// The file's text.
    pub text: &'static str,
}

/// The folder the shipped scenarios are named in: a shipped scenario's `source` (and every
/// problem or report that names its file) reads `library/<file name>`.
pub const SHIPPED_DIR: &str = "library";

/// Every `scenarios/library/*.toml` file, built into the crate (by `build.rs`) so that a binary
/// copied anywhere still has them; sorted by file name. A test holds them equal to the files.
pub const SHIPPED_FILES: &[ShippedFile] = include!(concat!(env!("OUT_DIR"), "/library.rs"));

/// The shipped scenario library, loaded from the copy built into the crate: [`SHIPPED_FILES`]
/// in order, each with `source` = `library/<file name>`, exactly as [`load_paths`] would load
/// the folder. This is what `certify` runs when no `--scenarios` is given.
pub fn shipped() -> Result<Vec<Scenario>, LoadError> {
    collect(SHIPPED_FILES.iter().map(|f| {
        let path = Path::new(SHIPPED_DIR).join(f.name);
        load_text(f.text, &path)
    }))
}

/// Parses and validates one scenario. `origin` names the text in problems (usually a file name).
/// The returned scenario has no `source`.
pub fn load_str(text: &str, origin: &str) -> Result<Scenario, LoadError> {
    parse_text(text, origin)
        .map(|p| p.scenario)
        .map_err(LoadError::new)
}

/// Reads, parses and validates one scenario file; `source` is set to `path`.
pub fn load_file(path: &Path) -> Result<Scenario, LoadError> {
    load_one(path).map(|p| p.scenario).map_err(LoadError::new)
}

/// Loads every scenario named by `paths`, in order. A file is loaded whatever its extension;
/// a directory contributes its `*.toml` files (not its subdirectories), sorted by file name.
/// Problems of every file are reported together, as are scenario names used twice.
pub fn load_paths(paths: &[PathBuf]) -> Result<Vec<Scenario>, LoadError> {
    let mut files = Vec::new();
    for path in paths {
        match files_in(path) {
            Ok(found) => files.extend(found.into_iter().map(|f| load_one(&f))),
            Err(p) => files.push(Err(vec![p])),
        }
    }
    collect(files.into_iter())
}

/// The scenarios of every file when no file had a problem, else every problem, with scenario
/// names used twice reported at the second use.
fn collect(
    files: impl Iterator<Item = Result<Parsed, Vec<Problem>>>,
) -> Result<Vec<Scenario>, LoadError> {
    let mut problems = Vec::new();
    let mut loaded: Vec<Parsed> = Vec::new();
    for file in files {
        match file {
            Ok(parsed) => {
                if let Some(problem) = duplicate_name(&loaded, &parsed) {
                    problems.push(problem);
                }
                loaded.push(parsed);
            }
            Err(mut ps) => problems.append(&mut ps),
        }
    }
    if problems.is_empty() {
        Ok(loaded.into_iter().map(|p| p.scenario).collect())
    } else {
        Err(LoadError::new(problems))
    }
}

/// The scenario files `path` stands for.
fn files_in(path: &Path) -> Result<Vec<PathBuf>, Problem> {
    let label = path.display().to_string();
    let meta = fs::metadata(path).map_err(|e| io_problem(&label, "cannot read", &e))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_owned()]);
    }
    let entries =
        fs::read_dir(path).map_err(|e| io_problem(&label, "cannot list directory", &e))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io_problem(&label, "cannot list directory", &e))?;
        let file = entry.path();
        if file.extension().is_some_and(|x| x == "toml") && file.is_file() {
            files.push(file);
        }
    }
    files.sort();
    Ok(files)
}

pub(crate) fn io_problem(label: &str, what: &str, e: &std::io::Error) -> Problem {
    Problem::unpositioned(
        label,
        ProblemKind::Io,
        format!("{what}: {}", lowercase_first(&e.to_string())),
    )
}

fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_lowercase().chain(chars).collect())
        .unwrap_or_default()
}

fn load_one(path: &Path) -> Result<Parsed, Vec<Problem>> {
    let label = path.display().to_string();
    let text = read_text(path).map_err(|e| vec![io_problem(&label, "cannot read", &e)])?;
    load_text(&text, path)
}

/// Parses `text`, the content of the file at `path`, and sets the scenario's `source` to `path`.
fn load_text(text: &str, path: &Path) -> Result<Parsed, Vec<Problem>> {
    let mut parsed = parse_text(text, &path.display().to_string())?;
    parsed.scenario.source = Some(path.to_owned());
    Ok(parsed)
}

fn parse_text(text: &str, origin: &str) -> Result<Parsed, Vec<Problem>> {
    let doc = match DeTable::parse(text) {
        Ok(doc) => doc,
        Err(e) => {
            let at = e.span().map_or(0, |s| s.start);
            return Err(vec![Problem::at(
                origin,
                text,
                at,
                "",
                ProblemKind::Syntax,
                syntax_message(e.message()),
            )]);
        }
    };
    let mut ctx = Ctx::new(origin, text);
    match parse::scenario(&mut ctx, &doc) {
        Some(parsed) if ctx.problems.is_empty() => Ok(parsed),
        _ => {
            let mut problems = ctx.problems;
            problems.sort_by_key(|p| (p.line, p.column));
            Err(problems)
        }
    }
}

/// The TOML parser's message on one line, starting lowercase like ours.
pub(crate) fn syntax_message(message: &str) -> String {
    let one_line = message.split_whitespace().collect::<Vec<_>>().join(" ");
    format!("invalid TOML: {}", lowercase_first(&one_line))
}

fn duplicate_name(loaded: &[Parsed], new: &Parsed) -> Option<Problem> {
    let first = loaded
        .iter()
        .find(|p| p.scenario.name == new.scenario.name)?;
    let label = |p: &Parsed| {
        p.scenario
            .source
            .as_ref()
            .map(|s| s.display().to_string())
            .unwrap_or_default()
    };
    let (line, column) = first.name_at;
    Some(Problem {
        file: label(new),
        line: new.name_at.0,
        column: new.name_at.1,
        field: "name".to_owned(),
        kind: ProblemKind::Duplicate,
        message: format!(
            "scenario name \"{}\" is already used by {}:{line}:{column}",
            crate::quote_prefix(&new.scenario.name, 80),
            label(first)
        ),
    })
}

/// Reads a location-table file (`unknown_ani = "..."` and `[[location]]` rows, the fields of
/// `[[gateway.location]]`); every problem is reported as `file:line:column: field: message`.
pub fn load_location_table(path: &Path) -> Result<crate::LocationTable, LoadError> {
    let label = path.display().to_string();
    let text =
        read_text(path).map_err(|e| LoadError::new(vec![io_problem(&label, "cannot read", &e)]))?;
    let doc = DeTable::parse(&text).map_err(|e| {
        let at = e.span().map_or(0, |s| s.start);
        LoadError::new(vec![Problem::at(
            &label,
            &text,
            at,
            "",
            ProblemKind::Syntax,
            syntax_message(e.message()),
        )])
    })?;
    let mut ctx = Ctx::new(&label, &text);
    match parse::location_file(&mut ctx, &doc) {
        Some(table) if ctx.problems.is_empty() => Ok(table),
        _ => {
            let mut problems = ctx.problems;
            problems.sort_by_key(|p| (p.line, p.column));
            Err(LoadError::new(problems))
        }
    }
}
