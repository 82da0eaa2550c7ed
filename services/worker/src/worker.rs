//! The worker: one pass over what is due ([`Worker::dispatch_due`]), the periodic jobs
//! ([`Worker::run_job`]) and the loop that runs them ([`Worker::run`]).
//!
//! A pass at `now` first advances the recurring reminders whose tick came (each tick becomes
//! one mail row, deduplicated by reminder and day), then claims due rows in batches and sends
//! them one by one. Each outcome is written back under the claim's token: sent; failed and
//! tried again after a backoff; or, after `max_attempts` attempts (or when the row cannot be
//! sent at all: unknown or failing template, no address for the role, unreadable payload), a
//! dead letter. Time is an argument: tests call a pass with any `now`.
//!
//! The loop sleeps until the earliest of: the next cron tick of any job, the next retry or
//! recurring tick or lease expiry in the outbox, the start of the next day that has rows due,
//! and `max_idle` (which bounds how late work committed by another server instance is seen).
//! [`WorkerHandle::wake`] cuts the sleep short; the shutdown future ends the loop between two
//! passes.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc};
use lettre::message::Mailbox;
use memberflow_store::{
    CaseBrief, ClaimRequest, Claimed, DueItem, NewOutbox, OutboxKind, OutboxRecord, PeriodicJob,
    Store, TargetRequest, UnitBrief, UnitRecord,
};
use memberflow_workflow::access::competent_level;
use memberflow_workflow::catalog::Catalog;
use memberflow_workflow::engine::{Effect, OnExpiry, RoleRef};
use memberflow_workflow::stats::TargetParams;
use memberflow_workflow::text::Lang;
use memberflow_workflow::tree::{Level as UnitLevel, UnitKind};
use memberflow_workflow::vocab::RoleLevel;
use tokio::sync::Notify;
use uuid::Uuid;

use crate::error::Result;
use crate::mailer::{Mail, Mailer};
use crate::recipients::Recipients;
use crate::schedule::{Job, Schedules, latest_tick, next_tick, today_in_vietnam};
use crate::templates::{self, MISSING, MailTemplates, Source, Vars};

/// Where the loop reads the time: the system clock in production, a fixed or moving one in
/// tests.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// How the worker behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerOptions {
    /// The language of the mails (Vietnamese by default).
    pub language: Lang,
    /// A row becomes a dead letter after this many failed attempts.
    pub max_attempts: u32,
    /// The delay after the first failure; it doubles with each further failure.
    pub retry_base: TimeDelta,
    /// The longest delay between two attempts.
    pub retry_max: TimeDelta,
    /// How long a claim holds a row without news from its worker: the worker renews it while
    /// it sends (a heartbeat every third of it), so a crashed worker's rows are free again
    /// after at most this long.
    pub lease: TimeDelta,
    /// The name of this worker instance, stable across its restarts (the host's name by
    /// default): a claim carries it, and the instance frees its own claims when it starts.
    pub instance: String,
    /// Rows claimed at once.
    pub batch: u64,
    /// The longest sleep of the loop.
    pub max_idle: Duration,
    /// At start-up, the latest tick of a job is run if it is at most this old (its dedupe
    /// keys make a tick that already ran harmless).
    pub catch_up: TimeDelta,
    /// The digest lists deadlines due within this many days (and those already passed).
    pub digest_days: i64,
    /// The address the server is reached at (`public_url`), for links to cases in mails.
    pub public_url: Option<String>,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            language: Lang::Vi,
            max_attempts: 5,
            retry_base: TimeDelta::minutes(1),
            retry_max: TimeDelta::hours(6),
            lease: TimeDelta::seconds(60),
            instance: default_instance(),
            batch: 20,
            max_idle: Duration::from_secs(30),
            catch_up: TimeDelta::hours(24),
            digest_days: 7,
            public_url: None,
        }
    }
}

/// The host's name (`HOSTNAME`), or `memberflow`.
pub fn default_instance() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .map(|h| instance_name(&h))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "memberflow".to_owned())
}

