//! `Queues` over SQS.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use aws_sdk_sqs::types::QueueAttributeName;
use futures::{StreamExt, TryStreamExt, stream};

use super::{AwsCloud, AwsContext, OrGone, READ_CONCURRENCY, required};
use crate::cloud::{CloudResult, ObservedQueue, QueueAttributes, QueueRequest, Queues, Tags};

/// The queue name at the end of a queue URL (`https://sqs.<region>.amazonaws.com/<account>/<name>`).
fn name_of(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or(url)
}

/// The attributes ekspec sets, as SQS spells them.
fn attribute_map(
    attributes: &QueueAttributes,
    operation: &'static str,
    queue: &str,
) -> CloudResult<BTreeMap<QueueAttributeName, String>> {
    let policy =
        serde_json::to_string(&attributes.policy).map_err(|error| crate::cloud::CloudError {
            operation,
            resource: format!("queue {queue}"),
            code: None,
            message: format!("the queue policy cannot be written as JSON: {error}"),
            kind: crate::cloud::ErrorKind::Invalid,
        })?;
    Ok(BTreeMap::from([
        (QueueAttributeName::Policy, policy),
        (
            QueueAttributeName::MessageRetentionPeriod,
            attributes.message_retention_seconds.to_string(),
        ),
        (
            QueueAttributeName::SqsManagedSseEnabled,
            attributes.sqs_managed_sse.to_string(),
        ),
    ]))
}

impl AwsCloud {
    /// One queue's tags and attributes; `None` when it is gone.
    async fn describe_queue(&self, url: &str) -> CloudResult<Option<ObservedQueue>> {
        let name = name_of(url);
        let about = format!("queue {name}");
        let Some(attributes) = self
            .sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::QueueArn)
            .attribute_names(QueueAttributeName::Policy)
            .attribute_names(QueueAttributeName::MessageRetentionPeriod)
            .attribute_names(QueueAttributeName::SqsManagedSseEnabled)
            .send()
            .await
            .context("GetQueueAttributes", &about)
            .or_gone()?
        else {
            return Ok(None);
        };
        let Some(tags) = self.queue_tags(url).await.or_gone()? else {
            return Ok(None);
        };
        let attributes = attributes.attributes().cloned().unwrap_or_default();
        let arn = required(
            attributes.get(&QueueAttributeName::QueueArn).cloned(),
            "QueueArn",
            "GetQueueAttributes",
            &about,
        )?;
        Ok(Some(ObservedQueue {
            name: name.to_owned(),
            url: url.to_owned(),
            arn,
            // An unreadable policy is kept as text: it differs from the desired one, so the
            // plan sets it again.
            policy: attributes
                .get(&QueueAttributeName::Policy)
                .filter(|p| !p.is_empty())
                .map(|p| {
                    serde_json::from_str(p).unwrap_or_else(|_| serde_json::Value::String(p.clone()))
                }),
            message_retention_seconds: attributes
                .get(&QueueAttributeName::MessageRetentionPeriod)
                .and_then(|s| s.parse().ok()),
            sqs_managed_sse: attributes
                .get(&QueueAttributeName::SqsManagedSseEnabled)
                .is_some_and(|s| s.eq_ignore_ascii_case("true")),
            tags,
        }))
    }
}

#[async_trait]
impl Queues for AwsCloud {
    async fn list_queues(&self, prefix: &str, known: &[String]) -> CloudResult<Vec<ObservedQueue>> {
        // MaxResults turns pagination on; without it SQS stops at 1,000 queues.
        let listed: Vec<String> = all_items!(
            self.sqs
                .list_queues()
                .queue_name_prefix(prefix)
                .max_results(1000),
            "ListQueues",
            format!("queues named {prefix}*")
        )?;
        let mut urls: BTreeSet<String> = listed.into_iter().collect();
        for name in known {
            if !urls.iter().any(|url| name_of(url) == name)
                && let Some(url) = self.queue_url(name).await?
            {
                urls.insert(url);
            }
        }
        let described: Vec<Option<ObservedQueue>> = stream::iter(urls)
            .map(|url| async move { self.describe_queue(&url).await })
            .buffered(READ_CONCURRENCY)
            .try_collect()
            .await?;
        Ok(described.into_iter().flatten().collect())
    }

    async fn create_queue(&self, request: &QueueRequest) -> CloudResult<String> {
        let about = format!("queue {}", request.name);
        let attributes = attribute_map(&request.attributes, "CreateQueue", &request.name)?;
        let output = self
            .sqs
            .create_queue()
            .queue_name(&request.name)
            .set_attributes(Some(attributes.into_iter().collect()))
            .set_tags(Some(request.tags.clone().into_iter().collect()))
            .send()
            .await
            .context("CreateQueue", &about)?;
        required(
            output.queue_url().map(str::to_owned),
            "QueueUrl",
            "CreateQueue",
            &about,
        )
    }

    async fn queue_url(&self, name: &str) -> CloudResult<Option<String>> {
        let output = self
            .sqs
            .get_queue_url()
            .queue_name(name)
            .send()
            .await
            .context("GetQueueUrl", format!("queue {name}"))
            .or_gone()?;
        Ok(output.and_then(|o| o.queue_url().map(str::to_owned)))
    }

    async fn queue_tags(&self, url: &str) -> CloudResult<Tags> {
        let output = self
            .sqs
            .list_queue_tags()
            .queue_url(url)
            .send()
            .await
            .context("ListQueueTags", format!("queue {}", name_of(url)))?;
        Ok(output
            .tags()
            .map(|tags| tags.clone().into_iter().collect())
            .unwrap_or_default())
    }

    async fn set_queue_attributes(
        &self,
        url: &str,
        attributes: &QueueAttributes,
    ) -> CloudResult<()> {
        let attributes = attribute_map(attributes, "SetQueueAttributes", name_of(url))?;
        self.sqs
            .set_queue_attributes()
            .queue_url(url)
            .set_attributes(Some(attributes.into_iter().collect()))
            .send()
            .await
            .context("SetQueueAttributes", format!("queue {}", name_of(url)))?;
        Ok(())
    }

    async fn tag_queue(&self, url: &str, tags: &Tags) -> CloudResult<()> {
        self.sqs
            .tag_queue()
            .queue_url(url)
            .set_tags(Some(tags.clone().into_iter().collect()))
            .send()
            .await
            .context("TagQueue", format!("queue {}", name_of(url)))?;
        Ok(())
    }

    async fn delete_queue(&self, url: &str) -> CloudResult<()> {
        self.sqs
            .delete_queue()
            .queue_url(url)
            .send()
            .await
            .context("DeleteQueue", format!("queue {}", name_of(url)))
            .or_gone()?;
        Ok(())
    }
}
