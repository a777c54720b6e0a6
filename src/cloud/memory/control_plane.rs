//! `ControlPlane` in memory: EKS clusters and their updates.

use async_trait::async_trait;

use super::*;

#[async_trait]
impl ControlPlane for MemoryCloud {
    async fn describe_cluster(&self, name: &str) -> CloudResult<Option<ObservedCluster>> {
        Ok(self.lock().clusters.get(name).cloned())
    }

    async fn create_cluster(&self, r: &ClusterRequest) -> CloudResult<()> {
        self.gate("CreateCluster")?;
        let mut s = self.lock();
        let mut subnets = r.subnet_ids.clone();
        subnets.sort();
        let vpc_id = subnets
            .first()
            .and_then(|id| s.subnets.get(id))
            .map(|subnet| subnet.vpc_id.clone());
        // EKS API reference, KubernetesNetworkConfigRequest.ipFamily: "If you specify ipv6,
        // the VPC and subnets that you specify for cluster creation must have both IPv4 and
        // IPv6 CIDR blocks assigned to them."
        let ipv6 = r.ip_family.as_deref() == Some("ipv6");
        if let Some(id) = subnets.iter().find(|id| {
            ipv6 && s
                .subnets
                .get(*id)
                .is_some_and(|subnet| subnet.ipv6_cidr.is_none())
        }) {
            return Err(CloudError {
                operation: "CreateCluster",
                resource: r.name.clone(),
                code: Some("InvalidParameterException".to_owned()),
                message: format!(
                    "Subnet {id} does not have an IPv6 CIDR block, which an ipv6 cluster needs"
                ),
                kind: ErrorKind::Invalid,
            });
        }
        let mut cidrs = r.public_access_cidrs.clone();
        cidrs.sort();
        let mut logs = r.enabled_log_types.clone();
        logs.sort();
        // EKS makes a security group for the cluster, tagged for it.
        let group = s.id("sg");
        s.security_groups.insert(
            group.clone(),
            ObservedSecurityGroup {
                id: group.clone(),
                tags: Tags::from([(
                    crate::naming::kubernetes_cluster_tag(&r.name),
                    "owned".to_owned(),
                )]),
                ..ObservedSecurityGroup::default()
            },
        );
        s.clusters.insert(
            r.name.clone(),
            ObservedCluster {
                name: r.name.clone(),
                arn: format!("arn:aws:eks:us-east-1:{ACCOUNT}:cluster/{}", r.name),
                status: "ACTIVE".to_owned(),
                version: r.version.clone(),
                role_arn: r.role_arn.clone(),
                vpc_id,
                cluster_security_group_id: Some(group),
                subnet_ids: subnets,
                endpoint_public_access: r.endpoint_public_access,
                endpoint_private_access: r.endpoint_private_access,
                public_access_cidrs: cidrs,
                enabled_log_types: logs,
                encryption_key_arn: r.encryption_key_arn.clone(),
                authentication_mode: Some("API_AND_CONFIG_MAP".to_owned()),
                oidc_issuer: Some(format!(
                    "https://oidc.eks.us-east-1.amazonaws.com/id/{}",
                    r.name.to_uppercase()
                )),
                endpoint: Some(format!("https://{}.eks.example", r.name)),
                certificate_authority: Some("LS0t".to_owned()),
                tags: r.tags.clone(),
                auto_mode: r.auto_mode.clone().map(sorted_auto_mode),
                support_type: Some(r.support_type.clone()),
                deletion_protection: r.deletion_protection,
                zonal_shift: r.zonal_shift,
                scaling_tier: Some(r.scaling_tier.clone()),
                ip_family: Some(r.ip_family.clone().unwrap_or_else(|| "ipv4".to_owned())),
                // EKS's default when the request names none; a /108 of the unique local
                // range for an IPv6 cluster.
                service_cidr: Some(
                    if ipv6 {
                        "fd7c:3b1a:9e2d::/108"
                    } else {
                        "172.20.0.0/16"
                    }
                    .to_owned(),
                ),
            },
        );
        if let Some(auto_mode) = &r.auto_mode {
            auto_mode_instance_profile(&mut s, &r.name, auto_mode);
        }
        s.log(format!("CreateCluster {}", r.name));
        Ok(())
    }

