//! `NodeGroups` in memory: EKS managed node groups.

use async_trait::async_trait;

use super::*;

#[async_trait]
impl NodeGroups for MemoryCloud {
    async fn list_node_groups(&self, cluster: &str) -> CloudResult<Vec<ObservedNodeGroup>> {
        Ok(self
            .lock()
            .node_groups
            .iter()
            .filter(|((c, _), _)| c == cluster)
            .map(|(_, g)| g.clone())
            .collect())
    }

    async fn describe_node_group(
        &self,
        cluster: &str,
        name: &str,
    ) -> CloudResult<Option<ObservedNodeGroup>> {
        Ok(self
            .lock()
            .node_groups
            .get(&(cluster.to_owned(), name.to_owned()))
            .cloned())
    }

    async fn create_node_group(&self, r: &NodeGroupRequest) -> CloudResult<()> {
        self.gate("CreateNodegroup")?;
        let mut s = self.lock();
        let mut subnets = r.subnet_ids.clone();
        subnets.sort();
        let mut taints = r.taints.clone();
        taints.sort();
        // EKS starts a node group on its cluster's version.
        let version = s.clusters.get(&r.cluster).map(|c| c.version.clone());
        s.node_groups.insert(
            (r.cluster.clone(), r.name.clone()),
            ObservedNodeGroup {
                name: r.name.clone(),
                arn: format!(
                    "arn:aws:eks:us-east-1:{ACCOUNT}:nodegroup/{}/{}/0",
                    r.cluster, r.name
                ),
                status: "ACTIVE".to_owned(),
                instance_types: r.instance_types.clone(),
                capacity_type: r.capacity_type.clone(),
                ami_type: r.ami_type.clone(),
                scaling: r.scaling,
                labels: r.labels.clone(),
                taints,
                subnet_ids: subnets,
                launch_template: Some(r.launch_template.clone()),
                update_budget: Some(r.update_budget),
                version,
                node_role_arn: r.node_role_arn.clone(),
                health_issues: Vec::new(),
                tags: r.tags.clone(),
                update_strategy: r.update_strategy.clone(),
                node_repair: r.node_repair,
                // ekspec always gives a launch template, which holds the disk size.
                disk_size: None,
            },
        );
        s.log(format!("CreateNodegroup {}", r.name));
        Ok(())
    }

    async fn update_node_group_version(
        &self,
        cluster: &str,
        name: &str,
        version: &str,
    ) -> CloudResult<String> {
        self.gate("UpdateNodegroupVersion")?;
        let mut s = self.lock();
        s.node_groups
            .get_mut(&(cluster.to_owned(), name.to_owned()))
            .ok_or_else(|| not_found("UpdateNodegroupVersion", name))?
            .version = Some(version.to_owned());
        s.log(format!("UpdateNodegroupVersion {name} {version}"));
        Ok(s.finished_update())
    }

    async fn update_node_group_launch_template(
        &self,
        cluster: &str,
        name: &str,
        (id, version): (&str, &str),
    ) -> CloudResult<String> {
        self.gate("UpdateNodegroupVersion")?;
        let mut s = self.lock();
        s.node_groups
            .get_mut(&(cluster.to_owned(), name.to_owned()))
            .ok_or_else(|| not_found("UpdateNodegroupVersion", name))?
            .launch_template = Some((id.to_owned(), version.to_owned()));
        s.log(format!("UpdateNodegroupVersion {name} {id} {version}"));
        Ok(s.finished_update())
    }

    async fn update_node_group_config(
        &self,
        cluster: &str,
        name: &str,
        change: &NodeGroupConfigChange,
    ) -> CloudResult<Option<String>> {
        self.gate("UpdateNodegroupConfig")?;
        let mut s = self.lock();
        let g = s
            .node_groups
            .get_mut(&(cluster.to_owned(), name.to_owned()))
            .ok_or_else(|| not_found("UpdateNodegroupConfig", name))?;
        g.labels.extend(change.add_labels.clone());
        g.labels.retain(|k, _| !change.remove_labels.contains(k));
        g.taints.retain(|t| {
            !change
                .remove_taints
                .iter()
                .any(|r| r.key == t.key && r.effect == t.effect)
        });
        for taint in &change.add_taints {
            g.taints
                .retain(|t| !(t.key == taint.key && t.effect == taint.effect));
            g.taints.push(taint.clone());
        }
        g.taints.sort();
        if let Some(scaling) = change.scaling {
            g.scaling = scaling;
        }
        if let Some(budget) = change.update_budget {
            g.update_budget = Some(budget);
            if change.update_strategy.is_some() {
                g.update_strategy.clone_from(&change.update_strategy);
            }
        }
        if let Some(repair) = change.node_repair {
            g.node_repair = Some(repair);
        }
        s.log(format!("UpdateNodegroupConfig {name}"));
        // EKS answers every node group config change with an update to follow.
        Ok(Some(s.finished_update()))
    }

    async fn delete_node_group(&self, cluster: &str, name: &str) -> CloudResult<()> {
        self.gate("DeleteNodegroup")?;
        let mut s = self.lock();
        s.node_groups.remove(&(cluster.to_owned(), name.to_owned()));
        s.log(format!("DeleteNodegroup {name}"));
        Ok(())
    }
}
