//! Karpenter's interruption queue and the EventBridge rules that feed it: planned from
//! `spec.karpenter`, applied, updated when they drift, deleted (rules' targets, then the rules,
//! then the queue) when Karpenter or its queue leaves the spec and when the cluster goes, and
//! converging after a run that stopped between two calls. In memory, and end to end through
//! the binary against strict moto (tests/moto/strict_events.py), read back through the SDK.

use std::sync::Arc;

use ekspec::cloud::memory::MemoryCloud;
use ekspec::cloud::{CloudError, ErrorKind, QueueAttributes};
use ekspec::exec::{self, Context, wait::Waiter};
use ekspec::plan::{ChangeKind, Operation};
use ekspec::resources::karpenter_interruption::{self, queue_name};
use ekspec::resources::{observe, planner};
use serde_json::{Value, json};

use crate::e2e::{Emulated, edit};
use crate::reconcile_memory::{apply, kinds, plan_for, spec};

const SPEC: &str = r#"apiVersion: ekspec/v1alpha1
kind: Cluster
metadata: {name: kq, region: us-east-1, tags: {team: web}}
spec:
  kubernetesVersion: "1.31"
  vpc: {cidr: 10.1.0.0/16, availabilityZones: [us-east-1a, us-east-1b], natGateway: none}
  addons:
    - name: eks-pod-identity-agent
  karpenter:
    version: "1.8.1"
"#;

const KINDS: [&str; 4] = [
    "instance-state-change",
    "rebalance",
    "scheduled-change",
    "spot-interruption",
];

/// The queue and rule changes of a plan, as `(resource, kind)`.
fn interruption_kinds(plan: &ekspec::plan::Plan) -> Vec<(String, ChangeKind)> {
    kinds(plan)
        .into_iter()
        .filter(|(r, _)| r.starts_with("queue/") || r.starts_with("event-rule/"))
        .collect()
}

fn rule_ids(kinds: &[&str]) -> Vec<String> {
    kinds
        .iter()
        .map(|k| karpenter_interruption::rule_id(k))
        .collect()
}

fn failure(operation: &'static str) -> CloudError {
    CloudError {
        operation,
        resource: "test".to_owned(),
        code: Some("InternalFailure".to_owned()),
        message: "the run stops here".to_owned(),
        kind: ErrorKind::Other,
    }
}

/// Applies `file`, expecting it to fail (an injected failure).
async fn apply_failing(aws: &MemoryCloud, file: &ekspec::spec::ClusterFile) {
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
        !report.success(),
        "the injected failure did not fail the apply"
    );
}

#[tokio::test]
async fn the_queue_and_rules_are_made_as_karpenter_documents_them_then_left_alone() {
    let aws = MemoryCloud::new();
    let file = spec(SPEC);
    let plan = apply(&aws, &file).await;
    let mut expected = vec![(
        "queue/karpenter-interruption".to_owned(),
        ChangeKind::Create,
    )];
    expected.extend(
        rule_ids(&KINDS)
            .into_iter()
            .map(|r| (r, ChangeKind::Create)),
    );
    assert_eq!(interruption_kinds(&plan), expected);
    // Each rule waits for the queue it sends to.
    for change in plan
        .changes
        .iter()
        .filter(|c| c.resource.starts_with("event-rule/"))
    {
        assert_eq!(change.after, ["queue/karpenter-interruption"], "{change:?}");
    }

    let queues = aws.queues();
    assert_eq!(queues.len(), 1);
    let queue = &queues[0];
    assert_eq!(queue.name, "kq-karpenter");
    assert_eq!(queue_name("kq"), "kq-karpenter");
    assert_eq!(queue.message_retention_seconds, Some(300));
    assert!(queue.sqs_managed_sse);
    let policy = queue.policy.as_ref().unwrap();
    assert_eq!(policy["Id"], "EC2InterruptionPolicy");
    assert_eq!(
        policy["Statement"][0]["Principal"]["Service"],
        json!(["events.amazonaws.com", "sqs.amazonaws.com"])
    );
    assert_eq!(policy["Statement"][0]["Action"], "sqs:SendMessage");
    assert_eq!(policy["Statement"][0]["Resource"], queue.arn.as_str());
    assert_eq!(policy["Statement"][1]["Sid"], "DenyHTTP");
    assert_eq!(policy["Statement"][1]["Effect"], "Deny");
    assert_eq!(
        policy["Statement"][1]["Condition"]["Bool"]["aws:SecureTransport"],
        "false"
    );
    assert_eq!(
        queue.tags["ekspec.io/resource"],
        "queue/karpenter-interruption"
    );
    assert_eq!(queue.tags["team"], "web");

    let rules = aws.event_rules();
    let names: Vec<&str> = rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "kq-karpenter-instance-state-change",
            "kq-karpenter-rebalance",
            "kq-karpenter-scheduled-change",
            "kq-karpenter-spot-interruption",
        ]
    );
    let detail_types = [
        ("aws.ec2", "EC2 Instance State-change Notification"),
        ("aws.ec2", "EC2 Instance Rebalance Recommendation"),
        ("aws.health", "AWS Health Event"),
        ("aws.ec2", "EC2 Spot Instance Interruption Warning"),
    ];
    for (rule, (source, detail_type)) in rules.iter().zip(detail_types) {
        assert_eq!(
            rule.event_pattern,
            Some(json!({"source": [source], "detail-type": [detail_type]})),
            "{}",
            rule.name
        );
        assert_eq!(rule.targets.len(), 1, "{}", rule.name);
        assert_eq!(rule.targets[0].id, "KarpenterInterruptionQueueTarget");
        assert_eq!(rule.targets[0].arn, queue.arn);
        assert_eq!(rule.tags["ekspec.io/cluster"], "kq");
    }

    let again = plan_for(&aws, &file).await;
    assert!(again.is_empty(), "{:?}", kinds(&again));
}

