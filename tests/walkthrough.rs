//! `cargo run`, the walkthrough: every implemented section matches, and its printout is pinned.

use crate::common;

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

/// A mismatch is caught and counted: ✗ in the listing, and the closing counts say so, per kind
/// of expectation (book text, PyTorch values, claims).
#[test]
fn mismatches_are_marked_and_counted() {
    use ch03_attention::walkthrough::{Item, Section};
    let section = |id, items| Section {
        id,
        title: "made up",
        items,
    };
    let sections = vec![
        section(
            "3.4.1",
            vec![
                Item::book("[1]", "equal", "tensor(1.)".into(), "tensor(1.)"),
                Item::book("[2]", "differs", "tensor(2.)".into(), "tensor(3.)"),
                Item::pytorch("[3]", "bits differ", "3f800000".into(), "3f800001".into()),
            ],
        ),
        section(
            "3.5.1",
            vec![Item::claim(
                "[4]",
                "fails",
                "0.9".into(),
                "< 0.5".into(),
                false,
            )],
        ),
    ];
    assert!(sections[0].items[0].matches());
    assert!(!sections[0].items[1].matches());
    assert!(!sections[0].items[2].matches());
    assert!(!sections[1].items[0].matches());
    let text = render(&sections);
    assert!(text.contains("\n✓ [1] equal\n") && text.contains("\n✗ [2] differs\n"));
    assert!(text.contains("\n✗ [3] bits differ\n") && text.contains("\n✗ [4] fails\n"));
    assert!(text.ends_with(
        "3.4: 1 of 2 printed results match the book\n\
         3.4: 0 of 1 values match PyTorch\n\
         3.5: 0 of 1 claims hold\n\
         chapter 3: 1 of 2 printed results match the book\n"
    ));
}

/// `cargo run -- --lang ko`: every section has the Korean edition's title and every label a
/// Korean translation (one with Hangul in it, not an empty or English string), so no English
/// label is left for a reader of the Korean edition.
#[test]
fn every_label_and_title_has_a_korean_translation() {
    use ch03_attention::walkthrough::ko;
    let korean = |t: Option<&str>| t.is_some_and(|t| t.chars().any(|c| ('가'..='힣').contains(&c)));
    let all = sections().unwrap();
    let missing: Vec<String> = all
        .iter()
        .filter(|s| !korean(ko::title(s.id)))
        .map(|s| format!("title of {}", s.id))
        .chain(
            all.iter()
                .flat_map(|s| &s.items)
                .filter(|i| !korean(i.korean_what()))
                .map(|i| format!("label {:?}", i.what)),
        )
        .collect();
    assert!(missing.is_empty(), "no Korean for: {missing:#?}");
}

/// The Korean walkthrough of section 3.3, pinned: the Korean notebook's printed labels
/// (어텐션 가중치:, 합:, 두 번째 행의 합:, …) on both sides, the same numbers, Korean counts.
#[test]
fn korean_walkthrough_3_3() {
    use ch03_attention::walkthrough::{Lang, render_in};
    let text = render_in(&select(Some("3.3")).unwrap(), Lang::Korean);
    assert!(text.contains("3.3: 17개 중 17개 책의 출력과 일치"));
    assert!(
        text.contains("어텐션 가중치: tensor([0.1455, 0.2278, 0.2249, 0.1285, 0.1077, 0.1656])")
    );
    assert!(!text.contains("Attention weights:"));
    common::snapshot(
        "walkthrough_3_3_ko",
        "cargo run -- --lang ko 3.3: section 3.3 in Korean",
        &text,
    );
}

/// Each section shows its results in the notebook's cell order, a cell's created parameters
/// before its printed output: 3.4.2 prints cell [86] (SelfAttentionV1), then [89]'s three
/// seeded weights, then [89]'s output.
#[test]
fn items_follow_the_notebook_cells() {
    let number = |cell: &str| -> u32 {
        let inner = cell.rsplit('[').next().unwrap().trim_end_matches(']');
        inner.parse().unwrap_or(u32::MAX)
    };
    // The chapter's sections (the exercises count cells per exercise and notebook).
    for s in sections()
        .unwrap()
        .iter()
        .filter(|s| s.id.starts_with("3."))
    {
        let cells: Vec<u32> = s.items.iter().map(|i| number(&i.cell)).collect();
        assert!(cells.is_sorted(), "{}: {cells:?}", s.id);
    }
    let s342 = select(Some("3.4.2")).unwrap();
    let cells: Vec<&str> = s342[0].items.iter().map(|i| i.cell.as_str()).collect();
    assert_eq!(cells, ["[86]", "[89]", "[89]", "[89]", "[89]"]);
    assert!(s342[0].items[4].what.starts_with("SelfAttentionV2"));
}

/// `cargo run -- --lang ko` numbers the cells as the Korean notebooks do: every printed result of
/// the registry (both notebooks), and every item the walkthrough shows at a notebook cell, has a
/// Korean cell (its record's, or `walkthrough::ko::CELLS_WITHOUT_OUTPUT`); the Korean cells keep the notebook's order, and the English
/// number follows in parentheses where it differs.
#[test]
fn every_printed_result_has_a_korean_cell() {
    use ch03_attention::book;
    use ch03_attention::walkthrough::{Item, Lang, ko, render_in};
    for p in book::printed() {
        let item = Item::printed(p).unwrap();
        assert!(
            ko::cell(&item.cell).is_some(),
            "{} ({}): no Korean cell for {}",
            p.name,
            p.section,
            item.cell
        );
    }
    let number =
        |cell: &str| -> Option<u32> { cell.rsplit('[').next()?.trim_end_matches(']').parse().ok() };
    for s in sections().unwrap() {
        let mut previous = 0;
        for item in s.items.iter().filter(|i| number(&i.cell).is_some()) {
            let ko = ko::cell(&item.cell)
                .unwrap_or_else(|| panic!("{}: no Korean cell for {}", s.id, item.cell));
            let n = number(&ko).unwrap();
            assert!(n >= previous, "{}: Korean cells out of order at {ko}", s.id);
            previous = n;
        }
    }
    // Two the issue named: [33] is the Korean notebook's [5], [115] its [31].
    assert_eq!(ko::cell_label("[33]"), "[5] (영어판 [33])");
    assert_eq!(ko::cell_label("[115]"), "[31] (영어판 [115])");
    assert_eq!(ko::cell_label("3.3 [18]"), "3.3 [12] (영어판 [18])");
    assert_eq!(ko::cell_label("[Q1]"), "[Q1]");
    let text = render_in(&select(Some("3.5.2")).unwrap(), Lang::Korean);
    assert!(
        text.contains("\n✓ [31] (영어판 [115]) ones(6, 6)에 Dropout(0.5)"),
        "{text}"
    );
    let english = render_in(&select(Some("3.5.2")).unwrap(), Lang::English);
    assert!(!english.contains("영어판"));
}
