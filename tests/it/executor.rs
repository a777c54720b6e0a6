//! The executor: failures stop only what depends on them, reruns continue from live state,
//! an interrupted run starts nothing new.

use std::sync::{Arc, Mutex};

use ekspec::cloud::memory::MemoryCloud;
use ekspec::cloud::{CloudError, ErrorKind};
use ekspec::exec::{self, Context, Event, wait::Waiter};
use ekspec::resources::{observe, planner};
use ekspec::spec::{ClusterFile, parse_str};

const SPEC: &str = r#"apiVersion: ekspec/v1alpha1
kind: Cluster
metadata: {name: pay, region: us-east-1}
spec:
  kubernetesVersion: "1.31"
  vpc: {availabilityZones: [us-east-1a, us-east-1b]}
  nodeGroups: [{name: system, instanceTypes: [m6i.large], minSize: 1, maxSize: 2}]
  serviceAccounts: [{name: dns, namespace: kube-system, policyArns: ['arn:aws:iam::aws:policy/AmazonRoute53FullAccess']}]
"#;

fn spec() -> ClusterFile {
    parse_str("pay.yaml", SPEC).spec.unwrap()
}

async fn run(aws: &MemoryCloud, file: &ClusterFile, stopped: bool) -> (exec::Report, Vec<Event>) {
    let observed = observe(&aws.cloud(), &file.metadata.name, Some(file))
        .await
        .unwrap();
    let plan = planner::plan(file, &observed);
    let ctx = Context::new(
        aws.cloud(),
        &observed,
        "pay",
        "us-east-1",
        Waiter::default(),
    );
    let (_tx, rx) = tokio::sync::watch::channel(stopped);
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&events);
    let report = exec::execute(&plan, Arc::new(ctx), rx, move |e| {
        sink.lock().unwrap().push(e)
    })
    .await;
    let events = events.lock().unwrap().clone();
    (report, events)
}

fn refused(operation: &'static str) -> CloudError {
    CloudError {
        operation,
        resource: "cluster pay".into(),
        code: Some("UnsupportedAvailabilityZoneException".into()),
        message: "Cannot create cluster because us-east-1e does not have sufficient capacity"
            .into(),
        kind: ErrorKind::Other,
    }
}

#[tokio::test]
async fn a_failed_cluster_skips_its_dependents_and_a_rerun_converges() {
    let aws = MemoryCloud::new();
    let file = spec();
    aws.fail_next("CreateCluster", refused("CreateCluster"));
    let (report, _) = run(&aws, &file, false).await;
    let failed: Vec<&str> = report.failed.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(failed, ["cluster"]);
    assert!(
        report.failed[0]
            .1
            .contains("UnsupportedAvailabilityZoneException"),
        "{}",
        report.failed[0].1
    );
    let skipped: Vec<&str> = report.skipped.iter().map(|(r, _)| r.as_str()).collect();
    for dependent in [
        "nodegroup/system",
        "oidc-provider",
        "role/irsa/kube-system/dns",
    ] {
        assert!(
            skipped.contains(&dependent),
            "{dependent} not skipped: {skipped:?}"
        );
    }
    // Independent branches finished: the network, the roles, the launch template.
    let done: Vec<&str> = report.done.iter().map(|(r, _, _)| r.as_str()).collect();
    for independent in [
        "vpc",
        "nat-gateway/us-east-1a",
        "route/private-us-east-1b",
        "role/node",
        "role/cluster",
    ] {
        assert!(
            done.contains(&independent),
            "{independent} not done: {done:?}"
        );
    }
    let calls_before = aws.mutating_calls().len();
    let (again, _) = run(&aws, &file, false).await;
    assert!(again.success(), "{:?}", again.failed);
    // The rerun only made what was missing.
    let rerun_calls = &aws.mutating_calls()[calls_before..];
    assert!(
        !rerun_calls
            .iter()
            .any(|c| c.starts_with("CreateVpc") || c.starts_with("CreateNatGateway")),
        "{rerun_calls:?}"
    );
    let (third, _) = run(&aws, &file, false).await;
    assert!(
        third.done.is_empty(),
        "second apply was not a no-op: {:?}",
        third.done
    );
}

#[tokio::test]
async fn an_interrupted_run_starts_nothing() {
    let aws = MemoryCloud::new();
    let (report, events) = run(&aws, &spec(), true).await;
    assert!(report.interrupted);
    assert!(report.done.is_empty());
    assert!(!report.skipped.is_empty());
    assert!(events.iter().all(|e| matches!(e, Event::Skipped { .. })));
    assert_eq!(aws.resource_count(), 0);
}