#[tokio::test]
async fn karpenter_1_10_adds_the_capacity_reservation_rule_and_going_back_removes_it() {
    let aws = MemoryCloud::new();
    apply(&aws, &spec(SPEC)).await;
    let newer = spec(&SPEC.replace("\"1.8.1\"", "\"1.10.0\""));
    let plan = apply(&aws, &newer).await;
    assert_eq!(
        interruption_kinds(&plan),
        [(
            "event-rule/karpenter-capacity-reservation".to_owned(),
            ChangeKind::Create
        )]
    );
    let rule = aws
        .event_rules()
        .into_iter()
        .find(|r| r.name == "kq-karpenter-capacity-reservation")
        .unwrap();
    assert_eq!(
        rule.event_pattern,
        Some(json!({
            "source": ["aws.ec2"],
            "detail-type": ["EC2 Capacity Reservation Instance Interruption Warning"],
        }))
    );
    assert!(plan_for(&aws, &newer).await.is_empty());
    let plan = apply(&aws, &spec(SPEC)).await;
    assert_eq!(
        interruption_kinds(&plan),
        [(
            "event-rule/karpenter-capacity-reservation".to_owned(),
            ChangeKind::Delete
        )]
    );
    assert_eq!(aws.event_rules().len(), 4);
}

#[tokio::test]
async fn turning_the_queue_off_deletes_targets_then_rules_then_the_queue() {
    let aws = MemoryCloud::new();
    apply(&aws, &spec(SPEC)).await;
    let off = spec(&format!("{SPEC}    interruptionQueue: false\n"));
    let plan = plan_for(&aws, &off).await;
    let mut expected = vec![(
        "queue/karpenter-interruption".to_owned(),
        ChangeKind::Delete,
    )];
    expected.extend(
        rule_ids(&KINDS)
            .into_iter()
            .map(|r| (r, ChangeKind::Delete)),
    );
    assert_eq!(interruption_kinds(&plan), expected);
    let queue = plan
        .changes
        .iter()
        .find(|c| c.resource == "queue/karpenter-interruption")
        .unwrap();
    assert_eq!(queue.after, rule_ids(&KINDS), "the rules go first");
    let rule = plan
        .changes
        .iter()
        .find(|c| c.resource == "event-rule/karpenter-rebalance")
        .unwrap();
    assert!(
        matches!(
            rule.operations.as_slice(),
            [Operation::RemoveTargets { ids, .. }, Operation::DeleteRule { name }]
                if ids == &["KarpenterInterruptionQueueTarget"] && name == "kq-karpenter-rebalance"
        ),
        "{:?}",
        rule.operations
    );
    apply(&aws, &off).await;
    assert!(aws.queues().is_empty());
    assert!(aws.event_rules().is_empty());
    assert!(plan_for(&aws, &off).await.is_empty());

    // Karpenter gone altogether: nothing of it is made.
    let without = spec(&SPEC.replace("  karpenter:\n    version: \"1.8.1\"\n", ""));
    assert!(interruption_kinds(&plan_for(&aws, &without).await).is_empty());
}

