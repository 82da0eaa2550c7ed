//! A members file too large to hold, imported in bounded memory (docs/import.md, «Large
//! files»): the file is read twice, a batch of rows at a time, inside the one transaction.
//!
//! 1. **Check**: every row parsed by the core and checked against the registry exactly as
//!    [`Registry::import`] checks it ([`plan_members`], batch by batch); what is kept is the
//!    card numbers' hashes (8 bytes a row, for the duplicates), the numbers of the rows
//!    refused, the counts and the first problems.
//! 2. **Duplicates**, only when two card numbers share a hash: the file read again for the
//!    rows with those hashes, the cards themselves compared; a card given again is refused
//!    on its later rows (`DUPLICATE`), and those rows' counts taken back.
//! 3. **Write**, when the file passes (or `accept_partial`) and it is not a dry run: the file
//!    read again, each batch planned again and written (multi-row inserts, the counters kept),
//!    the rows refused in the check skipped. A source that sees the file changed, a batch
//!    that now plans differently, or counts that differ from the check's, mean the file
//!    changed between the readings: nothing is written (`FILE_CHANGED`).
//!
//! The subtree aggregates are added up again once, at the end, and the transaction commits.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use memberflow_workflow::import::{
    KeyHashes, MemberRow, Problem, ReadRow, duplicate_card, key_hash,
};
use memberflow_workflow::text::Text;

use super::{ImportCounts, ImportOutcome, MemberChecks, plan_members, read_tree, write_members};
use crate::error::Result;
use crate::registry::Registry;

/// A members file read a batch of rows at a time, from its start as often as asked.
pub trait MemberSource: Send {
    /// The sheet's name (a CSV file's name), for the problems found here.
    fn sheet(&self) -> &str;
    /// Goes back to the first data row, reading the header row again: the problems of a
    /// file that cannot be read at all (its encoding, its headers) otherwise.
    fn rewind(&mut self) -> std::result::Result<(), Vec<Problem>>;
    /// The next rows (at most `max`, blank rows skipped), each read by the core; none at the
    /// end. The problems that stop the file (a byte that is not UTF-8, an unclosed quote)
    /// otherwise.
    fn next_rows(&mut self, max: usize) -> std::result::Result<Vec<ReadRow>, Vec<Problem>>;
}

/// How to import a streamed file.
#[derive(Debug, Clone, Copy)]
pub struct StreamRequest {
    /// Check everything, write nothing.
    pub dry_run: bool,
    /// Write the rows that pass and report the others.
    pub accept_partial: bool,
    /// Rows read, checked and written at a time.
    pub batch_rows: usize,
    /// The most problems kept to report (the others are counted).
    pub max_problems: usize,
}

impl Default for StreamRequest {
    fn default() -> Self {
        Self {
            dry_run: false,
            accept_partial: false,
            batch_rows: 5_000,
            max_problems: 10_000,
        }
    }
}

/// Which reading of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StreamPass {
    /// Reading and checking every row.
    #[default]
    Check,
    /// Reading again for the card numbers given twice.
    Duplicates,
    /// Reading again and writing.
    Write,
}

impl StreamPass {
    /// Its name on a progress line.
    pub fn as_str(self) -> &'static str {
        match self {
            StreamPass::Check => "check",
            StreamPass::Duplicates => "duplicates",
            StreamPass::Write => "write",
        }
    }
}

/// How far an import got.
#[derive(Debug, Clone, Copy, Default)]
pub struct StreamProgress {
    /// The reading under way.
    pub pass: StreamPass,
    /// Rows read in it.
    pub read: u64,
    /// Rows checked against the registry in it.
    pub checked: u64,
    /// Rows written (new and changed members).
    pub written: u64,
}

/// What a streamed import did, or would do.
#[derive(Debug, Clone, Default)]
pub struct StreamOutcome {
    /// The first problems found ([`StreamRequest::max_problems`]), by row.
    pub problems: Vec<Problem>,
    /// Every problem found, kept or not.
    pub problem_count: u64,
    /// Data rows read.
    pub rows: u64,
    /// The rows that pass, by what they do.
    pub counts: ImportCounts,
    /// Whether anything was committed.
    pub written: bool,
    /// Whether the file changed between its readings (`FILE_CHANGED`): nothing written,
    /// whatever `accept_partial` says.
    pub changed: bool,
}

