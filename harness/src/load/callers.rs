//! `--callers FILE.csv`: per-call caller data, like SIPp's `-inf`. One row per caller, with a
//! header line naming the columns (any order):
//!
//! | column | required | what |
//! |---|---|---|
//! | `ani` | yes | the site ANI (E.164 `+1...` or digits) |
//! | `did` | no | the call source DID (queue or campaign) |
//! | `user_did` | no | the user's own DID |
//! | `extension` | no | the user's extension |
//! | `org` | no | `E911-Organization-ID` (canonical UUID; default: the lab org) |
//! | `location` | no | where the gateway should route the caller (its `routing`, e.g. `psap`) |
//!
//! The number the trunk sends is chosen from the row by the trunk's prioritized caller selection
//! ([`scenarios::caller::select`], call source DID, user extension, site ANI), so DIDs and
//! extensions take part the way they do on the real trunk. Which row a call uses:
//! `sequential` (call i, row i mod rows; shards share the walk), `random` (a seeded hash of the
//! call index, so every process agrees on it) or `per-shard` (shard I of N cycles through rows
//! I, I+N, ...: no caller on two generators). The row of a call is a pure function of its global
//! index, so the gateway side can check the ANI it saw without being told.
//!
//! Every problem names the file, the line and the field.

use std::path::{Path, PathBuf};

use scenarios::caller::{self, Caller, ORDER_WITH_DIDS, Source};

use super::flags::{CallerOrder, Shard};

/// Most rows read.
pub const MAX_ROWS: usize = 10_000_000;

const COLUMNS: [&str; 6] = ["ani", "did", "user_did", "extension", "org", "location"];

/// One caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerRow {
    /// Line in the file.
    pub line: u64,
    /// The number the trunk sends (and the gateway must see).
    pub ani: String,
    /// Which selection step supplied it.
    pub source: Source,
    /// `E911-Organization-ID`.
    pub org: String,
    /// Expected routing at the gateway, when given.
    pub location: Option<String>,
}

/// The rows and how calls use them.
#[derive(Debug, Clone)]
pub struct Callers {
    /// The file read.
    pub path: PathBuf,
    /// Every row, in file order.
    pub rows: Vec<CallerRow>,
    /// How calls pick rows.
    pub order: CallerOrder,
    /// Seed of `random`.
    pub seed: u64,
    /// This generator's shard.
    pub shard: Shard,
}

fn is_number(s: &str, min: usize, max: usize, plus: bool) -> bool {
    let digits = if plus {
        s.strip_prefix('+').unwrap_or(s)
    } else {
        s
    };
    (min..=max).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
}

impl Callers {
    /// Reads and checks `path`.
    pub fn load(
        path: &Path,
        order: CallerOrder,
        seed: u64,
        shard: Shard,
    ) -> Result<Callers, String> {
        let file =
            std::fs::File::open(path).map_err(|e| format!("--callers {}: {e}", path.display()))?;
        Callers::read(file, path, order, seed, shard)
    }