    async fn update_cluster_config(
        &self,
        name: &str,
        change: &ClusterConfigChange,
    ) -> CloudResult<Option<String>> {
        let mut s = self.lock();
        let c = s
            .clusters
            .get_mut(name)
            .ok_or_else(|| not_found("UpdateClusterConfig", name))?;
        match change {
            ClusterConfigChange::Endpoint {
                public_access,
                private_access,
                public_access_cidrs,
            } => {
                c.endpoint_public_access = *public_access;
                c.endpoint_private_access = *private_access;
                c.public_access_cidrs = public_access_cidrs.clone();
                c.public_access_cidrs.sort();
            }
            ClusterConfigChange::EnableAccessEntries => {
                c.authentication_mode = Some("API_AND_CONFIG_MAP".to_owned());
            }
            ClusterConfigChange::Subnets { subnet_ids } => {
                c.subnet_ids = subnet_ids.clone();
                c.subnet_ids.sort();
            }
            ClusterConfigChange::AutoMode(auto_mode) => {
                c.auto_mode = auto_mode.clone().map(sorted_auto_mode);
                if let Some(auto_mode) = auto_mode {
                    auto_mode_instance_profile(&mut s, name, auto_mode);
                }
            }
            ClusterConfigChange::Logging { enable, disable } => {
                c.enabled_log_types.retain(|l| !disable.contains(l));
                c.enabled_log_types.extend(enable.iter().cloned());
                c.enabled_log_types.sort();
                c.enabled_log_types.dedup();
            }
            ClusterConfigChange::UpgradePolicy { support_type } => {
                c.support_type = Some(support_type.clone());
            }
            ClusterConfigChange::DeletionProtection { enabled } => {
                c.deletion_protection = *enabled;
            }
            ClusterConfigChange::ZonalShift { enabled } => c.zonal_shift = *enabled,
            ClusterConfigChange::ScalingTier { tier } => c.scaling_tier = Some(tier.clone()),
        }
        s.log(format!("UpdateClusterConfig {name}"));
        Ok(None)
    }

    async fn tag_resource(&self, arn: &str, tags: &Tags) -> CloudResult<()> {
        self.gate("TagResource")?;
        let mut s = self.lock();
        let s = &mut *s;
        let target = s
            .clusters
            .values_mut()
            .find(|c| c.arn == arn)
            .map(|c| &mut c.tags)
            .or_else(|| {
                s.node_groups
                    .values_mut()
                    .find(|g| g.arn == arn)
                    .map(|g| &mut g.tags)
            })
            .or_else(|| {
                s.fargate
                    .values_mut()
                    .find(|f| f.arn == arn)
                    .map(|f| &mut f.tags)
            })
            .or_else(|| {
                s.addons
                    .values_mut()
                    .find(|a| a.arn == arn)
                    .map(|a| &mut a.tags)
            })
            .or_else(|| {
                s.access_entries
                    .values_mut()
                    .find(|e| e.arn == arn)
                    .map(|e| &mut e.tags)
            })
            .or_else(|| {
                s.pod_identity
                    .values_mut()
                    .find(|(_, a)| a.association_arn == arn)
                    .map(|(_, a)| &mut a.tags)
            })
            .ok_or_else(|| not_found("TagResource", arn))?;
        target.extend(tags.clone());
        s.log(format!("TagResource {arn}"));
        Ok(())
    }

    async fn update_cluster_version(
        &self,
        name: &str,
        version: &str,
        force: bool,
    ) -> CloudResult<String> {
        self.gate("UpdateClusterVersion")?;
        let mut s = self.lock();
        s.clusters
            .get_mut(name)
            .ok_or_else(|| not_found("UpdateClusterVersion", name))?
            .version = version.to_owned();
        let forced = if force { " force" } else { "" };
        s.log(format!("UpdateClusterVersion {name} {version}{forced}"));
        Ok(s.finished_update())
    }

