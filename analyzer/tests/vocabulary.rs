//! The shared vocabulary is spelled once: command ids and host paths in
//! `bundle::layout`, fact names in `analyzer/src/facts/keys.rs`. Any other
//! non-test source that spells one as a string literal fails here.

use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// String literals outside `#[cfg(test)]` sections.
fn literals(text: &str) -> Vec<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or("");
    let re = regex::Regex::new(r#""((?:[^"\\\n]|\\.)*)""#).unwrap();
    re.captures_iter(code).map(|c| c[1].to_string()).collect()
}

fn vocabulary(root: &Path) -> Vec<(String, &'static str)> {
    let layout = std::fs::read_to_string(root.join("bundle/src/layout.rs")).unwrap();
    let keys = std::fs::read_to_string(root.join("analyzer/src/facts/keys.rs")).unwrap();
    let mut v: Vec<(String, &'static str)> = Vec::new();
    let konst = regex::Regex::new(r#"pub const \w+: &str =\s*"([^"]+)";"#).unwrap();
    for c in konst.captures_iter(&layout) {
        // Short single words (`df`, `run`, `dmesg`) are also program and flag
        // names; the paths and dashed ids are what must not be respelled.
        if c[1].contains('/') || c[1].contains('-') {
            v.push((c[1].to_string(), "bundle/src/layout.rs"));
        }
    }
    let fact = regex::Regex::new(r#"= "([a-z0-9_]+\.[a-z0-9_.]+)", ""#).unwrap();
    for c in fact.captures_iter(&keys) {
        v.push((c[1].to_string(), "analyzer/src/facts/keys.rs"));
    }
    v
}

#[test]
fn no_vocabulary_is_spelled_twice() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let vocab = vocabulary(&root);
    assert!(
        vocab.len() > 100,
        "vocabulary not found ({} entries)",
        vocab.len()
    );
    let mut files = Vec::new();
    for dir in ["bundle/src", "collector/src", "analyzer/src"] {
        sources(&root.join(dir), &mut files);
    }
    let mut bad = Vec::new();
    for f in files {
        let rel = f
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(&f).unwrap();
        for lit in literals(&text) {
            if let Some((_, home)) = vocab.iter().find(|(w, home)| *w == lit && *home != rel) {
                bad.push(format!("{rel}: \"{lit}\" is spelled in {home}"));
            }
        }
    }
    assert!(bad.is_empty(), "use the shared names:\n{}", bad.join("\n"));
}