    /// Reads rows from `input`; `path` names it in problems.
    pub fn read(
        input: impl std::io::Read,
        path: &Path,
        order: CallerOrder,
        seed: u64,
        shard: Shard,
    ) -> Result<Callers, String> {
        let at = |line: u64, field: &str, msg: String| {
            format!("{}:{line}: {field}: {msg}", path.display())
        };
        let mut rd = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .comment(Some(b'#'))
            .from_reader(input);
        let header = rd
            .headers()
            .map_err(|e| at(1, "header", e.to_string()))?
            .clone();
        let mut col = [None; COLUMNS.len()];
        for (i, name) in header.iter().enumerate() {
            let k = COLUMNS
                .iter()
                .position(|c| c.eq_ignore_ascii_case(name))
                .ok_or_else(|| {
                    at(
                        1,
                        &format!("column {name:?}"),
                        format!("unknown; expected {}", COLUMNS.join(", ")),
                    )
                })?;
            if col[k].replace(i).is_some() {
                return Err(at(1, &format!("column {name:?}"), "given twice".into()));
            }
        }
        if col[0].is_none() {
            return Err(at(
                1,
                "header",
                format!(
                    "no `ani` column (got {:?}); the first line names the columns",
                    header.iter().collect::<Vec<_>>()
                ),
            ));
        }
        let mut rows = Vec::new();
        for record in rd.records() {
            let record = record.map_err(|e| {
                let line = e.position().map_or(0, csv::Position::line);
                at(line, "row", e.to_string())
            })?;
            let line = record.position().map_or(0, csv::Position::line);
            let get = |k: usize| col[k].and_then(|i| record.get(i)).filter(|v| !v.is_empty());
            let number = |k: usize| -> Result<Option<String>, String> {
                match get(k) {
                    Some(v) if is_number(v, 3, 15, true) => Ok(Some(v.to_owned())),
                    Some(v) => Err(at(
                        line,
                        COLUMNS[k],
                        format!("{v:?} is not a number (E.164 +digits or 3-15 digits)"),
                    )),
                    None => Ok(None),
                }
            };
            let site = number(0)?
                .ok_or_else(|| at(line, "ani", "empty; every row needs its ANI".into()))?;
            let did = number(1)?;
            let user_did = number(2)?;
            let extension = match get(3) {
                Some(v) if is_number(v, 2, 10, false) => Some(v.to_owned()),
                Some(v) => {
                    return Err(at(line, "extension", format!("{v:?} is not 2-10 digits")));
                }
                None => None,
            };
            let org = match get(4) {
                Some(v) if scenarios::is_canonical_uuid(v) => v.to_owned(),
                Some(v) => {
                    return Err(at(
                        line,
                        "org",
                        format!("{v:?} is not a canonical UUID (8-4-4-4-12 hex digits)"),
                    ));
                }
                None => scenarios::DEFAULT_ORG_ID.to_owned(),
            };
            let location = match get(5) {
                Some(v) if v.len() <= 64 && !v.chars().any(char::is_control) => Some(v.to_owned()),
                Some(v) => {
                    return Err(at(
                        line,
                        "location",
                        format!("{v:?}: at most 64 printable characters"),
                    ));
                }
                None => None,
            };
            let tied = user_did.is_some() || extension.is_some();
            let chosen = caller::select(
                &Caller {
                    call_source_did: did,
                    user_did,
                    user_extension: extension,
                    phone_tied_to_user: tied,
                    site_ani: Some(site),
                    trunk_ani: None,
                },
                &ORDER_WITH_DIDS,
            );
            let (Some(ani), Some(source)) = (chosen.ani, chosen.source) else {
                return Err(at(line, "ani", "no number to send".into()));
            };
            rows.push(CallerRow {
                line,
                ani,
                source,
                org,
                location,
            });
            if rows.len() > MAX_ROWS {
                return Err(at(line, "row", format!("more than {MAX_ROWS} rows")));
            }
        }
        if rows.is_empty() {
            return Err(at(2, "row", "no caller rows after the header".into()));
        }
        if order == CallerOrder::PerShard && rows.len() < shard.count as usize {
            return Err(format!(
                "{}: per-shard use needs at least one row per shard: {} rows for {} shards",
                path.display(),
                rows.len(),
                shard.count
            ));
        }
        Ok(Callers {
            path: path.to_owned(),
            rows,
            order,
            seed,
            shard,
        })
    }

    /// The row global call `idx` uses.
    pub fn row_index(&self, idx: u64) -> usize {
        let n = self.rows.len() as u64;
        let r = match self.order {
            CallerOrder::Sequential => idx % n,
            CallerOrder::Random => {
                splitmix(self.seed ^ idx.wrapping_mul(0x9E37_79B9_7F4A_7C15)) % n
            }
            CallerOrder::PerShard => {
                let (i, count) = (u64::from(self.shard.index), u64::from(self.shard.count));
                let mine = (n - i).div_ceil(count);
                i + count * ((idx / count) % mine)
            }
        };
        usize::try_from(r).unwrap_or(0)
    }

    /// The row global call `idx` uses.
    pub fn row(&self, idx: u64) -> &CallerRow {
        &self.rows[self.row_index(idx)]
    }

    /// Every organization id the rows use, once each.
    pub fn orgs(&self) -> Vec<String> {
        let mut v: Vec<String> = self.rows.iter().map(|r| r.org.clone()).collect();
        v.sort();
        v.dedup();
        v
    }

    /// For the report: `FILE (N rows, ORDER)`.
    pub fn describe(&self) -> String {
        format!(
            "{} ({} rows, {})",
            self.path.display(),
            self.rows.len(),
            self.order.as_str()
        )
    }
}