#[tokio::test]
async fn a_run_that_stopped_between_two_calls_converges_on_the_next() {
    let aws = MemoryCloud::new();
    let file = spec(SPEC);
    // Stopped after PutRule, before PutTargets: the rule exists, owned, without its target.
    aws.fail_next("PutTargets", failure("PutTargets"));
    apply_failing(&aws, &file).await;
    let untargeted: Vec<String> = aws
        .event_rules()
        .into_iter()
        .filter(|r| r.targets.is_empty())
        .map(|r| r.name)
        .collect();
    assert_eq!(untargeted.len(), 1, "{untargeted:?}");
    let plan = plan_for(&aws, &file).await;
    let update = plan
        .changes
        .iter()
        .find(|c| c.physical_id.as_deref() == Some(untargeted[0].as_str()))
        .unwrap();
    assert_eq!(update.kind, ChangeKind::Update);
    assert_eq!(update.fields[0].field, "targets");
    apply(&aws, &file).await;
    assert!(aws.event_rules().iter().all(|r| r.targets.len() == 1));
    assert!(plan_for(&aws, &file).await.is_empty());

    // Stopped after RemoveTargets, before DeleteRule: the next run deletes the bare rule.
    let off = spec(&format!("{SPEC}    interruptionQueue: false\n"));
    aws.fail_next("DeleteRule", failure("DeleteRule"));
    apply_failing(&aws, &off).await;
    let plan = plan_for(&aws, &off).await;
    let bare: Vec<&ekspec::plan::Change> = plan
        .changes
        .iter()
        .filter(|c| matches!(c.operations.as_slice(), [Operation::DeleteRule { .. }]))
        .collect();
    assert_eq!(bare.len(), 1, "{:?}", kinds(&plan));
    apply(&aws, &off).await;
    assert!(aws.event_rules().is_empty() && aws.queues().is_empty());
}

#[tokio::test]
async fn drifted_attributes_targets_and_tags_are_put_back_in_place() {
    let aws = MemoryCloud::new();
    let file = spec(SPEC);
    apply(&aws, &file).await;
    let cloud = aws.cloud();
    let queue = aws.queues().remove(0);
    cloud
        .queues
        .set_queue_attributes(
            &queue.url,
            &QueueAttributes {
                policy: json!({"Statement": []}),
                message_retention_seconds: 345_600,
                sqs_managed_sse: false,
            },
        )
        .await
        .unwrap();
    let rule = aws.event_rules().remove(0);
    cloud
        .events
        .put_targets(
            &rule.name,
            &[ekspec::cloud::RuleTarget {
                id: "other".into(),
                arn: "arn:aws:sqs:us-east-1:111122223333:other".into(),
            }],
        )
        .await
        .unwrap();
    let plan = plan_for(&aws, &file).await;
    assert_eq!(
        interruption_kinds(&plan),
        [
            (
                "queue/karpenter-interruption".to_owned(),
                ChangeKind::Update
            ),
            (
                karpenter_interruption::rule_id("instance-state-change"),
                ChangeKind::Update
            ),
        ]
    );
    let fields: Vec<&str> = plan.changes[..]
        .iter()
        .find(|c| c.resource == "queue/karpenter-interruption")
        .unwrap()
        .fields
        .iter()
        .map(|f| f.field.as_str())
        .collect();
    assert_eq!(
        fields,
        ["policy", "messageRetentionPeriod", "sqsManagedSseEnabled"]
    );
    // A tag the spec adds reaches the existing queue and rules too.
    let tagged = spec(&SPEC.replace("tags: {team: web}", "tags: {team: web, tier: gold}"));
    let plan = apply(&aws, &tagged).await;
    assert_eq!(interruption_kinds(&plan).len(), 5, "{:?}", kinds(&plan));
    assert!(plan_for(&aws, &tagged).await.is_empty());
    let queue = aws.queues().remove(0);
    assert_eq!(queue.message_retention_seconds, Some(300));
    assert_eq!(queue.tags["tier"], "gold");
    let rule = aws.event_rules().remove(0);
    assert_eq!(rule.targets.len(), 1);
    assert_eq!(rule.targets[0].id, "KarpenterInterruptionQueueTarget");
    assert_eq!(rule.tags["tier"], "gold");
}

