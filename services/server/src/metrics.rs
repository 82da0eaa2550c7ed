//! `/metrics` in the Prometheus (OpenMetrics) text format, with `prometheus-client`: what this
//! process counted since it started (GraphQL requests and their latency by operation, errors by
//! code, refusals by rule id, the scheduler's runs and lag) and what the database says at the
//! scrape (open cases by workflow and state, steps recorded by workflow and transition, overdue
//! deadlines, the outbox, the connection pool). The names are documented in docs/metrics.md.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use chrono::{DateTime, Utc};
use memberflow_store::{OpsSnapshot, PoolUsage};
use memberflow_worker::JobRun;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, String)>;
type FloatGauge = Gauge<f64, AtomicU64>;

fn latency() -> Histogram {
    // 2 ms to about 8 s.
    Histogram::new(exponential_buckets(0.002, 2.0, 13))
}

/// What this process counts; cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    requests: Family<Labels, Counter>,
    latency: Family<Labels, Histogram, fn() -> Histogram>,
    errors: Family<Labels, Counter>,
    refusals: Family<Labels, Counter>,
    job_runs: Family<Labels, Counter>,
    job_lag: Family<Labels, FloatGauge>,
    job_seconds: Family<Labels, FloatGauge>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// The process's metrics, registered and at zero.
    pub fn new() -> Self {
        let mut r = Registry::with_prefix("memberflow");
        let requests = Family::<Labels, Counter>::default();
        r.register(
            "graphql_requests",
            "GraphQL requests, by operation (the first root field; `invalid` when the query does not parse or validate)",
            requests.clone(),
        );
        let latency = Family::<Labels, Histogram, fn() -> Histogram>::new_with_constructor(latency);
        r.register(
            "graphql_request_duration_seconds",
            "Time to answer a GraphQL request, by operation",
            latency.clone(),
        );
        let errors = Family::<Labels, Counter>::default();
        r.register(
            "graphql_errors",
            "Errors returned to clients, by code (extensions.code)",
            errors.clone(),
        );
        let refusals = Family::<Labels, Counter>::default();
        r.register(
            "refusals",
            "Steps refused by the rules (TRANSITION_REFUSED), by rule id",
            refusals.clone(),
        );
        let job_runs = Family::<Labels, Counter>::default();
        r.register(
            "scheduler_runs",
            "Runs of the periodic jobs, by job and outcome (ok, failed)",
            job_runs.clone(),
        );
        let job_lag = Family::<Labels, FloatGauge>::default();
        r.register(
            "scheduler_lag_seconds",
            "How late the last run of each job started after its tick",
            job_lag.clone(),
        );
        let job_seconds = Family::<Labels, FloatGauge>::default();
        r.register(
            "scheduler_run_duration_seconds",
            "How long the last run of each job took",
            job_seconds.clone(),
        );
        Self {
            registry: Arc::new(r),
            requests,
            latency,
            errors,
            refusals,
            job_runs,
            job_lag,
            job_seconds,
        }
    }

    /// One GraphQL request: its operation, how long it took, the codes of its errors and the
    /// rule ids of its refusals.
    pub fn graphql(&self, operation: &str, took: Duration, response: &async_graphql::Response) {
        let mut codes = Vec::new();
        for e in &response.errors {
            let ext = e.extensions.as_ref();
            let code = ext
                .and_then(|x| x.get("code"))
                .and_then(|v| match v {
                    async_graphql::Value::String(s) => Some(s.clone()),
                    async_graphql::Value::Enum(n) => Some(n.to_string()),
                    _ => None,
                })
                .unwrap_or_else(|| "UNKNOWN".into());
            if code == "TRANSITION_REFUSED"
                && let Some(async_graphql::Value::List(rules)) = ext.and_then(|x| x.get("rules"))
            {
                for r in rules {
                    if let async_graphql::Value::String(rule) = r {
                        self.refusals
                            .get_or_create(&vec![("rule", rule.clone())])
                            .inc();
                    }
                }
            }
            codes.push(code);
        }
        // A field that is not in the schema must not become a label value.
        let operation = if codes
            .iter()
            .any(|c| c == "GRAPHQL_VALIDATION_FAILED" || c == "GRAPHQL_PARSE_FAILED")
        {
            "invalid"
        } else {
            operation
        };
        let op = vec![("operation", operation.to_owned())];
        self.requests.get_or_create(&op).inc();
        self.latency.get_or_create(&op).observe(took.as_secs_f64());
        for c in &codes {
            self.error(c);
        }
    }

    /// An error answered before the executor (a body too large or unreadable).
    pub fn error(&self, code: &str) {
        self.errors
            .get_or_create(&vec![("code", code.to_owned())])
            .inc();
    }

    /// One run of a periodic job (the worker's observer).
    pub fn job(&self, run: JobRun) {
        let job = vec![("job", run.job.key().to_owned())];
        let mut outcome = job.clone();
        outcome.push(("outcome", if run.ok { "ok" } else { "failed" }.to_owned()));
        self.job_runs.get_or_create(&outcome).inc();
        self.job_lag
            .get_or_create(&job)
            .set(run.lag.as_seconds_f64().max(0.0));
        self.job_seconds
            .get_or_create(&job)
            .set(run.took.as_secs_f64());
    }

    /// The exposition: this process's metrics, then the database's at `now`.
    pub fn render(
        &self,
        ops: Option<&OpsSnapshot>,
        pool: PoolUsage,
        (documents_kept, documents_checked): (usize, usize),
        now: DateTime<Utc>,
    ) -> String {
        let mut out = String::new();
        let _ = encode(&mut out, &self.registry);
        // Each registry's text ends with `# EOF`: keep only the last.
        if let Some(stripped) = out.strip_suffix("# EOF\n") {
            out.truncate(stripped.len());
        }
        let mut r = Registry::with_prefix("memberflow");
        let gauge = |r: &mut Registry, name: &str, help: &str, v: f64| {
            let g = FloatGauge::default();
            g.set(v);
            r.register(name, help, g);
        };
        let up = Gauge::<i64>::default();
        up.set(i64::from(ops.is_some()));
        r.register(
            "database_up",
            "1 if the database answered the scrape's queries",
            up,
        );
        gauge(
            &mut r,
            "db_pool_connections",
            "Connections open in this process's pool",
            f64::from(pool.size),
        );
        gauge(
            &mut r,
            "db_pool_idle_connections",
            "Connections open and idle",
            f64::from(pool.idle),
        );
        gauge(
            &mut r,
            "db_pool_max_connections",
            "The most connections the pool may open",
            f64::from(pool.max),
        );
        gauge(
            &mut r,
            "changes_listening",
            "1 while revocations and tree changes are heard as they commit (PostgreSQL): cached sessions and paths need no read",
            f64::from(u8::from(pool.hears_changes)),
        );
        gauge(
            &mut r,
            "graphql_documents_kept",
            "Parsed GraphQL documents kept by their text, so that a request sending one again is not parsed again",
            documents_kept as f64,
        );
        gauge(
            &mut r,
            "graphql_documents_checked",
            "Kept GraphQL documents whose requests are validated by their variables only, when these fit the types the document declares",
            documents_checked as f64,
        );
        let heard = Counter::<u64>::default();
        heard.inc_by(pool.changes_heard);
        r.register(
            "changes_heard",
            "Notifications of revocations and tree changes heard since the start",
            heard,
        );
        if let Some(ops) = ops {
            let open = Family::<Labels, Gauge>::default();
            for (w, s, n) in &ops.open_cases {
                open.get_or_create(&vec![("workflow", w.clone()), ("state", s.clone())])
                    .set(*n);
            }
            r.register(
                "open_cases",
                "Cases not in a terminal state, by workflow and state",
                open,
            );
            let steps = Family::<Labels, Counter>::default();
            for (w, t, n) in &ops.steps {
                steps
                    .get_or_create(&vec![("workflow", w.clone()), ("transition", t.clone())])
                    .inc_by(u64::try_from(*n).unwrap_or(0));
            }
            r.register(
                "case_steps",
                "Steps recorded in the cases' histories (by every process), by workflow and transition",
                steps,
            );
            // Every workflow with open cases has its series, 0 while none of its deadlines
            // has passed: an alert compares a number, not a series that may be missing.
            let overdue = Family::<Labels, Gauge>::default();
            for (w, _, _) in &ops.open_cases {
                overdue.get_or_create(&vec![("workflow", w.clone())]).set(0);
            }
            for (w, n) in &ops.overdue_deadlines {
                overdue
                    .get_or_create(&vec![("workflow", w.clone())])
                    .set(*n);
            }
            r.register(
                "overdue_deadlines",
                "Open deadlines whose day has passed, by workflow",
                overdue,
            );
            let outbox = Family::<Labels, Gauge>::default();
            for status in ["PENDING", "SENT", "DEAD", "CANCELLED", "HANDLED"] {
                let n = ops
                    .outbox
                    .iter()
                    .find(|(s, _)| s == status)
                    .map_or(0, |x| x.1);
                outbox
                    .get_or_create(&vec![("status", status.to_lowercase())])
                    .set(n);
            }
            r.register("outbox", "Outbox rows (mails, reminders) by status", outbox);
            gauge(
                &mut r,
                "outbox_oldest_pending_age_seconds",
                "Age of the oldest pending outbox row (0 when none waits)",
                ops.outbox_oldest_pending
                    .map_or(0.0, |t| (now - t).as_seconds_f64().max(0.0)),
            );
        }
        let _ = encode(&mut out, &r);
        out
    }
}

/// The operation label of a GraphQL request: the name of the first root field of the
/// operation it runs (bounded by the schema), `invalid` if it does not parse.
pub fn operation_of(request: &mut async_graphql::Request) -> String {
    use async_graphql::parser::types::{DocumentOperations, Selection};
    let name = request.operation_name.clone();
    let Ok(doc) = request.parsed_query() else {
        return "invalid".into();
    };
    let op = match (&doc.operations, name) {
        (DocumentOperations::Single(op), _) => Some(op),
        (DocumentOperations::Multiple(ops), Some(n)) => ops.get(n.as_str()),
        (DocumentOperations::Multiple(ops), None) => ops.values().next(),
    };
    op.and_then(|op| {
        op.node
            .selection_set
            .node
            .items
            .iter()
            .find_map(|s| match &s.node {
                Selection::Field(f) => Some(f.node.name.node.to_string()),
                _ => None,
            })
    })
    .unwrap_or_else(|| "invalid".into())
}
