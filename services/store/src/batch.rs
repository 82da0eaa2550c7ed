//! Several statements of a PostgreSQL write transaction in one message (write.rs): the
//! transaction's `BEGIN`, the statements it put off and the queries it waits for go out
//! together as one simple-protocol message, and PostgreSQL answers them in one round trip.
//!
//! sqlx waits for each statement's answer before it sends the next (its extended-protocol
//! messages end with a `Sync` each), and it cannot queue messages for later. A simple-protocol
//! message, however, may hold several statements, which the server runs in turn; with
//! parameters written into its text, each statement of a batch is the `EXECUTE` of a statement
//! prepared on the connection under a name of ours (`PREPARE mf_7 (uuid, text) AS …`, sent in
//! the same message the first time the connection meets it): the server parses the short
//! `EXECUTE` and its literals, and plans the statement as it plans sqlx's own prepared ones (a
//! custom plan for the first executions, then the generic one when it is as good).
//!
//! A parameter is written as a literal of the type sqlx would have bound it as
//! (sea-query-sqlx's binding: `int8` for an `i64`, `jsonb` for JSON, `timestamptz` for a UTC
//! time, …), declared by the `PREPARE`, so the statement means what it meant bound. Text is
//! dollar-quoted under a tag chosen so that nothing in the text can end the literal, whatever
//! the server's `standard_conforming_strings`; numbers, booleans, dates, times and ids are
//! written by us from typed values. A statement holding a value of another kind (floats,
//! decimals, arrays, bytes), a NUL character or a year PostgreSQL writes differently is not
//! batched: it is sent alone, as before.

use std::collections::HashMap;
use std::fmt::Write as _;

use chrono::Datelike as _;
use sea_orm::{Statement, Value};

/// The most statements a connection keeps prepared under our names; past it, one is
/// deallocated (in the same message) for each new one.
pub(crate) const MAX_PREPARED: usize = 64;

/// The statements a connection has prepared under our names (by their text), and the number
/// the next name takes. Names are never used twice on a connection: a name whose `PREPARE`
/// went out in a batch that failed may or may not exist on the server.
#[derive(Debug, Default)]
pub(crate) struct Prepared {
    names: HashMap<String, u32>,
    next: u32,
}

impl Prepared {
    /// Forgets the names (the server lost or outdated them: `DISCARD`, a changed table); the
    /// statements are prepared again under new ones.
    pub(crate) fn forget(&mut self) {
        self.names.clear();
    }
}

/// One statement of a batch, by what its answer is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    /// `BEGIN`, `PREPARE`, `DEALLOCATE`, `COMMIT`, `ROLLBACK`, a statement put off: its answer
    /// is not read (it does all it says or fails, and the transaction with it).
    Quiet,
    /// A query: its rows are returned.
    Query,
}

/// Whether `sql` can be put off: a data-changing statement without `RETURNING`, whose answer
/// nobody waits for.
pub(crate) fn can_wait(sql: &str) -> bool {
    ["INSERT ", "UPDATE ", "DELETE "]
        .iter()
        .any(|k| sql.starts_with(k))
        && !sql.contains("RETURNING")
}

/// A batch written out: the message's text and what each statement in it is, in order; the
/// names it prepares, kept once the batch succeeded ([`Prepared::keep`]).
#[derive(Debug)]
pub(crate) struct Batch {
    pub(crate) text: String,
    pub(crate) parts: Vec<Part>,
    new_names: Vec<(String, u32)>,
    writes: bool,
}

impl Batch {
    /// An empty batch.
    pub(crate) fn new() -> Self {
        Self {
            text: String::new(),
            parts: Vec::new(),
            new_names: Vec::new(),
            writes: false,
        }
    }

    /// Adds a statement without parameters whose answer is not read (`BEGIN`, `COMMIT`).
    pub(crate) fn quiet(&mut self, sql: &str) {
        self.separate();
        self.text.push_str(sql);
        self.parts.push(Part::Quiet);
        self.writes |= sql != "BEGIN" && !sql.starts_with("DEALLOCATE");
    }

