//! Kubeconfig files: add or replace the cluster, user and context entries of one EKS cluster
//! and make its context the current one, leaving every other entry and key as it was.
//!
//! Kubeconfigs are other tools' data too, read by kubectl's YAML 1.1 reader: re-emitting the
//! whole document would re-spell scalars (`no`, `0755`, `1_000`, timestamps) whose meaning
//! depends on the YAML version, and drop comments and anchors. So ekspec edits the text: the
//! first document is parsed into a tree that knows each node's bytes ([`tree`]), only the
//! bytes of ekspec's own entries and `current-context` are replaced, with strings quoted
//! unless every YAML version reads them as strings ([`scalar`]), and the result is read back
//! (ekspec's entries as meant, every other entry byte for byte) before it is written to a
//! temporary file renamed over the old one, so a crash never leaves half a kubeconfig.

mod scalar;
mod tree;

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use tree::{Document, Kind, Node, column, line_end};

/// The entries one cluster needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterAccess {
    /// Name of the cluster and user entries: the cluster ARN, as `aws eks update-kubeconfig`
    /// names them.
    pub entry_name: String,
    /// Name of the context (the ARN unless `--context` says otherwise).
    pub context_name: String,
    /// The API server URL.
    pub server: String,
    /// The cluster CA bundle, base64 PEM as EKS returns it.
    pub certificate_authority_data: String,
    /// The credential plugin kubectl runs for a token.
    pub exec: ExecPlugin,
}

/// An `exec` credential plugin entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecPlugin {
    /// The ExecCredential API version the plugin answers in.
    pub api_version: String,
    /// The program.
    pub command: String,
    /// Its arguments.
    pub args: Vec<String>,
}

/// What a merge did to the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The context did not exist.
    Added,
    /// Some entry or the current context differed and was replaced.
    Updated,
    /// The file already said all of it.
    Unchanged,
}

