//! Logs, and optionally traces exported over OTLP.
//!
//! Every `tracing` span (a request with its id, a GraphQL operation, a step's transaction, a
//! mail sweep) is a log line's context; with `log.otlp_endpoint` set, the same spans are also
//! sent to an OpenTelemetry collector as traces (OTLP over HTTP, protobuf), in batches, from a
//! thread of their own so that a slow collector never slows a request. Off by default.

use anyhow::Context as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::config::{Config, LogFormat};

/// Keeps the trace exporter alive; dropping it sends the spans still buffered.
#[derive(Debug, Default)]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(e) = provider.shutdown()
        {
            eprintln!("memberflow: the last traces could not be exported: {e}");
        }
    }
}

/// The URL spans are posted to: the collector's base URL (`http://collector:4318`) gets the
/// standard `/v1/traces` path, a URL already ending with it is used as given.
pub fn traces_url(endpoint: &str) -> anyhow::Result<String> {
    let endpoint = endpoint.trim();
    if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
        anyhow::bail!(
            "log.otlp_endpoint: {endpoint:?} is not an http:// or https:// URL \
             (MEMBERFLOW_LOG__OTLP_ENDPOINT)"
        );
    }
    let base = endpoint.trim_end_matches('/');
    Ok(if base.ends_with("/v1/traces") {
        base.to_owned()
    } else {
        format!("{base}/v1/traces")
    })
}

/// Installs the process's subscriber: log lines on standard error in the configured format,
/// filtered by `RUST_LOG` or `log.filter`, plus the OTLP exporter when configured.
/// A second call (the tests run the CLI several times in one process) changes nothing.
pub fn init(config: &Config) -> anyhow::Result<Telemetry> {
    // `RUST_LOG` when it parses (without a default level: `RUST_LOG=` logs nothing), else
    // `log.filter` (anything it has that does not parse left out, errors by default).
    let (targets, filter) = match std::env::var("RUST_LOG")
        .ok()
        .and_then(|d| EnvFilter::builder().parse(&d).ok().map(|f| (d, f)))
    {
        Some((d, f)) => filter(&d, || f),
        None => filter(&config.log.filter, || EnvFilter::new(&config.log.filter)),
    };
    let provider = match config.log.otlp_endpoint.as_deref() {
        Some(endpoint) => Some(provider(&traces_url(endpoint)?)?),
        None => None,
    };
    let otel = provider
        .as_ref()
        .map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer(env!("CARGO_PKG_NAME"))));
    // Colours only for a terminal, and not when `NO_COLOR` is set (no-color.org): a log file or
    // journal gets plain text (and the line costs less to write).
    let colours = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(colours);
    let registry = tracing_subscriber::registry()
        .with(targets)
        .with(filter)
        .with(otel);
    let _ = match config.log.format {
        LogFormat::Json => registry.with(fmt.json()).try_init(),
        LogFormat::Pretty => registry.with(fmt).try_init(),
    };
    if let Some(endpoint) = &config.log.otlp_endpoint {
        tracing::info!(endpoint = %traces_url(endpoint)?, "exporting traces over OTLP");
    }
    Ok(Telemetry { provider })
}

/// The filter of `directives` (`RUST_LOG`'s syntax): when they are targets and levels only,
/// as the default is, a static list of them ([`Targets`]), which decides once per call site;
/// else the [`EnvFilter`] `env` makes, which also follows every span entered and left to know
/// which directives apply (a lock and a lookup at each of the thirty-odd polls of a step's
/// futures, docs/benchmarks.md, session 22): directives naming spans or fields
/// (`[request{request_id=…}]=debug`), and anything the two would not read alike (an empty
/// list, an empty target or level, spaces).
fn filter(
    directives: &str,
    env: impl FnOnce() -> EnvFilter,
) -> (Option<Targets>, Option<EnvFilter>) {
    match static_targets(directives) {
        Some(targets) => (Some(targets), None),
        None => (None, Some(env())),
    }
}