    /// Adds `stmt` (which [`batchable`] accepted) as the `EXECUTE` of its prepared form, the
    /// `PREPARE` before it when `prepared` does not hold it yet.
    pub(crate) fn statement(&mut self, prepared: &mut Prepared, stmt: &Statement, part: Part) {
        let values = stmt.values.as_ref().map_or(&[][..], |v| &v.0[..]);
        let sql = stmt.sql.as_str();
        let known = prepared.names.get(sql).copied().or_else(|| {
            self.new_names
                .iter()
                .find(|(s, _)| *s == sql)
                .map(|(_, n)| *n)
        });
        let name = match known {
            Some(n) => n,
            None => {
                if prepared.names.len() + self.new_names.len() >= MAX_PREPARED
                    && let Some(old) = prepared.names.keys().next().cloned()
                    && let Some(n) = prepared.names.remove(&old)
                {
                    self.quiet(&format!("DEALLOCATE mf_{n}"));
                }
                let n = prepared.next;
                prepared.next += 1;
                self.separate();
                let _ = write!(self.text, "PREPARE mf_{n}");
                for (i, v) in values.iter().enumerate() {
                    self.text.push_str(if i == 0 { " (" } else { ", " });
                    self.text.push_str(param_type(v).unwrap_or("text"));
                }
                if !values.is_empty() {
                    self.text.push(')');
                }
                self.text.push_str(" AS ");
                self.text.push_str(sql);
                self.parts.push(Part::Quiet);
                self.new_names.push((sql.to_owned(), n));
                n
            }
        };
        self.writes |= part != Part::Query;
        self.separate();
        let _ = write!(self.text, "EXECUTE mf_{name}");
        for (i, v) in values.iter().enumerate() {
            self.text.push_str(if i == 0 { "(" } else { ", " });
            literal(v, &mut self.text);
        }
        if !values.is_empty() {
            self.text.push(')');
        }
        self.parts.push(part);
    }

    fn separate(&mut self) {
        if !self.text.is_empty() {
            self.text.push_str("; ");
        }
    }

    /// Whether the batch holds more than its `BEGIN`, its preparations and its queries (a
    /// statement put off, the transaction's end): one that failed on a link may have run, and
    /// is not sent again.
    pub(crate) fn writes(&self) -> bool {
        self.writes
    }

    /// Keeps the names this batch prepared, once it succeeded.
    pub(crate) fn keep(self, prepared: &mut Prepared) {
        prepared.names.extend(self.new_names);
    }
}

/// Whether `stmt` can go in a batch: every parameter of a kind written here, no text holding
/// a NUL character (which would end the message's text), every year one PostgreSQL reads as
/// written (1 to 9999).
pub(crate) fn batchable(stmt: &Statement) -> bool {
    stmt.values
        .as_ref()
        .is_none_or(|v| v.0.iter().all(|v| param_type(v).is_some() && writable(v)))
}

/// The PostgreSQL type sqlx binds a value of `v`'s kind as (sea-query-sqlx), for the kinds
/// written here.
fn param_type(v: &Value) -> Option<&'static str> {
    Some(match v {
        Value::Bool(_) => "bool",
        Value::SmallInt(_) | Value::TinyUnsigned(_) => "int2",
        Value::Int(_) | Value::SmallUnsigned(_) => "int4",
        Value::BigInt(_) | Value::Unsigned(_) => "int8",
        Value::String(_) | Value::Char(_) => "text",
        Value::Json(_) => "jsonb",
        Value::ChronoDate(_) => "date",
        Value::ChronoDateTime(_) => "timestamp",
        Value::ChronoDateTimeUtc(_)
        | Value::ChronoDateTimeLocal(_)
        | Value::ChronoDateTimeWithTimeZone(_) => "timestamptz",
        Value::Uuid(_) => "uuid",
        _ => return None,
    })
}