#[tokio::test]
async fn a_queue_or_rule_of_the_name_that_ekspec_did_not_make_is_not_taken_over() {
    let aws = MemoryCloud::new();
    let cloud = aws.cloud();
    cloud
        .queues
        .create_queue(&ekspec::cloud::QueueRequest {
            name: "kq-karpenter".into(),
            attributes: karpenter_interruption::queue_attributes("x"),
            tags: Default::default(),
        })
        .await
        .unwrap();
    let plan = plan_for(&aws, &spec(SPEC)).await;
    let queue = plan
        .changes
        .iter()
        .find(|c| c.resource == "queue/karpenter-interruption")
        .unwrap();
    assert_eq!(queue.kind, ChangeKind::Impossible);
    assert!(
        queue
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("`kq-karpenter` exists and ekspec did not make it")),
        "{queue:?}"
    );
}

#[tokio::test]
async fn deleting_the_cluster_deletes_the_queue_and_rules() {
    let aws = MemoryCloud::new();
    apply(&aws, &spec(SPEC)).await;
    let observed = observe(&aws.cloud(), "kq", None).await.unwrap();
    let plan = planner::plan_delete("kq", "us-east-1", &observed);
    let mut expected = vec![(
        "queue/karpenter-interruption".to_owned(),
        ChangeKind::Delete,
    )];
    expected.extend(
        rule_ids(&KINDS)
            .into_iter()
            .map(|r| (r, ChangeKind::Delete)),
    );
    assert_eq!(interruption_kinds(&plan), expected);
    let ctx = Context::new(aws.cloud(), &observed, "kq", "us-east-1", Waiter::default());
    let (_stop, stop) = tokio::sync::watch::channel(false);
    let report = exec::execute(&plan, Arc::new(ctx), stop, |_| {}).await;
    assert!(report.success(), "{:?}", report.failed);
    assert!(aws.queues().is_empty() && aws.event_rules().is_empty());
}

/// The queue, by name, through the SDK: its attributes and tags.
async fn queue_of(aws: &Emulated, name: &str) -> Option<(Value, Value)> {
    let inventory = aws.inventory("us-east-1").await;
    let url = inventory
        .sqs
        .get_queue_url()
        .queue_name(name)
        .send()
        .await
        .ok()?
        .queue_url()?
        .to_owned();
    let attributes = inventory
        .sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
        .send()
        .await
        .unwrap();
    let attributes: serde_json::Map<String, Value> = attributes
        .attributes()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), Value::String(v.clone())))
        .collect();
    let tags = inventory
        .sqs
        .list_queue_tags()
        .queue_url(&url)
        .send()
        .await
        .unwrap();
    Some((Value::Object(attributes), json!(tags.tags())))
}