    async fn associate_encryption_config(&self, name: &str, key_arn: &str) -> CloudResult<String> {
        self.gate("AssociateEncryptionConfig")?;
        let mut s = self.lock();
        s.clusters
            .get_mut(name)
            .ok_or_else(|| not_found("AssociateEncryptionConfig", name))?
            .encryption_key_arn = Some(key_arn.to_owned());
        s.log(format!("AssociateEncryptionConfig {name}"));
        Ok(s.finished_update())
    }

    async fn describe_update(
        &self,
        _cluster: &str,
        _of: UpdateOf<'_>,
        update_id: &str,
    ) -> CloudResult<UpdateStatus> {
        self.lock()
            .updates
            .get(update_id)
            .cloned()
            .ok_or_else(|| not_found("DescribeUpdate", update_id))
    }

    async fn upgrade_insights(
        &self,
        cluster: &str,
        version: &str,
    ) -> CloudResult<Vec<ObservedInsight>> {
        let s = self.lock();
        Ok(s.insights
            .get(cluster)
            .into_iter()
            .flatten()
            .filter(|i| i.kubernetes_version.as_deref() == Some(version))
            .filter(|i| i.status != "PASSING")
            .cloned()
            .collect())
    }

    async fn version_support(&self, version: &str) -> CloudResult<Option<VersionSupport>> {
        Ok(self.lock().version_support.get(version).cloned())
    }

    async fn delete_cluster(&self, name: &str) -> CloudResult<()> {
        let mut s = self.lock();
        // EKS refuses to delete an ACTIVE cluster with deletion protection on (EKS user
        // guide, "Protect EKS clusters from accidental deletion").
        if s.clusters.get(name).is_some_and(|c| c.deletion_protection) {
            return Err(CloudError {
                operation: "DeleteCluster",
                resource: format!("cluster {name}"),
                code: Some("InvalidRequestException".to_owned()),
                message: format!("Cluster {name} has deletion protection enabled"),
                kind: CloudError::kind_of("InvalidRequestException"),
            });
        }
        // EKS deletes the security group it made for the cluster.
        if let Some(group) = s
            .clusters
            .remove(name)
            .and_then(|c| c.cluster_security_group_id)
        {
            s.security_groups.remove(&group);
        }
        // Its add-ons and access entries go with it, as on AWS.
        s.addons.retain(|(cluster, _), _| cluster != name);
        s.access_entries.retain(|(cluster, _), _| cluster != name);
        // A cluster's Pod Identity associations go with it.
        s.pod_identity.retain(|_, (cluster, _)| cluster != name);
        s.log(format!("DeleteCluster {name}"));
        Ok(())
    }
}

/// EKS Auto Mode puts its node role in an instance profile it makes (named `eks*`,
/// AmazonEKSComputePolicy), and leaves it there when Auto Mode or the cluster goes
/// (aws/containers-roadmap#2531).
fn auto_mode_instance_profile(s: &mut super::State, cluster: &str, auto_mode: &AutoMode) {
    let Some(role) = auto_mode
        .node_role_arn
        .as_deref()
        .filter(|_| !auto_mode.node_pools.is_empty())
        .and_then(|arn| arn.rsplit('/').next())
    else {
        return;
    };
    s.instance_profiles
        .entry(format!("eks-us-east-1-{cluster}-auto"))
        .or_insert_with(|| (vec![role.to_owned()], Tags::new()));
}

/// Auto Mode as EKS reports it: node pools sorted, the role only with node pools.
fn sorted_auto_mode(mut auto_mode: AutoMode) -> AutoMode {
    auto_mode.node_pools.sort();
    if auto_mode.node_pools.is_empty() {
        auto_mode.node_role_arn = None;
    }
    auto_mode
}