fn writable(v: &Value) -> bool {
    let year = |y: i32| (1..=9999).contains(&y);
    match v {
        Value::String(Some(s)) => !s.contains('\0'),
        Value::Char(Some(c)) => *c != '\0',
        Value::ChronoDate(Some(d)) => year(d.year()),
        Value::ChronoDateTime(Some(t)) => year(t.year()),
        // Written in UTC: the year checked is UTC's.
        Value::ChronoDateTimeUtc(Some(t)) => year(t.year()),
        Value::ChronoDateTimeLocal(Some(t)) => year(t.naive_utc().year()),
        Value::ChronoDateTimeWithTimeZone(Some(t)) => year(t.naive_utc().year()),
        // JSON text escapes a NUL (`\u0000`).
        _ => true,
    }
}

/// Writes `v` as a literal PostgreSQL reads as the value itself (for a parameter of the type
/// [`param_type`] gives).
fn literal(v: &Value, out: &mut String) {
    const TIME: &str = "%Y-%m-%d %H:%M:%S%.6f";
    // In UTC: an offset written with `%:z` would be rounded to the minute.
    let utc =
        |t: chrono::DateTime<chrono::Utc>| format!("'{}+00'", micros(t.naive_utc()).format(TIME));
    let _ = match v {
        Value::Bool(Some(b)) => write!(out, "{b}"),
        Value::SmallInt(Some(i)) => write!(out, "{i}"),
        Value::TinyUnsigned(Some(i)) => write!(out, "{i}"),
        Value::Int(Some(i)) => write!(out, "{i}"),
        Value::SmallUnsigned(Some(i)) => write!(out, "{i}"),
        Value::BigInt(Some(i)) => write!(out, "{i}"),
        Value::Unsigned(Some(i)) => write!(out, "{i}"),
        Value::String(Some(s)) => {
            quoted(s, out);
            Ok(())
        }
        Value::Char(Some(c)) => {
            quoted(c.encode_utf8(&mut [0; 4]), out);
            Ok(())
        }
        Value::Json(Some(j)) => {
            quoted(&j.to_string(), out);
            Ok(())
        }
        Value::ChronoDate(Some(d)) => write!(out, "'{}'", d.format("%Y-%m-%d")),
        Value::ChronoDateTime(Some(t)) => write!(out, "'{}'", micros(*t).format(TIME)),
        Value::ChronoDateTimeUtc(Some(t)) => write!(out, "{}", utc(*t)),
        Value::ChronoDateTimeLocal(Some(t)) => write!(out, "{}", utc(t.to_utc())),
        Value::ChronoDateTimeWithTimeZone(Some(t)) => write!(out, "{}", utc(t.to_utc())),
        Value::Uuid(Some(u)) => write!(out, "'{u}'"),
        _ => {
            out.push_str("NULL");
            Ok(())
        }
    };
}

/// `t` to the microsecond as sqlx sends it: whole microseconds since 2000, counted toward
/// zero (a time before 2000 with a fraction of a microsecond goes up to the next one).
fn micros(t: chrono::NaiveDateTime) -> chrono::NaiveDateTime {
    let epoch = chrono::NaiveDate::from_ymd_opt(2000, 1, 1)
        .unwrap_or_default()
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default();
    (t - epoch)
        .num_microseconds()
        .map_or(t, |us| epoch + chrono::Duration::microseconds(us))
}