/// An instance name as claims carry it: letters, digits, `-` and `.` (anything else becomes
/// `-`, so the name is also a plain prefix to match on).
pub fn instance_name(raw: &str) -> String {
    raw.trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

impl WorkerOptions {
    /// The delay before the next attempt after `attempts` failed ones:
    /// `retry_base × 2^(attempts − 1)`, at most `retry_max`.
    pub fn backoff(&self, attempts: u32) -> TimeDelta {
        let doublings = attempts.saturating_sub(1).min(20);
        let factor = 1i32 << doublings;
        (self.retry_base * factor).min(self.retry_max)
    }
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DispatchReport {
    /// Rows claimed for sending.
    pub claimed: u32,
    /// Mails the SMTP server accepted.
    pub sent: u32,
    /// Failed attempts that will be tried again.
    pub retried: u32,
    /// Rows that became dead letters.
    pub dead: u32,
    /// Claims lost meanwhile (a step cancelled the row, or the lease ran out).
    pub lost: u32,
    /// Ticks of recurring reminders turned into mail rows.
    pub ticks: u32,
}

impl DispatchReport {
    /// Whether the pass did nothing.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// What a row says, before its recipients are resolved.
struct Draft {
    to: RoleRef,
    /// The unit the role is looked up from (the case's, or the job's).
    unit: Option<Uuid>,
    /// The member the case is about.
    subject_member: Option<Uuid>,
    subject: String,
    body: String,
    link: Option<String>,
}

/// A mail as it would be sent now (`preview`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    /// Its recipients.
    pub to: Vec<String>,
    /// Subject line.
    pub subject: String,
    /// Plain text.
    pub text: String,
    /// HTML.
    pub html: Option<String>,
    /// Why it could not be sent now (no address, unknown template...), if so.
    pub problem: Option<String>,
}

/// A link to a case: GraphiQL with the query of the case filled in.
fn case_link(base: &str, case: Uuid) -> String {
    let query = format!(
        "{{ case(id: \"{case}\") {{ title state stateLabel nextDue deadlines {{ rule due overdue workingDaysLeft }} }} }}"
    );
    let encoded: String = query
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("{}/graphql?query={encoded}", base.trim_end_matches('/'))
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The HTML alternative of a mail: the same paragraphs, lists kept as lists, and the link.
fn html_body(subject: &str, text: &str, link: Option<&str>) -> String {
    let mut out = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{}</title></head><body>",
        escape_html(subject)
    );
    for para in text.split("\n\n").filter(|p| !p.trim().is_empty()) {
        let lines: Vec<&str> = para.lines().collect();
        if lines.iter().all(|l| l.trim_start().starts_with("- ")) {
            out.push_str("<ul>");
            for l in lines {
                out.push_str(&format!(
                    "<li>{}</li>",
                    escape_html(l.trim_start().trim_start_matches("- "))
                ));
            }
            out.push_str("</ul>");
        } else {
            out.push_str(&format!(
                "<p>{}</p>",
                lines
                    .iter()
                    .map(|l| escape_html(l))
                    .collect::<Vec<_>>()
                    .join("<br>")
            ));
        }
    }
    if let Some(l) = link {
        let e = escape_html(l);
        out.push_str(&format!("<p><a href=\"{e}\">{e}</a></p>"));
    }
    out.push_str("</body></html>");
    out
}

/// Wakes the worker's loop early, e.g. after a command that enqueued a mail to send now.
#[derive(Debug, Clone)]
pub struct WorkerHandle {
    wake: Arc<Notify>,
}

impl WorkerHandle {
    /// Wakes the loop (a wake while it is busy makes the next sleep return at once).
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// The scheduler and outbox sender.
pub struct Worker {
    store: Store,
    /// `None`: mail is off. Periodic jobs still run (a passed deadline still escalates: it has
    /// legal effect), mail rows wait until mail is configured.
    mailer: Option<Mailer>,
    schedules: Schedules,
    recipients: Recipients,
    options: WorkerOptions,
    wake: Arc<Notify>,
    clock: Clock,
    catalog: Option<Arc<Catalog>>,
    observer: Option<JobObserver>,
    templates: Arc<MailTemplates>,
}

/// One run of a periodic job, as told to a [`JobObserver`].
#[derive(Debug, Clone, Copy)]
pub struct JobRun {
    /// Which job.
    pub job: Job,
    /// The tick it ran for.
    pub tick: DateTime<Utc>,
    /// How late it started after its tick (the scheduler's lag).
    pub lag: TimeDelta,
    /// How long it ran.
    pub took: Duration,
    /// Whether it succeeded.
    pub ok: bool,
}

/// Told of every run of a periodic job (the server's metrics).
pub type JobObserver = Arc<dyn Fn(JobRun) + Send + Sync>;

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("mailer", &self.mailer)
            .field("schedules", &self.schedules)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

fn fmt_date(d: NaiveDate, lang: Lang) -> String {
    match lang {
        Lang::Vi => d.format("%d/%m/%Y").to_string(),
        Lang::En => d.format("%Y-%m-%d").to_string(),
    }
}

fn unit_text(u: &UnitBrief) -> String {
    format!("{} ({})", u.name, u.code)
}

/// The start of day `d` in Vietnam, as an instant.
fn start_of_day(d: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&(d.and_time(NaiveTime::MIN) - TimeDelta::hours(7)))
}

/// The variables of a mail about `case` ([`templates::CASE_VARIABLES`] but `date`): each
/// datum the case lacks (or the whole case, gone) is a dash.
pub(crate) fn case_vars(vars: &mut Vars, case: Option<&CaseBrief>, lang: Lang) {
    let missing = || MISSING.to_owned();
    vars.insert("case", case.map_or_else(missing, |c| c.title.clone()));
    vars.insert("state", case.map_or_else(missing, |c| c.state.clone()));
    vars.insert(
        "unit",
        case.and_then(|c| c.unit.as_ref())
            .map_or_else(missing, unit_text),
    );
    vars.insert(
        "due",
        case.and_then(|c| c.next_due)
            .map_or_else(missing, |d| fmt_date(d, lang)),
    );
    vars.insert(
        "decision",
        case.and_then(|c| c.decision.as_ref())
            .map_or_else(missing, |d| d.describe(lang)),
    );
}

/// What an outbox row's mail says: its template, recipient, unit, source and variables
/// (exactly [`Source::variables`]); or why it carries none.
pub(crate) fn mail_vars(
    r: &OutboxRecord,
    case: Option<&CaseBrief>,
    lang: Lang,
) -> std::result::Result<(String, RoleRef, Option<Uuid>, Source, Vars), String> {
    let mut vars = Vars::new();
    vars.insert("date", fmt_date(r.due_on, lang));
    let mut unit = case.and_then(|c| c.unit.as_ref().map(|u| u.id));
    if r.kind.carries_effect() {
        case_vars(&mut vars, case, lang);
        let (template, to) = match serde_json::from_value::<Effect>(r.payload.clone()) {
            Ok(Effect::ScheduleReminder {
                template, to, at, ..
            }) => {
                vars.insert("date", fmt_date(at, lang));
                (template, to)
            }
            Ok(Effect::SendMail { template, to }) => (template, to),
            Ok(_) => return Err(format!("a {} row carries no mail", r.kind.as_str())),
            Err(e) => return Err(format!("unreadable payload: {e}")),
        };
        return Ok((template, to, unit, Source::Case, vars));
    }
    let job = serde_json::from_value::<PeriodicJob>(r.payload.clone())
        .map_err(|e| format!("unreadable payload: {e}"))?;
    let to = job.to().clone();
    if let Some(u) = job.unit() {
        unit = Some(u);
    }
    let (template, source) = match job {
        PeriodicJob::DeadlinePassed {
            rule,
            due,
            template,
            ..
        } => {
            case_vars(&mut vars, case, lang);
            vars.insert("rule", rule);
            vars.insert("due", fmt_date(due, lang));
            (template, Source::DeadlinePassed)
        }
        PeriodicJob::Digest {
            unit, week, items, ..
        } => {
            vars.insert("unit", unit_text(&unit));
            vars.insert("week", week);
            vars.insert("count", items.len().to_string());
            vars.insert("items", digest_lines(&items, r.due_on, lang));
            (templates::DIGEST.to_owned(), Source::Digest)
        }
        PeriodicJob::Meeting { unit, month, .. } => {
            vars.insert("unit", unit_text(&unit));
            vars.insert("month", month);
            (templates::MEETING.to_owned(), Source::Meeting)
        }
        PeriodicJob::TargetReport {
            unit,
            year,
            members_at_start,
            admitted,
            target_low,
            target_high,
            on,
            month,
            behind,
            ..
        } => {
            vars.insert(
                "items",
                if behind.is_empty() {
                    match lang {
                        Lang::Vi => "(không có)".to_owned(),
                        Lang::En => "(none)".to_owned(),
                    }
                } else {
                    behind
                        .iter()
                        .map(|(code, name, gap)| match lang {
                            Lang::Vi => format!("- {name} ({code}): còn thiếu {gap}"),
                            Lang::En => format!("- {name} ({code}): {gap} short"),
                        })
                        .collect::<Vec<_>>()
                        .join("\n")
                },
            );
            vars.insert("unit", unit_text(&unit));
            vars.insert("month", month);
            vars.insert("year", year.to_string());
            vars.insert("members", members_at_start.to_string());
            vars.insert("admitted", admitted.to_string());
            vars.insert("target_low", target_low.to_string());
            vars.insert("target_high", target_high.to_string());
            vars.insert("on", fmt_date(on, lang));
            (templates::TARGET_REPORT.to_owned(), Source::TargetReport)
        }
        PeriodicJob::Occasion {
            unit,
            template,
            period,
            ..
        } => {
            vars.insert("unit", unit_text(&unit));
            vars.insert("period", period);
            (template, Source::Occasion)
        }
    };
    Ok((template, to, unit, source, vars))
}

fn digest_lines(items: &[DueItem], as_of: NaiveDate, lang: Lang) -> String {
    let late = match lang {
        Lang::Vi => " (QUÁ HẠN)",
        Lang::En => " (OVERDUE)",
    };
    items
        .iter()
        .map(|i| {
            format!(
                "- {} [{}] {} ({}, {}){}",
                fmt_date(i.due, lang),
                i.rule,
                i.case_title,
                i.definition_id,
                i.state,
                if i.due < as_of { late } else { "" }
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

impl Worker {
    /// A worker over `store`, sending with `mailer` (`None`: mail is off, the jobs run).
    pub fn new(
        store: Store,
        mailer: Option<Mailer>,
        schedules: Schedules,
        recipients: Recipients,
        options: WorkerOptions,
    ) -> Self {
        Self {
            store,
            mailer,
            schedules,
            recipients,
            options,
            wake: Arc::new(Notify::new()),
            clock: Arc::new(Utc::now),
            catalog: None,
            observer: None,
            templates: Arc::new(MailTemplates::embedded()),
        }
    }

    /// The same, telling `observer` of every run of a periodic job.
    pub fn with_observer(mut self, observer: JobObserver) -> Self {
        self.observer = Some(observer);
        self
    }

    /// The same, escalating passed deadlines through the workflows of `catalog` in its daily
    /// sweep (without it, a passed deadline only sends its notice).
    pub fn with_catalog(mut self, catalog: Arc<Catalog>) -> Self {
        self.catalog = Some(catalog);
        self
    }

    /// The same, with the mail templates `templates` (without: the built-in ones).
    pub fn with_templates(mut self, templates: Arc<MailTemplates>) -> Self {
        self.templates = templates;
        self
    }

    /// The same, reading the time from `clock` in its loop.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// A handle that wakes the loop.
    pub fn handle(&self) -> WorkerHandle {
        WorkerHandle {
            wake: self.wake.clone(),
        }
    }

    /// The options in use.
    pub fn options(&self) -> &WorkerOptions {
        &self.options
    }

    /// One pass at `now`: advances the recurring reminders whose tick came, then sends every
    /// row due, in batches, until none is left. A failed send is recorded on its row, not
    /// returned; an error means the store failed.
    pub async fn dispatch_due(&self, now: DateTime<Utc>) -> Result<DispatchReport> {
        let req = ClaimRequest {
            now,
            today: today_in_vietnam(now),
            reminders_through: self.schedules.reminders_through(now),
            lease: self.options.lease,
            limit: self.options.batch.max(1),
        };
        let mut report = DispatchReport::default();
        let owner = self.options.instance.as_str();
        let started = std::time::Instant::now();
        loop {
            let batch = self.store.outbox().claim_recurring_as(owner, &req).await?;
            let n = batch.len() as u64;
            let token = batch.first().map(|c| c.token.clone());
            let work = async {
                for c in batch {
                    self.advance(c, now, &mut report).await?;
                }
                Ok::<(), crate::WorkerError>(())
            };
            self.with_heartbeat(token.as_deref(), now, started, work)
                .await?;
            if n < req.limit {
                break;
            }
        }
        // Without a mailer, mail waits in the outbox for the day mail is configured.
        while self.mailer.is_some() {
            let batch = self.store.outbox().claim_as(owner, &req).await?;
            let n = batch.len() as u64;
            report.claimed += u32::try_from(n).unwrap_or(u32::MAX);
            let token = batch.first().map(|c| c.token.clone());
            let work = async {
                for c in batch {
                    self.deliver(c, now, &mut report).await?;
                }
                Ok::<(), crate::WorkerError>(())
            };
            self.with_heartbeat(token.as_deref(), now, started, work)
                .await?;
            if n < req.limit {
                break;
            }
        }
        if !report.is_empty() {
            tracing::info!(
                claimed = report.claimed,
                sent = report.sent,
                retried = report.retried,
                dead = report.dead,
                lost = report.lost,
                ticks = report.ticks,
                "outbox pass"
            );
        }
        Ok(report)
    }

    /// Runs `work` (the handling of one claimed batch) while renewing the batch's lease every
    /// third of the lease, so that a slow batch keeps its rows and a dead worker loses them
    /// soon. The lease runs on the pass's clock: `now` plus the real time the pass has taken.
    async fn with_heartbeat<T>(
        &self,
        token: Option<&str>,
        now: DateTime<Utc>,
        started: std::time::Instant,
        work: impl Future<Output = T>,
    ) -> T {
        let Some(token) = token else {
            return work.await;
        };
        tokio::pin!(work);
        let every = (self.options.lease / 3)
            .to_std()
            .unwrap_or(Duration::from_secs(1))
            .max(Duration::from_millis(100));
        loop {
            tokio::select! {
                out = &mut work => return out,
                () = tokio::time::sleep(every) => {
                    let elapsed = TimeDelta::from_std(started.elapsed()).unwrap_or_default();
                    let until = now + elapsed + self.options.lease;
                    match self.store.outbox().renew_lease(token, until).await {
                        Ok(held) => tracing::debug!(held, until = %until, "outbox lease renewed"),
                        Err(e) => tracing::warn!(error = %e, "cannot renew the outbox lease"),
                    }
                }
            }
        }
    }

    /// Turns the due tick of a claimed recurring reminder into a mail row and sets its next
    /// tick. Ticks missed while the server was down collapse into one mail.
    async fn advance(
        &self,
        c: Claimed,
        now: DateTime<Utc>,
        report: &mut DispatchReport,
    ) -> Result<()> {
        let r = &c.record;
        let (key, template, to, cron) = match serde_json::from_value::<Effect>(r.payload.clone()) {
            Ok(Effect::ScheduleRecurringReminder {
                key,
                template,
                to,
                cron,
            }) => (key, template, to, cron),
            Ok(_) => {
                return self
                    .bury(&c, "not a recurring reminder".into(), report)
                    .await;
            }
            Err(e) => {
                return self
                    .bury(&c, format!("unreadable payload: {e}"), report)
                    .await;
            }
        };
        let tick = match r.next_attempt_at {
            // Ticks missed while the server was down collapse into the latest one.
            Some(t) => match latest_tick(&cron, now) {
                Ok(latest) => latest.map_or(t, |l| l.max(t)),
                Err(e) => return self.bury(&c, format!("bad cron: {e}"), report).await,
            },
            // Not scheduled yet: its first tick is the first after it was enqueued; ticks
            // missed since (no worker ran) collapse into the latest one, as above.
            None => match next_tick(&cron, r.created_at) {
                Ok(Some(t)) if t <= now => match latest_tick(&cron, now) {
                    Ok(latest) => latest.map_or(t, |l| l.max(t)),
                    Err(e) => return self.bury(&c, format!("bad cron: {e}"), report).await,
                },
                Ok(next) => {
                    self.store
                        .outbox()
                        .advance_recurring(r.id, &c.token, None, next, now)
                        .await?;
                    return Ok(());
                }
                Err(e) => return self.bury(&c, format!("bad cron: {e}"), report).await,
            },
        };
        let next = match next_tick(&cron, now.max(tick)) {
            Ok(n) => n,
            Err(e) => return self.bury(&c, format!("bad cron: {e}"), report).await,
        };
        let day = today_in_vietnam(tick);
        let case = r
            .case_id
            .map_or_else(|| "none".to_owned(), |id| id.to_string());
        let payload = match serde_json::to_value(Effect::ScheduleReminder {
            key: key.clone(),
            template,
            to,
            at: day,
        }) {
            Ok(p) => p,
            Err(e) => {
                return self
                    .bury(&c, format!("cannot write the tick: {e}"), report)
                    .await;
            }
        };
        let mail = NewOutbox {
            case_id: r.case_id,
            kind: OutboxKind::Mail,
            // The key of a dated reminder: a step that cancels the reminder cancels the
            // tick's mail too if it is still waiting.
            dedupe_key: format!("reminder:{case}:{key}:{day}"),
            payload,
            due_on: day,
        };
        if self
            .store
            .outbox()
            .advance_recurring(r.id, &c.token, Some(mail), next, now)
            .await?
        {
            report.ticks += 1;
        } else {
            report.lost += 1;
        }
        Ok(())
    }

    /// Makes a claimed row a dead letter because it cannot be sent at all.
    async fn bury(&self, c: &Claimed, problem: String, report: &mut DispatchReport) -> Result<()> {
        tracing::warn!(
            outbox = c.record.id,
            kind = c.record.kind.as_str(),
            error = %problem,
            "outbox row cannot be sent: dead letter"
        );
        if self
            .store
            .outbox()
            .mark_failed(c.record.id, &c.token, &problem, None)
            .await?
        {
            report.dead += 1;
        } else {
            report.lost += 1;
        }
        Ok(())
    }

    async fn deliver(
        &self,
        c: Claimed,
        now: DateTime<Utc>,
        report: &mut DispatchReport,
    ) -> Result<()> {
        let id = c.record.id;
        // A row whose earlier attempts never recorded an outcome (its worker died while
        // sending) still ends, as a dead letter.
        if c.record.attempts > self.options.max_attempts {
            return self
                .bury(&c, "too many attempts without an outcome".into(), report)
                .await;
        }
        let mail = match self.compose(&c).await? {
            Ok(m) => m,
            Err(problem) => return self.bury(&c, problem, report).await,
        };
        // A step may have cancelled the row since it was claimed.
        if !self.store.outbox().still_claimed(id, &c.token).await? {
            report.lost += 1;
            return Ok(());
        }
        let Some(mailer) = &self.mailer else {
            return Ok(());
        };
        match mailer.send(&mail).await {
            Ok(()) => {
                if self.store.outbox().mark_sent(id, &c.token, now).await? {
                    report.sent += 1;
                    tracing::info!(
                        outbox = id,
                        kind = c.record.kind.as_str(),
                        message_id = %mailer.message_id(id),
                        "mail sent"
                    );
                } else {
                    report.lost += 1;
                    tracing::warn!(outbox = id, "mail sent, but the claim was lost meanwhile");
                }
            }
            Err(e) => {
                let attempts = c.record.attempts;
                let retry_at = (attempts < self.options.max_attempts)
                    .then(|| now + self.options.backoff(attempts));
                let recorded = self
                    .store
                    .outbox()
                    .mark_failed(id, &c.token, &e.message, retry_at)
                    .await?;
                match (recorded, retry_at) {
                    (false, _) => report.lost += 1,
                    (true, Some(at)) => {
                        report.retried += 1;
                        tracing::warn!(
                            outbox = id,
                            attempt = attempts,
                            retry_at = %at,
                            permanent = e.permanent,
                            error = %e.message,
                            "mail not sent; will try again"
                        );
                    }
                    (true, None) => {
                        report.dead += 1;
                        tracing::error!(
                            outbox = id,
                            attempts,
                            error = %e.message,
                            "mail not sent after the last attempt: dead letter"
                        );
                    }
                }
            }
        }
        Ok(())
    }

    /// What a row says, to which role, about which unit and member; or why it cannot say it.
    fn draft(
        &self,
        r: &OutboxRecord,
        case: Option<&CaseBrief>,
    ) -> std::result::Result<Draft, String> {
        let lang = self.options.language;
        let (template, to, unit, _, vars) = mail_vars(r, case, lang)?;
        let text = self
            .templates
            .render(&template, lang, &vars)
            .map_err(|e| e.to_string())?;
        let link = match (&self.options.public_url, case) {
            (Some(base), Some(c)) => Some(case_link(base, c.id)),
            _ => None,
        };
        Ok(Draft {
            to,
            unit,
            subject_member: case.and_then(|c| c.subject_member_id),
            subject: text.subject,
            body: text.body,
            link,
        })
    }

    /// The addresses of the people `d` is for: the member concerned, or the holders of its
    /// role at the right unit of the tree, else the configured address of the role. `Err`
    /// (inside) says who could not be reached and why.
    async fn addresses(
        &self,
        d: &Draft,
        day: NaiveDate,
    ) -> Result<std::result::Result<Vec<Mailbox>, String>> {
        let mut why = String::new();
        if d.to.role == "member" {
            match d.subject_member {
                Some(m) => match self.store.registry().member_address(m).await? {
                    Some(a) => match a.parse::<Mailbox>() {
                        Ok(mb) => return Ok(Ok(vec![mb])),
                        Err(e) => why = format!("the member's address `{a}` is unusable ({e})"),
                    },
                    None => why = "the member concerned has no e-mail address".into(),
                },
                None => why = "the case names no member".into(),
            }
        } else if let Some(unit) = d.unit {
            let competent =
                competent_level(self.catalog.as_ref().and_then(|c| c.rules.for_date(day)));
            let a = self
                .store
                .accounts()
                .addressees(unit, &d.to, day, competent)
                .await?;
            let found: Vec<Mailbox> = a
                .found
                .iter()
                .filter_map(|(_, e)| e.parse::<Mailbox>().ok())
                .collect();
            if !found.is_empty() {
                if !a.without_address.is_empty() {
                    tracing::warn!(
                        role = %d.to,
                        unit = a.unit_code.as_deref().unwrap_or(""),
                        without = ?a.without_address,
                        "some holders of the role have no e-mail address"
                    );
                }
                return Ok(Ok(found));
            }
            let at = a.unit_code.as_deref().unwrap_or("the unit");
            why = if a.without_address.is_empty() {
                format!("nobody holds {} at {at}", d.to)
            } else {
                format!(
                    "{} at {at} ({}) has no e-mail address",
                    d.to,
                    a.without_address.join(", ")
                )
            };
        }
        match self.recipients.resolve(&d.to) {
            Some(m) => Ok(Ok(vec![m.clone()])),
            None if why.is_empty() => Ok(Err(format!(
                "no e-mail address for {}: set one under [mail.recipients]",
                d.to
            ))),
            None => Ok(Err(format!(
                "no e-mail address for {}: {why}, and none under [mail.recipients]",
                d.to
            ))),
        }
    }

    /// The mail of a claimed row, or (inside) why it cannot be sent.
    async fn compose(&self, c: &Claimed) -> Result<std::result::Result<Mail, String>> {
        let r = &c.record;
        let d = match self.draft(r, c.case.as_ref()) {
            Ok(d) => d,
            Err(e) => return Ok(Err(e)),
        };
        let to = match self.addresses(&d, r.due_on).await? {
            Ok(to) => to,
            Err(e) => return Ok(Err(e)),
        };
        let html = html_body(&d.subject, &d.body, d.link.as_deref());
        let body = match &d.link {
            Some(l) => format!("{}\n\n{l}\n", d.body.trim_end()),
            None => d.body,
        };
        Ok(Ok(Mail {
            outbox_id: r.id,
            to,
            subject: d.subject,
            body,
            html: Some(html),
            lang: self.options.language,
        }))
    }

    /// The mail outbox row `id` would send now, without sending it: its text, its HTML and its
    /// recipients, or why it could not go.
    pub async fn preview(&self, id: i64) -> Result<Preview> {
        let record = self.store.outbox().record(id).await?;
        let case = match record.case_id {
            Some(c) => self.store.cases().brief(c).await?,
            None => None,
        };
        let claimed = Claimed {
            record,
            token: String::new(),
            case,
        };
        Ok(match self.compose(&claimed).await? {
            Ok(m) => Preview {
                to: m.to.iter().map(ToString::to_string).collect(),
                subject: m.subject,
                text: m.body,
                html: m.html,
                problem: None,
            },
            Err(problem) => {
                let d = self.draft(&claimed.record, claimed.case.as_ref()).ok();
                Preview {
                    to: Vec::new(),
                    subject: d.as_ref().map(|d| d.subject.clone()).unwrap_or_default(),
                    text: d.map(|d| d.body).unwrap_or_default(),
                    html: None,
                    problem: Some(problem),
                }
            }
        })
    }

    /// Runs the tick `tick` of `job`: enqueues its mails, each under a dedupe key of its
    /// period (deadline and day, unit and week, unit and month), so that a tick run twice —
    /// by a restart, or by two server instances — enqueues once. Returns how many rows were
    /// new.
    pub async fn run_job(&self, job: Job, tick: DateTime<Utc>) -> Result<u64> {
        let day = today_in_vietnam(tick);
        let jobs = match job {
            Job::DailySweep => self.sweep(day, tick).await?,
            Job::WeeklyDigest => self.digests(day).await?,
            Job::MonthlyMeeting => self.meetings(day).await?,
            Job::MonthlyTargetReport => self.target_reports(day).await?,
            Job::QuarterlyThematicMeeting => {
                let q = (day.month0() / 3) + 1;
                self.occasions(
                    day,
                    templates::THEMATIC_MEETING,
                    format!("{}-Q{q}", day.year()),
                )
                .await?
            }
            Job::AnnualRating => {
                self.occasions(day, templates::ANNUAL_RATING, day.year().to_string())
                    .await?
            }
        };
        let candidates = jobs.len();
        let rows = jobs
            .into_iter()
            .map(|(j, case)| NewOutbox::periodic(&j, case, day))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let enqueued = self.store.outbox().enqueue(rows, tick).await?;
        tracing::info!(job = %job, %tick, candidates, enqueued, "periodic job ran");
        Ok(enqueued)
    }

    async fn sweep(
        &self,
        day: NaiveDate,
        tick: DateTime<Utc>,
    ) -> Result<Vec<(PeriodicJob, Option<uuid::Uuid>)>> {
        // The notices are computed before the escalations move the cases on.
        let passed = self.store.cases().passed_deadlines(day).await?;
        match &self.catalog {
            Some(catalog) => {
                self.store
                    .cases()
                    .escalate_passed_deadlines(catalog, day, tick)
                    .await?;
            }
            None => {
                let escalations = passed
                    .iter()
                    .filter(|p| matches!(p.on_expiry, OnExpiry::Escalate { .. }))
                    .count();
                if escalations > 0 {
                    tracing::warn!(
                        escalations,
                        "passed deadlines call for an escalation, but this worker has no catalog"
                    );
                }
            }
        }
        Ok(passed
            .into_iter()
            .filter_map(|p| {
                let n = p.notify?;
                Some((
                    PeriodicJob::DeadlinePassed {
                        case_id: p.item.case_id,
                        key: p.item.key,
                        rule: p.item.rule,
                        due: p.item.due,
                        template: n.template,
                        to: n.to,
                    },
                    Some(p.item.case_id),
                ))
            })
            .collect())
    }

    async fn digests(&self, day: NaiveDate) -> Result<Vec<(PeriodicJob, Option<uuid::Uuid>)>> {
        let through = day + TimeDelta::days(self.options.digest_days);
        let items = self.store.cases().due_items(through).await?;
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let iso = day.iso_week();
        let week = format!("{}-W{:02}", iso.year(), iso.week());
        let mut by_unit: BTreeMap<uuid::Uuid, Vec<DueItem>> = BTreeMap::new();
        for i in items {
            by_unit.entry(i.unit_id).or_default().push(i);
        }
        let unit_ids: Vec<uuid::Uuid> = by_unit.keys().copied().collect();
        let parents = self.store.tree().parents_on(&unit_ids, day).await?;
        let mut by_parent: BTreeMap<uuid::Uuid, Vec<DueItem>> = BTreeMap::new();
        for (unit, items) in &by_unit {
            if let Some(p) = parents.get(unit) {
                by_parent
                    .entry(*p)
                    .or_default()
                    .extend(items.iter().cloned());
            }
        }
        let mut ids = unit_ids.clone();
        ids.extend(by_parent.keys().copied());
        let units: HashMap<uuid::Uuid, UnitRecord> = self
            .store
            .tree()
            .units(&ids)
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect();
        let mut out = Vec::new();
        let groups = by_unit
            .into_iter()
            .map(|(u, items)| (u, items, "secretary"))
            .chain(
                by_parent
                    .into_iter()
                    .map(|(u, items)| (u, items, "standing_committee")),
            );
        for (unit_id, mut items, role) in groups {
            let Some(unit) = units.get(&unit_id) else {
                continue;
            };
            items.sort_by(|a, b| a.due.cmp(&b.due).then(a.case_title.cmp(&b.case_title)));
            out.push((
                PeriodicJob::Digest {
                    unit: UnitBrief::from(unit),
                    to: RoleRef::at(role, RoleLevel::from(unit.kind.level())),
                    week: week.clone(),
                    items,
                },
                None,
            ));
        }
        Ok(out)
    }

    /// The units whose secretary is told of meetings and ratings: every branch, grassroots
    /// branch and grassroots committee existing on `day`.
    async fn meeting_units(&self, day: NaiveDate) -> Result<Vec<UnitRecord>> {
        Ok(self
            .store
            .tree()
            .units_of_kinds_on(
                &[
                    UnitKind::Branch,
                    UnitKind::GrassrootsBranch,
                    UnitKind::GrassrootsCommittee,
                ],
                day,
            )
            .await?)
    }

    async fn meetings(&self, day: NaiveDate) -> Result<Vec<(PeriodicJob, Option<uuid::Uuid>)>> {
        let units = self.meeting_units(day).await?;
        let month = day.format("%Y-%m").to_string();
        Ok(units
            .iter()
            .map(|u| {
                (
                    PeriodicJob::Meeting {
                        unit: UnitBrief::from(u),
                        to: RoleRef::at("secretary", RoleLevel::from(u.kind.level())),
                        month: month.clone(),
                    },
                    None,
                )
            })
            .collect())
    }

    /// One reminder of `template` for `period` to the secretary of every branch and grassroots
    /// committee (S3, S5).
    async fn occasions(
        &self,
        day: NaiveDate,
        template: &str,
        period: String,
    ) -> Result<Vec<(PeriodicJob, Option<uuid::Uuid>)>> {
        let units = self.meeting_units(day).await?;
        Ok(units
            .iter()
            .map(|u| {
                (
                    PeriodicJob::Occasion {
                        unit: UnitBrief::from(u),
                        to: RoleRef::at("secretary", RoleLevel::from(u.kind.level())),
                        template: template.to_owned(),
                        period: period.clone(),
                    },
                    None,
                )
            })
            .collect())
    }

    /// Each province's monthly report: its admissions of the year so far against its target
    /// (S20, S21), as the `admissionTarget` report has them (the subtree aggregates: a handful
    /// of index reads per province, whatever the country's size), and its grassroots
    /// organizations furthest behind the floor, at most ten, for the committee to look at.
    async fn target_reports(
        &self,
        day: NaiveDate,
    ) -> Result<Vec<(PeriodicJob, Option<uuid::Uuid>)>> {
        let year = day.year();
        let Some(params) = self
            .catalog
            .as_ref()
            .and_then(|c| TargetParams::for_year(&c.rules, year).ok())
        else {
            tracing::warn!(
                year,
                "no rule set gives the year's admission target; the monthly report is not sent"
            );
            return Ok(Vec::new());
        };
        let provinces = self
            .store
            .tree()
            .units_of_kinds_on(&[UnitKind::Province], day)
            .await?;
        let month = day.format("%Y-%m").to_string();
        let stats = self.store.stats();
        let mut out = Vec::new();
        for p in provinces {
            let report = stats
                .admission_targets(&TargetRequest {
                    year,
                    unit: Some(p.id),
                    max_depth: Some(0),
                    today: day,
                    params: params.clone(),
                })
                .await?;
            let Some(total) = report.rows.first().map(|r| r.assessment.clone()) else {
                continue;
            };
            let behind = stats
                .units_at_risk(
                    &report,
                    memberflow_store::RiskScope::Level(UnitLevel::Grassroots),
                    10,
                )
                .await?
                .into_iter()
                .map(|r| (r.unit.code, r.unit.name, r.assessment.gap_low))
                .collect();
            out.push((
                PeriodicJob::TargetReport {
                    unit: UnitBrief::from(&p),
                    to: RoleRef::at("organization_department", RoleLevel::Province),
                    month: month.clone(),
                    year,
                    members_at_start: total.base,
                    admitted: total.admitted,
                    target_low: total.target_low,
                    target_high: total.target_high,
                    on: day,
                    behind,
                },
                None,
            ));
        }
        Ok(out)
    }

    /// Runs the jobs whose latest tick was not handled yet. At start-up (`handled` empty) a
    /// tick older than `catch_up` is skipped rather than run late.
    async fn run_due_jobs(&self, now: DateTime<Utc>, handled: &mut HashMap<Job, DateTime<Utc>>) {
        for job in Job::ALL {
            let Some(tick) = self.schedules.latest_tick(job, now) else {
                continue;
            };
            match handled.get(&job) {
                Some(last) if *last >= tick => continue,
                None if now - tick > self.options.catch_up => {
                    handled.insert(job, tick);
                    continue;
                }
                _ => {}
            }
            let started = std::time::Instant::now();
            let result = self.run_job(job, tick).await;
            if let Some(o) = &self.observer {
                o(JobRun {
                    job,
                    tick,
                    lag: now - tick,
                    took: started.elapsed(),
                    ok: result.is_ok(),
                });
            }
            match result {
                Ok(_) => {
                    handled.insert(job, tick);
                }
                Err(e) => {
                    tracing::error!(job = %job, error = %e, "periodic job failed; will try again")
                }
            }
        }
    }

    /// How long to sleep after a pass at `now`.
    async fn sleep_for(&self, now: DateTime<Utc>) -> Duration {
        let idle = TimeDelta::from_std(self.options.max_idle).unwrap_or(TimeDelta::seconds(30));
        let mut until = now + idle;
        if let Some((_, t)) = self.schedules.next_after(now) {
            until = until.min(t);
        }
        // Without a mailer the outbox is not worked: waking for its rows would spin.
        if self.mailer.is_none() {
            return (until - now)
                .to_std()
                .unwrap_or(Duration::ZERO)
                .max(Duration::from_millis(200));
        }
        match self
            .store
            .outbox()
            .next_wake(now, today_in_vietnam(now))
            .await
        {
            Ok(w) => {
                if let Some(t) = w.at {
                    until = until.min(t);
                }
                if let Some(d) = w.day {
                    until = until.min(start_of_day(d));
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot read when the outbox is next due"),
        }
        // A floor, so that a clock that does not move (tests) or a tick a few milliseconds
        // away never makes the loop spin.
        (until - now)
            .to_std()
            .unwrap_or(Duration::ZERO)
            .max(Duration::from_millis(200))
    }

    /// The loop: runs due periodic jobs and a pass, sleeps until the next due instant or a
    /// wake, and returns when `shutdown` completes (after finishing the pass under way).
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) {
        tokio::pin!(shutdown);
        tracing::info!(
            smtp = %self.mailer.as_ref().map_or("off (mail waits in the outbox)", Mailer::endpoint),
            daily_sweep = self.schedules.expr(Job::DailySweep).unwrap_or_default(),
            weekly_digest = self.schedules.expr(Job::WeeklyDigest).unwrap_or_default(),
            monthly_meeting = self.schedules.expr(Job::MonthlyMeeting).unwrap_or_default(),
            monthly_target_report =
                self.schedules.expr(Job::MonthlyTargetReport).unwrap_or_default(),
            "worker started"
        );
        // The claims a previous run of this instance left behind (it crashed while sending)
        // are sent again now rather than when their leases run out.
        if let Err(e) = self
            .store
            .outbox()
            .release_claims(&self.options.instance)
            .await
        {
            tracing::warn!(error = %e, "cannot release the claims of a previous run");
        }
        let mut handled = HashMap::new();
        loop {
            let now = (self.clock)();
            self.run_due_jobs(now, &mut handled).await;
            if let Err(e) = self.dispatch_due(now).await {
                tracing::error!(error = %e, "outbox pass failed; will try again");
            }
            let nap = self.sleep_for(now).await;
            tokio::select! {
                () = &mut shutdown => break,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(nap) => {}
            }
        }
        tracing::info!("worker stopped");
    }
}
