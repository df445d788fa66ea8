//! Documents generated from the code stay in step with it:
//! `docs/causes.md` (the cause vocabulary, with the rules for each cause).
//! Regenerate with `NODEJOIN_BLESS=1 cargo test -p analyzer --test docs`.

use analyzer::model;
use analyzer::rules::RuleSet;
use std::fmt::Write;

fn causes_md() -> String {
    let rules = RuleSet::embedded().expect("rules");
    let mut s = String::from(
        "# Cause vocabulary\n\n\
         Generated from `analyzer/src/model.rs` and `rules/` by `analyzer/tests/docs.rs`;\n\
         do not edit by hand. The ids are a contract: they may be added to, never renamed.\n\
         `nodejoin explain RULE` documents each rule.\n\n\
         | phase | cause | meaning | rules |\n|---|---|---|---|\n",
    );
    for (id, phases, meaning) in model::CAUSES {
        let ph: Vec<String> = phases.iter().map(ToString::to_string).collect();
        let mut rs: Vec<&str> = rules
            .rules
            .iter()
            .filter(|r| r.raw.cause == *id)
            .map(|r| r.raw.id.as_str())
            .collect();
        rs.sort();
        let _ = writeln!(
            s,
            "| {} | `{id}` | {meaning} | {} |",
            ph.join("/"),
            rs.iter()
                .map(|r| format!("`{r}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let unnamed: Vec<String> = rules
        .rules
        .iter()
        .filter(|r| r.raw.cause == model::UNKNOWN_CAUSE)
        .map(|r| format!("`{}` (phase {})", r.raw.id, r.raw.phase))
        .collect();
    let _ = write!(
        s,
        "\nRules with cause `{}` name a failed phase when no cause can be named; the\n\
         verdict's `cause` is then null and its alternatives list the likely ones: {}.\n",
        model::UNKNOWN_CAUSE,
        unnamed.join(", ")
    );
    s
}

#[test]
fn causes_doc_matches_the_code() {
    let path = testkit::workspace().join("docs/causes.md");
    let want = causes_md();
    if std::env::var_os("NODEJOIN_BLESS").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        have, want,
        "docs/causes.md is stale: NODEJOIN_BLESS=1 cargo test -p analyzer --test docs"
    );
}
