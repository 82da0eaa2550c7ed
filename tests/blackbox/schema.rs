//! The committed SDL matches the code. Run with `UPDATE_SCHEMA=1` to rewrite it.

#[test]
fn the_committed_sdl_is_up_to_date() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../schemas/graphql/schema.graphql"
    );
    let actual = memberflow_api::sdl();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(path, &actual).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == actual,
        "schemas/graphql/schema.graphql is stale: run `UPDATE_SCHEMA=1 cargo test -p memberflow-tests --test blackbox schema` and commit it"
    );
}
