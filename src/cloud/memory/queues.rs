//! `Queues` in memory: SQS.

use async_trait::async_trait;

use super::*;

const QUEUE_URL_PREFIX: &str = "https://sqs.us-east-1.amazonaws.com/111122223333/";

fn queue_name(url: &str) -> &str {
    url.strip_prefix(QUEUE_URL_PREFIX).unwrap_or(url)
}

fn queue_gone(operation: &'static str, url: &str) -> CloudError {
    CloudError {
        operation,
        resource: format!("queue {}", queue_name(url)),
        code: Some("AWS.SimpleQueueService.NonExistentQueue".to_owned()),
        message: "The specified queue does not exist.".to_owned(),
        kind: ErrorKind::NotFound,
    }
}

#[async_trait]
impl Queues for MemoryCloud {
    async fn list_queues(
        &self,
        prefix: &str,
        _known: &[String],
    ) -> CloudResult<Vec<ObservedQueue>> {
        tokio::task::yield_now().await;
        self.gate("ListQueues")?;
        Ok(self
            .lock()
            .queues
            .values()
            .filter(|q| q.name.starts_with(prefix))
            .cloned()
            .collect())
    }

    async fn create_queue(&self, r: &QueueRequest) -> CloudResult<String> {
        tokio::task::yield_now().await;
        self.gate("CreateQueue")?;
        let mut s = self.lock();
        let url = format!("{QUEUE_URL_PREFIX}{}", r.name);
        if let Some(existing) = s.queues.get(&r.name) {
            // As SQS: the same attributes answer the existing queue's URL, others fail.
            let same = existing.policy.as_ref() == Some(&r.attributes.policy)
                && existing.message_retention_seconds
                    == Some(r.attributes.message_retention_seconds)
                && existing.sqs_managed_sse == r.attributes.sqs_managed_sse;
            return if same {
                Ok(url)
            } else {
                Err(CloudError {
                    operation: "CreateQueue",
                    resource: format!("queue {}", r.name),
                    code: Some("QueueAlreadyExists".to_owned()),
                    message: "A queue already exists with the same name and a different value for attribute(s) Policy".to_owned(),
                    kind: ErrorKind::AlreadyExists,
                })
            };
        }
        s.queues.insert(
            r.name.clone(),
            ObservedQueue {
                name: r.name.clone(),
                url: url.clone(),
                arn: format!("arn:aws:sqs:us-east-1:{ACCOUNT}:{}", r.name),
                policy: Some(r.attributes.policy.clone()),
                message_retention_seconds: Some(r.attributes.message_retention_seconds),
                sqs_managed_sse: r.attributes.sqs_managed_sse,
                tags: r.tags.clone(),
            },
        );
        s.log(format!("CreateQueue {}", r.name));
        Ok(url)
    }

    async fn queue_url(&self, name: &str) -> CloudResult<Option<String>> {
        tokio::task::yield_now().await;
        self.gate("GetQueueUrl")?;
        Ok(self.lock().queues.get(name).map(|q| q.url.clone()))
    }

    async fn queue_tags(&self, url: &str) -> CloudResult<Tags> {
        tokio::task::yield_now().await;
        self.gate("ListQueueTags")?;
        self.lock()
            .queues
            .get(queue_name(url))
            .map(|q| q.tags.clone())
            .ok_or_else(|| queue_gone("ListQueueTags", url))
    }

    async fn set_queue_attributes(
        &self,
        url: &str,
        attributes: &QueueAttributes,
    ) -> CloudResult<()> {
        tokio::task::yield_now().await;
        self.gate("SetQueueAttributes")?;
        let mut s = self.lock();
        let queue = s
            .queues
            .get_mut(queue_name(url))
            .ok_or_else(|| queue_gone("SetQueueAttributes", url))?;
        queue.policy = Some(attributes.policy.clone());
        queue.message_retention_seconds = Some(attributes.message_retention_seconds);
        queue.sqs_managed_sse = attributes.sqs_managed_sse;
        s.log(format!("SetQueueAttributes {}", queue_name(url)));
        Ok(())
    }

    async fn tag_queue(&self, url: &str, tags: &Tags) -> CloudResult<()> {
        tokio::task::yield_now().await;
        self.gate("TagQueue")?;
        let mut s = self.lock();
        let queue = s
            .queues
            .get_mut(queue_name(url))
            .ok_or_else(|| queue_gone("TagQueue", url))?;
        queue.tags.extend(tags.clone());
        s.log(format!("TagQueue {}", queue_name(url)));
        Ok(())
    }

    async fn delete_queue(&self, url: &str) -> CloudResult<()> {
        tokio::task::yield_now().await;
        self.gate("DeleteQueue")?;
        let mut s = self.lock();
        s.queues.remove(queue_name(url));
        s.log(format!("DeleteQueue {}", queue_name(url)));
        Ok(())
    }
}
