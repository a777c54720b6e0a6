//! Karpenter's interruption queue: an SQS queue that EventBridge rules feed with the events
//! that announce a node's end (spot interruption warnings, rebalance recommendations, instance
//! state changes, AWS Health scheduled changes, and since Karpenter 1.10 capacity reservation
//! interruption warnings), made as Karpenter's getting-started CloudFormation template makes
//! them (`KarpenterInterruptionQueue`, `KarpenterInterruptionQueuePolicy` and the `*Rule`
//! resources of `website/content/en/<version>/getting-started/getting-started-with-karpenter/
//! cloudformation.yaml` in aws/karpenter-provider-aws).
//!
//! The queue is `queue/karpenter-interruption`, each rule `event-rule/karpenter-<kind>`. The
//! rules go before the queue, and a rule's targets before the rule: EventBridge refuses to
//! delete a rule that has targets.

use serde_json::{Value, json};

use crate::cloud::{ObservedEventRule, ObservedQueue, QueueAttributes, RuleTarget, Tags};
pub use crate::naming::karpenter_queue as queue_name;
use crate::naming::{self, KARPENTER_EVENT_KINDS};
use crate::plan::{Change, ChangeKind, FieldChange, Operation};
use crate::spec::validate::karpenter_version;

use super::owned_tags;
use super::planner::Planning;

/// The queue's logical id.
pub const QUEUE: &str = "queue/karpenter-interruption";

/// How long the queue keeps a message: 5 minutes, as Karpenter's template sets it (an
/// interruption notice older than that is of no use).
pub const MESSAGE_RETENTION_SECONDS: u32 = 300;

/// The id of the queue among each rule's targets, as Karpenter's template names it.
pub const TARGET_ID: &str = "KarpenterInterruptionQueueTarget";

/// A rule's logical id.
pub fn rule_id(kind: &str) -> String {
    format!("event-rule/karpenter-{kind}")
}

/// The event source and detail type a rule of `kind` matches, and the first Karpenter version
/// (major, minor) whose template has it.
fn event_of(kind: &str) -> Option<(&'static str, &'static str, (u32, u32))> {
    Some(match kind {
        "spot-interruption" => ("aws.ec2", "EC2 Spot Instance Interruption Warning", (1, 0)),
        "rebalance" => ("aws.ec2", "EC2 Instance Rebalance Recommendation", (1, 0)),
        "instance-state-change" => ("aws.ec2", "EC2 Instance State-change Notification", (1, 0)),
        "scheduled-change" => ("aws.health", "AWS Health Event", (1, 0)),
        // CapacityReservationInterruptionRule, added to the template in 1.10.0
        // (aws/karpenter-provider-aws#9019).
        "capacity-reservation" => (
            "aws.ec2",
            "EC2 Capacity Reservation Instance Interruption Warning",
            (1, 10),
        ),
        _ => return None,
    })
}

/// The rule kinds Karpenter `version` documents, with their event patterns.
pub fn rules_for(version: &str) -> Vec<(&'static str, Value)> {
    let (major, minor, _) = karpenter_version(version).unwrap_or((1, 0, 0));
    KARPENTER_EVENT_KINDS
        .iter()
        .filter_map(|kind| {
            let (source, detail_type, since) = event_of(kind)?;
            ((major, minor) >= since).then(|| {
                (
                    *kind,
                    json!({"source": [source], "detail-type": [detail_type]}),
                )
            })
        })
        .collect()
}

/// The queue's ARN.
pub fn queue_arn(partition: &str, region: &str, account: &str, name: &str) -> String {
    format!("arn:{partition}:sqs:{region}:{account}:{name}")
}

/// The queue policy of Karpenter's template: EventBridge (and SQS) may send to the queue, and
/// nothing may use it without TLS.
pub fn queue_policy(queue_arn: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Id": "EC2InterruptionPolicy",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ["events.amazonaws.com", "sqs.amazonaws.com"]},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
            },
            {
                "Sid": "DenyHTTP",
                "Effect": "Deny",
                "Action": "sqs:*",
                "Resource": queue_arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                "Principal": "*",
            },
        ],
    })
}

/// The queue's attributes: its policy, a retention of 5 minutes and SQS-managed encryption.
pub fn queue_attributes(queue_arn: &str) -> QueueAttributes {
    QueueAttributes {
        policy: queue_policy(queue_arn),
        message_retention_seconds: MESSAGE_RETENTION_SECONDS,
        sqs_managed_sse: true,
    }
}

/// Whether the spec wants the interruption queue.
fn wanted(p: &Planning<'_>) -> Option<String> {
    let file = p.file?;
    let karpenter = file.spec.karpenter.as_ref()?;
    karpenter
        .interruption_queue
        .then(|| karpenter.version.clone())
}