/// The rules named `prefix*` through the SDK: `(name, pattern, target ARNs)`.
async fn rules_of(aws: &Emulated, prefix: &str) -> Vec<(String, Value, Vec<String>)> {
    let inventory = aws.inventory("us-east-1").await;
    let rules = inventory
        .events
        .list_rules()
        .name_prefix(prefix)
        .send()
        .await
        .unwrap();
    let mut found = Vec::new();
    for rule in rules.rules() {
        let name = rule.name().unwrap().to_owned();
        let targets = inventory
            .events
            .list_targets_by_rule()
            .rule(&name)
            .send()
            .await
            .unwrap();
        found.push((
            name,
            serde_json::from_str(rule.event_pattern().unwrap()).unwrap(),
            targets
                .targets()
                .iter()
                .map(|t| t.arn().to_owned())
                .collect(),
        ));
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

#[tokio::test(flavor = "multi_thread")]
async fn interruption_queue_lifecycle_on_strict_moto() {
    let aws = Emulated::start();
    let text = SPEC.replace("name: kq,", "name: kqe,");
    let on = aws.spec("kqe.yaml", &text);
    let apply = aws.expect(0, &["apply", "-f", &on, "--auto-approve"]);
    assert!(
        apply.stdout.contains("+ queue/karpenter-interruption"),
        "{}",
        apply.stdout
    );

    let (attributes, tags) = queue_of(&aws, "kqe-karpenter").await.expect("the queue");
    assert_eq!(attributes["MessageRetentionPeriod"], "300");
    assert_eq!(attributes["SqsManagedSseEnabled"], "true");
    let arn = attributes["QueueArn"].as_str().unwrap().to_owned();
    let policy: Value = serde_json::from_str(attributes["Policy"].as_str().unwrap()).unwrap();
    assert_eq!(policy, karpenter_interruption::queue_policy(&arn));
    assert_eq!(tags["ekspec.io/cluster"], "kqe");
    assert_eq!(tags["ekspec.io/resource"], "queue/karpenter-interruption");
    let rules = rules_of(&aws, "kqe-karpenter-").await;
    let names: Vec<&str> = rules.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        names,
        KINDS
            .map(|k| format!("kqe-karpenter-{k}"))
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
    for (name, pattern, targets) in &rules {
        assert_eq!(targets, std::slice::from_ref(&arn), "{name}");
        assert!(pattern["detail-type"].is_array(), "{name}: {pattern}");
    }

    let again = aws.expect(0, &["plan", "-f", &on, "--detailed-exitcode"]);
    assert_eq!(again.stdout.trim(), "No changes.");
    let get = aws.expect(0, &["get", "-f", &on]);
    for line in [
        "queue/karpenter-interruption",
        "event-rule/karpenter-spot-interruption",
    ] {
        assert!(get.stdout.contains(line), "{line} in\n{}", get.stdout);
    }

    // Off: the rules, then the queue, are deleted.
    let off = aws.spec(
        "kqe-off.yaml",
        &edit(
            &text,
            "    version: \"1.8.1\"\n",
            "    version: \"1.8.1\"\n    interruptionQueue: false\n",
        ),
    );
    let plan = aws.expect(0, &["plan", "-f", &off]);
    assert!(
        plan.stdout
            .contains("- delete queue/karpenter-interruption (kqe-karpenter)"),
        "{}",
        plan.stdout
    );
    let json = aws.expect(0, &["plan", "-f", &off, "--output", "json"]);
    let json: Value = serde_json::from_str(&json.stdout).unwrap();
    let queue = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["resource"] == "queue/karpenter-interruption")
        .unwrap_or_else(|| panic!("{json:#}"));
    assert_eq!(queue["kind"], "delete");
    assert_eq!(queue["physicalId"], "kqe-karpenter");
    assert_eq!(
        queue["after"],
        json!(KINDS.map(|k| format!("event-rule/karpenter-{k}")))
    );
    aws.expect(0, &["apply", "-f", &off, "--auto-approve"]);
    assert!(queue_of(&aws, "kqe-karpenter").await.is_none());
    assert!(rules_of(&aws, "kqe-karpenter-").await.is_empty());

    // On again at once: SQS still holds the name (QueueDeletedRecently), and apply waits it
    // out.
    let strict = aws.emulator().control("strict", json!({}));
    assert_eq!(strict["strict"], true);
    let apply = aws.expect(0, &["apply", "-f", &on, "--auto-approve"]);
    let all = format!("{}{}", apply.stdout, apply.stderr);
    assert!(
        all.contains("waiting for SQS to free the name of queue kqe-karpenter"),
        "{all}"
    );
    assert!(queue_of(&aws, "kqe-karpenter").await.is_some());
    assert_eq!(rules_of(&aws, "kqe-karpenter-").await.len(), 4);
    let again = aws.expect(0, &["plan", "-f", &on, "--detailed-exitcode"]);
    assert_eq!(again.stdout.trim(), "No changes.");

    // Delete leaves nothing.
    aws.expect(0, &["delete", "-f", &on, "--auto-approve"]);
    let left = aws.inventory("us-east-1").await.owned("kqe").await;
    assert!(left.is_empty(), "{left:#?}");
}

/// SQS and EventBridge through the real AWS layer and executor, answered by SDK mocks in
/// AWS's error shapes (the codes SQS sends in `x-amzn-query-error`).
mod mocks {
    use std::time::Duration;

    use aws_config::{BehaviorVersion, Region, SdkConfig};
    use aws_credential_types::Credentials;
    use aws_sdk_eventbridge::operation::put_targets::PutTargetsOutput;
    use aws_sdk_eventbridge::types::PutTargetsResultEntry;
    use aws_sdk_sqs::error::ErrorMetadata;
    use aws_sdk_sqs::operation::create_queue::{CreateQueueError, CreateQueueOutput};
    use aws_sdk_sqs::operation::delete_queue::DeleteQueueError;
    use aws_sdk_sqs::operation::get_queue_url::GetQueueUrlOutput;
    use aws_sdk_sqs::operation::list_queue_tags::ListQueueTagsOutput;
    use aws_sdk_sqs::operation::set_queue_attributes::SetQueueAttributesOutput;
    use aws_sdk_sqs::operation::tag_queue::TagQueueOutput;
    use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode, mock};
    use ekspec::cloud::aws::{AwsCloud, retry_config, retry_partition};
    use ekspec::cloud::{RuleTarget, Tags};
    use ekspec::exec::ExecError;
    use ekspec::exec::operation::{Context, run};
    use ekspec::exec::wait::Waiter;
    use ekspec::plan::Operation;
    use ekspec::resources::Observed;
    use ekspec::resources::karpenter_interruption::{QUEUE, queue_attributes};

    const URL: &str = "https://sqs.us-east-1.amazonaws.com/111122223333/demo-karpenter";

    fn interceptor(rules: &[&Rule]) -> MockResponseInterceptor {
        let mut interceptor = MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
        for rule in rules {
            interceptor = interceptor.with_rule(rule);
        }
        interceptor
    }

    /// A context whose SQS calls `sqs` answers and EventBridge calls `events`.
    fn context(sqs: &[&Rule], events: &[&Rule]) -> Context {
        let credentials = Credentials::new("AKID", "SECRET", None, None, "test");
        let sqs = aws_sdk_sqs::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(credentials.clone())
            .retry_config(retry_config())
            .retry_partition(retry_partition("sqs"))
            .http_client(aws_smithy_mocks::create_mock_http_client())
            .interceptor(interceptor(sqs))
            .build();
        let events = aws_sdk_eventbridge::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(credentials)
            .retry_config(retry_config())
            .retry_partition(retry_partition("events"))
            .http_client(aws_smithy_mocks::create_mock_http_client())
            .interceptor(interceptor(events))
            .build();
        let shared = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .build();
        let cloud = AwsCloud::new(&shared)
            .with_sqs(aws_sdk_sqs::Client::from_conf(sqs))
            .with_events(aws_sdk_eventbridge::Client::from_conf(events))
            .into_cloud();
        let waiter = Waiter {
            initial: Duration::from_millis(1),
            max: Duration::from_millis(5),
            timeout: Duration::from_secs(10),
            scale_rollouts: false,
        };
        Context::new(cloud, &Observed::default(), "demo", "us-east-1", waiter)
    }

    fn meta(code: &str, message: &str) -> ErrorMetadata {
        ErrorMetadata::builder().code(code).message(message).build()
    }

    fn owned() -> Tags {
        Tags::from([
            ("ekspec.io/cluster".to_owned(), "demo".to_owned()),
            ("ekspec.io/resource".to_owned(), QUEUE.to_owned()),
        ])
    }

    fn create() -> Operation {
        Operation::CreateQueue {
            name: "demo-karpenter".into(),
            attributes: queue_attributes("arn:aws:sqs:us-east-1:111122223333:demo-karpenter"),
            tags: owned(),
        }
    }

    #[tokio::test]
    async fn a_name_sqs_still_holds_is_waited_for() {
        let create_rule = mock!(aws_sdk_sqs::Client::create_queue)
            .sequence()
            .error(|| {
                CreateQueueError::generic(meta(
                    "AWS.SimpleQueueService.QueueDeletedRecently",
                    "You must wait 60 seconds after deleting a queue before you can create another queue with the same name.",
                ))
            })
            .times(3)
            .output(|| CreateQueueOutput::builder().queue_url(URL).build())
            .build();
        let ctx = context(&[&create_rule], &[]);
        run(&ctx, QUEUE, &create()).await.unwrap();
        assert_eq!(create_rule.num_calls(), 4);
    }

    #[tokio::test]
    async fn a_queue_of_the_name_with_other_attributes_is_updated_only_when_it_is_this_one() {
        let exists = || {
            mock!(aws_sdk_sqs::Client::create_queue).then_error(|| {
                CreateQueueError::generic(meta(
                    "QueueAlreadyExists",
                    "A queue already exists with the same name and a different value for attribute(s) MessageRetentionPeriod",
                ))
            })
        };
        let url = || {
            mock!(aws_sdk_sqs::Client::get_queue_url)
                .then_output(|| GetQueueUrlOutput::builder().queue_url(URL).build())
        };
        let set = mock!(aws_sdk_sqs::Client::set_queue_attributes)
            .then_output(|| SetQueueAttributesOutput::builder().build());
        let tag =
            mock!(aws_sdk_sqs::Client::tag_queue).then_output(|| TagQueueOutput::builder().build());

        // Made by this cluster for this resource (a run stopped after CreateQueue): updated.
        let (create_rule, url_rule) = (exists(), url());
        let tags = mock!(aws_sdk_sqs::Client::list_queue_tags).then_output(|| {
            ListQueueTagsOutput::builder()
                .tags("ekspec.io/cluster", "demo")
                .tags("ekspec.io/resource", QUEUE)
                .build()
        });
        let ctx = context(&[&create_rule, &url_rule, &tags, &set, &tag], &[]);
        run(&ctx, QUEUE, &create()).await.unwrap();
        assert_eq!((set.num_calls(), tag.num_calls()), (1, 1));

        // Someone else's: refused, untouched.
        let (create_rule, url_rule) = (exists(), url());
        let foreign = mock!(aws_sdk_sqs::Client::list_queue_tags)
            .then_output(|| ListQueueTagsOutput::builder().tags("team", "data").build());
        let ctx = context(&[&create_rule, &url_rule, &foreign, &set, &tag], &[]);
        let error = run(&ctx, QUEUE, &create()).await.unwrap_err();
        assert!(
            matches!(&error, ExecError::Failed { reason, .. } if reason.contains("ekspec did not make it")),
            "{error}"
        );
        assert_eq!((set.num_calls(), tag.num_calls()), (1, 1));
    }

    #[tokio::test]
    async fn a_queue_sqs_does_not_list_yet_is_found_by_its_name() {
        use aws_sdk_sqs::operation::get_queue_attributes::GetQueueAttributesOutput;
        use aws_sdk_sqs::operation::list_queues::ListQueuesOutput;
        use aws_sdk_sqs::types::QueueAttributeName;
        let list = mock!(aws_sdk_sqs::Client::list_queues)
            .then_output(|| ListQueuesOutput::builder().build());
        let url = mock!(aws_sdk_sqs::Client::get_queue_url)
            .then_output(|| GetQueueUrlOutput::builder().queue_url(URL).build());
        let attributes = mock!(aws_sdk_sqs::Client::get_queue_attributes).then_output(|| {
            GetQueueAttributesOutput::builder()
                .attributes(
                    QueueAttributeName::QueueArn,
                    "arn:aws:sqs:us-east-1:111122223333:demo-karpenter",
                )
                .attributes(QueueAttributeName::MessageRetentionPeriod, "300")
                .attributes(QueueAttributeName::SqsManagedSseEnabled, "true")
                .build()
        });
        let tags = mock!(aws_sdk_sqs::Client::list_queue_tags).then_output(|| {
            ListQueueTagsOutput::builder()
                .tags("ekspec.io/cluster", "demo")
                .build()
        });
        let ctx = context(&[&list, &url, &attributes, &tags], &[]);
        let queues = ctx
            .cloud
            .queues
            .list_queues("demo-karpenter", &["demo-karpenter".to_owned()])
            .await
            .unwrap();
        assert_eq!(queues.len(), 1, "{queues:?}");
        assert_eq!(queues[0].url, URL);
        assert_eq!(queues[0].message_retention_seconds, Some(300));
        assert!(queues[0].sqs_managed_sse);
        assert_eq!(queues[0].tags["ekspec.io/cluster"], "demo");
        assert_eq!(url.num_calls(), 1);
    }

    #[tokio::test]
    async fn a_queue_already_gone_is_deleted() {
        let gone = mock!(aws_sdk_sqs::Client::delete_queue).then_error(|| {
            DeleteQueueError::generic(meta(
                "AWS.SimpleQueueService.NonExistentQueue",
                "The specified queue does not exist.",
            ))
        });
        let ctx = context(&[&gone], &[]);
        let delete = Operation::DeleteQueue { url: URL.into() };
        run(&ctx, QUEUE, &delete).await.unwrap();
        assert_eq!(gone.num_calls(), 1);
    }

    #[tokio::test]
    async fn targets_eventbridge_could_not_add_fail_the_change() {
        let partial = mock!(aws_sdk_eventbridge::Client::put_targets).then_output(|| {
            PutTargetsOutput::builder()
                .failed_entry_count(1)
                .failed_entries(
                    PutTargetsResultEntry::builder()
                        .target_id("KarpenterInterruptionQueueTarget")
                        .error_code("ConcurrentModificationException")
                        .error_message("Rule is being modified")
                        .build(),
                )
                .build()
        });
        let ctx = context(&[], &[&partial]);
        let put = Operation::PutTargets {
            rule: "demo-karpenter-rebalance".into(),
            targets: vec![RuleTarget {
                id: "KarpenterInterruptionQueueTarget".into(),
                arn: "arn:aws:sqs:us-east-1:111122223333:demo-karpenter".into(),
            }],
        };
        let error = run(&ctx, "event-rule/karpenter-rebalance", &put)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("PutTargets event rule demo-karpenter-rebalance")
                && error.contains("ConcurrentModificationException: Rule is being modified"),
            "{error}"
        );
    }
}

