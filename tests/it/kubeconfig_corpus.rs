//! `ekspec kubeconfig` on kubeconfigs that other tools wrote (tests/fixtures/kubeconfig/: the
//! shapes of the AWS CLI, eksctl, aws-iam-authenticator, gcloud, kind, minikube, k3s, Rancher,
//! doctl, az aks, kubelogin, Teleport and oc, a file of hostile YAML 1.1 scalars and edge
//! cases). After ekspec adds or updates its context, every entry it does not own must read back
//! exactly as before: checked with kubectl where it is installed, and always byte for byte.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use granit_parser::{Event, Parser};
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::inventory::Inventory;
use crate::moto::MotoServer;
use crate::support::{Ekspec, Output, repo};

const REGION: &str = "us-east-1";

/// Corpus files also run with CRLF line ends.
const CRLF_TOO: [&str; 7] = [
    "aws-eks-update-kubeconfig.yaml",
    "az-aks.yaml",
    "comments-only.yaml",
    "flow-document.yaml",
    "hostile-scalars.yaml",
    "no-final-newline.yaml",
    "null-lists.yaml",
];

/// A cluster in moto.
struct Live {
    name: &'static str,
    arn: String,
    endpoint: String,
    ca: String,
}

/// One run of `ekspec kubeconfig`: the cluster, and the context name it is asked for.
struct Run<'a> {
    live: &'a Live,
    context: Option<&'static str>,
}

impl Run<'_> {
    fn context(&self) -> &str {
        self.context.unwrap_or(&self.live.arn)
    }

    /// Whether ekspec owns the entry `name` of the list `key` in this run.
    fn owns(&self, key: &str, name: &str) -> bool {
        match key {
            "contexts" => name == self.context(),
            _ => name == self.live.arn,
        }
    }
}

/// How kubectl reads the file, or None when kubectl is not installed.
fn kubectl_view(path: &Path) -> Option<Value> {
    let out = match Command::new("kubectl")
        .args(["config", "view", "--raw", "-o", "json", "--kubeconfig"])
        .arg(path)
        .output()
    {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => panic!("cannot run kubectl: {e}"),
    };
    assert!(
        out.status.success(),
        "kubectl cannot read {}: {}\n{}",
        path.display(),
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(path).unwrap_or_default()
    );
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

/// A node of the first document, with its byte range in the text.
#[derive(Debug)]
enum Node {
    Scalar(String, usize, usize),
    Alias(usize, usize),
    Seq(Vec<Node>, usize, usize),
    Map(Vec<(Node, Node)>, usize, usize),
}

impl Node {
    fn range(&self) -> (usize, usize) {
        match self {
            Node::Scalar(_, start, end)
            | Node::Alias(start, end)
            | Node::Seq(_, start, end)
            | Node::Map(_, start, end) => (*start, *end),
        }
    }

    fn text<'t>(&self, text: &'t str) -> &'t str {
        let (start, end) = self.range();
        &text[start..end]
    }

    fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(pairs, ..) => pairs
                .iter()
                .find(|(k, _)| matches!(k, Node::Scalar(s, ..) if s == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    fn scalar(&self) -> Option<&str> {
        match self {
            Node::Scalar(s, ..) => Some(s),
            _ => None,
        }
    }
}

/// The first document's root and the byte offset where the first document ends.
fn first_document(text: &str) -> (Option<Node>, usize) {
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<(Vec<Node>, bool, usize)> = Vec::new();
    let mut root = None;
    let byte = |m: granit_parser::Marker| m.byte_offset().unwrap();
    while let Some(event) = parser.next_event() {
        let (event, span) = event.unwrap_or_else(|e| panic!("{e}\n{text}"));
        let node = match event {
            Event::DocumentEnd => {
                if root.is_some() || stack.is_empty() {
                    return (root, byte(span.end));
                }
                continue;
            }
            Event::StreamEnd => return (root, text.len()),
            Event::Scalar(value, ..) => Some(Node::Scalar(
                value.into_owned(),
                byte(span.start),
                byte(span.end),
            )),
            Event::Alias(_) => Some(Node::Alias(byte(span.start), byte(span.end))),
            Event::SequenceStart(..) => {
                stack.push((Vec::new(), false, byte(span.start)));
                None
            }
            Event::MappingStart(..) => {
                stack.push((Vec::new(), true, byte(span.start)));
                None
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (children, is_map, start) = stack.pop().unwrap();
                // A flow collection ends at its bracket; a block one with its last child.
                let end = if text[..byte(span.end)].ends_with([']', '}']) {
                    byte(span.end)
                } else {
                    children.last().map_or(start, |c| c.range().1)
                };
                Some(if is_map {
                    let mut pairs = Vec::new();
                    let mut children = children.into_iter();
                    while let (Some(k), Some(v)) = (children.next(), children.next()) {
                        pairs.push((k, v));
                    }
                    Node::Map(pairs, start, end)
                } else {
                    Node::Seq(children, start, end)
                })
            }
            _ => None,
        };
        if let Some(node) = node {
            match stack.last_mut() {
                Some((children, ..)) => children.push(node),
                None => root = Some(node),
            }
        }
    }
    (root, text.len())
}

/// The named items of the list `key`: name -> the item's text.
fn items<'t>(root: Option<&Node>, text: &'t str, key: &str) -> BTreeMap<String, Vec<&'t str>> {
    let mut found: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    if let Some(Node::Seq(list, ..)) = root.and_then(|r| r.get(key)) {
        for item in list {
            let name = item.get("name").and_then(Node::scalar).unwrap_or("");
            found
                .entry(name.to_owned())
                .or_default()
                .push(item.text(text));
        }
    }
    found
}