/// A name longer than SQS or EventBridge allow: the plan cannot make it.
fn too_long(name: &str, limit: usize, what: &str) -> Option<String> {
    (name.len() > limit).then(|| {
        format!(
            "the {what} name `{name}` has {} characters and AWS allows {limit}: use a shorter cluster name, or set spec.karpenter.interruptionQueue to false",
            name.len()
        )
    })
}

/// Plans the queue and its rules when the spec has `karpenter` with `interruptionQueue`.
pub fn plan(p: &mut Planning<'_>) {
    let Some(version) = wanted(p) else {
        return;
    };
    let Some(file) = p.file else {
        return;
    };
    let cluster = file.metadata.name.clone();
    let name = queue_name(&cluster);
    p.desire(QUEUE);
    let live = p
        .observed
        .queues
        .iter()
        .find(|q| p.owned(&q.tags) == Some(QUEUE))
        .cloned();
    let arn = live.as_ref().map_or_else(
        || {
            queue_arn(
                p.observed.partition(),
                &file.metadata.region,
                &p.observed.account,
                &name,
            )
        },
        |q| q.arn.clone(),
    );
    let attributes = queue_attributes(&arn);
    let tags = owned_tags(file, QUEUE, &Tags::new());
    let creating_queue = live.is_none();
    match &live {
        None => {
            let blocked = too_long(&name, naming::MAX_QUEUE_NAME, "SQS queue").or_else(|| {
                p.observed.queues.iter().any(|q| q.name == name).then(|| {
                    format!(
                        "an SQS queue named `{name}` exists and ekspec did not make it: delete or rename it, or set spec.karpenter.interruptionQueue to false and give Karpenter that queue yourself"
                    )
                })
            });
            p.push(
                match blocked {
                    Some(reason) => {
                        Change::new(QUEUE, ChangeKind::Impossible, Vec::new()).reason(reason)
                    }
                    None => Change::new(
                        QUEUE,
                        ChangeKind::Create,
                        vec![Operation::CreateQueue {
                            name: name.clone(),
                            attributes: attributes.clone(),
                            tags,
                        }],
                    ),
                }
                .id(&name),
            );
        }
        Some(queue) => update_queue(p, queue, &attributes, &tags),
    }
    let target = RuleTarget {
        id: TARGET_ID.to_owned(),
        arn,
    };
    for (kind, pattern) in rules_for(&version) {
        let resource = rule_id(kind);
        p.desire(&resource);
        let rule_name = naming::karpenter_event_rule(&cluster, kind);
        let tags = owned_tags(file, &resource, &Tags::new());
        let live = p
            .observed
            .event_rules
            .iter()
            .find(|r| p.owned(&r.tags) == Some(resource.as_str()))
            .cloned();
        match live {
            Some(rule) => update_rule(p, &resource, &rule, &pattern, &target, &tags),
            None => {
                let blocked = too_long(&rule_name, naming::MAX_EVENT_RULE_NAME, "EventBridge rule")
                    .or_else(|| {
                        p.observed.event_rules.iter().any(|r| r.name == rule_name).then(|| {
                            format!(
                                "an EventBridge rule named `{rule_name}` exists and ekspec did not make it: delete or rename it, or set spec.karpenter.interruptionQueue to false"
                            )
                        })
                    });
                let change = match blocked {
                    Some(reason) => {
                        Change::new(&resource, ChangeKind::Impossible, Vec::new()).reason(reason)
                    }
                    None => Change::new(
                        &resource,
                        ChangeKind::Create,
                        vec![
                            Operation::PutRule {
                                name: rule_name.clone(),
                                pattern,
                                description: description(&cluster, kind),
                                tags,
                            },
                            Operation::PutTargets {
                                rule: rule_name.clone(),
                                targets: vec![target.clone()],
                            },
                        ],
                    ),
                };
                let change = change.id(&rule_name);
                p.push(if creating_queue {
                    change.after([QUEUE])
                } else {
                    change
                });
            }
        }
    }
}

fn description(cluster: &str, kind: &str) -> String {
    let detail_type = event_of(kind).map_or(kind, |(_, detail_type, _)| detail_type);
    format!("{detail_type} events to Karpenter's interruption queue of cluster {cluster}")
}

/// The policy as plan text.
fn policy_text(policy: Option<&Value>) -> Option<String> {
    policy.map(Value::to_string)
}

