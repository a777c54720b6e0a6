//! SQS queue and EventBridge rule operations (Karpenter's interruption queue).

use crate::cloud::{Cloud, ErrorKind, QueueRequest, Tags};
use crate::exec::ExecError;
use crate::exec::wait::{Poll, RETRY_NAME_HELD};
use crate::naming::{CLUSTER_TAG, RESOURCE_TAG};
use crate::plan::Operation;

use super::Context;

/// Runs an SQS or EventBridge `operation` for `resource`; another area's is an internal
/// error.
pub(super) async fn run(
    ctx: &Context,
    resource: &str,
    operation: &Operation,
) -> Result<(), ExecError> {
    let cloud = &ctx.cloud;
    match operation {
        Operation::CreateQueue {
            name,
            attributes,
            tags,
        } => {
            let request = QueueRequest {
                name: name.clone(),
                attributes: attributes.clone(),
                tags: tags.clone(),
            };
            let url = create_queue(ctx, &request).await?;
            ctx.set(resource, "url", url);
        }
        Operation::SetQueueAttributes { url, attributes } => {
            cloud.queues.set_queue_attributes(url, attributes).await?;
        }
        Operation::TagQueue { url, tags } => cloud.queues.tag_queue(url, tags).await?,
        Operation::DeleteQueue { url } => cloud.queues.delete_queue(url).await?,
        Operation::PutRule {
            name,
            pattern,
            description,
            tags,
        } => {
            let request = crate::cloud::EventRuleRequest {
                name: name.clone(),
                event_pattern: pattern.clone(),
                description: description.clone(),
                tags: tags.clone(),
            };
            let arn = cloud.events.put_rule(&request).await?;
            ctx.set(resource, "arn", arn);
        }
        Operation::PutTargets { rule, targets } => {
            cloud.events.put_targets(rule, targets).await?;
        }
        Operation::RemoveTargets { rule, ids } => cloud.events.remove_targets(rule, ids).await?,
        Operation::TagRule { arn, tags } => cloud.events.tag_rule(arn, tags).await?,
        Operation::DeleteRule { name } => cloud.events.delete_rule(name).await?,
        _ => {
            return Err(ExecError::Internal(format!(
                "{resource}: not an SQS or EventBridge operation: {operation:?}"
            )));
        }
    }
    Ok(())
}

/// Creates the queue; returns its URL.
///
/// - SQS holds the name of a deleted queue for 60 seconds ("You must wait 60 seconds after
///   deleting a queue before you can create another queue with the same name",
///   QueueDeletedRecently): the create waits that out, so turning the queue off and on again
///   (or deleting and re-creating a cluster) within a minute works.
/// - A queue of that name with other attributes (QueueAlreadyExists) is this one when it
///   carries this resource's ownership tags (a run that stopped after CreateQueue, found
///   again before SQS lists it): its attributes and tags are set. Anyone else's is refused.
async fn create_queue(ctx: &Context, request: &QueueRequest) -> Result<String, ExecError> {
    let cloud = &ctx.cloud;
    let made = std::sync::Mutex::new(None);
    let what = format!(
        "SQS to free the name of queue {} (a queue of that name was deleted less than a minute ago)",
        request.name
    );
    ctx.waiter
        .wait(&what, || async {
            match cloud.queues.create_queue(request).await {
                Ok(url) => {
                    if let Ok(mut made) = made.lock() {
                        *made = Some(url);
                    }
                    Ok(Poll::Done)
                }
                Err(error) if error.kind == ErrorKind::InUse => Ok(Poll::Pending(format!(
                    "{}{}",
                    RETRY_NAME_HELD, error.message
                ))),
                Err(error) if error.kind == ErrorKind::AlreadyExists => {
                    let url = take_over_own_queue(cloud, request).await?;
                    if let Ok(mut made) = made.lock() {
                        *made = Some(url);
                    }
                    Ok(Poll::Done)
                }
                Err(error) => Err(error.into()),
            }
        })
        .await?;
    made.into_inner()
        .ok()
        .flatten()
        .ok_or_else(|| ExecError::Internal(format!("queue {}: no URL", request.name)))
}

/// Whether `live` carries the ownership tags `wanted` gives the queue.
fn same_owner(live: &Tags, wanted: &Tags) -> bool {
    [CLUSTER_TAG, RESOURCE_TAG]
        .iter()
        .all(|key| live.get(*key).is_some() && live.get(*key) == wanted.get(*key))
}

/// Brings an existing queue of the request's name up to date if ekspec made it for this
/// resource; returns its URL.
async fn take_over_own_queue(cloud: &Cloud, request: &QueueRequest) -> Result<String, ExecError> {
    let refused = || {
        ExecError::Failed {
            what: format!("queue {}", request.name),
            reason: "a queue of that name exists with other attributes and ekspec did not make it: delete or rename it, or set spec.karpenter.interruptionQueue to false".to_owned(),
        }
    };
    let Some(url) = cloud.queues.queue_url(&request.name).await? else {
        return Err(refused());
    };
    let live = cloud.queues.queue_tags(&url).await?;
    if !same_owner(&live, &request.tags) {
        return Err(refused());
    }
    cloud
        .queues
        .set_queue_attributes(&url, &request.attributes)
        .await?;
    cloud.queues.tag_queue(&url, &request.tags).await?;
    Ok(url)
}
