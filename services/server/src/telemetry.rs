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
    let directives = std::env::var("RUST_LOG")
        .ok()
        .filter(|d| EnvFilter::try_new(d).is_ok())
        .unwrap_or_else(|| config.log.filter.clone());
    let (targets, filter) = filter(&directives);
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

/// The filter of `directives` (`RUST_LOG`'s syntax): when they only name targets and levels,
/// as the default does, a static list of them ([`Targets`]), which decides once per call site;
/// when they name spans or fields (`[request{request_id=…}]=debug`), an [`EnvFilter`], which
/// also has to follow every span entered and left to know which apply: a lock and a lookup
/// at each poll of a request's futures, about thirty a step (docs/benchmarks.md, session 22).
/// The same directives select the same lines either way.
fn filter(directives: &str) -> (Option<Targets>, Option<EnvFilter>) {
    let names_spans = directives.contains('[') || directives.trim().is_empty();
    match directives.parse::<Targets>() {
        Ok(targets) if !names_spans => (Some(targets), None),
        _ => (None, Some(EnvFilter::new(directives))),
    }
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
    use super::{filter, traces_url};
    use tracing::Level;

    #[test]
    fn targets_and_levels_filter_statically_and_spans_or_fields_need_the_env_filter() {
        let (targets, env) = filter("info,sqlx=warn,sea_orm=warn");
        let targets = targets.expect("the default directives are static");
        assert!(env.is_none());
        assert!(targets.would_enable("memberflow_api::cases", &Level::INFO));
        assert!(!targets.would_enable("memberflow_api::cases", &Level::DEBUG));
        assert!(!targets.would_enable("sqlx::query", &Level::INFO));
        assert!(targets.would_enable("sqlx::query", &Level::WARN));
        assert!(targets.would_enable("tower_http::trace::on_response", &Level::INFO));
        let (targets, env) = filter("info,memberflow_store=debug");
        assert!(targets.is_some_and(|t| t.would_enable("memberflow_store::cases", &Level::DEBUG)));
        assert!(env.is_none());
        for dynamic in [
            "info,[request{request_id=abc}]=debug",
            "memberflow[{case}]=trace",
            " ",
        ] {
            let (targets, env) = filter(dynamic);
            assert!(targets.is_none() && env.is_some(), "{dynamic:?}");
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
