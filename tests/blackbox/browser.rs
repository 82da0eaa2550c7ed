//! A real browser for the console's tests: Debian's headless Chromium driven over WebDriver
//! (chromedriver, spoken to with the HTTP client the tests already have), on a network cut
//! off from every host but loopback. It records what a person would not see: every request
//! to another host, every failed request and every error in the page's console; a test
//! fails on any it did not expect.
//!
//! Without chromedriver the browser tests say so and pass, unless `MEMBERFLOW_TEST_REQUIRE_BROWSER`
//! is set (as `.ci/run` sets it): then a missing browser fails them.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The chromedriver to use: `MEMBERFLOW_TEST_CHROMEDRIVER`, else Debian's.
fn chromedriver() -> Option<PathBuf> {
    let path = std::env::var_os("MEMBERFLOW_TEST_CHROMEDRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromedriver"));
    path.exists().then_some(path)
}

/// Where screenshots go: `MEMBERFLOW_TEST_SCREENSHOTS`, else `target/console-screenshots`.
pub(crate) fn screenshot_dir() -> PathBuf {
    std::env::var_os("MEMBERFLOW_TEST_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/console-screenshots")
        })
}

pub(crate) struct Browser {
    http: reqwest::Client,
    driver_url: String,
    session: String,
    /// The console's origin (`http://127.0.0.1:PORT`).
    pub(crate) origin: String,
    driver: Child,
    /// Path fragments whose failed responses a test expects (a refused form, a forbidden page).
    expected: Vec<(String, u16)>,
    /// What went wrong, not yet reported.
    problems: Vec<String>,
    /// The URL of each request, by its id, to name a failed one.
    requests: std::collections::HashMap<String, String>,
    shots: PathBuf,
    prefix: String,
}

