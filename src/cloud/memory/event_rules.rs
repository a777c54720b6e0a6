//! `EventRules` in memory: EventBridge rules and their targets.

use async_trait::async_trait;

use super::*;

#[async_trait]
impl EventRules for MemoryCloud {
    async fn list_rules(&self, prefix: &str) -> CloudResult<Vec<ObservedEventRule>> {
        tokio::task::yield_now().await;
        self.gate("ListRules")?;
        Ok(self
            .lock()
            .rules
            .values()
            .filter(|r| r.name.starts_with(prefix))
            .cloned()
            .collect())
    }

    async fn put_rule(&self, r: &EventRuleRequest) -> CloudResult<String> {
        tokio::task::yield_now().await;
        self.gate("PutRule")?;
        let mut s = self.lock();
        let arn = format!("arn:aws:events:us-east-1:{ACCOUNT}:rule/{}", r.name);
        // As EventBridge: a new rule takes the tags, a replaced one keeps its own (and its
        // targets).
        let (tags, targets) = s.rules.get(&r.name).map_or_else(
            || (r.tags.clone(), Vec::new()),
            |old| (old.tags.clone(), old.targets.clone()),
        );
        s.rules.insert(
            r.name.clone(),
            ObservedEventRule {
                name: r.name.clone(),
                arn: arn.clone(),
                event_pattern: Some(r.event_pattern.clone()),
                state: "ENABLED".to_owned(),
                targets,
                tags,
            },
        );
        s.log(format!("PutRule {}", r.name));
        Ok(arn)
    }

    async fn put_targets(&self, rule: &str, targets: &[RuleTarget]) -> CloudResult<()> {
        tokio::task::yield_now().await;
        self.gate("PutTargets")?;
        let mut s = self.lock();
        let live = s
            .rules
            .get_mut(rule)
            .ok_or_else(|| not_found("PutTargets", &format!("event rule {rule}")))?;
        for target in targets {
            live.targets.retain(|t| t.id != target.id);
            live.targets.push(target.clone());
        }
        live.targets.sort();
        s.log(format!("PutTargets {rule}"));
        Ok(())
    }

    async fn remove_targets(&self, rule: &str, ids: &[String]) -> CloudResult<()> {
        tokio::task::yield_now().await;
        self.gate("RemoveTargets")?;
        let mut s = self.lock();
        if let Some(live) = s.rules.get_mut(rule) {
            live.targets.retain(|t| !ids.contains(&t.id));
        }
        s.log(format!("RemoveTargets {rule}"));
        Ok(())
    }

    async fn tag_rule(&self, arn: &str, tags: &Tags) -> CloudResult<()> {
        tokio::task::yield_now().await;
        self.gate("TagResource")?;
        let mut s = self.lock();
        let rule = s
            .rules
            .values_mut()
            .find(|r| r.arn == arn)
            .ok_or_else(|| not_found("TagResource", arn))?;
        rule.tags.extend(tags.clone());
        let name = rule.name.clone();
        s.log(format!("TagResource {name}"));
        Ok(())
    }

    async fn delete_rule(&self, rule: &str) -> CloudResult<()> {
        tokio::task::yield_now().await;
        self.gate("DeleteRule")?;
        let mut s = self.lock();
        // As EventBridge: "Before you can delete the rule, you must remove all targets".
        if s.rules.get(rule).is_some_and(|r| !r.targets.is_empty()) {
            return Err(CloudError {
                operation: "DeleteRule",
                resource: format!("event rule {rule}"),
                code: Some("ValidationException".to_owned()),
                message: "Rule can't be deleted since it has targets.".to_owned(),
                kind: ErrorKind::Invalid,
            });
        }
        s.rules.remove(rule);
        s.log(format!("DeleteRule {rule}"));
        Ok(())
    }
}
