//! The reconciler end to end against the in-memory cloud: apply converges, a second plan is
//! empty, in-place changes, replacements and deletes do what the plan says.

use std::sync::Arc;

use ekspec::cloud::memory::MemoryCloud;
use ekspec::cloud::{LoadBalancerRef, Tags};
use ekspec::exec::{self, Context, wait::Waiter};
use ekspec::plan::{ChangeKind, Plan};
use ekspec::resources::{observe, planner};
use ekspec::spec::{ClusterFile, parse_str};

pub fn spec(text: &str) -> ClusterFile {
    let report = parse_str("spec.yaml", text);
    report
        .spec
        .unwrap_or_else(|| panic!("{:#?}", report.diagnostics))
}

pub async fn plan_for(aws: &MemoryCloud, file: &ClusterFile) -> Plan {
    let observed = observe(&aws.cloud(), &file.metadata.name, Some(file))
        .await
        .unwrap();
    planner::plan(file, &observed)
}

pub async fn apply(aws: &MemoryCloud, file: &ClusterFile) -> Plan {
    let observed = observe(&aws.cloud(), &file.metadata.name, Some(file))
        .await
        .unwrap();
    let plan = planner::plan(file, &observed);
    let ctx = Context::new(
        aws.cloud(),
        &observed,
        &file.metadata.name,
        &file.metadata.region,
        Waiter::default(),
    );
    let (_stop, stop) = tokio::sync::watch::channel(false);
    let report = exec::execute(&plan, Arc::new(ctx), stop, |_| {}).await;
    assert!(
        report.success(),
        "apply failed: {:?} {:?}",
        report.failed,
        report.skipped
    );
    plan
}

pub fn kinds(plan: &Plan) -> Vec<(String, ChangeKind)> {
    plan.changes
        .iter()
        .map(|c| (c.resource.clone(), c.kind))
        .collect()
}

const BASE: &str = r#"apiVersion: ekspec/v1alpha1
kind: Cluster
metadata: {name: shop, region: us-east-1, tags: {team: web}}
spec:
  kubernetesVersion: "1.31"
  vpc: {cidr: 10.1.0.0/16, availabilityZones: [us-east-1a, us-east-1b, us-east-1c], natGateway: perZone}
  endpoint: {publicAccessCidrs: [203.0.113.0/24]}
  logging: [api]
  nodeGroups:
    - name: system
      instanceTypes: [m6i.large]
      minSize: 2
      maxSize: 4
      labels: {role: system}
  serviceAccounts:
    - {name: dns, namespace: kube-system, policyArns: ['arn:aws:iam::aws:policy/AmazonRoute53FullAccess']}
"#;

#[tokio::test]
async fn apply_converges_then_updates_replaces_and_deletes() {
    let aws = MemoryCloud::new();
    let base = spec(BASE);
    let first = apply(&aws, &base).await;
    assert!(
        first.changes.iter().all(|c| c.kind == ChangeKind::Create),
        "{:?}",
        kinds(&first)
    );
    assert!(
        plan_for(&aws, &base).await.is_empty(),
        "{:?}",
        kinds(&plan_for(&aws, &base).await)
    );

    // In place: scaling, labels, a taint, logging, public CIDRs; new: a spot group and an IRSA
    // role; replace: the system group's instance type.
    let changed = spec(&(BASE
        .replace("logging: [api]", "logging: [api, audit]")
        .replace("203.0.113.0/24", "198.51.100.0/24")
        .replace("instanceTypes: [m6i.large]", "instanceTypes: [m6i.xlarge]")
        .replace("labels: {role: system}", "labels: {role: core}\n      taints: [{key: dedicated, value: core, effect: NoSchedule}]")
        .replace("  serviceAccounts:", "    - {name: spot, capacityType: spot, instanceTypes: [m6i.large, m5.large], minSize: 0, maxSize: 5}\n  serviceAccounts:")
        + "    - {name: app, namespace: web, policyArns: ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess']}\n"));
    let plan = plan_for(&aws, &changed).await;
    let k = kinds(&plan);
    assert!(k.contains(&("cluster".into(), ChangeKind::Update)), "{k:?}");
    assert!(
        k.contains(&("nodegroup/system".into(), ChangeKind::Replace)),
        "{k:?}"
    );
    assert!(
        k.contains(&("nodegroup/spot".into(), ChangeKind::Create)),
        "{k:?}"
    );
    assert!(
        k.contains(&("role/irsa/web/app".into(), ChangeKind::Create)),
        "{k:?}"
    );
    let cluster = plan
        .changes
        .iter()
        .find(|c| c.resource == "cluster")
        .unwrap();
    let fields: Vec<&str> = cluster.fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["spec.endpoint.publicAccessCidrs", "spec.logging"]);
    let replace = plan
        .changes
        .iter()
        .find(|c| c.resource == "nodegroup/system")
        .unwrap();
    assert_eq!(replace.fields[0].field, "instanceTypes");
    assert_eq!(replace.fields[0].old.as_deref(), Some("m6i.large"));
    apply(&aws, &changed).await;
    assert!(
        plan_for(&aws, &changed).await.is_empty(),
        "{:?}",
        kinds(&plan_for(&aws, &changed).await)
    );

    // Scaling and labels alone are in-place updates of the new generation.
    let scaled = spec(&changed_text_scaled(&changed));
    let plan = plan_for(&aws, &scaled).await;
    assert_eq!(
        kinds(&plan),
        [("nodegroup/system".to_owned(), ChangeKind::Update)]
    );
    apply(&aws, &scaled).await;

    // Removing the spot group and the service account deletes them (and nothing else).
    let plan = apply(&aws, &base).await;
    let deletes: Vec<&str> = plan
        .changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Delete)
        .map(|c| c.resource.as_str())
        .collect();
    assert!(deletes.contains(&"nodegroup/spot"), "{deletes:?}");
    assert!(deletes.contains(&"role/irsa/web/app"), "{deletes:?}");
    assert!(plan_for(&aws, &base).await.is_empty());

    // Delete leaves nothing.
    let observed = observe(&aws.cloud(), "shop", None).await.unwrap();
    let plan = planner::plan_delete("shop", "us-east-1", &observed);
    let ctx = Context::new(
        aws.cloud(),
        &observed,
        "shop",
        "us-east-1",
        Waiter::default(),
    );
    let (_stop, stop) = tokio::sync::watch::channel(false);
    let report = exec::execute(&plan, Arc::new(ctx), stop, |_| {}).await;
    assert!(report.success(), "{:?}", report.failed);
    assert_eq!(aws.resource_count(), 0);
}

