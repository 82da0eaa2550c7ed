//! The least an HTTP front can do for the benchmark's step (scripts/bench/bare.sh): take the
//! JSON body `scripts/bench/step.lua` sends, run the six statements of
//! `scripts/bench/step.pgbench` through sqlx in one transaction, answer with the new version.
//! No GraphQL, no rules, no logging, no authentication: what separates memberflow from this is
//! memberflow's own work per request; what separates this from pgbench is HTTP and a Rust
//! driver. Listens on 127.0.0.1:$BARE_PORT, connects to $DATABASE_URL.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use axum::{Json, Router, extract::State, routing::post};
use serde_json::{Value, json};
use sqlx::{PgPool, Row};

async fn step(State(pool): State<PgPool>, Json(body): Json<Value>) -> Json<Value> {
    match run(&pool, &body).await {
        Ok(version) => Json(json!({"data": {"fireTransition": {"case": {"version": version}}}})),
        Err(e) => Json(json!({"errors": [{"message": e}]})),
    }
}

async fn run(pool: &PgPool, body: &Value) -> Result<i64, String> {
    let i = &body["variables"]["i"];
    let id: uuid::Uuid = i["caseId"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or("no caseId")?;
    let expected = i["expectedVersion"].as_i64().ok_or("no expectedVersion")?;
    let e = |e: sqlx::Error| e.to_string();
    let mut tx = pool.begin().await.map_err(e)?;
    let row = sqlx::query(
        "SELECT id, definition_id, definition_version, unit_id, subject_member_id, title, state, \
         version, terminal, snapshot, next_due, created_at, updated_at \
         FROM cases WHERE id = $1 LIMIT 1 FOR UPDATE",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await
    .map_err(e)?;
    let version: i64 = row.get("version");
    if version != expected {
        return Err(format!("the case is at version {version}, not {expected}"));
    }
    // The snapshot one step on, as the engine writes it (its day as a fixed string: the
    // benchmark measures the writing, not the calendar).
    let mut snapshot: Value = row.get("snapshot");
    snapshot["version"] = json!(version + 1);
    snapshot["last_step"] = json!({"on": "2026-12-05", "rule_set": "R2025b", "transition": "note"});
    let updated = sqlx::query(
        "UPDATE cases SET state = 'Draft', version = $1, terminal = false, snapshot = $2, \
         next_due = NULL, updated_at = now() WHERE id = $3",
    )
    .bind(version + 1)
    .bind(&snapshot)
    .bind(id)
    .execute(&mut *tx)
    .await
    .map_err(e)?;
    let last = sqlx::query(
        "SELECT seq, hash FROM case_event WHERE case_id = $1 ORDER BY seq DESC LIMIT 1",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await
    .map_err(e)?;
    let seq: i64 = last.get("seq");
    let hash: String = last.get("hash");
    sqlx::query(
        "INSERT INTO case_event (case_id, seq, kind, transition, actor, inputs, from_state, \
         to_state, rule_set, definition_version, payload, idempotency_key, effective_date, \
         occurred_at, prev_hash, hash) VALUES ($1, $2, 'STEP', 'note', 'bench', \
         '{\"text\": {\"type\": \"text\", \"value\": \"bench\"}}', 'Draft', 'Draft', 'R2025b', 1, \
         '[]', NULL, current_date, now(), $3, \
         encode(sha256(convert_to($3 || $4 || 'note', 'UTF8')), 'hex'))",
    )
    .bind(id)
    .bind(seq + 1)
    .bind(&hash)
    .bind(seq.to_string())
    .execute(&mut *tx)
    .await
    .map_err(e)?;
    tx.commit().await.map_err(e)?;
    Ok(version + 1)
}

#[tokio::main]
async fn main() {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let port = std::env::var("BARE_PORT").unwrap_or_else(|_| "18482".into());
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(16)
        .test_before_acquire(false)
        .connect(&url)
        .await
        .expect("connecting to the database");
    let app = Router::new().route("/graphql", post(step)).with_state(pool);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port.parse::<u16>().expect("port")))
        .await
        .expect("binding");
    axum::serve(listener, app).await.expect("serving");
}
