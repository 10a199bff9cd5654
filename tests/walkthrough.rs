//! `cargo run`, the walkthrough: every implemented section matches, and its printout is pinned.

mod common;

use ch03_attention::walkthrough::{render, sections, select, tally};

#[test]
fn every_item_of_every_section_matches() {
    let all = sections().unwrap();
    let failures: Vec<String> = all
        .iter()
        .flat_map(|s| s.items.iter().map(move |i| (s.id, i)))
        .filter(|(_, i)| !i.matches())
        .map(|(id, i)| format!("{id} {} {}", i.cell, i.what))
        .collect();
    assert!(failures.is_empty(), "{failures:?}");
}

#[test]
fn section_filter_selects_at_dot_boundaries() {
    let ids = |f| {
        select(Some(f))
            .unwrap()
            .iter()
            .map(|s| s.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(ids("3.3"), ["3.3.1", "3.3.2"]);
    assert_eq!(ids("3.3.2"), ["3.3.2"]);
    assert!(ids("3.33").is_empty());
}

#[test]
fn closing_count_for_3_3() {
    let s = select(Some("3.3")).unwrap();
    let t = &tally(&s)[0];
    assert_eq!(
        (t.chapter.as_str(), t.book, t.pytorch),
        ("3.3", (17, 17), (0, 0))
    );
    assert!(render(&s).ends_with("3.3: 17 of 17 printed results match the book\n"));
}

#[test]
fn walkthrough_printout_3_3() {
    common::snapshot(
        "walkthrough_3_3",
        "`cargo run -- 3.3`: section 3.3 computed, beside the book",
        &render(&select(Some("3.3")).unwrap()),
    );
}

/// The cheap list of ids agrees with what the parts compute.
#[test]
fn section_ids_match_the_computed_sections() {
    let computed: Vec<&str> = sections().unwrap().iter().map(|s| s.id).collect();
    assert_eq!(computed, ch03_attention::walkthrough::section_ids());
}