/// The Rust-side check, without kubectl: every entry ekspec does not own is byte-identical,
/// as are the top-level keys it does not own, the other documents and every comment.
fn check_text(file: &str, run: &Run, before: &str, after: &str) {
    let (old, old_end) = first_document(before);
    let (new, new_end) = first_document(after);
    let new = new.unwrap_or_else(|| panic!("{file}: ekspec wrote no document:\n{after}"));
    let mut owned_text = Vec::new();
    for key in ["clusters", "users", "contexts"] {
        let old_items = items(old.as_ref(), before, key);
        let new_items = items(Some(&new), after, key);
        for (name, texts) in &old_items {
            if run.owns(key, name) {
                owned_text.extend(texts.iter().copied());
                continue;
            }
            assert_eq!(
                new_items.get(name),
                Some(texts),
                "{file}: the {key} entry `{name}` changed\nbefore:\n{before}\nafter:\n{after}"
            );
        }
        assert_eq!(
            new_items
                .iter()
                .filter(|(name, _)| run.owns(key, name))
                .map(|(_, texts)| texts.len())
                .sum::<usize>(),
            1,
            "{file}: one {key} entry for ekspec\n{after}"
        );
    }
    if let Some(Node::Map(pairs, ..)) = &old {
        for (key, value) in pairs {
            let key = key.scalar().unwrap_or("");
            if ["clusters", "users", "contexts", "current-context"].contains(&key) {
                continue;
            }
            assert_eq!(
                new.get(key).map(|v| v.text(after)),
                Some(value.text(before)),
                "{file}: top-level `{key}` changed\n{after}"
            );
        }
    }
    assert_eq!(
        new.get("current-context").and_then(Node::scalar),
        Some(run.context()),
        "{file}\n{after}"
    );
    assert_eq!(
        &after[new_end..],
        &before[old_end..],
        "{file}: the documents after the first changed"
    );
    for line in before.lines().map(str::trim).filter(|l| l.starts_with('#')) {
        if !owned_text.iter().any(|t| t.contains(line)) {
            assert!(
                after.contains(line),
                "{file}: comment `{line}` lost\n{after}"
            );
        }
    }
    if before.contains("\r\n") {
        assert!(
            !after.replace("\r\n", "").contains('\n'),
            "{file}: CRLF file got LF lines\n{after:?}"
        );
    }
}

