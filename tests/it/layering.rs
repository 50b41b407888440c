//! Who may import whom (docs/ARCHITECTURE.md, "Layers"), read off the source files:
//!
//! - `domain` imports nothing of `service`, `store` or `server`, and no worker, wasm or JS crate;
//! - `store` imports nothing of `service` or `server`; `service` nothing of `server`;
//! - no two `domain` modules import each other, directly or round a longer circle;
//! - a `service` module imports what `service/mod.rs` offers (`super::{…}`) and the shared views
//!   (`super::views`), never a sibling's internals.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, recursively.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).expect("source dir").flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(sources(&p));
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// The code of a file without its unit tests (everything from the first `#[cfg(test)]` on, and
/// files that are test modules themselves) and without comments.
fn code(path: &Path) -> String {
    if path.file_name().is_some_and(|n| n.to_string_lossy().ends_with("_tests.rs")) {
        return String::new();
    }
    let text = fs::read_to_string(path).expect("readable source");
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
}

/// The names following `prefix` in `text` (`super::` → the next path segment), including each
/// name inside a `prefix{a, b::c}` group.
fn after(text: &str, prefix: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let ident = |s: &str| s.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect::<String>();
    for (i, _) in text.match_indices(prefix) {
        let before = text[..i].chars().last();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let rest = &text[i + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inner = group.split('}').next().unwrap_or_default();
            out.extend(inner.split(',').map(|p| ident(p.trim())).filter(|n| !n.is_empty()));
        } else {
            let name = ident(rest);
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

/// The domain module each item re-exported by `domain/mod.rs` comes from (`Timestamp` → `time`).
fn reexports(root: &Path) -> BTreeMap<String, String> {
    let text = fs::read_to_string(root.join("src/domain/mod.rs")).expect("domain/mod.rs");
    let mut out = BTreeMap::new();
    for stmt in text.split(';') {
        let Some(rest) = stmt.trim().strip_prefix("pub use ") else { continue };
        let Some((module, items)) = rest.split_once("::") else { continue };
        for item in items.trim_matches(|c| c == '{' || c == '}' || char::is_whitespace(c)).split(',') {
            let item = item.trim();
            if !item.is_empty() {
                out.insert(item.to_owned(), module.to_owned());
            }
        }
    }
    out
}

/// The domain modules each domain module uses.
fn domain_graph(root: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let dir = root.join("src/domain");
    let items = reexports(root);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in sources(&dir) {
        let rel = path.strip_prefix(&dir).expect("under domain");
        let parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned()).collect();
        if parts == ["mod"] || parts[0].ends_with("_tests") {
            continue;
        }
        let module = parts[0].clone();
        let text = code(&path);
        // From a file in a module's own folder, `super::` is that module; `super::super::` is the domain.
        let nested = parts.len() > 1;
        let mut used = after(&text, "crate::domain::");
        used.extend(after(&text, if nested { "super::super::" } else { "super::" }));
        let used: BTreeSet<String> = used
            .into_iter()
            .map(|n| items.get(&n).cloned().unwrap_or(n))
            .filter(|n| *n != module && (dir.join(format!("{n}.rs")).exists() || dir.join(n).is_dir()))
            .collect();
        graph.entry(module).or_default().extend(used);
    }
    graph
}

/// A circle in `graph`, if any, as the path that closes it.
fn circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == n) {
            let mut c = path[at..].to_vec();
            c.push(n.to_owned());
            return Some(c);
        }
        if done.contains(n) {
            return None;
        }
        path.push(n.to_owned());
        for next in graph.get(n).into_iter().flatten() {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn no_domain_module_imports_in_a_circle() {
    let graph = domain_graph(&root());
    assert!(graph.len() > 10, "the domain's modules were found: {graph:?}");
    assert!(graph["lifecycle"].contains("policy") && graph["webhook"].contains("sending"), "{graph:?}");
    assert_eq!(circle(&graph), None, "{graph:?}");
}

#[test]
fn layers_import_downwards_only() {
    let forbidden: [(&str, &[&str]); 3] = [
        (
            "src/domain",
            &["crate::service", "crate::store", "crate::server", "worker::", "wasm_bindgen", "js_sys", "web_sys"],
        ),
        ("src/store", &["crate::service", "crate::server"]),
        ("src/service", &["crate::server", "worker::", "wasm_bindgen"]),
    ];
    for (dir, names) in forbidden {
        for path in sources(&root().join(dir)) {
            let text = code(&path);
            for name in names {
                assert!(!text.contains(name), "{} uses {name}", path.display());
            }
        }
    }
}

#[test]
fn service_modules_use_no_siblings_internals() {
    let dir = root().join("src/service");
    let siblings: BTreeSet<String> = sources(&dir)
        .iter()
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .filter(|s| s != "mod")
        .collect();
    assert!(siblings.contains("tokens") && siblings.contains("views"));
    for path in sources(&dir) {
        let text = code(&path);
        let used = after(&text, "super::");
        let reached: Vec<&String> = used.iter().filter(|n| siblings.contains(*n) && *n != "views").collect();
        assert!(reached.is_empty(), "{} reaches into {reached:?}", path.display());
        for s in &siblings {
            assert!(!text.contains(&format!("crate::service::{s}::")), "{} reaches into {s}", path.display());
        }
    }
}

#[test]
fn the_reader_finds_paths_groups_and_circles() {
    let found = after("use super::{a, b::c};\nlet x = super::d::e; crate::domain::f::g; not_super::h", "super::");
    assert_eq!(found, ["a", "b", "d"].iter().map(|s| (*s).to_owned()).collect());
    let graph = |edges: &[(&str, &str)]| {
        let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in edges {
            g.entry((*a).into()).or_default().insert((*b).into());
            g.entry((*b).into()).or_default();
        }
        g
    };
    assert_eq!(circle(&graph(&[("a", "b"), ("b", "c")])), None);
    assert_eq!(
        circle(&graph(&[("a", "b"), ("b", "c"), ("c", "a")])),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}
