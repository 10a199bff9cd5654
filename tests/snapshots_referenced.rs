//! Every file in snapshots/ belongs to a test: its name is the `name` of a printed result in the
//! registry (`ch03_attention::book`, snapshotted by tests/book.rs), or it appears as a string
//! literal in a test source file. (Snapshot names are always explicit, never generated from test
//! order.) A leftover snapshot from a renamed or deleted test would otherwise linger unreviewed.

#[test]
fn every_snapshot_is_referenced_by_a_test() {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut sources = String::new();
    for entry in std::fs::read_dir(format!("{root}/tests")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            sources.push_str(&std::fs::read_to_string(&path).unwrap());
        }
    }
    let mut orphans = Vec::new();
    let mut count = 0;
    for entry in std::fs::read_dir(format!("{root}/snapshots")).unwrap() {
        let file = entry.unwrap().file_name().into_string().unwrap();
        assert!(
            file.ends_with(".snap"),
            "snapshots/{file}: pending or stray file (review with `cargo insta review`)"
        );
        count += 1;
        let name = file.trim_end_matches(".snap");
        let in_registry = ch03_attention::book::find(name).is_some();
        if !in_registry && !sources.contains(&format!("\"{name}\"")) {
            orphans.push(file);
        }
    }
    assert!(count > 0);
    assert!(
        orphans.is_empty(),
        "snapshots no test refers to: {orphans:?}"
    );
}
