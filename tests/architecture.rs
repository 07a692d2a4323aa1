//! The workspace's shape, checked: the GUI crate's dependency tree holds none of the core,
//! the API, tokio's runtime, the MQTT client or broker, or axum (it talks only to the
//! model's backend interface); the model's holds no runtime and no GUI; no module imports one
//! that imports it back (read from the `use` lines and paths of every crate); no source file
//! is over 600 lines.

#![expect(
    clippy::unwrap_used,
    reason = "in a test, a panic is the failure report"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The crates the workspace has, by folder.
const CRATES: [&str; 6] = [
    "crates/model",
    "crates/core",
    "crates/api",
    "crates/gui",
    "crates/sim",
    ".",
];

/// The most lines a source file may have.
const MOST_LINES: usize = 600;

/// The packages in `package`'s normal dependency tree (no dev or build dependencies).
fn dependency_tree(package: &str) -> BTreeSet<String> {
    let output = Command::new(env!("CARGO"))
        .args([
            "tree", "--locked", "-p", package, "-e", "normal", "--prefix", "none",
        ])
        .args(["--format", "{p}"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "cargo tree: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_gui_depends_on_the_model_and_never_on_the_core_or_a_runtime() {
    let tree = dependency_tree("alicia-gui");
    assert!(tree.contains("alicia-model"), "the GUI talks to the model");
    let denied = [
        "alicia-core",
        "alicia-api",
        "alicia-sim",
        "tokio",
        "rumqttc",
        "rumqttd",
        "axum",
        "socketioxide",
        "hyper",
        "rfd",
    ];
    let found: Vec<&str> = denied.into_iter().filter(|d| tree.contains(*d)).collect();
    assert!(found.is_empty(), "the GUI crate depends on {found:?}");
}

#[test]
fn the_model_holds_no_runtime_no_io_and_no_gui() {
    let tree = dependency_tree("alicia-model");
    let denied = [
        "alicia-core",
        "alicia-gui",
        "tokio",
        "rumqttc",
        "rumqttd",
        "axum",
        "egui",
        "eframe",
    ];
    let found: Vec<&str> = denied.into_iter().filter(|d| tree.contains(*d)).collect();
    assert!(found.is_empty(), "the model depends on {found:?}");
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
    found.sort();
    found
}

/// A file's module path inside its crate: `src/config/mod.rs` → `config`, `src/lib.rs` → ``.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The text with comments and string literals blanked out (paths in docs are not imports).
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '\'' => {
                // A char literal ('"', '\'') is blanked; a lifetime is kept.
                let mut ahead = chars.clone();
                match (ahead.next(), ahead.next()) {
                    (Some('\\'), _) => {
                        chars.next();
                        chars.next();
                        for c in chars.by_ref() {
                            if c == '\'' {
                                break;
                            }
                        }
                        out.push(' ');
                    }
                    (Some(_), Some('\'')) => {
                        chars.next();
                        chars.next();
                        out.push(' ');
                    }
                    _ => out.push(c),
                }
            }
            '"' => {
                out.push(' ');
                let mut escaped = false;
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                    }
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        break;
                    }
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// The paths a `use` tree names, braces expanded: `a::{b, c::d}` → `a::b`, `a::c::d` (an
/// alias kept: `a::b as c`).
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        return vec![tree.to_owned()];
    };
    let prefix = tree[..open].trim_end_matches("::").trim();
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .flat_map(expand)
        .map(|rest| {
            if rest == "self" {
                prefix.to_owned()
            } else {
                format!("{prefix}::{rest}")
            }
        })
        .collect()
}

/// What a file names: the paths it uses (its `use` lines and the paths in its code), and
/// what it re-exports (`pub use`), by the name it re-exports them under.
#[derive(Default)]
struct Names {
    used: Vec<String>,
    reexported: BTreeMap<String, String>,
}