/// SplitMix64's finalizer: a fixed, well-mixed hash of a call index, so what call `i` picks
/// (its caller row, its dialled number in a mix) depends only on `i` and the seed, and shards
/// pick exactly what one generator would.
pub(crate) fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, order: CallerOrder, shard: Shard) -> Result<Callers, String> {
        Callers::read(text.as_bytes(), Path::new("c.csv"), order, 7, shard)
    }

    const GOOD: &str = "ani,did,user_did,extension,org,location\n\
        +13125550100,,,,,\n\
        +13125550101,+18005550199,,,0d6c3a8e-1b2f-4c5d-9e7f-a1b2c3d4e5f6,psap\n\
        +13125550102,,+13125550177,,,\n\
        +13125550103,,,4102,,\n";

    #[test]
    fn rows_choose_their_number_like_the_trunk() {
        let c = read(GOOD, CallerOrder::Sequential, Shard::WHOLE).unwrap();
        let picked: Vec<(&str, Source)> =
            c.rows.iter().map(|r| (r.ani.as_str(), r.source)).collect();
        assert_eq!(
            picked,
            [
                ("+13125550100", Source::SiteAni),
                ("+18005550199", Source::CallSource),
                ("+13125550177", Source::CallSource),
                ("4102", Source::UserExtension),
            ]
        );
        assert_eq!(c.rows[1].org, "0d6c3a8e-1b2f-4c5d-9e7f-a1b2c3d4e5f6");
        assert_eq!(c.rows[0].org, scenarios::DEFAULT_ORG_ID);
        assert_eq!(c.rows[1].location.as_deref(), Some("psap"));
        assert_eq!(c.rows[2].line, 4);
        assert_eq!(c.orgs().len(), 2);
    }

    #[test]
    fn sequential_random_and_per_shard_use() {
        let c = read(GOOD, CallerOrder::Sequential, Shard::WHOLE).unwrap();
        assert_eq!(
            (0..6).map(|i| c.row_index(i)).collect::<Vec<_>>(),
            [0, 1, 2, 3, 0, 1]
        );
        let r = read(GOOD, CallerOrder::Random, Shard::WHOLE).unwrap();
        let picks: Vec<usize> = (0..400).map(|i| r.row_index(i)).collect();
        assert!(
            (0..4).all(|k| picks.iter().filter(|p| **p == k).count() > 60),
            "{picks:?}"
        );
        assert_eq!(picks, (0..400).map(|i| r.row_index(i)).collect::<Vec<_>>());
        // Shard 1 of 2 places calls 1, 3, 5, ... and uses rows 1 and 3 only, in turn.
        let s = read(GOOD, CallerOrder::PerShard, Shard { index: 1, count: 2 }).unwrap();
        let rows: Vec<usize> = [1u64, 3, 5, 7].iter().map(|i| s.row_index(*i)).collect();
        assert_eq!(rows, [1, 3, 1, 3]);
        let e = read(GOOD, CallerOrder::PerShard, Shard { index: 0, count: 5 }).unwrap_err();
        assert!(e.contains("4 rows for 5 shards"), "{e}");
    }

    #[test]
    fn bad_input_names_file_line_and_field() {
        for (text, want) in [
            ("ani,colour\n+1312\n", "c.csv:1: column \"colour\": unknown"),
            ("did\n+13125550100\n", "c.csv:1: header: no `ani` column"),
            (
                "ani\n+1312555x\n",
                "c.csv:2: ani: \"+1312555x\" is not a number",
            ),
            (
                "ani,org\n+13125550100,nope\n",
                "c.csv:2: org: \"nope\" is not a canonical UUID",
            ),
            (
                "ani,extension\n+13125550100,4\n",
                "c.csv:2: extension: \"4\" is not 2-10 digits",
            ),
            ("ani,did\n+13125550100,1\n+13125550100,12\n", "c.csv:2: did"),
            ("ani,did\n+13125550100\n", "c.csv:2: row:"),
            ("ani\n\n", "c.csv:2: row: no caller rows"),
            ("ani,did\n,+18005550199\n", "c.csv:2: ani: empty"),
        ] {
            let e = read(text, CallerOrder::Sequential, Shard::WHOLE).unwrap_err();
            assert!(e.starts_with(want), "{text:?}: {e}");
        }
        let e = Callers::load(
            Path::new("/nonexistent/c.csv"),
            CallerOrder::Random,
            0,
            Shard::WHOLE,
        )
        .unwrap_err();
        assert!(e.contains("/nonexistent/c.csv"), "{e}");
    }
}