/// A kubeconfig that could not be read, understood or written.
#[derive(Debug, thiserror::Error)]
pub enum KubeconfigError {
    /// Reading failed (other than the file not existing).
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not YAML.
    #[error("{} is not valid YAML: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// The file is YAML but not shaped like a kubeconfig.
    #[error("{}: {message}; fix or move the file, or write elsewhere with --kubeconfig", path.display())]
    Shape {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the key.
        message: String,
    },
    /// Writing failed.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The YAML written would not read back as the same document.
    #[error("refusing to write {}: {message}", path.display())]
    RoundTrip {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// No path was given and none can be derived.
    #[error("no kubeconfig path: HOME is not set; pass --kubeconfig PATH or set KUBECONFIG")]
    NoHome,
}

/// The file to write, as kubectl picks it: `flag`, else the first entry of `KUBECONFIG`
/// (a `:`-separated list; empty entries are skipped), else `HOME/.kube/config`.
pub fn resolve_path(
    flag: Option<&Path>,
    kubeconfig_env: Option<&OsStr>,
    home: Option<&Path>,
) -> Result<PathBuf, KubeconfigError> {
    if let Some(path) = flag {
        return Ok(path.to_owned());
    }
    if let Some(first) = kubeconfig_env
        .into_iter()
        .flat_map(std::env::split_paths)
        .find(|p| !p.as_os_str().is_empty())
    {
        return Ok(first);
    }
    match home {
        Some(home) if !home.as_os_str().is_empty() => Ok(home.join(".kube").join("config")),
        _ => Err(KubeconfigError::NoHome),
    }
}

/// A kubeconfig file, read and possibly changed: its text, edited in place.
#[derive(Debug)]
pub struct Kubeconfig {
    path: PathBuf,
    text: String,
}

impl Kubeconfig {
    /// Reads `path`; a missing or empty file is an empty kubeconfig.
    pub fn load(path: &Path) -> Result<Self, KubeconfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => {
                return Err(KubeconfigError::Read {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        Self::parse(path, &text)
    }

    /// Checks the text of a kubeconfig read from `path`: YAML whose first document (the one
    /// kubectl reads) is empty or a mapping whose `clusters`, `users` and `contexts` are lists.
    pub fn parse(path: &Path, text: &str) -> Result<Self, KubeconfigError> {
        let config = Self {
            path: path.to_owned(),
            text: text.to_owned(),
        };
        config.document()?;
        Ok(config)
    }

    /// The file this came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The text, as read or as changed by [`Self::upsert`].
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The first document, checked to be shaped like a kubeconfig.
    fn document(&self) -> Result<Document, KubeconfigError> {
        let document = Document::parse(&self.text).map_err(|e| KubeconfigError::Parse {
            path: self.path.clone(),
            message: format!("{} at line {} column {}", e.message, e.line, e.column),
        })?;
        let shape = |message: String| KubeconfigError::Shape {
            path: self.path.clone(),
            message,
        };
        if let Some(root) = &document.root {
            if !matches!(root.kind, Kind::Map(_)) {
                return Err(shape(format!(
                    "the top level is {}, not a mapping",
                    kind_of(root)
                )));
            }
            for key in ["clusters", "users", "contexts"] {
                match root.get(key) {
                    Some(list) if !list.is_null() && !matches!(list.kind, Kind::Seq(_)) => {
                        return Err(shape(format!("`{key}` is {}, not a list", kind_of(list))));
                    }
                    _ => {}
                }
            }
        }
        Ok(document)
    }

    /// Adds or replaces the cluster's entries and makes its context current, by editing the
    /// text: only the bytes of ekspec's own entries (and of `current-context`) change, so every
    /// other entry, comment, anchor and scalar stays exactly as written and reads back the same
    /// in any YAML reader.
    ///
    /// The user entry is replaced whole (mixing another auth method with `exec` would be
    /// ambiguous). In an existing cluster entry only `server` and the CA change (a CA file or
    /// `insecure-skip-tls-verify` would contradict the CA data, so they go); in an existing
    /// context only `cluster` and `user` change, so a namespace set with
    /// `kubectl config set-context` stays.
    pub fn upsert(&mut self, access: &ClusterAccess) -> Result<Change, KubeconfigError> {
        let document = self.document()?;
        let nl = if self.text.contains("\r\n") {
            "\r\n"
        } else {
            "\n"
        };
        let mut editor = Editor {
            text: &self.text,
            path: &self.path,
            nl,
            aliased: &document.aliased,
            edits: Vec::new(),
        };
        let had_context = match &document.root {
            Some(root) => {
                let had_context = named(root.get("contexts"), &access.context_name).is_some();
                editor.upsert(root, access)?;
                had_context
            }
            None => {
                if document.more_documents {
                    return Err(KubeconfigError::Shape {
                        path: self.path.clone(),
                        message: "the first YAML document is empty but others follow, and \
                                  kubectl reads only the first"
                            .to_owned(),
                    });
                }
                let mut fresh = String::new();
                if !self.text.is_empty() && !self.text.ends_with('\n') {
                    fresh.push_str(nl);
                }
                fresh.push_str(&block_map(&access.fresh_document(), 0, nl));
                fresh.push_str(nl);
                editor.edits.push(Edit {
                    start: self.text.len(),
                    end: self.text.len(),
                    with: fresh,
                });
                false
            }
        };
        if editor.edits.is_empty() {
            return Ok(Change::Unchanged);
        }
        let changed = apply(&self.text, editor.edits);
        self.check_written(&document, &changed, access)?;
        self.text = changed;
        Ok(if had_context {
            Change::Updated
        } else {
            Change::Added
        })
    }

    /// Reads the changed text back before anything is written: it must parse, say what ekspec
    /// meant in its own entries, and hold every other entry and top-level key byte for byte.
    fn check_written(
        &self,
        before: &Document,
        changed: &str,
        access: &ClusterAccess,
    ) -> Result<(), KubeconfigError> {
        let refuse = |message: String| KubeconfigError::RoundTrip {
            path: self.path.clone(),
            message,
        };
        let after = Document::parse(changed).map_err(|e| {
            refuse(format!(
                "the YAML ekspec made does not read back: {} at line {} column {}",
                e.message, e.line, e.column
            ))
        })?;

        let Some(root) = &after.root else {
            return Err(refuse("the YAML ekspec made is empty".to_owned()));
        };
        let wanted = [
            ("clusters", &access.entry_name, access.cluster_item()),
            ("users", &access.entry_name, access.user_item()),
            ("contexts", &access.context_name, access.context_item()),
        ];
        for (key, name, item) in &wanted {
            let mine = named(root.get(key), name)
                .ok_or_else(|| refuse(format!("its `{key}` entry `{name}` is missing")))?;
            let Out::Map(pairs) = item else { continue };
            for (inner, value) in pairs {
                let Out::Map(fields) = value else { continue };
                for (field, value) in fields {
                    if !reads_as(mine.get(inner).and_then(|m| m.get(field)), value) {
                        return Err(refuse(format!(
                            "its `{key}` entry `{name}` does not read back as written"
                        )));
                    }
                }
            }
        }
        if root.get("current-context").and_then(Node::string) != Some(access.context_name.as_str())
        {
            return Err(refuse("`current-context` does not read back".to_owned()));
        }
        let Some(old) = &before.root else {
            return Ok(());
        };
        for (key, value) in old.pairs() {
            let key = key.scalar().unwrap_or_default();
            let owned = wanted.iter().find(|(list, ..)| *list == key);
            if let Some((_, name, _)) = owned {
                for item in value.items() {
                    let item_name = item.get("name").and_then(Node::scalar);
                    if item_name == Some(name.as_str()) {
                        continue;
                    }
                    let same = root.get(key).is_some_and(|list| {
                        list.items().iter().any(|new| {
                            changed[new.start..new.end] == self.text[item.start..item.end]
                        })
                    });
                    if !same {
                        return Err(refuse(format!(
                            "the `{key}` entry `{}` would change",
                            item_name.unwrap_or_default()
                        )));
                    }
                }
            } else if key != "current-context"
                && root.get(key).is_none_or(|new| {
                    changed[new.start..new.end] != self.text[value.start..value.end]
                })
            {
                return Err(refuse(format!("the top-level key `{key}` would change")));
            }
        }
        Ok(())
    }

    /// Writes the text: a temporary file in the same folder, renamed over the old file (a
    /// symbolic link is followed, so the file it points to is replaced, as kubectl and the AWS
    /// CLI write through it). A new file gets mode 0600, as it holds cluster credentials; an
    /// existing one keeps its mode.
    pub fn save(&self) -> Result<(), KubeconfigError> {
        let write_error = |source| KubeconfigError::Write {
            path: self.path.clone(),
            source,
        };
        let target = match std::fs::canonicalize(&self.path) {
            Ok(real) => real,
            // A link to a file not made yet: make that file, keep the link.
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => link_target(&self.path),
            Err(error) => return Err(write_error(error)),
        };
        let folder = match target.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&folder).map_err(write_error)?;
        // tempfile creates the file with mode 0600.
        let mut file = tempfile::Builder::new()
            .prefix(".kubeconfig-")
            .tempfile_in(&folder)
            .map_err(write_error)?;
        if let Ok(existing) = std::fs::metadata(&target) {
            file.as_file()
                .set_permissions(existing.permissions())
                .map_err(write_error)?;
        }
        file.write_all(self.text.as_bytes()).map_err(write_error)?;
        file.as_file().sync_all().map_err(write_error)?;
        file.persist(&target).map_err(|e| write_error(e.error))?;
        Ok(())
    }
}

/// Where a chain of symbolic links ends, the last link's target not existing.
fn link_target(path: &Path) -> PathBuf {
    let mut path = path.to_owned();
    // As many links as Linux follows.
    for _ in 0..40 {
        let Ok(next) = std::fs::read_link(&path) else {
            break;
        };
        path = match path.parent() {
            Some(parent) if next.is_relative() => parent.join(next),
            _ => next,
        };
    }
    path
}

/// A value ekspec writes: a string, a list, or a mapping with its keys in order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Out {
    Str(String),
    List(Vec<Out>),
    Map(Vec<(&'static str, Out)>),
}

fn string(value: &str) -> Out {
    Out::Str(value.to_owned())
}

impl ClusterAccess {
    fn cluster(&self) -> Vec<(&'static str, Out)> {
        vec![
            (
                "certificate-authority-data",
                string(&self.certificate_authority_data),
            ),
            ("server", string(&self.server)),
        ]
    }

    fn user(&self) -> Out {
        Out::Map(vec![(
            "exec",
            Out::Map(vec![
                ("apiVersion", string(&self.exec.api_version)),
                (
                    "args",
                    Out::List(self.exec.args.iter().map(|a| string(a)).collect()),
                ),
                ("command", string(&self.exec.command)),
                // `ekspec token` never prompts: kubectl need not give it the terminal.
                ("interactiveMode", string("Never")),
            ]),
        )])
    }

    fn context(&self) -> Vec<(&'static str, Out)> {
        vec![
            ("cluster", string(&self.entry_name)),
            ("user", string(&self.entry_name)),
        ]
    }

    // Key order as kubectl writes: alphabetical.
    fn cluster_item(&self) -> Out {
        Out::Map(vec![
            ("cluster", Out::Map(self.cluster())),
            ("name", string(&self.entry_name)),
        ])
    }

    fn user_item(&self) -> Out {
        Out::Map(vec![
            ("name", string(&self.entry_name)),
            ("user", self.user()),
        ])
    }

    fn context_item(&self) -> Out {
        Out::Map(vec![
            ("context", Out::Map(self.context())),
            ("name", string(&self.context_name)),
        ])
    }

    fn fresh_document(&self) -> Vec<(&'static str, Out)> {
        vec![
            ("apiVersion", string("v1")),
            ("clusters", Out::List(vec![self.cluster_item()])),
            ("contexts", Out::List(vec![self.context_item()])),
            ("current-context", string(&self.context_name)),
            ("kind", string("Config")),
            ("preferences", Out::Map(Vec::new())),
            ("users", Out::List(vec![self.user_item()])),
        ]
    }
}

/// Whether a node reads, in every YAML reader, as the value ekspec would write.
fn reads_as(node: Option<&Node>, value: &Out) -> bool {
    let Some(node) = node else { return false };
    match value {
        Out::Str(value) => node.string() == Some(value),
        Out::List(values) => {
            let items = node.items();
            matches!(node.kind, Kind::Seq(_))
                && items.len() == values.len()
                && items.iter().zip(values).all(|(i, v)| reads_as(Some(i), v))
        }
        Out::Map(pairs) => {
            matches!(node.kind, Kind::Map(_))
                && node.pairs().len() == pairs.len()
                && pairs.iter().all(|(k, v)| reads_as(node.get(k), v))
        }
    }
}

/// The item named `name` of a list.
fn named<'n>(list: Option<&'n Node>, name: &str) -> Option<&'n Node> {
    list?
        .items()
        .iter()
        .find(|item| item.get("name").and_then(Node::scalar) == Some(name))
}

/// Replaces `start..end` of the text with `with`.
#[derive(Debug)]
struct Edit {
    start: usize,
    end: usize,
    with: String,
}

/// The text with the edits (which never overlap) made.
fn apply(text: &str, mut edits: Vec<Edit>) -> String {
    edits.sort_by_key(|edit| (edit.start, edit.end));
    let mut out = String::with_capacity(text.len() + 1024);
    let mut at = 0;
    for edit in edits {
        out.push_str(&text[at..edit.start.max(at)]);
        out.push_str(&edit.with);
        at = at.max(edit.end);
    }
    out.push_str(&text[at..]);
    out
}

/// Works out the edits that put one cluster's entries into a document.
struct Editor<'t> {
    text: &'t str,
    path: &'t Path,
    nl: &'static str,
    aliased: &'t BTreeSet<usize>,
    edits: Vec<Edit>,
}

