//! Assets embedded in the binary and served from the same origin: the console's stylesheet,
//! script and icon, and GraphiQL (vendored, see `assets/vendor/graphiql/README.md`) so that
//! `GET /graphql` works without internet too.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

pub(crate) const CSS_PATH: &str = "/assets/console.css";
pub(crate) const JS_PATH: &str = "/assets/console.js";

const CSS: &str = include_str!("../assets/console.css");
const JS: &str = include_str!("../assets/console.js");
const ICON: &str = include_str!("../assets/icon.svg");

const GRAPHIQL_JS: &[u8] = include_bytes!("../assets/vendor/graphiql/graphiql.min.js");
const GRAPHIQL_CSS: &[u8] = include_bytes!("../assets/vendor/graphiql/graphiql.min.css");
const REACT_JS: &[u8] = include_bytes!("../assets/vendor/graphiql/react.production.min.js");
const REACT_DOM_JS: &[u8] = include_bytes!("../assets/vendor/graphiql/react-dom.production.min.js");

/// `GET /assets/{path}`.
pub(crate) async fn serve(Path(path): Path<String>) -> Response {
    let (body, kind, immutable): (&[u8], &str, bool) = match path.as_str() {
        "console.css" => (CSS.as_bytes(), "text/css; charset=utf-8", false),
        "console.js" => (JS.as_bytes(), "text/javascript; charset=utf-8", false),
        "icon.svg" => (ICON.as_bytes(), "image/svg+xml", false),
        "vendor/graphiql/graphiql.min.js" => (GRAPHIQL_JS, "text/javascript; charset=utf-8", true),
        "vendor/graphiql/graphiql.min.css" => (GRAPHIQL_CSS, "text/css; charset=utf-8", true),
        "vendor/graphiql/react.production.min.js" => {
            (REACT_JS, "text/javascript; charset=utf-8", true)
        }
        "vendor/graphiql/react-dom.production.min.js" => {
            (REACT_DOM_JS, "text/javascript; charset=utf-8", true)
        }
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let cache = if immutable {
        // Pinned versions: the content of a path never changes within a release.
        "public, max-age=86400"
    } else {
        "no-cache"
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, cache),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

/// `GET /favicon.ico`: the icon, for browsers that ask for it before reading the page.
pub(crate) async fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        ICON,
    )
        .into_response()
}

/// GraphiQL for `endpoint`, every script and style served by this binary.
pub fn graphiql_page(endpoint: &str) -> Html<String> {
    let endpoint = serde_json::to_string(endpoint).unwrap_or_else(|_| "\"/graphql\"".into());
    Html(format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>memberflow · GraphiQL</title>
<link rel="icon" href="/assets/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/vendor/graphiql/graphiql.min.css">
<style>html, body, #graphiql {{ height: 100%; margin: 0; }}</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script src="/assets/vendor/graphiql/react.production.min.js"></script>
<script src="/assets/vendor/graphiql/react-dom.production.min.js"></script>
<script src="/assets/vendor/graphiql/graphiql.min.js"></script>
<script>
  const fetcher = GraphiQL.createFetcher({{ url: {endpoint} }});
  ReactDOM.createRoot(document.getElementById('graphiql'))
    .render(React.createElement(GraphiQL, {{ fetcher, defaultEditorToolsVisibility: true }}));
</script>
</body>
</html>"#
    ))
}