/// The entries of a kubectl view's list, by name.
fn by_name(view: &Value, key: &str) -> BTreeMap<String, Value> {
    view[key]
        .as_array()
        .into_iter()
        .flatten()
        .map(|item| (item["name"].as_str().unwrap().to_owned(), item.clone()))
        .collect()
}

/// The kubectl check: every entry ekspec does not own reads the same, and ekspec's entries
/// read as the cluster's connection and `ekspec token`.
fn check_kubectl(file: &str, run: &Run, before: &Value, after: &Value) {
    let live = run.live;
    for key in ["clusters", "users", "contexts"] {
        let mut old = by_name(before, key);
        let mut new = by_name(after, key);
        old.retain(|name, _| !run.owns(key, name));
        let mine: Vec<_> = new.keys().filter(|n| run.owns(key, n)).cloned().collect();
        assert_eq!(mine.len(), 1, "{file}: {key}: {after:#}");
        new.retain(|name, _| !run.owns(key, name));
        assert_eq!(new, old, "{file}: kubectl reads other {key} differently");
    }
    for key in ["preferences", "extensions", "apiVersion", "kind"] {
        assert_eq!(
            after[key], before[key],
            "{file}: kubectl reads `{key}` differently"
        );
    }
    assert_eq!(after["current-context"], run.context(), "{file}");

    let cluster = &by_name(after, "clusters")[&live.arn]["cluster"];
    assert_eq!(cluster["server"], live.endpoint, "{file}");
    assert_eq!(cluster["certificate-authority-data"], live.ca, "{file}");
    assert!(cluster.get("insecure-skip-tls-verify").is_none(), "{file}");
    if let Some(old) = by_name(before, "clusters").get(&live.arn) {
        // What ekspec does not set in its own cluster entry stays (a proxy, a TLS name).
        for key in [
            "proxy-url",
            "tls-server-name",
            "extensions",
            "disable-compression",
        ] {
            assert_eq!(cluster.get(key), old["cluster"].get(key), "{file}: {key}");
        }
    }
    let exec = &by_name(after, "users")[&live.arn]["user"]["exec"];
    assert_eq!(exec["apiVersion"], "client.authentication.k8s.io/v1beta1");
    assert_eq!(
        std::fs::canonicalize(exec["command"].as_str().unwrap()).unwrap(),
        std::fs::canonicalize(env!("CARGO_BIN_EXE_ekspec")).unwrap()
    );
    assert_eq!(
        exec["args"],
        json!(["token", "--cluster", live.name, "--region", REGION]),
        "{file}"
    );
    // `ekspec token` never prompts: kubectl need not hand it a terminal.
    assert_eq!(exec["interactiveMode"], "Never", "{file}");
    let context = &by_name(after, "contexts")[run.context()]["context"];
    assert_eq!(context["cluster"], live.arn, "{file}");
    assert_eq!(context["user"], live.arn, "{file}");
    let old_namespace = by_name(before, "contexts")
        .get(run.context())
        .map(|c| c["context"]["namespace"].clone());
    if let Some(namespace) = old_namespace {
        assert_eq!(
            context["namespace"], namespace,
            "{file}: the namespace stays"
        );
    }
}

fn corpus() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("tests/fixtures/kubeconfig"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "json"))
        .collect();
    files.sort();
    files
}