/// The problems kept, and how many there were.
struct Kept {
    max: usize,
    problems: Vec<Problem>,
    total: u64,
}

impl Kept {
    fn push(&mut self, p: Problem) {
        self.total += 1;
        if self.problems.len() < self.max {
            self.problems.push(p);
        }
    }
}

/// The problem of a file that changed between its readings.
pub fn file_changed(sheet: &str) -> Problem {
    Problem {
        sheet: sheet.to_owned(),
        row: 0,
        column: None,
        code: "FILE_CHANGED",
        reason: Text::new(
            "Tệp đã thay đổi trong khi nhập: không ghi gì. Hãy nhập lại.",
            "The file changed while it was being imported: nothing written. Import it again.",
        ),
    }
}

impl ImportCounts {
    fn add(&mut self, o: ImportCounts, sign: i8) {
        let f = |a: &mut u64, b: u64| {
            if sign < 0 {
                *a = a.saturating_sub(b);
            } else {
                *a += b;
            }
        };
        f(&mut self.units_created, o.units_created);
        f(&mut self.units_changed, o.units_changed);
        f(&mut self.units_unchanged, o.units_unchanged);
        f(&mut self.members_created, o.members_created);
        f(&mut self.members_changed, o.members_changed);
        f(&mut self.members_unchanged, o.members_unchanged);
    }
}