/// What `code` names (`crate::`, `super::`, `self::` and child-relative paths as written).
fn names(code: &str) -> Names {
    let mut names = Names::default();
    let mut rest_of_code = String::with_capacity(code.len());
    // `use` trees, whole (they may span lines and hold braces); a `pub use` re-exports.
    let mut rest = code;
    while let Some(at) = rest.find("use ") {
        let before = &rest[..at];
        let word_before = before.chars().last();
        if word_before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            rest_of_code.push_str(&rest[..at + 4]);
            rest = &rest[at + 4..];
            continue;
        }
        let line_start = before.rfind('\n').map_or(0, |n| n + 1);
        let public = before[line_start..].trim_start().starts_with("pub");
        rest_of_code.push_str(before);
        let tail = &rest[at + 4..];
        let end = tail.find(';').unwrap_or(tail.len());
        for path in expand(&tail[..end]) {
            if public {
                let (path, alias) = match path.split_once(" as ") {
                    Some((path, alias)) => (path.trim().to_owned(), alias.trim().to_owned()),
                    None => (path.clone(), path.rsplit("::").next().unwrap().to_owned()),
                };
                names.reexported.insert(alias, path);
            } else {
                names
                    .used
                    .push(path.split(" as ").next().unwrap().trim().to_owned());
            }
        }
        rest = &tail[end..];
    }
    rest_of_code.push_str(rest);
    // Paths in code: `crate::a::b`, `super::a`.
    for start in ["crate::", "super::", "self::"] {
        let mut rest = rest_of_code.as_str();
        while let Some(at) = rest.find(start) {
            let before = rest[..at].chars().last();
            let tail = &rest[at..];
            let end = tail
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(tail.len());
            if !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                names
                    .used
                    .push(tail[..end].trim_end_matches(':').to_owned());
            }
            rest = &rest[at + start.len()..];
        }
    }
    names
}

/// The crate's modules and what each re-exports.
struct Modules {
    all: BTreeSet<Vec<String>>,
    reexported: BTreeMap<Vec<String>, BTreeMap<String, String>>,
}

/// The module that defines what `path` (written in module `from`) names: the deepest module
/// the path walks through, or, when the item there is a re-export, the module it comes from.
fn target(path: &str, from: &[String], modules: &Modules, depth: usize) -> Option<Vec<String>> {
    let mut segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
    let mut base: Vec<String> = match segments.first().copied() {
        Some("crate") => {
            segments.remove(0);
            Vec::new()
        }
        Some("self") => {
            segments.remove(0);
            from.to_vec()
        }
        Some("super") => {
            let mut base = from.to_vec();
            while segments.first() == Some(&"super") {
                segments.remove(0);
                base.pop();
            }
            base
        }
        // A path relative to the module: a child module's name first (edition 2018).
        Some(first) if modules.all.contains(&[from, &[first.to_owned()]].concat()) => from.to_vec(),
        _ => return None,
    };
    let mut walked = 0;
    for segment in &segments {
        let next = [base.as_slice(), &[(*segment).to_owned()]].concat();
        if !modules.all.contains(&next) {
            break;
        }
        base = next;
        walked += 1;
    }
    if !modules.all.contains(&base) {
        return None;
    }
    // An item re-exported here is defined elsewhere: follow it (a few steps at most).
    if let Some(item) = segments.get(walked)
        && depth < 8
        && let Some(original) = modules.reexported.get(&base).and_then(|r| r.get(*item))
        && let Some(defined) = target(original, &base, modules, depth + 1)
    {
        return Some(defined);
    }
    Some(base)
}

/// Each module's arrows to the modules it names (not to its own ancestors: a module always
/// sees what its parents declare).
fn import_graph(src: &Path) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let files = sources(src);
    let named: Vec<(Vec<String>, Names)> = files
        .iter()
        .map(|file| {
            let code = code_only(&std::fs::read_to_string(file).unwrap());
            // A file's unit tests (at its end) are not what the module depends on.
            let code = code
                .find("#[cfg(test)]\nmod tests")
                .map_or(code.as_str(), |at| &code[..at]);
            (module_of(src, file), names(code))
        })
        .collect();
    let modules = Modules {
        all: named.iter().map(|(module, _)| module.clone()).collect(),
        reexported: named
            .iter()
            .map(|(module, names)| (module.clone(), names.reexported.clone()))
            .collect(),
    };
    let mut graph = BTreeMap::new();
    for (from, names) in &named {
        let arrows: BTreeSet<Vec<String>> = names
            .used
            .iter()
            .filter_map(|path| target(path, from, &modules, 0))
            .filter(|to| to != from && !from.starts_with(to))
            .collect();
        graph.insert(from.clone(), arrows);
    }
    graph
}