#[tokio::test(flavor = "multi_thread")]
async fn kubeconfig_leaves_every_entry_of_other_tools_as_kubectl_read_it() {
    let moto = MotoServer::start();
    let eks = Inventory::new(&moto.endpoint(), REGION).await.eks;
    let mut clusters = Vec::new();
    // `0755` is a valid EKS cluster name that YAML 1.1 reads as the number 493.
    for name in ["kc", "0755"] {
        let created = eks
            .create_cluster()
            .name(name)
            .role_arn("arn:aws:iam::123456789012:role/eks")
            .resources_vpc_config(
                aws_sdk_eks::types::VpcConfigRequest::builder()
                    .subnet_ids("subnet-0123456789abcdef0")
                    .build(),
            )
            .send()
            .await
            .unwrap();
        let cluster = created.cluster().unwrap();
        clusters.push(Live {
            name,
            arn: cluster.arn().unwrap().to_owned(),
            endpoint: cluster.endpoint().unwrap().to_owned(),
            ca: cluster
                .certificate_authority()
                .and_then(|ca| ca.data())
                .unwrap()
                .to_owned(),
        });
    }
    let runs = [
        Run {
            live: &clusters[0],
            context: None,
        },
        // A context name YAML 1.1 reads as `true`, on a cluster name it reads as 493.
        Run {
            live: &clusters[1],
            context: Some("on"),
        },
    ];
    if kubectl_view(&corpus()[0]).is_none() {
        println!("skipped the kubectl half: kubectl is not installed (the byte checks ran)");
    }

    let dir = TempDir::new().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    // (file name, CRLF): each case in its own file, four at a time.
    let cases: Vec<(PathBuf, bool)> = corpus()
        .into_iter()
        .flat_map(|source| {
            let name = source.file_name().unwrap().to_string_lossy().into_owned();
            // With CRLF line ends too: the files where ekspec inserts lines of several shapes.
            let crlf_too = CRLF_TOO.contains(&name.as_str());
            [false, true]
                .into_iter()
                .take(if crlf_too { 2 } else { 1 })
                .map(move |crlf| (source.clone(), crlf))
        })
        .collect();
    let failed = std::sync::Mutex::new(Vec::new());
    let endpoint = moto.endpoint();
    std::thread::scope(|scope| {
        for (index, chunk) in cases.chunks(cases.len().div_ceil(4)).enumerate() {
            let (dir, home, runs, failed, endpoint) = (&dir, &home, &runs, &failed, &endpoint);
            scope.spawn(move || {
                for (source, crlf) in chunk {
                    let name = source.file_name().unwrap().to_string_lossy();
                    let file = format!("{name}{}", if *crlf { " (CRLF)" } else { "" });
                    let path = dir.path().join(format!("{index}-{name}"));
                    let original = std::fs::read_to_string(source).unwrap();
                    let text = if *crlf {
                        original.replace('\n', "\r\n")
                    } else {
                        original
                    };
                    std::fs::write(&path, &text).unwrap();
                    for run in runs {
                        let outcome =
                            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                corpus_case(&file, &path, run, endpoint, home);
                            }));
                        if outcome.is_err() {
                            failed.lock().unwrap().push(format!(
                                "{file}, cluster {}, context {}",
                                run.live.name,
                                run.context()
                            ));
                            // The next run would start from a file this one may have broken.
                            break;
                        }
                    }
                }
            });
        }
    });
    let failed = failed.into_inner().unwrap();
    assert!(
        failed.is_empty(),
        "{} corpus runs failed (each one's panic is above):\n{}",
        failed.len(),
        failed.join("\n")
    );
}

/// One file through one run: ekspec twice, the checks after the first.
fn corpus_case(file: &str, path: &Path, run: &Run, endpoint: &str, home: &Path) {
    let before = std::fs::read_to_string(path).unwrap();
    let view_before = kubectl_view(path);
    let path_arg = path.to_string_lossy().into_owned();
    let mut args = vec![
        "kubeconfig",
        "--name",
        run.live.name,
        "--region",
        REGION,
        "--kubeconfig",
        &path_arg,
    ];
    if let Some(context) = run.context {
        args.extend(["--context", context]);
    }
    let command = || {
        Ekspec::new(&args)
            .env("HOME", &home.to_string_lossy())
            .env("AWS_ENDPOINT_URL", endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .run()
    };
    let out: Output = command();
    assert_eq!(out.code, 0, "{file}: {out:?}");
    let after = std::fs::read_to_string(path).unwrap();
    // kubectl first: a change of meaning is the worse failure.
    if let Some(view_before) = view_before {
        let view_after = kubectl_view(path).unwrap();
        check_kubectl(file, run, &view_before, &view_after);
    }
    check_text(file, run, &before, &after);
    // Again: nothing to change, not a byte written.
    let out = command();
    assert!(out.stdout.contains("is up to date"), "{file}: {out:?}");
    assert_eq!(std::fs::read_to_string(path).unwrap(), after, "{file}");
}