fn changed_text_scaled(file: &ClusterFile) -> String {
    let mut file = file.clone();
    file.spec.node_groups[0].max_size = Some(6);
    file.spec.node_groups[0]
        .labels
        .insert("tier".into(), "a".into());
    serde_saphyr::to_string(&file).unwrap()
}

#[tokio::test]
async fn nat_gateways_come_and_go_without_leaving_blackhole_routes() {
    let aws = MemoryCloud::new();
    apply(&aws, &spec(BASE)).await;
    let nats = |observed: &ekspec::resources::Observed| observed.network.nat_gateways.len();

    let single = spec(&BASE.replace("natGateway: perZone", "natGateway: single"));
    let plan = apply(&aws, &single).await;
    let k = kinds(&plan);
    for zone in ["us-east-1b", "us-east-1c"] {
        assert!(
            k.contains(&(format!("nat-gateway/{zone}"), ChangeKind::Delete)),
            "{k:?}"
        );
        assert!(
            k.contains(&(format!("route/private-{zone}"), ChangeKind::Update)),
            "{k:?}"
        );
    }
    assert!(plan_for(&aws, &single).await.is_empty());
    let observed = observe(&aws.cloud(), "shop", Some(&single)).await.unwrap();
    assert_eq!(nats(&observed), 1);

    let none = spec(&BASE.replace("natGateway: perZone", "natGateway: none"));
    let plan = apply(&aws, &none).await;
    let route_deletes: Vec<&str> = plan
        .changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Delete && c.resource.starts_with("route/"))
        .map(|c| c.resource.as_str())
        .collect();
    assert_eq!(
        route_deletes,
        [
            "route/private-us-east-1a",
            "route/private-us-east-1b",
            "route/private-us-east-1c"
        ]
    );
    let nat = plan
        .changes
        .iter()
        .find(|c| c.resource == "nat-gateway/us-east-1a")
        .unwrap();
    assert!(
        nat.after.iter().any(|a| a.starts_with("route/")),
        "the NAT gateway goes after the routes that use it: {:?}",
        nat.after
    );
    assert!(plan_for(&aws, &none).await.is_empty());
    let observed = observe(&aws.cloud(), "shop", Some(&none)).await.unwrap();
    assert_eq!(nats(&observed), 0);
    let routes: Vec<_> = observed
        .network
        .route_tables
        .iter()
        .filter_map(|t| t.default_route.clone())
        .collect();
    assert_eq!(routes.len(), 1, "only the public route is left: {routes:?}");
}

#[tokio::test]
async fn changed_tags_reach_every_resource_kind() {
    let aws = MemoryCloud::new();
    apply(&aws, &spec(BASE)).await;
    let retagged = spec(&BASE.replace("tags: {team: web}", "tags: {team: shop, owner: alice}"));
    let plan = apply(&aws, &retagged).await;
    let k = kinds(&plan);
    for resource in [
        "vpc",
        "cluster",
        "nodegroup/system",
        "role/cluster",
        "role/irsa/kube-system/dns",
        "oidc-provider",
    ] {
        assert!(
            k.contains(&(resource.to_owned(), ChangeKind::Update)),
            "{resource} in {k:?}"
        );
    }
    let again = plan_for(&aws, &retagged).await;
    assert!(again.is_empty(), "{:?}", kinds(&again));
    let observed = observe(&aws.cloud(), "shop", Some(&retagged))
        .await
        .unwrap();
    let cluster = observed.cluster.unwrap();
    assert_eq!(cluster.tags["owner"], "alice");
    assert_eq!(observed.node_groups[0].tags["team"], "shop");
}