/// The circles in `graph`: groups of modules that reach each other (Tarjan's components of
/// more than one module).
fn circles(graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Vec<Vec<String>> {
    struct Walk<'a> {
        graph: &'a BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        index: BTreeMap<&'a Vec<String>, usize>,
        low: BTreeMap<&'a Vec<String>, usize>,
        stack: Vec<&'a Vec<String>>,
        on_stack: BTreeSet<&'a Vec<String>>,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(walk: &mut Walk<'a>, node: &'a Vec<String>) {
        let n = walk.index.len();
        walk.index.insert(node, n);
        walk.low.insert(node, n);
        walk.stack.push(node);
        walk.on_stack.insert(node);
        for next in walk.graph.get(node).into_iter().flatten() {
            let Some((next, _)) = walk.graph.get_key_value(next) else {
                continue;
            };
            if !walk.index.contains_key(next) {
                visit(walk, next);
                let low = walk.low[node].min(walk.low[next]);
                walk.low.insert(node, low);
            } else if walk.on_stack.contains(next) {
                let low = walk.low[node].min(walk.index[next]);
                walk.low.insert(node, low);
            }
        }
        if walk.low[node] == walk.index[node] {
            let mut group = Vec::new();
            while let Some(top) = walk.stack.pop() {
                walk.on_stack.remove(top);
                group.push(top.join("::"));
                if top == node {
                    break;
                }
            }
            if group.len() > 1 {
                group.sort();
                walk.found.push(group);
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for node in graph.keys() {
        if !walk.index.contains_key(node) {
            visit(&mut walk, node);
        }
    }
    walk.found
}

#[test]
fn the_import_graph_reader_finds_a_circle_and_ignores_parents() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::create_dir_all(src.join("store")).unwrap();
    std::fs::write(src.join("lib.rs"), "mod events; mod store; mod fleet;").unwrap();
    std::fs::write(src.join("events.rs"), "use crate::store::Snapshot;").unwrap();
    std::fs::write(
        src.join("store/mod.rs"),
        "mod writer; pub use writer::Writer;",
    )
    .unwrap();
    // A child naming its parent is no circle; a path in a comment or a string is no import.
    std::fs::write(
        src.join("store/writer.rs"),
        "use super::Snapshot; // crate::fleet\nconst A: &str = \"crate::fleet\";\nfn f() { crate::fleet::run(); }",
    )
    .unwrap();
    std::fs::write(
        src.join("fleet.rs"),
        "use crate::{events::Event, store::{self}};",
    )
    .unwrap();
    let found = circles(&import_graph(src));
    assert_eq!(
        found,
        vec![vec![
            "events".to_owned(),
            "fleet".to_owned(),
            "store".to_owned(),
            "store::writer".to_owned()
        ]]
    );
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut report = Vec::new();
    for krate in CRATES {
        let graph = import_graph(&root.join(krate).join("src"));
        for circle in circles(&graph) {
            // The arrows inside the circle: the ones to cut.
            let arrows: Vec<String> = graph
                .iter()
                .filter(|(from, _)| circle.contains(&from.join("::")))
                .flat_map(|(from, to)| {
                    to.iter()
                        .filter(|to| circle.contains(&to.join("::")))
                        .map(move |to| format!("{} → {}", from.join("::"), to.join("::")))
                })
                .collect();
            report.push(format!("{krate}: {}", arrows.join(", ")));
        }
    }
    assert!(report.is_empty(), "import circles:\n{}", report.join("\n"));
}

#[test]
fn no_source_file_is_over_600_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut folders: Vec<PathBuf> = CRATES.iter().map(|c| root.join(c).join("src")).collect();
    folders.extend(["tests", "benches"].map(|f| root.join(f)));
    let mut long = Vec::new();
    for folder in folders {
        for file in sources(&folder) {
            let lines = std::fs::read_to_string(&file).unwrap().lines().count();
            if lines > MOST_LINES {
                long.push(format!(
                    "{} ({lines})",
                    file.strip_prefix(root).unwrap().display()
                ));
            }
        }
    }
    assert!(long.is_empty(), "over {MOST_LINES} lines: {long:?}");
}