fn static_targets(directives: &str) -> Option<Targets> {
    let parts: Vec<&str> = directives.split(',').filter(|d| !d.is_empty()).collect();
    let plain = |d: &&str| {
        *d == d.trim()
            && !d.contains('[')
            && !d.starts_with('=')
            && !d.ends_with('=')
            && d.parse::<tracing_subscriber::filter::Directive>().is_ok()
    };
    if parts.is_empty() || !parts.iter().all(plain) {
        return None;
    }
    parts.join(",").parse().ok()
}

fn provider(url: &str) -> anyhow::Result<SdkTracerProvider> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(url)
        .build()
        .context("building the OTLP trace exporter")?;
    let resource = Resource::builder()
        .with_service_name("memberflow")
        .with_attribute(opentelemetry::KeyValue::new(
            "service.version",
            env!("CARGO_PKG_VERSION"),
        ))
        .build();
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}

#[cfg(test)]
mod tests {
    use super::{EnvFilter, filter, traces_url};
    use tracing_subscriber::layer::SubscriberExt as _;

    /// The events of a grid of targets and levels that `subscriber` lets through.
    fn seen(subscriber: impl tracing::Subscriber + Send + Sync) -> Vec<String> {
        use std::sync::{Arc, Mutex};
        use tracing_subscriber::layer::SubscriberExt as _;
        #[derive(Clone, Default)]
        struct Seen(Arc<Mutex<Vec<String>>>);
        impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Seen {
            fn on_event(
                &self,
                e: &tracing::Event<'_>,
                _: tracing_subscriber::layer::Context<'_, S>,
            ) {
                let m = e.metadata();
                if let Ok(mut v) = self.0.lock() {
                    v.push(format!("{} {}", m.target(), m.level()));
                }
            }
        }
        macro_rules! grid {
            ($($target:literal),*) => {$(
                tracing::error!(target: $target, "e");
                tracing::warn!(target: $target, "w");
                tracing::info!(target: $target, "i");
                tracing::debug!(target: $target, "d");
                tracing::trace!(target: $target, "t");
            )*};
        }
        let seen = Seen::default();
        tracing::subscriber::with_default(subscriber.with(seen.clone()), || {
            grid!(
                "memberflow_api::cases",
                "memberflow_store",
                "sqlx::query",
                "sea_orm_migration",
                "tower_http::trace::on_response"
            );
        });
        seen.0.lock().map(|v| v.clone()).unwrap_or_default()
    }

    #[test]
    fn the_static_list_lets_through_what_the_env_filter_would() {
        // Each directive list, and whether it makes the static list: not when it names spans
        // or fields, nor when it holds an empty target or level, spaces or nothing.
        for (d, fixed) in [
            ("info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn", true),
            ("info,sqlx=warn,", true),
            (",,debug", true),
            ("warn,memberflow_store=trace", true),
            ("INFO,sqlx=OFF", true),
            ("off", true),
            ("memberflow_api", true),
            ("memberflow=debug,memberflow_api::cases=error", true),
            ("2", true),
            ("=info", false),
            ("sqlx=", false),
            ("info, sqlx=warn", false),
            ("", false),
            (",", false),
            ("not a level=x", false),
            ("info,[request{request_id=abc}]=debug", false),
            ("memberflow[{case}]=trace", false),
        ] {
            let (targets, env) = filter(d, || EnvFilter::new(d));
            assert_eq!((targets.is_some(), env.is_some()), (fixed, !fixed), "{d:?}");
            let chosen = seen(tracing_subscriber::registry().with(targets).with(env));
            let before = seen(tracing_subscriber::registry().with(EnvFilter::new(d)));
            assert_eq!(chosen, before, "{d:?}");
        }
    }

    #[test]
    fn the_traces_path_is_added_once_and_other_schemes_are_refused() {
        assert_eq!(
            traces_url("http://collector:4318").ok().as_deref(),
            Some("http://collector:4318/v1/traces")
        );
        assert_eq!(
            traces_url("https://c.example.vn/v1/traces/")
                .ok()
                .as_deref(),
            Some("https://c.example.vn/v1/traces")
        );
        let e = traces_url("collector:4318").err().map(|e| e.to_string());
        assert!(e.is_some_and(|e| e.contains("MEMBERFLOW_LOG__OTLP_ENDPOINT")));
    }
}