#[tokio::test]
async fn rule_names_longer_than_eventbridge_allows_are_impossible_not_attempted() {
    let aws = MemoryCloud::new();
    let long = "a".repeat(40);
    // Validation refuses the name (spec::validate); a plan made without it still does not
    // call AWS with a name EventBridge refuses.
    let report = ekspec::spec::parse_str(
        "t.yaml",
        &SPEC.replace("name: kq,", &format!("name: {long},")),
    );
    assert!(
        report
            .diagnostics
            .iter()
            .any(|d| d.message.contains("EventBridge allows 64")),
        "{:?}",
        report.diagnostics
    );
    let mut file = spec(SPEC);
    file.metadata.name = long;
    let plan = plan_for(&aws, &file).await;
    let rule = plan
        .changes
        .iter()
        .find(|c| c.resource == "event-rule/karpenter-instance-state-change")
        .unwrap();
    assert_eq!(rule.kind, ChangeKind::Impossible);
    assert!(
        rule.reason
            .as_deref()
            .is_some_and(|r| r.contains("has 72 characters and AWS allows 64")),
        "{rule:?}"
    );
    // The queue's name (50 characters) fits SQS's 80.
    let queue = plan
        .changes
        .iter()
        .find(|c| c.resource == "queue/karpenter-interruption")
        .unwrap();
    assert_eq!(queue.kind, ChangeKind::Create);
}