impl Editor<'_> {
    fn upsert(&mut self, root: &Node, access: &ClusterAccess) -> Result<(), KubeconfigError> {
        let mut added: Vec<(&'static str, Out)> = Vec::new();
        for (key, value) in [("apiVersion", "v1"), ("kind", "Config")] {
            if root.get(key).is_none() {
                added.push((key, string(value)));
            }
        }
        let lists = [
            ("clusters", &access.entry_name, access.cluster_item()),
            ("contexts", &access.context_name, access.context_item()),
            ("users", &access.entry_name, access.user_item()),
        ];
        for (key, name, item) in lists {
            let Some((list_key, list)) = root.pair(key) else {
                added.push((key, Out::List(vec![item])));
                continue;
            };
            if list.is_null() {
                self.replace_value(list_key, list, &Out::List(vec![item]), root.flow)?;
                continue;
            }
            let Some(existing) = named(Some(list), name) else {
                self.append_item(list, &item);
                continue;
            };
            let what = format!("the `{key}` entry `{name}`");
            match key {
                "clusters" => self.set_inner(
                    existing,
                    "cluster",
                    &access.cluster(),
                    &["certificate-authority", "insecure-skip-tls-verify"],
                    &what,
                )?,
                "contexts" => self.set_inner(existing, "context", &access.context(), &[], &what)?,
                _ => match existing.pair("user") {
                    Some((_, user)) if reads_as(Some(user), &access.user()) => {}
                    Some((key, user)) => {
                        self.replace_value(key, user, &access.user(), existing.flow)?;
                    }
                    None => self.insert_pairs(existing, &[("user", access.user())]),
                },
            }
        }
        match root.pair("current-context") {
            Some((_, value)) if value.string() == Some(access.context_name.as_str()) => {}
            Some((key, value)) => {
                self.replace_value(key, value, &string(&access.context_name), root.flow)?;
            }
            None => added.push(("current-context", string(&access.context_name))),
        }
        if !added.is_empty() {
            self.insert_pairs(root, &added);
        }
        Ok(())
    }

    /// Sets `fields` and removes `stale` in the mapping under `inner` of an item (`cluster`,
    /// `context`), keeping its other keys as written; makes the mapping when it is missing.
    fn set_inner(
        &mut self,
        item: &Node,
        inner: &'static str,
        fields: &[(&'static str, Out)],
        stale: &[&str],
        what: &str,
    ) -> Result<(), KubeconfigError> {
        let Some((key, mapping)) = item.pair(inner) else {
            self.insert_pairs(item, &[(inner, Out::Map(fields.to_vec()))]);
            return Ok(());
        };
        let Kind::Map(pairs) = &mapping.kind else {
            return self.replace_value(key, mapping, &Out::Map(fields.to_vec()), item.flow);
        };
        let up_to_date = fields.iter().all(|(k, v)| reads_as(mapping.get(k), v))
            && stale.iter().all(|k| mapping.get(k).is_none());
        if up_to_date {
            return Ok(());
        }
        if mapping.get("<<").is_some() {
            return Err(self.refuse(format!(
                "{what} merges keys from elsewhere (`<<`); ekspec will not guess which to change"
            )));
        }
        let col = column(self.text, mapping.content);
        let mut parts = Vec::new();
        let mut written = Vec::new();
        for (index, (k, v)) in pairs.iter().enumerate() {
            let name = k.scalar().unwrap_or_default();
            if stale.contains(&name) || fields.iter().any(|(f, _)| *f == name) {
                self.check_anchors(k, what)?;
                self.check_anchors(v, what)?;
            }
            if stale.contains(&name) {
                continue;
            }
            if let Some((field, value)) = fields.iter().find(|(f, _)| *f == name) {
                parts.push(self.pair_text(field, value, col, mapping.flow));
                written.push(*field);
                continue;
            }
            let mut end = self.pair_end(k, v);
            if !mapping.flow && index + 1 < pairs.len() {
                end = line_end(self.text, end);
            }
            parts.push(self.text[k.start..end].to_owned());
        }
        for (field, value) in fields {
            if !written.contains(field) {
                parts.push(self.pair_text(field, value, col, mapping.flow));
            }
        }
        let (start, end, with) = if mapping.flow {
            (
                mapping.content,
                mapping.end,
                format!("{{{}}}", parts.join(", ")),
            )
        } else {
            let first = pairs.first().map_or(mapping.content, |(k, _)| k.start);
            let last = pairs
                .last()
                .map_or(mapping.end, |(k, v)| self.pair_end(k, v));
            let separator = format!("{}{}", self.nl, indent(col));
            (first.min(mapping.content), last, parts.join(&separator))
        };
        self.edits.push(Edit { start, end, with });
        Ok(())
    }

    /// `key: value` for a mapping at column `col`.
    fn pair_text(&self, key: &str, value: &Out, col: usize, flow: bool) -> String {
        if flow {
            format!("{}: {}", scalar::quoted(key), flow_text(value))
        } else {
            format!("{key}:{}", block_value(value, col, self.nl))
        }
    }

    /// Where a pair ends: its value's end, or its colon when the value is empty.
    fn pair_end(&self, key: &Node, value: &Node) -> usize {
        value.end.max(self.colon_after(key))
    }

    /// The offset just after the `:` that follows a key.
    fn colon_after(&self, key: &Node) -> usize {
        let rest = &self.text[key.end..];
        let blanks = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        if rest[blanks..].starts_with(':') {
            key.end + blanks + 1
        } else {
            key.end
        }
    }

    /// Replaces the value of a pair with `new`, in flow style inside a flow mapping.
    fn replace_value(
        &mut self,
        key: &Node,
        value: &Node,
        new: &Out,
        flow: bool,
    ) -> Result<(), KubeconfigError> {
        self.check_anchors(
            value,
            &format!("the value of `{}`", key.scalar().unwrap_or_default()),
        )?;
        let with = if flow {
            format!(" {}", flow_text(new))
        } else {
            block_value(new, column(self.text, key.start), self.nl)
        };
        let start = self.colon_after(key);
        self.edits.push(Edit {
            start,
            end: value.end.max(start),
            with,
        });
        Ok(())
    }

    /// Adds pairs at the end of a mapping.
    fn insert_pairs(&mut self, mapping: &Node, pairs: &[(&'static str, Out)]) {
        let last = mapping.pairs().last();
        let (at, with) = if mapping.flow {
            let body: Vec<String> = pairs
                .iter()
                .map(|(k, v)| self.pair_text(k, v, 0, true))
                .collect();
            match last {
                Some((k, v)) => (self.pair_end(k, v), format!(", {}", body.join(", "))),
                None => (mapping.content + 1, body.join(", ")),
            }
        } else {
            let col = column(self.text, mapping.content);
            let at = last.map_or(mapping.end, |(k, v)| self.pair_end(k, v));
            let body: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{}{}", indent(col), self.pair_text(k, v, col, false)))
                .collect();
            (
                line_end(self.text, at),
                format!("{}{}", self.nl, body.join(self.nl)),
            )
        };
        self.edits.push(Edit {
            start: at,
            end: at,
            with,
        });
    }

    /// Adds an item at the end of a sequence, laid out as its first item is.
    fn append_item(&mut self, list: &Node, item: &Out) {
        let items = list.items();
        let (at, with) = match items.last() {
            None => (list.content + 1, flow_text(item)),
            Some(last) if list.flow => (last.end, format!(", {}", flow_text(item))),
            Some(last) => {
                let first = &items[0];
                // The span of an indentless sequence starts at its first item's content.
                let dash_at = self.text[..first.start].rfind('-').unwrap_or(list.content);
                let dash = column(self.text, dash_at);
                let content = match first.kind {
                    Kind::Map(_) if !first.flow => column(self.text, first.content),
                    _ => dash + 2,
                };
                let gap = content.saturating_sub(dash + 1).max(1);
                (
                    line_end(self.text, last.end),
                    format!(
                        "{}{}-{}{}",
                        self.nl,
                        indent(dash),
                        indent(gap),
                        block_item(item, dash + 1 + gap, self.nl)
                    ),
                )
            }
        };
        self.edits.push(Edit {
            start: at,
            end: at,
            with,
        });
    }

    /// Refuses to rewrite a node that defines an anchor an alias elsewhere uses.
    fn check_anchors(&self, node: &Node, what: &str) -> Result<(), KubeconfigError> {
        match node
            .anchors()
            .into_iter()
            .find(|(id, _)| self.aliased.contains(id))
        {
            Some((_, name)) => Err(self.refuse(format!(
                "{what} defines the YAML anchor `&{name}` that other entries use (`*{name}`); \
                 ekspec will not rewrite it"
            ))),
            None => Ok(()),
        }
    }

    fn refuse(&self, message: String) -> KubeconfigError {
        KubeconfigError::Shape {
            path: self.path.to_owned(),
            message,
        }
    }
}

fn indent(width: usize) -> String {
    " ".repeat(width)
}

/// What follows `key:` for `value` in block style, the key at column `col`; sequences as
/// kubectl writes them, at the key's column.
fn block_value(value: &Out, col: usize, nl: &str) -> String {
    match value {
        Out::Str(text) => format!(" {}", scalar::block(text)),
        Out::Map(pairs) if pairs.is_empty() => " {}".to_owned(),
        Out::List(items) if items.is_empty() => " []".to_owned(),
        Out::Map(pairs) => format!("{nl}{}{}", indent(col + 2), block_map(pairs, col + 2, nl)),
        Out::List(items) => items
            .iter()
            .map(|item| format!("{nl}{}- {}", indent(col), block_item(item, col + 2, nl)))
            .collect(),
    }
}

/// A sequence item whose content starts at column `col`.
fn block_item(item: &Out, col: usize, nl: &str) -> String {
    match item {
        Out::Map(pairs) if !pairs.is_empty() => block_map(pairs, col, nl),
        Out::Str(text) => scalar::block(text),
        other => flow_text(other),
    }
}

/// A mapping in block style at column `col`, its first line not indented (the caller is
/// there already).
fn block_map(pairs: &[(&'static str, Out)], col: usize, nl: &str) -> String {
    let lines: Vec<String> = pairs
        .iter()
        .map(|(key, value)| format!("{key}:{}", block_value(value, col, nl)))
        .collect();
    lines.join(&format!("{nl}{}", indent(col)))
}

/// A value in flow style, every string double-quoted.
fn flow_text(value: &Out) -> String {
    match value {
        Out::Str(text) => scalar::quoted(text),
        Out::List(items) => {
            let items: Vec<String> = items.iter().map(flow_text).collect();
            format!("[{}]", items.join(", "))
        }
        Out::Map(pairs) => {
            let pairs: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{}: {}", scalar::quoted(k), flow_text(v)))
                .collect();
            format!("{{{}}}", pairs.join(", "))
        }
    }
}

fn kind_of(node: &Node) -> &'static str {
    match &node.kind {
        _ if node.is_null() => "empty",
        Kind::Scalar { .. } => "a scalar",
        Kind::Alias => "an alias",
        Kind::Seq(_) => "a list",
        Kind::Map(_) => "a mapping",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:eks:eu-west-1:123456789012:cluster/demo";

    fn access(context: &str) -> ClusterAccess {
        ClusterAccess {
            entry_name: ARN.to_owned(),
            context_name: context.to_owned(),
            server: "https://ABC.gr7.eu-west-1.eks.amazonaws.com".to_owned(),
            certificate_authority_data: "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUM=".to_owned(),
            exec: ExecPlugin {
                api_version: "client.authentication.k8s.io/v1beta1".to_owned(),
                command: "/usr/local/bin/ekspec".to_owned(),
                args: ["token", "--cluster", "demo", "--region", "eu-west-1"]
                    .map(str::to_owned)
                    .to_vec(),
            },
        }
    }

    /// A kubeconfig with another cluster, a stale entry for ours, comments, and keys ekspec
    /// does not know.
    const EXISTING: &str = r#"apiVersion: v1
kind: Config
preferences:
  colors: true
clusters:
- name: kind-dev   # made by kind
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority-data: a2luZA==
    extensions:
    - name: client.authentication.k8s.io/exec
      extension: {audience: kind, mode: 0755}
- name: arn:aws:eks:eu-west-1:123456789012:cluster/demo
  cluster:
    server: https://OLD.gr7.eu-west-1.eks.amazonaws.com
    certificate-authority: /tmp/old-ca.pem
    proxy-url: http://proxy.internal:3128   # the corporate proxy
    insecure-skip-tls-verify: true
users:
- name: kind-dev
  user:
    client-certificate-data: Y2VydA==
    client-key-data: a2V5
- name: arn:aws:eks:eu-west-1:123456789012:cluster/demo
  user:
    token: stale-token
contexts:
- name: kind-dev
  context: {cluster: kind-dev, user: kind-dev, namespace: "on"}
- name: arn:aws:eks:eu-west-1:123456789012:cluster/demo
  context:
    cluster: somewhere-else
    user: someone-else
    namespace: team-a
current-context: kind-dev
x-custom-tool: {keep: [1, 2.5, null, "007", no]}
"#;

    fn load(text: &str) -> Kubeconfig {
        Kubeconfig::parse(Path::new("/home/me/.kube/config"), text).unwrap()
    }

    fn upserted(text: &str, access: &ClusterAccess) -> (Change, String) {
        let mut config = load(text);
        let change = config.upsert(access).unwrap();
        (change, config.text().to_owned())
    }

    /// The text of the item named `name` in the list `key`.
    fn item(text: &str, key: &str, name: &str) -> String {
        let document = Document::parse(text).unwrap();
        let found = named(document.root.as_ref().and_then(|r| r.get(key)), name)
            .unwrap_or_else(|| panic!("no {key} entry {name} in\n{text}"));
        text[found.start..found.end].to_owned()
    }

    #[test]
    fn a_new_file_gets_the_three_entries_and_the_current_context() {
        let (change, text) = upserted("", &access(ARN));
        assert_eq!(change, Change::Added);
        assert_eq!(
            text,
            format!(
                "apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUM=
    server: https://ABC.gr7.eu-west-1.eks.amazonaws.com
  name: {ARN}
contexts:
- context:
    cluster: {ARN}
    user: {ARN}
  name: {ARN}
current-context: {ARN}
kind: Config
preferences: {{}}
users:
- name: {ARN}
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args:
      - token
      - --cluster
      - demo
      - --region
      - eu-west-1
      command: /usr/local/bin/ekspec
      interactiveMode: Never
"
            )
        );
    }

    #[test]
    fn other_entries_comments_and_unknown_keys_survive_byte_for_byte() {
        let (_, text) = upserted(EXISTING, &access(ARN));
        for (key, name) in [
            ("clusters", "kind-dev"),
            ("users", "kind-dev"),
            ("contexts", "kind-dev"),
        ] {
            assert_eq!(item(&text, key, name), item(EXISTING, key, name));
        }
        for line in [
            "preferences:\n  colors: true\n",
            "- name: kind-dev   # made by kind\n",
            "  context: {cluster: kind-dev, user: kind-dev, namespace: \"on\"}\n",
            "x-custom-tool: {keep: [1, 2.5, null, \"007\", no]}\n",
            "proxy-url: http://proxy.internal:3128   # the corporate proxy\n",
        ] {
            assert!(text.contains(line), "{line:?} lost:\n{text}");
        }
    }

    #[test]
    fn a_stale_entry_is_updated_in_place() {
        let (change, text) = upserted(EXISTING, &access(ARN));
        assert_eq!(change, Change::Updated);
        let document = Document::parse(&text).unwrap();
        let root = document.root.as_ref().unwrap();
        for key in ["clusters", "users", "contexts"] {
            let names: Vec<&str> = root
                .get(key)
                .unwrap()
                .items()
                .iter()
                .map(|i| i.get("name").and_then(Node::scalar).unwrap())
                .collect();
            assert_eq!(names, ["kind-dev", ARN], "{key}: no duplicate, same place");
        }
        assert_eq!(
            item(&text, "clusters", ARN),
            format!(
                "name: {ARN}
  cluster:
    server: https://ABC.gr7.eu-west-1.eks.amazonaws.com
    proxy-url: http://proxy.internal:3128   # the corporate proxy
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUM="
            )
        );
        let user = item(&text, "users", ARN);
        assert!(!user.contains("token:"), "{user}");
        assert!(user.contains("command: /usr/local/bin/ekspec"), "{user}");
        assert_eq!(
            item(&text, "contexts", ARN),
            format!(
                "name: {ARN}\n  context:\n    cluster: {ARN}\n    user: {ARN}\n    namespace: team-a"
            )
        );
        assert!(
            text.contains(&format!("current-context: {ARN}\n")),
            "{text}"
        );
    }

    #[test]
    fn a_second_run_changes_nothing() {
        for original in [EXISTING, "", "{}"] {
            let (_, once) = upserted(original, &access(ARN));
            let (change, again) = upserted(&once, &access(ARN));
            assert_eq!(change, Change::Unchanged, "{once}");
            assert_eq!(again, once);
        }
    }

    #[test]
    fn a_custom_context_name_points_at_the_arn_entries() {
        let (change, text) = upserted(EXISTING, &access("demo"));
        assert_eq!(change, Change::Added);
        assert_eq!(
            item(&text, "contexts", "demo"),
            format!("context:\n    cluster: {ARN}\n    user: {ARN}\n  name: demo")
        );
        assert!(text.contains("current-context: demo\n"), "{text}");
    }

    #[test]
    fn strings_yaml_1_1_reads_as_something_else_are_quoted() {
        let mut hostile = access("no");
        hostile.exec.args = ["token", "--cluster", "0755", "--region", "on"]
            .map(str::to_owned)
            .to_vec();
        let (_, text) = upserted(EXISTING, &hostile);
        for quoted in [
            "  name: \"no\"",
            "current-context: \"no\"",
            "- \"0755\"",
            "- \"on\"",
        ] {
            assert!(text.contains(quoted), "{quoted:?} in\n{text}");
        }
        let (change, _) = upserted(&text, &hostile);
        assert_eq!(change, Change::Unchanged);
    }

    #[test]
    fn switching_back_to_the_context_is_an_update() {
        let (_, text) = upserted(EXISTING, &access(ARN));
        let mut other = access(ARN);
        other.context_name = "kind-dev".to_owned();
        other.entry_name = "kind-dev".to_owned();
        let (_, text) = upserted(&text, &other);
        assert_eq!(upserted(&text, &access(ARN)).0, Change::Updated);
    }

    #[test]
    fn flow_documents_get_flow_edits_and_crlf_files_keep_crlf() {
        let (_, text) = upserted(
            "{apiVersion: v1, kind: Config, clusters: [{name: a, cluster: {server: x}}]}",
            &access(ARN),
        );
        assert!(
            text.starts_with(
                "{apiVersion: v1, kind: Config, clusters: [{name: a, cluster: {server: x}}, \
                 {\"cluster\": {\"certificate-authority-data\": "
            ),
            "{text}"
        );
        assert_eq!(upserted(&text, &access(ARN)).0, Change::Unchanged);

        let crlf = EXISTING.replace('\n', "\r\n");
        let (_, text) = upserted(&crlf, &access("demo"));
        assert!(!text.replace("\r\n", "").contains('\n'), "{text:?}");
    }

    #[test]
    fn an_anchor_other_entries_use_is_not_rewritten() {
        let text = format!(
            "users:\n- name: {ARN}\n  user: &shared {{token: t}}\n- name: other\n  user: *shared\n"
        );
        let error = load(&text).upsert(&access(ARN)).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("defines the YAML anchor `&shared`"),
            "{error}"
        );
        // An anchor nobody uses is fine, and aliases elsewhere stay as written.
        let text =
            "users:\n- name: a\n  user: &mine {token: t}\n- name: b\n  user: *mine\n".to_owned();
        let (_, changed) = upserted(&text, &access(ARN));
        assert!(changed.starts_with(text.trim_end()), "{changed}");
    }

    #[test]
    fn files_that_are_not_kubeconfigs_are_refused() {
        let path = Path::new("/home/me/.kube/config");
        for (text, expected) in [
            ("- a\n- b\n", "the top level is a list, not a mapping"),
            ("clusters: {a: b}\n", "`clusters` is a mapping, not a list"),
            ("users: x\n", "`users` is a scalar, not a list"),
        ] {
            let error = Kubeconfig::parse(path, text).unwrap_err();
            assert!(
                matches!(error, KubeconfigError::Shape { .. }),
                "{text}: {error}"
            );
            let message = error.to_string();
            assert!(message.starts_with("/home/me/.kube/config: "), "{message}");
            assert!(message.contains(expected), "{message}");
        }
        let error = Kubeconfig::parse(path, "clusters: [\n").unwrap_err();
        assert!(matches!(error, KubeconfigError::Parse { .. }), "{error}");
        assert!(error.to_string().contains("line"), "{error}");
        let error = load("# c\n---\n---\nclusters: []\n")
            .upsert(&access(ARN))
            .unwrap_err();
        assert!(
            error.to_string().contains("kubectl reads only the first"),
            "{error}"
        );
    }

    #[test]
    fn comments_only_and_null_lists_are_empty() {
        let (change, text) = upserted("# nothing yet\n", &access(ARN));
        assert_eq!(change, Change::Added);
        assert!(
            text.starts_with("# nothing yet\napiVersion: v1\n"),
            "{text}"
        );
        let (_, text) = upserted(
            "apiVersion: v1\nkind: Config\nclusters:\nusers: null   # none\n",
            &access(ARN),
        );
        assert!(
            text.starts_with("apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority-data:"),
            "{text}"
        );
        assert!(text.contains(&format!("users:\n- name: {ARN}\n")), "{text}");
        assert_eq!(upserted(&text, &access(ARN)).0, Change::Unchanged);
    }

    #[test]
    fn the_path_is_the_flag_then_the_first_kubeconfig_entry_then_home() {
        let home = Path::new("/home/me");
        let env = std::env::join_paths(["", "/a/config", "/b/config"]).unwrap();
        assert_eq!(
            resolve_path(Some(Path::new("x.yaml")), Some(&env), Some(home)).unwrap(),
            PathBuf::from("x.yaml")
        );
        assert_eq!(
            resolve_path(None, Some(&env), Some(home)).unwrap(),
            PathBuf::from("/a/config")
        );
        assert_eq!(
            resolve_path(None, Some(OsStr::new("")), Some(home)).unwrap(),
            PathBuf::from("/home/me/.kube/config")
        );
        assert!(matches!(
            resolve_path(None, None, None),
            Err(KubeconfigError::NoHome)
        ));
    }

    #[cfg(unix)]
    #[test]
    fn saving_is_atomic_keeps_modes_and_writes_through_links() {
        use std::os::unix::fs::PermissionsExt as _;

        let dir = tempfile::TempDir::new().unwrap();
        let new = dir.path().join("sub/config");
        let mut config = Kubeconfig::load(&new).unwrap();
        config.upsert(&access(ARN)).unwrap();
        config.save().unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&new), 0o600);

        let shared = dir.path().join("shared");
        std::fs::write(&shared, EXISTING).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&shared, &link).unwrap();
        let mut config = Kubeconfig::load(&link).unwrap();
        config.upsert(&access(ARN)).unwrap();
        config.save().unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
        assert_eq!(mode(&shared), 0o640);
        assert_eq!(std::fs::read_to_string(&shared).unwrap(), config.text());

        // A link to a file not made yet: the file is made where the link points.
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink("made-later", &dangling).unwrap();
        let mut config = Kubeconfig::load(&dangling).unwrap();
        config.upsert(&access(ARN)).unwrap();
        config.save().unwrap();
        assert!(std::fs::symlink_metadata(&dangling).unwrap().is_symlink());
        assert_eq!(
            std::fs::read_to_string(dir.path().join("made-later")).unwrap(),
            config.text()
        );
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 5, "{names:?}");
    }
}
