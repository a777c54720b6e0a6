//! `EventRules` over EventBridge (the default event bus).

use async_trait::async_trait;
use aws_sdk_eventbridge::types::{RuleState, Tag, Target};
use futures::{StreamExt, TryStreamExt, stream};

use super::{AwsCloud, AwsContext, OrGone, READ_CONCURRENCY, string};
use crate::cloud::{
    CloudError, CloudResult, ErrorKind, EventRuleRequest, EventRules, ObservedEventRule,
    RuleTarget, Tags,
};

/// PutTargets and RemoveTargets answer 200 and list the targets they could not change:
/// those are failures too.
fn failed_entries<'e>(
    operation: &'static str,
    rule: &str,
    entries: impl Iterator<Item = (Option<&'e str>, Option<&'e str>, Option<&'e str>)>,
) -> CloudResult<()> {
    let failures: Vec<String> = entries
        .map(|(id, code, message)| {
            format!(
                "target {}: {}: {}",
                id.unwrap_or("?"),
                code.unwrap_or("?"),
                message.unwrap_or("no reason given")
            )
        })
        .collect();
    if failures.is_empty() {
        return Ok(());
    }
    Err(CloudError {
        operation,
        resource: format!("event rule {rule}"),
        code: None,
        message: failures.join("; "),
        kind: ErrorKind::Other,
    })
}

impl AwsCloud {
    /// A rule's tags and targets; `None` when it is gone.
    async fn describe_rule(
        &self,
        rule: aws_sdk_eventbridge::types::Rule,
    ) -> CloudResult<Option<ObservedEventRule>> {
        let name = string(rule.name());
        let arn = string(rule.arn());
        let about = format!("event rule {name}");
        let Some(tags) = self
            .events
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .context("ListTagsForResource", &about)
            .or_gone()?
        else {
            return Ok(None);
        };
        let mut targets = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let Some(page) = self
                .events
                .list_targets_by_rule()
                .rule(&name)
                .set_next_token(token.take())
                .send()
                .await
                .context("ListTargetsByRule", &about)
                .or_gone()?
            else {
                return Ok(None);
            };
            targets.extend(page.targets().iter().map(|t| RuleTarget {
                id: t.id().to_owned(),
                arn: t.arn().to_owned(),
            }));
            match page.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_owned()),
                _ => break,
            }
        }
        targets.sort();
        Ok(Some(ObservedEventRule {
            event_pattern: rule.event_pattern().map(|p| {
                serde_json::from_str(p).unwrap_or_else(|_| serde_json::Value::String(p.to_owned()))
            }),
            state: rule
                .state()
                .map(RuleState::as_str)
                .unwrap_or_default()
                .to_owned(),
            targets,
            tags: tags
                .tags()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect(),
            name,
            arn,
        }))
    }
}

#[async_trait]
impl EventRules for AwsCloud {
    async fn list_rules(&self, prefix: &str) -> CloudResult<Vec<ObservedEventRule>> {
        let about = format!("event rules named {prefix}*");
        let mut rules = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .events
                .list_rules()
                .name_prefix(prefix)
                .set_next_token(token.take())
                .send()
                .await
                .context("ListRules", &about)?;
            rules.extend(page.rules().iter().cloned());
            match page.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_owned()),
                _ => break,
            }
        }
        let described: Vec<Option<ObservedEventRule>> = stream::iter(rules)
            .map(|rule| async move { self.describe_rule(rule).await })
            .buffered(READ_CONCURRENCY)
            .try_collect()
            .await?;
        Ok(described.into_iter().flatten().collect())
    }

    async fn put_rule(&self, request: &EventRuleRequest) -> CloudResult<String> {
        let about = format!("event rule {}", request.name);
        let tags = request
            .tags
            .iter()
            .map(|(key, value)| {
                Tag::builder()
                    .key(key)
                    .value(value)
                    .build()
                    .context("PutRule", &about)
            })
            .collect::<CloudResult<Vec<Tag>>>()?;
        let output = self
            .events
            .put_rule()
            .name(&request.name)
            .event_pattern(request.event_pattern.to_string())
            .description(&request.description)
            .state(RuleState::Enabled)
            .set_tags(Some(tags))
            .send()
            .await
            .context("PutRule", &about)?;
        Ok(string(output.rule_arn()))
    }

    async fn put_targets(&self, rule: &str, targets: &[RuleTarget]) -> CloudResult<()> {
        let about = format!("event rule {rule}");
        let targets = targets
            .iter()
            .map(|t| {
                Target::builder()
                    .id(&t.id)
                    .arn(&t.arn)
                    .build()
                    .context("PutTargets", &about)
            })
            .collect::<CloudResult<Vec<Target>>>()?;
        let output = self
            .events
            .put_targets()
            .rule(rule)
            .set_targets(Some(targets))
            .send()
            .await
            .context("PutTargets", &about)?;
        failed_entries(
            "PutTargets",
            rule,
            output
                .failed_entries()
                .iter()
                .map(|e| (e.target_id(), e.error_code(), e.error_message())),
        )
    }

    async fn remove_targets(&self, rule: &str, ids: &[String]) -> CloudResult<()> {
        let output = self
            .events
            .remove_targets()
            .rule(rule)
            .set_ids(Some(ids.to_vec()))
            .send()
            .await
            .context("RemoveTargets", format!("event rule {rule}"))
            .or_gone()?;
        let Some(output) = output else {
            return Ok(());
        };
        failed_entries(
            "RemoveTargets",
            rule,
            output
                .failed_entries()
                .iter()
                .map(|e| (e.target_id(), e.error_code(), e.error_message())),
        )
    }

    async fn tag_rule(&self, arn: &str, tags: &Tags) -> CloudResult<()> {
        let about = format!("event rule {arn}");
        let tags = tags
            .iter()
            .map(|(key, value)| {
                Tag::builder()
                    .key(key)
                    .value(value)
                    .build()
                    .context("TagResource", &about)
            })
            .collect::<CloudResult<Vec<Tag>>>()?;
        self.events
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(tags))
            .send()
            .await
            .context("TagResource", &about)?;
        Ok(())
    }

    async fn delete_rule(&self, rule: &str) -> CloudResult<()> {
        self.events
            .delete_rule()
            .name(rule)
            .send()
            .await
            .context("DeleteRule", format!("event rule {rule}"))
            .or_gone()?;
        Ok(())
    }
}