/// The strict-moto rules of tests/moto/strict_events.py, in AWS's error shapes.
#[tokio::test(flavor = "multi_thread")]
async fn strict_moto_holds_deleted_queue_names_checks_rule_names_and_keeps_rule_tags() {
    let aws = Emulated::start();
    let inventory = aws.inventory("us-east-1").await;
    let sqs = &inventory.sqs;
    let url = sqs
        .create_queue()
        .queue_name("held")
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_owned();
    sqs.delete_queue().queue_url(&url).send().await.unwrap();
    let error = sqs
        .create_queue()
        .queue_name("held")
        .send()
        .await
        .unwrap_err();
    let error = error.into_service_error();
    assert!(error.is_queue_deleted_recently(), "{error:?}");
    assert_eq!(
        aws_sdk_sqs::error::ProvideErrorMetadata::message(&error),
        Some(
            "You must wait 60 seconds after deleting a queue before you can create another queue with the same name."
        )
    );
    aws.emulator().control("queue-reuse", json!({"seconds": 0}));
    sqs.create_queue().queue_name("held").send().await.unwrap();

    let events = &inventory.events;
    let long = "r".repeat(65);
    let error = events
        .put_rule()
        .name(&long)
        .event_pattern(r#"{"source": ["aws.ec2"]}"#)
        .send()
        .await
        .unwrap_err();
    let error = error.into_service_error();
    assert_eq!(
        aws_sdk_eventbridge::error::ProvideErrorMetadata::code(&error),
        Some("ValidationException")
    );
    let tag = |key: &str| {
        aws_sdk_eventbridge::types::Tag::builder()
            .key(key)
            .value("v")
            .build()
            .unwrap()
    };
    let arn = events
        .put_rule()
        .name("tagged")
        .event_pattern(r#"{"source": ["aws.ec2"]}"#)
        .tags(tag("first"))
        .send()
        .await
        .unwrap()
        .rule_arn()
        .unwrap()
        .to_owned();
    events
        .put_rule()
        .name("tagged")
        .event_pattern(r#"{"source": ["aws.health"]}"#)
        .tags(tag("second"))
        .send()
        .await
        .unwrap();
    let tags = events
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    let keys: Vec<&str> = tags.tags().iter().map(|t| t.key()).collect();
    assert_eq!(
        keys,
        ["first"],
        "PutRule on an existing rule ignores its tags"
    );
}