/// Writes `s` dollar-quoted, under a tag (`$mf$`, `$mf1$`, …) that neither occurs in `s` nor
/// closes early at `s`'s end (`s` ending in `$mf1` would close `$mf1$` three characters early):
/// nothing in `s` can end the literal. One pass over `s` finds the tags it takes.
fn quoted(s: &str, out: &mut String) {
    // The digits of each `$mf<digits>` in `s` followed by `$` or at its end.
    let mut taken = std::collections::HashSet::new();
    let mut at = 0;
    while let Some(i) = s[at..].find("$mf") {
        let start = at + i + 3;
        let digits = s[start..].bytes().take_while(u8::is_ascii_digit).count();
        let next = s.as_bytes().get(start + digits);
        if next.is_none_or(|b| *b == b'$') {
            taken.insert(&s[start..start + digits]);
        }
        at += i + 1;
    }
    // Among `taken.len() + 1` candidates one is free.
    let digits = (0..=taken.len())
        .map(|n| if n == 0 { String::new() } else { n.to_string() })
        .find(|d| !taken.contains(d.as_str()))
        .unwrap_or_default();
    let _ = write!(out, "$mf{digits}${s}$mf{digits}$");
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone as _, Utc};
    use proptest::prelude::*;

    fn lit(v: Value) -> String {
        let mut s = String::new();
        literal(&v, &mut s);
        s
    }

    /// The text between a dollar-quoted literal's tags, as PostgreSQL's lexer reads it: from
    /// the end of the opening tag to the first occurrence of the same tag.
    fn unquoted(lit: &str) -> Option<(&str, &str)> {
        let end = lit[1..].find('$')? + 2;
        let tag = &lit[..end];
        let rest = &lit[end..];
        let close = rest.find(tag)?;
        Some((&rest[..close], &rest[close + tag.len()..]))
    }

    proptest! {
        #[test]
        fn text_reads_back_whole_and_nothing_follows_it(s in "(\\$|m|f|0|1|2|'|;|a|\\\\)*") {
            let l = lit(Value::String(Some(s.clone())));
            let (inner, after) = unquoted(&l).expect("a dollar-quoted literal");
            prop_assert_eq!(inner, s.as_str());
            prop_assert_eq!(after, "");
        }
    }

    #[test]
    fn a_text_full_of_tags_is_quoted_in_one_pass_under_a_free_one() {
        let s: String = (0..5_000).map(|n| format!("$mf{n}$")).collect::<String>() + "$mf";
        let l = lit(Value::String(Some(s.clone())));
        let (inner, after) = unquoted(&l).unwrap_or_default();
        assert_eq!((inner, after), (s.as_str(), ""));
        assert!(l.starts_with("$mf5000$"), "{}", &l[..12]);
    }

    #[test]
    fn a_time_with_an_offset_is_written_in_utc_to_the_microsecond() {
        let t = chrono::FixedOffset::east_opt(7 * 3600 + 6 * 60 + 40)
            .unwrap_or_else(|| panic!("an offset"))
            .with_ymd_and_hms(1890, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_else(|| panic!("a time"))
            + chrono::Duration::nanoseconds(1_500);
        // 1889-12-31 16:53:20 UTC, 1.5 µs counted toward 2000: 2 µs.
        assert_eq!(
            lit(Value::ChronoDateTimeWithTimeZone(Some(t))),
            "'1889-12-31 16:53:20.000002+00'"
        );
    }

    #[test]
    fn a_text_ending_in_part_of_the_tag_takes_another_tag() {
        assert_eq!(lit(Value::String(Some("a$mf".into()))), "$mf1$a$mf$mf1$");
        assert_eq!(
            lit(Value::String(Some("x$mf$y".into()))),
            "$mf1$x$mf$y$mf1$"
        );
        assert_eq!(lit(Value::String(Some("it's".into()))), "$mf$it's$mf$");
        assert_eq!(lit(Value::String(None)), "NULL");
    }

    #[test]
    fn values_are_written_as_postgresql_reads_them() {
        assert_eq!(lit(Value::BigInt(Some(-42))), "-42");
        assert_eq!(lit(Value::Bool(Some(true))), "true");
        let d = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap_or_default();
        assert_eq!(lit(Value::ChronoDate(Some(d))), "'2026-12-06'");
        let t = Utc
            .with_ymd_and_hms(2026, 12, 6, 10, 5, 7)
            .single()
            .unwrap_or_default();
        assert_eq!(
            lit(Value::ChronoDateTimeUtc(Some(t))),
            "'2026-12-06 10:05:07.000000+00'"
        );
        let u = uuid::Uuid::nil();
        assert_eq!(
            lit(Value::Uuid(Some(u))),
            "'00000000-0000-0000-0000-000000000000'"
        );
        let j = serde_json::json!({"a": "b'c"});
        assert_eq!(
            lit(Value::Json(Some(Box::new(j)))),
            "$mf${\"a\":\"b'c\"}$mf$"
        );
    }

    #[test]
    fn a_statement_is_prepared_once_per_connection_then_executed() {
        let stmt = Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT $1, $2",
            [Value::Uuid(Some(uuid::Uuid::nil())), Value::String(None)],
        );
        let mut prepared = Prepared::default();
        let mut b = Batch::new();
        b.quiet("BEGIN");
        b.statement(&mut prepared, &stmt, Part::Query);
        b.statement(&mut prepared, &stmt, Part::Query);
        assert_eq!(
            b.text,
            "BEGIN; PREPARE mf_0 (uuid, text) AS SELECT $1, $2; \
             EXECUTE mf_0('00000000-0000-0000-0000-000000000000', NULL); \
             EXECUTE mf_0('00000000-0000-0000-0000-000000000000', NULL)"
        );
        assert_eq!(
            b.parts,
            vec![Part::Quiet, Part::Quiet, Part::Query, Part::Query]
        );
        b.keep(&mut prepared);
        let mut again = Batch::new();
        again.statement(&mut prepared, &stmt, Part::Query);
        assert!(again.text.starts_with("EXECUTE mf_0("), "{}", again.text);
        // A batch that failed keeps nothing, and its name is not given again.
        let other = Statement::from_string(sea_orm::DbBackend::Postgres, "SELECT 1");
        let mut failed = Batch::new();
        failed.statement(&mut prepared, &other, Part::Query);
        drop(failed);
        let mut next = Batch::new();
        next.statement(&mut prepared, &other, Part::Query);
        assert_eq!(next.text, "PREPARE mf_2 AS SELECT 1; EXECUTE mf_2");
    }

    #[test]
    fn a_batch_writes_once_it_holds_more_than_its_begin_preparations_and_queries() {
        let stmt = Statement::from_string(sea_orm::DbBackend::Postgres, "UPDATE t SET a = 1");
        let query = Statement::from_string(sea_orm::DbBackend::Postgres, "SELECT 1");
        let reads = || {
            let mut b = Batch::new();
            b.quiet("BEGIN");
            b.statement(&mut Prepared::default(), &query, Part::Query);
            b
        };
        assert!(!reads().writes());
        let mut b = reads();
        b.statement(&mut Prepared::default(), &stmt, Part::Quiet);
        assert!(b.writes());
        let mut b = reads();
        b.quiet("COMMIT");
        assert!(b.writes());
    }

    #[test]
    fn a_statement_put_off_is_prepared_as_it_is() {
        let stmt = Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "UPDATE t SET a = $1",
            [Value::Int(Some(3))],
        );
        assert!(can_wait(&stmt.sql));
        assert!(!can_wait("UPDATE t SET a = 1 RETURNING a"));
        assert!(!can_wait("SELECT 1"));
        let mut b = Batch::new();
        b.statement(&mut Prepared::default(), &stmt, Part::Quiet);
        assert_eq!(
            b.text,
            "PREPARE mf_0 (int4) AS UPDATE t SET a = $1; EXECUTE mf_0(3)"
        );
    }

    #[test]
    fn only_values_written_here_are_batched() {
        let with = |v: Value| {
            batchable(&Statement::from_sql_and_values(
                sea_orm::DbBackend::Postgres,
                "SELECT $1",
                [v],
            ))
        };
        assert!(with(Value::String(Some("a".into()))));
        assert!(!with(Value::String(Some("a\0b".into()))));
        assert!(!with(Value::Double(Some(1.5))));
        assert!(!with(Value::ChronoDate(NaiveDate::from_ymd_opt(
            10_000, 1, 1
        ))));
        // Year 1 where it is, year 0 in UTC, as it would be written.
        let early = chrono::FixedOffset::east_opt(3600)
            .and_then(|o| o.with_ymd_and_hms(1, 1, 1, 0, 30, 0).single());
        assert!(early.is_some());
        assert!(!with(Value::ChronoDateTimeWithTimeZone(early)));
    }
}