impl Registry<'_> {
    /// Imports a members file read twice a batch at a time (module docs), in one
    /// transaction: memory holds a batch, 8 bytes a row for the duplicates, the rows refused
    /// and the first problems, whatever the file's length.
    pub async fn import_members_streamed(
        &self,
        source: &mut dyn MemberSource,
        req: StreamRequest,
        now: DateTime<Utc>,
        progress: &mut (dyn FnMut(StreamProgress) + Send),
    ) -> Result<StreamOutcome> {
        let batch = req.batch_rows.max(1);
        let txn = self.begin_write().await?;
        let tree = read_tree(&txn, false).await?;
        let sheet = source.sheet().to_owned();
        let scope = None;
        let hamlets = super::hamlets::recorded_hamlets(&txn).await?;
        let checks = MemberChecks {
            known: &tree.known,
            code_of: &tree.code_of,
            edges_of: &tree.edges_of,
            scope: &scope,
            hamlets: &hamlets,
            sheet: &sheet,
            list_rows: false,
        };
        let mut out = StreamOutcome::default();
        let mut kept = Kept {
            max: req.max_problems,
            problems: Vec::new(),
            total: 0,
        };
        // A file that cannot be read (further) writes nothing: its problems are the answer.
        macro_rules! stop {
            ($ps:expr) => {{
                for p in $ps {
                    kept.push(p);
                }
                txn.rollback().await?;
                out.problem_count = kept.total;
                out.problems = kept.problems;
                out.problems.sort_by_key(|p| p.row);
                out.changed = out.problems.iter().any(|p| p.code == "FILE_CHANGED");
                return Ok(out);
            }};
        }

        // 1. Check.
        let mut refused: Vec<usize> = Vec::new();
        let mut keys = KeyHashes::default();
        let mut p = StreamProgress::default();
        if let Err(ps) = source.rewind() {
            stop!(ps);
        }
        loop {
            let rows = match source.next_rows(batch) {
                Ok(r) => r,
                Err(ps) => stop!(ps),
            };
            if rows.is_empty() {
                break;
            }
            p.read += rows.len() as u64;
            let mut good: Vec<MemberRow> = Vec::with_capacity(rows.len());
            for r in rows {
                if let Some(card) = &r.card {
                    keys.insert(card);
                }
                match r.member {
                    Some(m) if r.problems.is_empty() => good.push(m),
                    _ => {
                        refused.push(r.row);
                        for pr in r.problems {
                            kept.push(pr);
                        }
                    }
                }
            }
            let mut o = ImportOutcome::default();
            plan_members(&txn, &checks, good, &mut o).await?;
            for pr in o.problems {
                refused.push(pr.row);
                kept.push(pr);
            }
            out.counts.add(o.counts, 1);
            p.checked = p.read;
            progress(p);
        }
        out.rows = p.read;

        // 2. Duplicates: the cards whose hashes were seen twice, compared themselves.
        let repeated = keys.repeated();
        if !repeated.is_empty() {
            p = StreamProgress {
                pass: StreamPass::Duplicates,
                ..StreamProgress::default()
            };
            if let Err(ps) = source.rewind() {
                stop!(ps);
            }
            let mut first_row: HashMap<String, usize> = HashMap::new();
            let mut again: Vec<MemberRow> = Vec::new();
            loop {
                let rows = match source.next_rows(batch) {
                    Ok(r) => r,
                    Err(ps) => stop!(ps),
                };
                if rows.is_empty() {
                    break;
                }
                p.read += rows.len() as u64;
                for r in rows {
                    let Some(card) = r.card else { continue };
                    if !repeated.contains(&key_hash(&card)) {
                        continue;
                    }
                    match first_row.get(&card) {
                        None => {
                            first_row.insert(card, r.row);
                        }
                        Some(first) => {
                            kept.push(duplicate_card(&sheet, r.row, &card, *first));
                            refused.push(r.row);
                            if let Some(m) = r.member
                                && r.problems.is_empty()
                            {
                                again.push(m);
                            }
                        }
                    }
                }
                if again.len() >= batch {
                    let mut o = ImportOutcome::default();
                    plan_members(&txn, &checks, std::mem::take(&mut again), &mut o).await?;
                    out.counts.add(o.counts, -1);
                }
                progress(p);
            }
            // The later rows of a card were counted by the check: they are taken back.
            let mut o = ImportOutcome::default();
            plan_members(&txn, &checks, again, &mut o).await?;
            out.counts.add(o.counts, -1);
        }
        refused.sort_unstable();
        refused.dedup();
        out.problem_count = kept.total;

        if req.dry_run || (kept.total > 0 && !req.accept_partial) {
            txn.rollback().await?;
            out.problems = kept.problems;
            out.problems.sort_by_key(|p| p.row);
            return Ok(out);
        }

        // 3. Write. The file read again must be the file checked: a change seen by the
        // source (its length, time of change or contents) or by the plans writes nothing.
        macro_rules! changed {
            ($ps:expr) => {{
                txn.rollback().await?;
                let mut ps: Vec<Problem> = $ps;
                if !ps.iter().any(|p| p.code == "FILE_CHANGED") {
                    ps.push(file_changed(&sheet));
                }
                out.problem_count = kept.total + ps.len() as u64;
                out.problems = ps;
                out.problems.extend(kept.problems);
                out.problems.sort_by_key(|p| p.row);
                out.changed = true;
                return Ok(out);
            }};
        }
        p = StreamProgress {
            pass: StreamPass::Write,
            ..StreamProgress::default()
        };
        // The check's reading has ended: said before the file is read again.
        progress(p);
        if let Err(ps) = source.rewind() {
            changed!(ps);
        }
        let unit_id = |code: &str| tree.known.get(code).map(|k| k.id).unwrap_or_default();
        let hamlet_id = |code: &str| hamlets.get(code).map(|k| k.id).unwrap_or_default();
        let mut counts = ImportCounts::default();
        loop {
            let rows = match source.next_rows(batch) {
                Ok(rows) => rows,
                Err(ps) => changed!(ps),
            };
            if rows.is_empty() {
                break;
            }
            p.read += rows.len() as u64;
            let mut good: Vec<MemberRow> = Vec::with_capacity(rows.len());
            for r in rows {
                if refused.binary_search(&r.row).is_ok() {
                    continue;
                }
                match r.member {
                    Some(m) if r.problems.is_empty() => good.push(m),
                    _ => changed!(Vec::new()),
                }
            }
            let mut o = ImportOutcome::default();
            let plans = plan_members(&txn, &checks, good, &mut o).await?;
            if !o.problems.is_empty() {
                changed!(Vec::new());
            }
            counts.add(o.counts, 1);
            p.checked = p.read;
            write_members(&txn, &plans, &unit_id, &hamlet_id, now, &mut |_, _, _| {}).await?;
            p.written += plans.len() as u64;
            progress(p);
        }
        if counts != out.counts || p.read != out.rows {
            changed!(Vec::new());
        }
        crate::stats::rollup::rebuild_kept(&txn).await?;
        txn.commit().await?;
        out.written = true;
        out.problems = kept.problems;
        out.problems.sort_by_key(|p| p.row);
        tracing::info!(
            rows = out.rows,
            members_created = out.counts.members_created,
            members_changed = out.counts.members_changed,
            refused = out.problem_count,
            "streamed import committed"
        );
        Ok(out)
    }
}
