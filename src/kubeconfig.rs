//! Kubeconfig files: add or replace the cluster, user and context entries of one EKS cluster
//! and make its context the current one, leaving every other entry and key as it was.
//!
//! The file is read as an untyped YAML document (so keys ekspec does not know survive), changed
//! in memory, checked to read back as the same document, and written to a temporary file that
//! is renamed over the old one, so a crash never leaves half a kubeconfig.

use std::ffi::OsStr;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

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

/// A kubeconfig file, read and possibly changed.
#[derive(Debug)]
pub struct Kubeconfig {
    path: PathBuf,
    document: Map<String, Value>,
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

    /// Parses the text of a kubeconfig read from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Self, KubeconfigError> {
        let shape = |message: String| KubeconfigError::Shape {
            path: path.to_owned(),
            message,
        };
        let value: Value = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_saphyr::from_str(text).map_err(|error| KubeconfigError::Parse {
                path: path.to_owned(),
                message: error.without_snippet().to_string(),
            })?
        };
        let document = match value {
            // Only comments, or nothing.
            Value::Null => Map::new(),
            Value::Object(map) => map,
            other => {
                return Err(shape(format!(
                    "the top level is {}, not a mapping",
                    kind_of(&other)
                )));
            }
        };
        for key in ["clusters", "users", "contexts"] {
            match document.get(key) {
                None | Some(Value::Null | Value::Array(_)) => {}
                Some(other) => {
                    return Err(shape(format!("`{key}` is {}, not a list", kind_of(other))));
                }
            }
        }
        Ok(Self {
            path: path.to_owned(),
            document,
        })
    }

    /// The file this came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The document, as JSON.
    pub fn document(&self) -> &Map<String, Value> {
        &self.document
    }

    /// Adds or replaces the cluster's entries and makes its context current.
    ///
    /// The user entry is replaced whole (mixing another auth method with `exec` would be
    /// ambiguous). In an existing cluster entry only `server` and the CA change (a CA file or
    /// `insecure-skip-tls-verify` would contradict the CA data, so they go); in an existing
    /// context only `cluster` and `user` change, so a namespace set with
    /// `kubectl config set-context` stays.
    pub fn upsert(&mut self, access: &ClusterAccess) -> Change {
        let before = self.document.clone();
        let had_context = find(&self.document, "contexts", &access.context_name).is_some();
        if self.document.is_empty() {
            // A new file, in the key order kubectl writes.
            if let Value::Object(new) = json!({
                "apiVersion": "v1",
                "clusters": [],
                "contexts": [],
                "current-context": "",
                "kind": "Config",
                "preferences": {},
                "users": [],
            }) {
                self.document = new;
            }
        }
        for (key, value) in [("apiVersion", "v1"), ("kind", "Config")] {
            if !self.document.get(key).is_some_and(Value::is_string) {
                self.document.insert(key.to_owned(), json!(value));
            }
        }

        with_entry(
            &mut self.document,
            "clusters",
            "cluster",
            &access.entry_name,
            |cluster| {
                for stale in ["certificate-authority", "insecure-skip-tls-verify"] {
                    cluster.shift_remove(stale);
                }
                cluster.insert(
                    "certificate-authority-data".to_owned(),
                    json!(access.certificate_authority_data),
                );
                cluster.insert("server".to_owned(), json!(access.server));
            },
        );
        with_entry(
            &mut self.document,
            "users",
            "user",
            &access.entry_name,
            |user| {
                *user = Map::new();
                user.insert(
                    "exec".to_owned(),
                    json!({
                        "apiVersion": access.exec.api_version,
                        "args": access.exec.args,
                        "command": access.exec.command,
                    }),
                );
            },
        );
        with_entry(
            &mut self.document,
            "contexts",
            "context",
            &access.context_name,
            |context| {
                context.insert("cluster".to_owned(), json!(access.entry_name));
                context.insert("user".to_owned(), json!(access.entry_name));
            },
        );
        self.document
            .insert("current-context".to_owned(), json!(access.context_name));

        if self.document == before {
            Change::Unchanged
        } else if had_context {
            Change::Updated
        } else {
            Change::Added
        }
    }

    /// The document as YAML.
    pub fn render(&self) -> Result<String, KubeconfigError> {
        let mut options = serde_saphyr::SerializerOptions::default();
        // Long base64 CA data stays one plain scalar, as kubectl writes it.
        options.prefer_block_scalars = false;
        let text = serde_saphyr::to_string_with_options(&self.document, options).map_err(|e| {
            KubeconfigError::RoundTrip {
                path: self.path.clone(),
                message: e.to_string(),
            }
        })?;
        // Read it back: a value that YAML would turn into something else is caught here,
        // before the file is touched.
        let back = Self::parse(&self.path, &text).map_err(|e| KubeconfigError::RoundTrip {
            path: self.path.clone(),
            message: format!("the YAML ekspec made does not read back: {e}"),
        })?;
        if back.document != self.document {
            return Err(KubeconfigError::RoundTrip {
                path: self.path.clone(),
                message: "the YAML ekspec made reads back differently".to_owned(),
            });
        }
        Ok(text)
    }

    /// Writes the document: a temporary file in the same folder, renamed over the old file (a
    /// symbolic link is followed, so the file it points to is replaced). A new file gets mode
    /// 0600, as it holds cluster credentials; an existing one keeps its mode.
    pub fn save(&self) -> Result<(), KubeconfigError> {
        let text = self.render()?;
        let write_error = |source| KubeconfigError::Write {
            path: self.path.clone(),
            source,
        };
        let target = match std::fs::canonicalize(&self.path) {
            Ok(real) => real,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => self.path.clone(),
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
        file.write_all(text.as_bytes()).map_err(write_error)?;
        file.as_file().sync_all().map_err(write_error)?;
        file.persist(&target).map_err(|e| write_error(e.error))?;
        Ok(())
    }
}

