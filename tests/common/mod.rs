//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test file uses its own subset

/// Asserts `text` against `snapshots/<name>.snap` (top-level folder), with a description that
/// says what the snapshot shows. Names are explicit and global: never derived from test order.
pub fn snapshot(name: &str, description: &str, text: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_description(description);
    settings.bind(|| insta::assert_snapshot!(name, text));
}

/// Reads a file under `tests/data/`.
pub fn data_file(name: &str) -> String {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}