impl Browser {
    /// A browser on `origin`, or `None` when there is none here (and none is required).
    pub(crate) async fn start(origin: &str, prefix: &str) -> Option<Browser> {
        let Some(driver) = chromedriver() else {
            assert!(
                std::env::var_os("MEMBERFLOW_TEST_REQUIRE_BROWSER").is_none(),
                "MEMBERFLOW_TEST_REQUIRE_BROWSER is set but there is no chromedriver: \
                 apt-get install chromium chromium-driver"
            );
            eprintln!(
                "SKIPPED: no chromedriver (apt-get install chromium chromium-driver); the console's browser tests did not run"
            );
            return None;
        };
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let http = reqwest::Client::new();
        let driver_url = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if let Ok(r) = http.get(format!("{driver_url}/status")).send().await
                && r.status().is_success()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let chromium = std::env::var("MEMBERFLOW_TEST_CHROMIUM")
            .unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-extensions",
                    "--disable-default-apps", "--window-size=1366,900",
                    // The network is cut off: no name resolves but loopback's.
                    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
                    format!("--user-data-dir={}", profile.path().display()),
                    "--lang=vi",
                ],
            },
            "goog:loggingPrefs": { "browser": "ALL", "performance": "ALL" },
        } } });
        let r: Value = http
            .post(format!("{driver_url}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {r:#}"))
            .to_owned();
        // The profile directory must outlive the browser: leak it into the temp dir.
        let _ = profile.keep();
        let shots = screenshot_dir();
        std::fs::create_dir_all(&shots).unwrap();
        Some(Browser {
            http,
            driver_url,
            session,
            origin: origin.to_owned(),
            driver: child,
            expected: Vec::new(),
            problems: Vec::new(),
            requests: std::collections::HashMap::new(),
            shots,
            prefix: prefix.to_owned(),
        })
    }

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.driver_url, self.session);
        let mut req = self.http.request(method, url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r: Value = req.send().await.unwrap().json().await.unwrap();
        r["value"].clone()
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.cmd(reqwest::Method::POST, path, Some(body)).await
    }

    /// Opens `path` of the console.
    pub(crate) async fn goto(&mut self, path: &str) {
        let url = format!("{}{path}", self.origin);
        self.post("/url", json!({ "url": url })).await;
        self.collect().await;
    }

    /// Lets the next failed response of a URL containing `fragment` with `status` through.
    pub(crate) fn expect_status(&mut self, fragment: &str, status: u16) {
        self.expected.push((fragment.to_owned(), status));
    }

    async fn find_opt(&self, css: &str) -> Option<String> {
        let v = self
            .post("/element", json!({ "using": "css selector", "value": css }))
            .await;
        v.get(ELEMENT).and_then(Value::as_str).map(str::to_owned)
    }

    /// The element `css`, waiting up to ten seconds for it.
    pub(crate) async fn find(&self, css: &str) -> String {
        for _ in 0..100 {
            if let Some(e) = self.find_opt(css).await {
                return e;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let text = self.page_text().await;
        panic!("no element `{css}` on the page:\n{text}");
    }

    /// Whether `css` is on the page now.
    pub(crate) async fn exists(&self, css: &str) -> bool {
        self.find_opt(css).await.is_some()
    }

    /// Clicks `css`, then records what the page did.
    pub(crate) async fn click(&mut self, css: &str) {
        let e = self.find(css).await;
        self.post(&format!("/element/{e}/click"), json!({})).await;
        self.collect().await;
    }

    /// Replaces the value of the field `css` with `text`, as typed.
    pub(crate) async fn fill(&mut self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.post(&format!("/element/{e}/clear"), json!({})).await;
        self.post(&format!("/element/{e}/value"), json!({ "text": text }))
            .await;
    }

    /// Runs `script` in the page with `args`.
    pub(crate) async fn script(&self, script: &str, args: Value) -> Value {
        self.post("/execute/sync", json!({ "script": script, "args": args }))
            .await
    }

    /// Runs the asynchronous `script` (it calls `arguments[arguments.length - 1]` with its
    /// result) in the page.
    pub(crate) async fn script_async(&self, script: &str, args: Value) -> Value {
        self.post("/execute/async", json!({ "script": script, "args": args }))
            .await
    }

    /// Checks the page with axe-core (vendored in `tests/data/axe/`): any WCAG 2.0/2.1 A or
    /// AA violation fails the test, named with the elements concerned.
    pub(crate) async fn assert_accessible(&self, page: &str) {
        const AXE: &str = include_str!("../data/axe/axe.min.js");
        let r = self
            .script_async(
                &format!(
                    "{AXE}\n;const done = arguments[arguments.length - 1];\n\
                     axe.run(document, {{ runOnly: {{ type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }} }})\n\
                       .then(r => done(r.violations.map(v => v.id + ': ' + v.help + ' — ' + v.nodes.map(n => n.target.join(' ')).slice(0, 5).join(', '))))\n\
                       .catch(e => done(['axe failed: ' + e]));"
                ),
                json!([]),
            )
            .await;
        let violations = r
            .as_array()
            .cloned()
            .unwrap_or_else(|| panic!("{page}: axe did not run: {r:#}"));
        assert!(
            violations.is_empty(),
            "{page}: accessibility violations (WCAG 2.1 A/AA): {violations:#?}"
        );
    }

    /// Resizes the window (a phone is 360 px wide).
    pub(crate) async fn resize(&self, width: u32, height: u32) {
        self.post("/window/rect", json!({ "width": width, "height": height }))
            .await;
    }

    /// What sticks out of the window sideways (a phone would scroll): none when the page
    /// fits.
    pub(crate) async fn overflowing(&self) -> Vec<String> {
        let v = self
            .script(
                "const w = document.documentElement.clientWidth; const out = [];\n\
                 if (document.documentElement.scrollWidth <= w + 1) return out;\n\
                 for (const e of document.querySelectorAll('body *')) {\n\
                   const r = e.getBoundingClientRect();\n\
                   if (r.right > w + 1 && !e.closest('.board, .table-wrap')) out.push(e.tagName + '.' + e.className + ' ' + Math.round(r.right));\n\
                 }\n\
                 return out.length ? out.slice(0, 10) : ['the page is wider than the window'];",
                json!([]),
            )
            .await;
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|x| x.as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The text of the page as a person reads it.
    pub(crate) async fn page_text(&self) -> String {
        self.script(
            "return document.body ? document.body.innerText : '';",
            json!([]),
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// Waits up to ten seconds for the element `css` to contain `needle`; its text.
    pub(crate) async fn wait_text(&self, css: &str, needle: &str) -> String {
        let mut last = String::new();
        for _ in 0..100 {
            if let Some(e) = self.find_opt(css).await {
                last = self
                    .cmd(reqwest::Method::GET, &format!("/element/{e}/text"), None)
                    .await
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                if last.contains(needle) {
                    return last;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("`{css}` never contained `{needle}`; it read:\n{last}");
    }

    /// The address the page is at.
    pub(crate) async fn url(&self) -> String {
        self.cmd(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Saves a screenshot of the page as `<prefix>-<name>.png`.
    pub(crate) async fn shot(&self, name: &str) {
        use base64::Engine as _;
        let png = self.cmd(reqwest::Method::GET, "/screenshot", None).await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap_or_default())
            .unwrap();
        std::fs::write(
            self.shots.join(format!("{}-{name}.png", self.prefix)),
            bytes,
        )
        .unwrap();
    }

    /// Reads the browser's console and network logs into the problems.
    async fn collect(&mut self) {
        let console = self.post("/se/log", json!({ "type": "browser" })).await;
        let mut failed_urls: Vec<String> = Vec::new();
        let network = self.post("/se/log", json!({ "type": "performance" })).await;
        for entry in network.as_array().into_iter().flatten() {
            let Some(msg) = entry["message"]
                .as_str()
                .and_then(|m| serde_json::from_str::<Value>(m).ok())
            else {
                continue;
            };
            let m = &msg["message"];
            if std::env::var_os("MF_DEBUG_BROWSER").is_some() {
                eprintln!("{m}");
            }
            match m["method"].as_str() {
                Some("Network.requestWillBeSent") => {
                    let url = m["params"]["request"]["url"].as_str().unwrap_or_default();
                    let page = m["params"]["documentURL"].as_str().unwrap_or_default();
                    // Chrome's own pages (its new-tab page) are not the console's.
                    if !page.starts_with(&self.origin) && !url.starts_with(&self.origin) {
                        continue;
                    }
                    if let Some(id) = m["params"]["requestId"].as_str() {
                        self.requests.insert(id.to_owned(), url.to_owned());
                    }
                    if !url.starts_with(&self.origin) && !url.starts_with("data:") {
                        self.problems
                            .push(format!("request to another host: {url} (from {page})"));
                    }
                }
                Some("Network.responseReceived") => {
                    let r = &m["params"]["response"];
                    let status = u16::try_from(r["status"].as_u64().unwrap_or(0)).unwrap_or(0);
                    let url = r["url"].as_str().unwrap_or_default().to_owned();
                    if status >= 400 {
                        if let Some(i) = self
                            .expected
                            .iter()
                            .position(|(f, s)| *s == status && url.contains(f.as_str()))
                        {
                            self.expected.remove(i);
                        } else {
                            self.problems.push(format!("{status} from {url}"));
                        }
                        failed_urls.push(url);
                    }
                }
                Some("Network.loadingFailed") => {
                    let p = &m["params"];
                    // A request of the console's pages (Chrome's own are not recorded).
                    let url = p["requestId"].as_str().and_then(|id| self.requests.get(id));
                    if p["canceled"].as_bool() != Some(true)
                        && let Some(url) = url
                    {
                        self.problems.push(format!(
                            "request failed: {} {url}",
                            p["errorText"].as_str().unwrap_or_default()
                        ));
                    }
                }
                _ => {}
            }
        }
        for entry in console.as_array().into_iter().flatten() {
            if entry["level"] == "SEVERE" {
                let text = entry["message"].as_str().unwrap_or_default().to_owned();
                // The console's own line for a failed response already judged above.
                if text.contains("Failed to load resource")
                    && failed_urls.iter().any(|u| text.contains(u.as_str()))
                {
                    continue;
                }
                if text.contains("Failed to load resource") && text.contains(&self.origin) {
                    continue;
                }
                self.problems.push(format!("console error: {text}"));
            }
        }
    }

    /// Fails the test on any problem recorded so far.
    pub(crate) async fn assert_clean(&mut self, step: &str) {
        self.collect().await;
        assert!(
            self.problems.is_empty(),
            "{step}: the browser saw problems: {:#?}",
            self.problems
        );
    }

    /// Ends the browser.
    pub(crate) async fn quit(mut self) {
        let _ = self
            .http
            .delete(format!("{}/session/{}", self.driver_url, self.session))
            .send()
            .await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