/// The item named `name` of the list `key`.
fn find<'d>(document: &'d Map<String, Value>, key: &str, name: &str) -> Option<&'d Value> {
    document
        .get(key)?
        .as_array()?
        .iter()
        .find(|item| item.get("name").and_then(Value::as_str) == Some(name))
}

/// Runs `change` on the inner mapping (`cluster`, `user`, `context`) of the item named `name`
/// in the list `key`, making the item (and the list) when missing.
fn with_entry(
    document: &mut Map<String, Value>,
    key: &str,
    inner: &str,
    name: &str,
    change: impl FnOnce(&mut Map<String, Value>),
) {
    let list = document.entry(key.to_owned()).or_insert_with(|| json!([]));
    if !list.is_array() {
        // `parse` lets only null through here.
        *list = json!([]);
    }
    let Value::Array(items) = list else {
        return;
    };
    let found = items
        .iter_mut()
        .filter_map(Value::as_object_mut)
        .find(|item| item.get("name").and_then(Value::as_str) == Some(name));
    let item = match found {
        Some(item) => item,
        None => {
            // kubectl's key order, alphabetical: `cluster`, `context` before `name`, `user` after.
            items.push(if inner < "name" {
                json!({ inner: {}, "name": name })
            } else {
                json!({ "name": name, inner: {} })
            });
            match items.last_mut().and_then(Value::as_object_mut) {
                Some(item) => item,
                None => return,
            }
        }
    };
    let mapping = item.entry(inner.to_owned()).or_insert_with(|| json!({}));
    if !mapping.is_object() {
        *mapping = json!({});
    }
    if let Value::Object(mapping) = mapping {
        change(mapping);
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "empty",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(context: &str) -> ClusterAccess {
        let arn = "arn:aws:eks:eu-west-1:123456789012:cluster/demo";
        ClusterAccess {
            entry_name: arn.to_owned(),
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

    const ARN: &str = "arn:aws:eks:eu-west-1:123456789012:cluster/demo";

    /// A kubeconfig with another cluster, a stale entry for ours, and keys ekspec does not know.
    const EXISTING: &str = r#"apiVersion: v1
kind: Config
preferences:
  colors: true
clusters:
- name: kind-dev
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority-data: a2luZA==
    extensions:
    - name: client.authentication.k8s.io/exec
      extension: {audience: kind}
- name: arn:aws:eks:eu-west-1:123456789012:cluster/demo
  cluster:
    server: https://OLD.gr7.eu-west-1.eks.amazonaws.com
    certificate-authority: /tmp/old-ca.pem
    proxy-url: http://proxy.internal:3128
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
x-custom-tool: {keep: [1, 2.5, null, "007"]}
"#;

    fn load(text: &str) -> Kubeconfig {
        Kubeconfig::parse(Path::new("/home/me/.kube/config"), text).unwrap()
    }

    fn named<'a>(config: &'a Kubeconfig, key: &str, name: &str) -> &'a Value {
        find(config.document(), key, name).unwrap()
    }

    #[test]
    fn a_new_file_gets_the_three_entries_and_the_current_context() {
        let mut config = load("");
        assert_eq!(config.upsert(&access(ARN)), Change::Added);
        let text = config.render().unwrap();
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
"
            )
        );
    }

    #[test]
    fn other_entries_and_unknown_keys_survive() {
        let original = load(EXISTING);
        let mut config = load(EXISTING);
        config.upsert(&access(ARN));
        for (key, name) in [
            ("clusters", "kind-dev"),
            ("users", "kind-dev"),
            ("contexts", "kind-dev"),
        ] {
            assert_eq!(named(&config, key, name), named(&original, key, name));
        }
        for key in ["preferences", "x-custom-tool"] {
            assert_eq!(config.document()[key], original.document()[key], "{key}");
        }
        // A YAML 1.1 boolean spelling that is a string stays a string.
        assert_eq!(
            named(&config, "contexts", "kind-dev")["context"]["namespace"],
            "on"
        );
        let back = load(&config.render().unwrap());
        assert_eq!(back.document(), config.document());
    }

    #[test]
    fn a_stale_entry_is_replaced_in_place() {
        let mut config = load(EXISTING);
        assert_eq!(config.upsert(&access(ARN)), Change::Updated);
        let doc = config.document();
        assert_eq!(doc["current-context"], ARN);
        for key in ["clusters", "users", "contexts"] {
            let names: Vec<&str> = doc[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["name"].as_str().unwrap())
                .collect();
            assert_eq!(names, ["kind-dev", ARN], "{key}: no duplicate, same place");
        }
        assert_eq!(
            named(&config, "clusters", ARN)["cluster"],
            json!({
                "server": "https://ABC.gr7.eu-west-1.eks.amazonaws.com",
                "proxy-url": "http://proxy.internal:3128",
                "certificate-authority-data": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUM=",
            })
        );
        let user = &named(&config, "users", ARN)["user"];
        assert!(user.get("token").is_none(), "{user}");
        assert_eq!(user["exec"]["command"], "/usr/local/bin/ekspec");
        assert_eq!(
            named(&config, "contexts", ARN)["context"],
            json!({"cluster": ARN, "user": ARN, "namespace": "team-a"})
        );
    }

    #[test]
    fn a_second_run_changes_nothing() {
        let mut config = load(EXISTING);
        config.upsert(&access(ARN));
        let once = config.render().unwrap();
        let mut again = load(&once);
        assert_eq!(again.upsert(&access(ARN)), Change::Unchanged);
        assert_eq!(again.render().unwrap(), once);
    }

    #[test]
    fn a_custom_context_name_points_at_the_arn_entries() {
        let mut config = load(EXISTING);
        assert_eq!(config.upsert(&access("demo")), Change::Added);
        let context = &named(&config, "contexts", "demo")["context"];
        assert_eq!(context["cluster"], ARN);
        assert_eq!(context["user"], ARN);
        assert_eq!(config.document()["current-context"], "demo");
    }

    #[test]
    fn switching_back_to_the_context_is_an_update() {
        let mut config = load(EXISTING);
        config.upsert(&access(ARN));
        let mut other = access(ARN);
        other.context_name = "kind-dev".to_owned();
        other.entry_name = "kind-dev".to_owned();
        config.upsert(&other);
        assert_eq!(config.upsert(&access(ARN)), Change::Updated);
    }

    #[test]
    fn files_that_are_not_kubeconfigs_are_refused() {
        let path = Path::new("/home/me/.kube/config");
        for (text, expected) in [
            ("- a\n- b\n", "the top level is a list, not a mapping"),
            ("clusters: {a: b}\n", "`clusters` is a mapping, not a list"),
            ("users: x\n", "`users` is a string, not a list"),
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
    }

    #[test]
    fn comments_only_and_null_lists_are_empty() {
        let mut config = load("# nothing yet\n");
        assert_eq!(config.upsert(&access(ARN)), Change::Added);
        let mut config = load("apiVersion: v1\nkind: Config\nclusters:\nusers: null\n");
        config.upsert(&access(ARN));
        assert_eq!(config.document()["clusters"].as_array().unwrap().len(), 1);
        assert_eq!(config.document()["users"].as_array().unwrap().len(), 1);
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
    fn saving_is_atomic_keeps_modes_and_follows_links() {
        use std::os::unix::fs::PermissionsExt as _;

        let dir = tempfile::TempDir::new().unwrap();
        let new = dir.path().join("sub/config");
        let mut config = Kubeconfig::load(&new).unwrap();
        config.upsert(&access(ARN));
        config.save().unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&new), 0o600);

        let shared = dir.path().join("shared");
        std::fs::write(&shared, EXISTING).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&shared, &link).unwrap();
        let mut config = Kubeconfig::load(&link).unwrap();
        config.upsert(&access(ARN));
        config.save().unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
        assert_eq!(mode(&shared), 0o640);
        let written = Kubeconfig::load(&shared).unwrap();
        assert_eq!(written.document(), config.document());
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 3, "{names:?}");
    }
}