fn update_queue(p: &mut Planning<'_>, live: &ObservedQueue, want: &QueueAttributes, tags: &Tags) {
    let mut ops = Vec::new();
    let mut fields = Vec::new();
    if live.policy.as_ref() != Some(&want.policy) {
        fields.push(FieldChange {
            field: "policy".to_owned(),
            old: policy_text(live.policy.as_ref()),
            new: policy_text(Some(&want.policy)),
        });
    }
    if live.message_retention_seconds != Some(want.message_retention_seconds) {
        fields.push(FieldChange {
            field: "messageRetentionPeriod".to_owned(),
            old: live.message_retention_seconds.map(|s| s.to_string()),
            new: Some(want.message_retention_seconds.to_string()),
        });
    }
    if live.sqs_managed_sse != want.sqs_managed_sse {
        fields.push(FieldChange::new(
            "sqsManagedSseEnabled",
            live.sqs_managed_sse,
            want.sqs_managed_sse,
        ));
    }
    if !fields.is_empty() {
        ops.push(Operation::SetQueueAttributes {
            url: live.url.clone(),
            attributes: want.clone(),
        });
    }
    let (missing, tag_fields) = super::tag_drift(&live.tags, tags);
    if !missing.is_empty() {
        ops.push(Operation::TagQueue {
            url: live.url.clone(),
            tags: missing,
        });
        fields.extend(tag_fields);
    }
    if !ops.is_empty() {
        p.push(
            Change::new(QUEUE, ChangeKind::Update, ops)
                .id(&live.name)
                .fields(fields),
        );
    }
}

fn update_rule(
    p: &mut Planning<'_>,
    resource: &str,
    live: &ObservedEventRule,
    pattern: &Value,
    target: &RuleTarget,
    tags: &Tags,
) {
    let mut ops = Vec::new();
    let mut fields = Vec::new();
    if live.event_pattern.as_ref() != Some(pattern) || live.state != "ENABLED" {
        if live.event_pattern.as_ref() != Some(pattern) {
            fields.push(FieldChange {
                field: "eventPattern".to_owned(),
                old: policy_text(live.event_pattern.as_ref()),
                new: Some(pattern.to_string()),
            });
        }
        if live.state != "ENABLED" {
            fields.push(FieldChange::new("state", &live.state, "ENABLED"));
        }
        let cluster = p.cluster_name().unwrap_or_default().to_owned();
        let kind = resource.trim_start_matches("event-rule/karpenter-");
        ops.push(Operation::PutRule {
            name: live.name.clone(),
            pattern: pattern.clone(),
            description: description(&cluster, kind),
            tags: Tags::new(),
        });
    }
    if live.targets != [target.clone()] {
        fields.push(FieldChange {
            field: "targets".to_owned(),
            old: Some(targets_text(&live.targets)),
            new: Some(targets_text(std::slice::from_ref(target))),
        });
        if !live.targets.contains(target) {
            ops.push(Operation::PutTargets {
                rule: live.name.clone(),
                targets: vec![target.clone()],
            });
        }
        let extra: Vec<String> = live
            .targets
            .iter()
            .filter(|t| t.id != target.id)
            .map(|t| t.id.clone())
            .collect();
        if !extra.is_empty() {
            ops.push(Operation::RemoveTargets {
                rule: live.name.clone(),
                ids: extra,
            });
        }
    }
    let (missing, tag_fields) = super::tag_drift(&live.tags, tags);
    if !missing.is_empty() {
        ops.push(Operation::TagRule {
            arn: live.arn.clone(),
            tags: missing,
        });
        fields.extend(tag_fields);
    }
    if !ops.is_empty() {
        p.push(
            Change::new(resource, ChangeKind::Update, ops)
                .id(&live.name)
                .fields(fields),
        );
    }
}

fn targets_text(targets: &[RuleTarget]) -> String {
    let list: Vec<String> = targets
        .iter()
        .map(|t| format!("{}={}", t.id, t.arn))
        .collect();
    if list.is_empty() {
        "none".to_owned()
    } else {
        list.join(",")
    }
}

/// Deletes of the owned queue and rules the spec no longer wants (all of them when the
/// cluster is deleted): a rule's targets go first, in the same change, so a run that stops
/// between the two finds a rule without targets and deletes it.
pub fn deletes(p: &Planning<'_>) -> Vec<Change> {
    let mut deletes = Vec::new();
    for rule in &p.observed.event_rules {
        let Some(resource) = p.owned(&rule.tags).filter(|r| !p.is_desired(r)) else {
            continue;
        };
        let mut ops = Vec::new();
        if !rule.targets.is_empty() {
            ops.push(Operation::RemoveTargets {
                rule: rule.name.clone(),
                ids: rule.targets.iter().map(|t| t.id.clone()).collect(),
            });
        }
        ops.push(Operation::DeleteRule {
            name: rule.name.clone(),
        });
        deletes.push(Change::new(resource, ChangeKind::Delete, ops).id(&rule.name));
    }
    for queue in &p.observed.queues {
        let Some(resource) = p.owned(&queue.tags).filter(|r| !p.is_desired(r)) else {
            continue;
        };
        deletes.push(
            Change::new(
                resource,
                ChangeKind::Delete,
                vec![Operation::DeleteQueue {
                    url: queue.url.clone(),
                }],
            )
            .id(&queue.name),
        );
    }
    deletes
}