async fn delete(aws: &MemoryCloud, cluster: &str) -> exec::Report {
    let observed = observe(&aws.cloud(), cluster, None).await.unwrap();
    let plan = planner::plan_delete(cluster, "us-east-1", &observed);
    let ctx = Context::new(
        aws.cloud(),
        &observed,
        cluster,
        "us-east-1",
        Waiter::default(),
    );
    let (_stop, stop) = tokio::sync::watch::channel(false);
    exec::execute(&plan, Arc::new(ctx), stop, |_| {}).await
}

// Paused clock: the retries of what a load balancer blocks take no real time.
#[tokio::test(start_paused = true)]
async fn delete_removes_load_balancers_kubernetes_made_before_the_subnets() {
    let aws = MemoryCloud::new();
    apply(&aws, &spec(BASE)).await;
    let observed = observe(&aws.cloud(), "shop", None).await.unwrap();
    let vpc = observed.network.vpcs[0].id.clone();
    let tag = |key: &str, value: &str| Tags::from([(key.to_owned(), value.to_owned())]);
    let in_tree = tag("kubernetes.io/cluster/shop", "owned");
    let controller = tag("elbv2.k8s.aws/cluster", "shop");
    aws.add_load_balancer(LoadBalancerRef::Classic("a1b2c3".into()), &vpc, in_tree);
    let alb = "arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/k8s-web/1";
    aws.add_load_balancer(LoadBalancerRef::V2(alb.into()), &vpc, controller.clone());
    let targets = "arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/k8s-web/1";
    aws.add_target_group(targets, &vpc, controller);

    let report = delete(&aws, "shop").await;
    assert!(report.success(), "{:?} {:?}", report.failed, report.skipped);
    assert_eq!(aws.resource_count(), 0);
    // After the cluster (nothing recreates them), before the subnets (they block them).
    let calls = aws.mutating_calls();
    let position = |prefix: &str| {
        calls
            .iter()
            .position(|c| c.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in {calls:?}"))
    };
    assert!(position("DeleteCluster") < position("DeleteLoadBalancer"));
    assert!(position("DeleteLoadBalancer") < position("DeleteTargetGroup"));
    assert!(position("DeleteTargetGroup") < position("DeleteSubnet"));
    // The gateway goes alongside, its detach refused while the load balancers' addresses
    // are mapped, and retried.
    assert!(position("DeleteLoadBalancer") < position("DetachInternetGateway"));
}

#[tokio::test]
async fn a_service_account_that_moves_namespace_keeps_its_named_role_without_a_collision() {
    let aws = MemoryCloud::new();
    let named = |namespace: &str| {
        spec(&BASE.replace(
            "{name: dns, namespace: kube-system,",
            &format!("{{name: dns, namespace: {namespace}, roleName: shop-dns,"),
        ))
    };
    apply(&aws, &named("dns")).await;
    // The old address's role is deleted before the new one of the same name is made.
    let plan = apply(&aws, &named("kube-system")).await;
    let create = plan
        .changes
        .iter()
        .find(|c| c.resource == "role/irsa/kube-system/dns")
        .expect("the role under its new address");
    assert_eq!(create.kind, ChangeKind::Create);
    assert!(
        create.after.iter().any(|a| a == "role/irsa/dns/dns"),
        "{:?}",
        create.after
    );
    assert!(plan_for(&aws, &named("kube-system")).await.is_empty());
}

// EC2 remembers client tokens (the in-memory cloud too): a NAT gateway's token must stay the
// same for one intended create and change for the next one.
#[tokio::test(start_paused = true)]
async fn failed_nat_gateways_are_replaced_and_a_cluster_made_again_gets_new_ones() {
    let aws = MemoryCloud::new();
    let base = spec(BASE);
    apply(&aws, &base).await;
    let failed = aws.fail_nat_gateways("shop");
    assert_eq!(failed.len(), 3);
    let plan = plan_for(&aws, &base).await;
    let creates: Vec<&str> = plan
        .changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Create)
        .map(|c| c.resource.as_str())
        .collect();
    assert_eq!(
        creates,
        [
            "nat-gateway/us-east-1a",
            "nat-gateway/us-east-1b",
            "nat-gateway/us-east-1c"
        ],
        "{:?}",
        kinds(&plan)
    );
    apply(&aws, &base).await;
    let observed = observe(&aws.cloud(), "shop", None).await.unwrap();
    let live: Vec<&str> = observed
        .network
        .nat_gateways
        .iter()
        .filter(|n| n.state == "available")
        .map(|n| n.id.as_str())
        .collect();
    assert_eq!(live.len(), 3);
    assert!(live.iter().all(|id| !failed.iter().any(|f| f == id)));
    assert!(plan_for(&aws, &base).await.is_empty());

    assert!(delete(&aws, "shop").await.success());
    apply(&aws, &base).await;
    assert!(plan_for(&aws, &base).await.is_empty());
}
