//! Carries out one [`Operation`] against the cloud traits, waiting where AWS is asynchronous.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use crate::cloud::{
    AccessEntryRequest, AddonRequest, Cloud, CloudError, ClusterRequest, ErrorKind,
    FargateProfileRequest, LaunchTemplateRequest, NodeGroupRequest, RoleRequest, RouteTarget,
    SubnetRequest, Tags, UpdateOf,
};
use crate::plan::operation::Trust;
use crate::plan::{Operation, Ref};
use crate::resources::iam::{INLINE_POLICY_NAME, issuer_host, trust_document};

use super::ExecError;
use super::wait::{Poll, Waiter};

/// What the operations of one run share.
pub struct Context {
    /// AWS.
    pub cloud: Cloud,
    /// Outputs of existing and newly made resources, keyed `resource.name`.
    pub outputs: Mutex<HashMap<String, String>>,
    /// How waits poll and when they give up.
    pub waiter: Waiter,
    /// The caller's account id.
    pub account: String,
    /// AWS partition.
    pub partition: String,
    /// A token unique to this run, for idempotent creates.
    pub run_token: String,
}

impl Context {
    /// A context for applying a plan of `cluster`, seeded with what exists. The partition is
    /// the caller's (from `observed`), not guessed from the region, which is not needed.
    pub fn new(
        cloud: Cloud,
        observed: &crate::resources::Observed,
        cluster: &str,
        _region: &str,
        waiter: Waiter,
    ) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        Self {
            cloud,
            outputs: Mutex::new(crate::resources::planner::existing_outputs(
                observed, cluster,
            )),
            waiter,
            account: observed.account.clone(),
            partition: observed.partition().to_owned(),
            run_token: format!("ekspec-{nanos:x}"),
        }
    }

    /// Seeds the outputs again from a newer look at what exists (the plan runs against
    /// what exists once the cluster lock is held, not what existed when it was made).
    pub fn reseed(&self, observed: &crate::resources::Observed, cluster: &str) {
        let fresh = crate::resources::planner::existing_outputs(observed, cluster);
        if let Ok(mut outputs) = self.outputs.lock() {
            *outputs = fresh;
        }
    }

    fn resolve(&self, r: &Ref) -> Result<String, ExecError> {
        match r {
            Ref::Value(v) => Ok(v.clone()),
            Ref::Output(key) => self
                .outputs
                .lock()
                .map_err(|_| ExecError::Internal("outputs lock poisoned".to_owned()))?
                .get(key)
                .cloned()
                .ok_or_else(|| ExecError::Internal(format!("`{key}` is not known yet"))),
        }
    }

    fn resolve_all(&self, refs: &[Ref]) -> Result<Vec<String>, ExecError> {
        refs.iter().map(|r| self.resolve(r)).collect()
    }

    fn set(&self, resource: &str, name: &str, value: impl Into<String>) {
        if let Ok(mut outputs) = self.outputs.lock() {
            outputs.insert(format!("{resource}.{name}"), value.into());
        }
    }

    fn oidc(&self) -> Result<(String, String), ExecError> {
        let arn = self.resolve(&Ref::output("oidc-provider", "arn"))?;
        let issuer = self.resolve(&Ref::output("cluster", "issuer"))?;
        Ok((arn, issuer_host(&issuer).to_owned()))
    }

    fn trust(&self, trust: &Trust) -> Result<serde_json::Value, ExecError> {
        let oidc = match trust {
            Trust::ServiceAccount { .. } => Some(self.oidc()?),
            Trust::Service(_) => None,
        };
        trust_document(trust, oidc.as_ref().map(|(a, h)| (a.as_str(), h.as_str())))
            .ok_or_else(|| ExecError::Internal("trust policy needs the OIDC provider".to_owned()))
    }

    /// The client token of `resource`'s create in this run: the same for every attempt
    /// within the run, another in the next run.
    fn token(&self, resource: &str) -> String {
        client_token(&[&self.run_token, resource])
    }
}

/// A client token made of `parts`: 39 ASCII characters whatever their length (EC2 takes at
/// most 64 and remembers each token, so two creates must never share one).
fn client_token(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    let digest: String = hasher
        .finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("ekspec-{digest}")
}

/// How many earlier gateways a NAT create steps over before giving up.
const NAT_ATTEMPTS: usize = 5;

/// Creates a NAT gateway. Its client token comes from its subnet and address, so an attempt
/// repeated after a crash or a lost answer gets the same gateway back; a gateway made by an
/// earlier intended create (deleted or failed since: EC2 answers it again for the same token)
/// does not count, and the next attempt derives a new token from it.
async fn create_nat_gateway(
    ctx: &Context,
    resource: &str,
    subnet: &str,
    address: &str,
    tags: &Tags,
) -> Result<String, ExecError> {
    let mut token = client_token(&[resource, subnet, address]);
    for _ in 0..NAT_ATTEMPTS {
        let (id, state) = ctx
            .cloud
            .network
            .create_nat_gateway(subnet, address, tags, &token)
            .await?;
        if !matches!(state.as_str(), "deleting" | "deleted" | "failed") {
            return Ok(id);
        }
        tracing::info!(%id, %state, "the client token belongs to an earlier NAT gateway; using a new one");
        token = client_token(&[&token, &id]);
    }
    Err(ExecError::Internal(format!(
        "EC2 kept answering earlier NAT gateways for {resource} in {subnet}"
    )))
}

/// Runs `operation` for `resource`.
pub async fn run(ctx: &Context, resource: &str, operation: &Operation) -> Result<(), ExecError> {
    let cloud = &ctx.cloud;
    match operation {
        Operation::CreateVpc { cidr, tags } => {
            let id = cloud.network.create_vpc(cidr, tags).await?;
            ctx.set(resource, "id", id);
        }
        Operation::CreateSubnet {
            vpc,
            cidr,
            zone,
            public,
            tags,
        } => {
            let request = SubnetRequest {
                vpc_id: ctx.resolve(vpc)?,
                cidr: cidr.clone(),
                availability_zone: zone.clone(),
                public: *public,
                tags: tags.clone(),
            };
            let id = cloud.network.create_subnet(&request).await?;
            ctx.set(resource, "id", id);
        }
        Operation::CreateInternetGateway { vpc, tags } => {
            let id = cloud
                .network
                .create_internet_gateway(&ctx.resolve(vpc)?, tags)
                .await?;
            ctx.set(resource, "id", id);
        }
        Operation::AllocateAddress { tags } => {
            let id = cloud.network.allocate_address(tags).await?;
            ctx.set(resource, "id", id);
        }
        Operation::CreateNatGateway {
            subnet,
            address,
            tags,
        } => {
            let id = create_nat_gateway(
                ctx,
                resource,
                &ctx.resolve(subnet)?,
                &ctx.resolve(address)?,
                tags,
            )
            .await?;
            ctx.set(resource, "id", id.clone());
            ctx.waiter
                .wait(&format!("NAT gateway {id}"), || async {
                    Ok(
                        match cloud.network.nat_gateway_state(&id).await?.as_deref() {
                            Some("available") => Poll::Done,
                            Some("failed") => Poll::Failed(
                                "the NAT gateway failed; see its FailureMessage in the console"
                                    .to_owned(),
                            ),
                            other => Poll::Pending(other.unwrap_or("unknown").to_owned()),
                        },
                    )
                })
                .await?;
        }
        Operation::CreateRouteTable { vpc, tags } => {
            let id = cloud
                .network
                .create_route_table(&ctx.resolve(vpc)?, tags)
                .await?;
            ctx.set(resource, "id", id);
        }
        Operation::SetDefaultRoute {
            table,
            internet_gateway,
            nat_gateway,
        } => {
            let target = match (internet_gateway, nat_gateway) {
                (Some(igw), _) => RouteTarget::InternetGateway(ctx.resolve(igw)?),
                (None, Some(nat)) => RouteTarget::NatGateway(ctx.resolve(nat)?),
                (None, None) => return Err(ExecError::Internal("route without target".to_owned())),
            };
            cloud
                .network
                .set_default_route(&ctx.resolve(table)?, &target)
                .await?;
        }
        Operation::AssociateRouteTable { table, subnet } => {
            cloud
                .network
                .associate_route_table(&ctx.resolve(table)?, &ctx.resolve(subnet)?)
                .await?;
        }
        Operation::DisassociateRouteTable { association_id } => {
            cloud
                .network
                .disassociate_route_table(association_id)
                .await?;
        }
        Operation::DeleteDefaultRoute { table } => {
            cloud
                .network
                .delete_default_route(&ctx.resolve(table)?)
                .await?;
        }
        Operation::TagEks { arn, tags } => cloud.kubernetes.tag_resource(arn, tags).await?,
        Operation::TagOidcProvider { arn, tags } => {
            cloud.identity.tag_oidc_provider(arn, tags).await?;
        }
        Operation::TagEc2 { ids, tags } => {
            cloud
                .network
                .create_tags(&ctx.resolve_all(ids)?, tags)
                .await?;
        }
        Operation::CreateLaunchTemplate { name, data, tags } => {
            let request = LaunchTemplateRequest {
                name: name.clone(),
                data: data.clone(),
                tags: tags.clone(),
                client_token: ctx.token(resource),
            };
            let (id, version) = cloud.network.create_launch_template(&request).await?;
            ctx.set(resource, "id", id);
            ctx.set(resource, "version", version.to_string());
        }
        Operation::CreateLaunchTemplateVersion { id, data } => {
            let version = cloud
                .network
                .create_launch_template_version(id, data, &ctx.token(resource))
                .await?;
            ctx.set(resource, "version", version.to_string());
        }
        Operation::CreateRole {
            name,
            path,
            trust,
            description,
            tags,
            policies,
            inline,
        } => {
            let request = RoleRequest {
                name: name.clone(),
                path: path.clone(),
                trust_policy: ctx.trust(trust)?,
                description: description.clone(),
                tags: tags.clone(),
            };
            let arn = cloud.identity.create_role(&request).await?;
            for policy in policies {
                cloud.identity.attach_policy(name, policy).await?;
            }
            if let Some(document) = inline {
                cloud
                    .identity
                    .put_inline_policy(name, INLINE_POLICY_NAME, document)
                    .await?;
            }
            ctx.set(resource, "arn", arn);
        }
        Operation::UpdateTrust { role, trust } => {
            cloud
                .identity
                .update_trust_policy(role, &ctx.trust(trust)?)
                .await?;
        }
        Operation::AttachPolicy { role, policy_arn } => {
            cloud.identity.attach_policy(role, policy_arn).await?
        }
        Operation::DetachPolicy { role, policy_arn } => {
            cloud.identity.detach_policy(role, policy_arn).await?
        }
        Operation::PutInlinePolicy { role, document } => {
            cloud
                .identity
                .put_inline_policy(role, INLINE_POLICY_NAME, document)
                .await?;
        }
        Operation::DeleteInlinePolicy { role, name } => {
            cloud.identity.delete_inline_policy(role, name).await?
        }
        Operation::TagRole { role, tags } => cloud.identity.tag_role(role, tags).await?,
        Operation::CreateCluster {
            name,
            version,
            role,
            subnets,
            endpoint_public_access,
            endpoint_private_access,
            public_access_cidrs,
            logging,
            encryption_key_arn,
            tags,
        } => {
            let request = ClusterRequest {
                name: name.clone(),
                version: version.clone(),
                role_arn: ctx.resolve(role)?,
                subnet_ids: ctx.resolve_all(subnets)?,
                endpoint_public_access: *endpoint_public_access,
                endpoint_private_access: *endpoint_private_access,
                public_access_cidrs: public_access_cidrs.clone(),
                enabled_log_types: logging.clone(),
                encryption_key_arn: encryption_key_arn.clone(),
                tags: tags.clone(),
                client_request_token: ctx.token(resource),
            };
            create_when_accepted(&ctx.waiter, &format!("creation of cluster {name}"), || {
                cloud.kubernetes.create_cluster(&request)
            })
            .await?;
            wait_cluster_active(ctx, name).await?;
        }
        Operation::UpdateClusterConfig { name, change } => {
            // EKS allows one update at a time: wait for any running one first.
            wait_cluster_active(ctx, name).await?;
            let id =
                retry_in_use(ctx, || cloud.kubernetes.update_cluster_config(name, change)).await?;
            if let Some(id) = id {
                wait_update(ctx, name, UpdateOf::Cluster, &id).await?;
            }
            wait_cluster_active(ctx, name).await?;
        }
        Operation::UpdateClusterVersion { name, version } => {
            wait_cluster_active(ctx, name).await?;
            let id = retry_in_use(ctx, || {
                cloud.kubernetes.update_cluster_version(name, version)
            })
            .await?;
            wait_update(ctx, name, UpdateOf::Cluster, &id).await?;
            wait_cluster_active(ctx, name).await?;
        }
        Operation::AssociateEncryptionConfig { name, key_arn } => {
            wait_cluster_active(ctx, name).await?;
            let id = retry_in_use(ctx, || {
                cloud.kubernetes.associate_encryption_config(name, key_arn)
            })
            .await?;
            wait_update(ctx, name, UpdateOf::Cluster, &id).await?;
            wait_cluster_active(ctx, name).await?;
        }
        Operation::UpdateNodeGroupVersion {
            cluster,
            name,
            version,
        } => {
            // A DEGRADED group takes the update (a new AMI may heal it).
            wait_node_group(ctx, cluster, name, NodeGroupState::Updatable).await?;
            let id = retry_in_use(ctx, || {
                cloud
                    .kubernetes
                    .update_node_group_version(cluster, name, version)
            })
            .await?;
            wait_update(ctx, cluster, UpdateOf::NodeGroup(name), &id).await?;
            wait_node_group(ctx, cluster, name, NodeGroupState::Active).await?;
        }
        Operation::UpdateNodeGroupLaunchTemplate {
            cluster,
            name,
            launch_template,
            version,
        } => {
            let version = ctx.resolve(version)?;
            wait_node_group(ctx, cluster, name, NodeGroupState::Updatable).await?;
            let id = retry_in_use(ctx, || {
                cloud.kubernetes.update_node_group_launch_template(
                    cluster,
                    name,
                    (launch_template, &version),
                )
            })
            .await?;
            wait_update(ctx, cluster, UpdateOf::NodeGroup(name), &id).await?;
            wait_node_group(ctx, cluster, name, NodeGroupState::Active).await?;
        }
        Operation::CreateAddon {
            cluster,
            name,
            version,
            role,
            configuration,
            tags,
        } => {
            let request = AddonRequest {
                cluster: cluster.clone(),
                name: name.clone(),
                version: version.clone(),
                service_account_role_arn: role.as_ref().map(|r| ctx.resolve(r)).transpose()?,
                configuration_values: configuration.clone(),
                tags: tags.clone(),
                client_request_token: ctx.token(resource),
            };
            retry_new_role(&ctx.waiter, || cloud.kubernetes.create_addon(&request)).await?;
            wait_addon(ctx, cluster, name, false).await?;
        }
        Operation::UpdateAddon {
            cluster,
            name,
            version,
            role,
            configuration,
        } => {
            let request = AddonRequest {
                cluster: cluster.clone(),
                name: name.clone(),
                version: version.clone(),
                service_account_role_arn: role.as_ref().map(|r| ctx.resolve(r)).transpose()?,
                configuration_values: configuration.clone(),
                tags: Tags::new(),
                client_request_token: ctx.token(resource),
            };
            wait_addon(ctx, cluster, name, false).await?;
            let id = retry_in_use(ctx, || cloud.kubernetes.update_addon(&request)).await?;
            if let Some(id) = id {
                wait_update(ctx, cluster, UpdateOf::Addon(name), &id).await?;
            }
            wait_addon(ctx, cluster, name, false).await?;
        }
        Operation::DeleteAddon { cluster, name } => {
            cloud.kubernetes.delete_addon(cluster, name).await?;
            wait_addon(ctx, cluster, name, true).await?;
        }
        Operation::CreateAccessEntry {
            cluster,
            principal,
            groups,
            username,
            entry_type,
            tags,
        } => {
            let request = AccessEntryRequest {
                cluster: cluster.clone(),
                principal_arn: principal.clone(),
                kubernetes_groups: groups.clone(),
                username: username.clone(),
                entry_type: entry_type.clone(),
                tags: tags.clone(),
                client_request_token: ctx.token(resource),
            };
            match cloud.kubernetes.create_access_entry(&request).await {
                // A node or Fargate entry made meanwhile was made by EKS for the role as it
                // is now (a node group or profile created since): that is the one wanted.
                Err(error)
                    if entry_type.is_some()
                        && matches!(error.kind, ErrorKind::InUse | ErrorKind::AlreadyExists) =>
                {
                    tracing::info!(%error, "EKS made the entry meanwhile");
                }
                // Made since the plan was read (a retried call, or another run): EKS has one
                // entry per principal, so make that one match the spec and own it.
                Err(error) if matches!(error.kind, ErrorKind::InUse | ErrorKind::AlreadyExists) => {
                    tracing::info!(%error, "the access entry exists already; updating it");
                    let live = cloud
                        .kubernetes
                        .describe_access_entry(cluster, principal)
                        .await?
                        .ok_or(error)?;
                    cloud
                        .kubernetes
                        .update_access_entry(cluster, principal, groups, username.as_deref())
                        .await?;
                    cloud.kubernetes.tag_resource(&live.arn, tags).await?;
                }
                other => other?,
            }
        }
        Operation::UpdateAccessEntry {
            cluster,
            principal,
            groups,
            username,
        } => {
            cloud
                .kubernetes
                .update_access_entry(cluster, principal, groups, username.as_deref())
                .await?;
        }
        Operation::AssociateAccessPolicy {
            cluster,
            principal,
            policy,
        } => {
            cloud
                .kubernetes
                .associate_access_policy(cluster, principal, policy)
                .await?;
        }
        Operation::DisassociateAccessPolicy {
            cluster,
            principal,
            policy_arn,
        } => {
            cloud
                .kubernetes
                .disassociate_access_policy(cluster, principal, policy_arn)
                .await?;
        }
        Operation::DeleteAccessEntry { cluster, principal } => {
            cloud
                .kubernetes
                .delete_access_entry(cluster, principal)
                .await?;
        }
        Operation::CreateOidcProvider { cluster, tags } => {
            let issuer = match ctx.resolve(&Ref::output("cluster", "issuer")) {
                Ok(issuer) => issuer,
                Err(_) => wait_cluster_active(ctx, cluster).await?,
            };
            let arn = cloud.identity.create_oidc_provider(&issuer, tags).await?;
            ctx.set(resource, "arn", arn);
        }
        Operation::CreateNodeGroup {
            cluster,
            name,
            node_role,
            subnets,
            instance_types,
            capacity_type,
            ami_type,
            scaling,
            labels,
            taints,
            launch_template,
            update_budget,
            tags,
        } => {
            let template_id = ctx.resolve(launch_template)?;
            let template_key = match launch_template {
                Ref::Output(key) => key.replace(".id", ".version"),
                Ref::Value(_) => String::new(),
            };
            let version = ctx
                .resolve(&Ref::Output(template_key))
                .unwrap_or_else(|_| "1".to_owned());
            let request = NodeGroupRequest {
                cluster: cluster.clone(),
                name: name.clone(),
                node_role_arn: ctx.resolve(node_role)?,
                subnet_ids: ctx.resolve_all(subnets)?,
                instance_types: instance_types.clone(),
                capacity_type: capacity_type.clone(),
                ami_type: ami_type.clone(),
                scaling: *scaling,
                labels: labels.clone(),
                taints: taints.clone(),
                launch_template: (template_id, version),
                update_budget: *update_budget,
                tags: tags.clone(),
                client_request_token: ctx.token(name),
            };
            retry_new_role(&ctx.waiter, || cloud.kubernetes.create_node_group(&request)).await?;
            wait_node_group(ctx, cluster, name, NodeGroupState::Active).await?;
        }
        Operation::UpdateNodeGroup {
            cluster,
            name,
            change,
        } => {
            // A DEGRADED group takes the update (a scaling change may heal it); EKS refuses
            // one while another runs (ResourceInUseException), so that one is waited out.
            wait_node_group(ctx, cluster, name, NodeGroupState::Updatable).await?;
            let id = retry_in_use(ctx, || {
                cloud
                    .kubernetes
                    .update_node_group_config(cluster, name, change)
            })
            .await?;
            if let Some(id) = id {
                wait_update(ctx, cluster, UpdateOf::NodeGroup(name), &id).await?;
            }
            wait_node_group(ctx, cluster, name, NodeGroupState::Active).await?;
        }
        Operation::DeleteNodeGroup {
            cluster,
            name,
            replaced_by,
        } => {
            // Never the last ACTIVE generation: its replacement must be ACTIVE first (a
            // failed one stops here, and this one stays).
            if let Some(replacement) = replaced_by {
                wait_node_group(ctx, cluster, replacement, NodeGroupState::Active).await?;
            }
            // EKS refuses the delete while the group is being created or updated; one that
            // is being deleted already is waited on.
            retry_in_use(ctx, || async {
                match cloud.kubernetes.delete_node_group(cluster, name).await {
                    Err(error) if error.kind == ErrorKind::InUse => {
                        match cloud.kubernetes.describe_node_group(cluster, name).await? {
                            None => Ok(()),
                            Some(g) if g.status == "DELETING" => Ok(()),
                            Some(_) => Err(error),
                        }
                    }
                    other => other,
                }
            })
            .await?;
            wait_node_group(ctx, cluster, name, NodeGroupState::Gone).await?;
        }
        Operation::CreateFargateProfile {
            cluster,
            name,
            role,
            subnets,
            selectors,
            tags,
        } => {
            let request = FargateProfileRequest {
                cluster: cluster.clone(),
                name: name.clone(),
                pod_execution_role_arn: ctx.resolve(role)?,
                subnet_ids: ctx.resolve_all(subnets)?,
                selectors: selectors.clone(),
                tags: tags.clone(),
                client_request_token: ctx.token(name),
            };
            // EKS creates one profile at a time per cluster, and refuses a role it cannot
            // assume yet: both are waited out.
            create_when_accepted(
                &ctx.waiter,
                &format!("creation of Fargate profile {name}"),
                || cloud.kubernetes.create_fargate_profile(&request),
            )
            .await?;
            wait_fargate(ctx, cluster, name, false).await?;
        }
        Operation::DeleteFargateProfile { cluster, name } => {
            // EKS deletes one profile at a time per cluster (ResourceInUseException "...
            // currently has Fargate profile X in status DELETING"): wait for our turn.
            retry_while_in_use(ctx, &format!("deletion of Fargate profile {name}"), || {
                cloud.kubernetes.delete_fargate_profile(cluster, name)
            })
            .await?;
            wait_fargate(ctx, cluster, name, true).await?;
        }
        Operation::DeleteCluster { name } => {
            cloud.kubernetes.delete_cluster(name).await?;
            ctx.waiter
                .wait(&format!("deletion of cluster {name}"), || async {
                    Ok(match cloud.kubernetes.describe_cluster(name).await? {
                        None => Poll::Done,
                        Some(c) => Poll::Pending(c.status),
                    })
                })
                .await?;
        }
        Operation::DeleteRole { name } => cloud.identity.delete_role(name).await?,
        Operation::DeleteOidcProvider { arn } => cloud.identity.delete_oidc_provider(arn).await?,
        // AWS refuses the detach while anything in the VPC has a public address mapped
        // through the gateway: a load balancer's interfaces linger minutes after its delete.
        Operation::DetachInternetGateway { id, vpc_id } => {
            retry_while_in_use(ctx, &format!("detach of {id} from {vpc_id}"), || {
                cloud.network.detach_internet_gateway(id, vpc_id)
            })
            .await?;
        }
        Operation::DeleteEc2 { kind, id } => {
            delete_with_retry(ctx, *kind, id).await?;
            if *kind == crate::cloud::Ec2Kind::NatGateway {
                ctx.waiter
                    .wait(&format!("deletion of NAT gateway {id}"), || async {
                        Ok(
                            match cloud.network.nat_gateway_state(id).await?.as_deref() {
                                None | Some("deleted") => Poll::Done,
                                Some(state) => Poll::Pending(state.to_owned()),
                            },
                        )
                    })
                    .await?;
            }
        }
        Operation::DeleteLeftovers { cluster, vpc_id } => {
            let leftovers = cloud.network.discover_leftovers(cluster, vpc_id).await?;
            // Load balancers first: they use the target groups, and their network interfaces
            // hold the security groups until AWS removes them a while later.
            for load_balancer in &leftovers.load_balancers {
                cloud.network.delete_load_balancer(load_balancer).await?;
            }
            for arn in &leftovers.target_groups {
                retry_while_in_use(ctx, &format!("deletion of target group {arn}"), || {
                    cloud.network.delete_target_group(arn)
                })
                .await?;
            }
            for id in &leftovers.network_interfaces {
                delete_with_retry(ctx, crate::cloud::Ec2Kind::NetworkInterface, id).await?;
            }
            for id in &leftovers.security_groups {
                delete_with_retry(ctx, crate::cloud::Ec2Kind::SecurityGroup, id).await?;
            }
        }
    }
    Ok(())
}

/// Deletes, retrying while AWS still sees a dependency (ENIs of a deleted NAT, cluster or
/// load balancer linger for a while).
async fn delete_with_retry(
    ctx: &Context,
    kind: crate::cloud::Ec2Kind,
    id: &str,
) -> Result<(), ExecError> {
    retry_while_in_use(ctx, &format!("deletion of {id}"), || {
        ctx.cloud.network.delete(kind, id)
    })
    .await
}

/// Runs `call` until AWS stops answering InUse.
async fn retry_while_in_use<F, Fut>(ctx: &Context, what: &str, call: F) -> Result<(), ExecError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<(), CloudError>>,
{
    ctx.waiter
        .wait(what, || async {
            match call().await {
                Ok(()) => Ok(Poll::Done),
                Err(e) if e.kind == ErrorKind::InUse => {
                    Ok(Poll::Pending(format!("in use: {}", e.message)))
                }
                Err(e) => Err(e.into()),
            }
        })
        .await
}

/// How long EKS may refuse an IAM role made moments ago before ekspec believes the refusal.
/// IAM is eventually consistent; terraform-provider-aws retries EKS creates for 2 minutes
/// (its IAM propagation timeout), and aws-cdk#16037 saw CreateCluster refuse a role made 3
/// minutes earlier: 5 minutes covers both.
pub const ROLE_PROPAGATION: Duration = Duration::from_secs(5 * 60);

/// A role created seconds ago may not be usable by EKS yet: see [`create_when_accepted`].
async fn retry_new_role<F, Fut>(waiter: &Waiter, call: F) -> Result<(), ExecError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<(), CloudError>>,
{
    create_when_accepted(waiter, "EKS to accept the new IAM role", call).await
}

/// Whether EKS refused a create because it cannot use an IAM role yet: the wordings EKS
/// uses while a new role propagates (InvalidParameterException).
fn role_not_usable_yet(error: &CloudError) -> bool {
    const WORDINGS: [&str; 5] = [
        // CreateCluster: "Role with arn: ..., could not be assumed because it does not exist
        // or the trusted entity is not correct".
        "could not be assumed",
        "error in role params",
        "the provided role doesn't have the amazon eks managed policies",
        // CreateFargateProfile: "Misconfigured PodExecutionRole Trust Policy; Please add the
        // eks-fargate-pods.amazonaws.com Service Principal".
        "misconfigured podexecutionrole trust policy",
        "does not exist",
    ];
    let message = error.message.to_ascii_lowercase();
    error.kind == ErrorKind::Invalid
        && message.contains("role")
        && WORDINGS.iter().any(|w| message.contains(w))
}

/// Starts an EKS create, waiting (with the waiter's progress reports) while EKS cannot take
/// it yet: another operation of the cluster holds it (ResourceInUseException other than
/// "already exists": one Fargate profile CREATING or DELETING at a time, an update in
/// progress), or a new IAM role has not propagated (for up to [`ROLE_PROPAGATION`]). A create
/// that already happened (a retry, or a rerun after a crash) counts as started.
async fn create_when_accepted<F, Fut>(waiter: &Waiter, what: &str, call: F) -> Result<(), ExecError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<(), CloudError>>,
{
    let started = tokio::time::Instant::now();
    waiter
        .wait(what, || async {
            match call().await {
                Ok(()) => Ok(Poll::Done),
                Err(e) if already_exists(&e) => Ok(Poll::Done),
                Err(e) if e.kind == ErrorKind::InUse => {
                    Ok(Poll::Pending(format!("EKS is busy: {}", e.message)))
                }
                Err(e) if role_not_usable_yet(&e) && started.elapsed() < ROLE_PROPAGATION => {
                    Ok(Poll::Pending(format!(
                        "the IAM role is not usable by EKS yet (IAM propagates for a while): {}",
                        e.message
                    )))
                }
                Err(e) => Err(e.into()),
            }
        })
        .await
}

/// Whether a create failed because the resource exists already (EKS says so with
/// ResourceInUseException: "Cluster already exists with name: x", "A Fargate Profile already
/// exists with this name in this cluster.", "Addon already exists.").
fn already_exists(error: &CloudError) -> bool {
    error.kind == ErrorKind::AlreadyExists
        || (error.kind == ErrorKind::InUse
            && error
                .message
                .to_ascii_lowercase()
                .contains("already exists"))
}

async fn wait_cluster_active(ctx: &Context, name: &str) -> Result<String, ExecError> {
    let cloud = &ctx.cloud;
    ctx.waiter
        .wait(&format!("cluster {name}"), || async {
            Ok(match cloud.kubernetes.describe_cluster(name).await? {
                Some(c) if c.status == "ACTIVE" => {
                    if let Some(issuer) = &c.oidc_issuer {
                        ctx.set("cluster", "issuer", issuer.clone());
                    }
                    ctx.set("cluster", "arn", c.arn.clone());
                    Poll::Done
                }
                Some(c) if c.status == "FAILED" => Poll::Failed("the cluster is FAILED".to_owned()),
                Some(c) => Poll::Pending(c.status),
                None => Poll::Failed("the cluster disappeared".to_owned()),
            })
        })
        .await?;
    ctx.resolve(&Ref::output("cluster", "issuer"))
        .or_else(|_| Ok(String::new()))
}

/// Retries a call while EKS says another update of the same resource is still running
/// (`ResourceInUseException`), with the waiter's backoff and deadline.
async fn retry_in_use<T, F, Fut>(ctx: &Context, mut call: F) -> Result<T, ExecError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, CloudError>>,
{
    let deadline = tokio::time::Instant::now() + ctx.waiter.timeout;
    let mut pause = ctx.waiter.initial;
    loop {
        match call().await {
            Err(error)
                if error.kind == ErrorKind::InUse
                    && tokio::time::Instant::now() + pause <= deadline =>
            {
                tracing::info!(%error, "another update is running; retrying");
                ctx.waiter.sleep(pause).await;
                pause = (pause * 3 / 2).min(ctx.waiter.max);
            }
            other => return Ok(other?),
        }
    }
}

/// Waits until EKS reports an update `Successful`; a failed update is an error with EKS's
/// reasons.
async fn wait_update(
    ctx: &Context,
    cluster: &str,
    of: UpdateOf<'_>,
    id: &str,
) -> Result<(), ExecError> {
    let what = match of {
        UpdateOf::Cluster => format!("update {id} of cluster {cluster}"),
        UpdateOf::NodeGroup(name) => format!("update {id} of node group {name}"),
        UpdateOf::Addon(name) => format!("update {id} of add-on {name}"),
    };
    ctx.waiter
        .wait(&what, || async {
            let update = ctx
                .cloud
                .kubernetes
                .describe_update(cluster, of, id)
                .await?;
            Ok(match update.status.as_str() {
                "Successful" => Poll::Done,
                "Failed" | "Cancelled" => Poll::Failed(format!(
                    "EKS reports the update {}: {}",
                    update.status.to_lowercase(),
                    if update.errors.is_empty() {
                        "no reason given".to_owned()
                    } else {
                        update.errors.join("; ")
                    }
                )),
                _ => Poll::Pending(update.status),
            })
        })
        .await
}

async fn wait_addon(ctx: &Context, cluster: &str, name: &str, gone: bool) -> Result<(), ExecError> {
    let cloud = &ctx.cloud;
    let what = if gone {
        format!("deletion of add-on {name}")
    } else {
        format!("add-on {name}")
    };
    ctx.waiter
        .wait(&what, || async {
            let addon = cloud.kubernetes.describe_addon(cluster, name).await?;
            let issues = |a: &crate::cloud::ObservedAddon| {
                if a.health_issues.is_empty() {
                    String::new()
                } else {
                    format!(": {}", a.health_issues.join("; "))
                }
            };
            Ok(match (addon, gone) {
                (None, true) => Poll::Done,
                (None, false) => Poll::Failed("the add-on disappeared".to_owned()),
                (Some(a), false) if a.status == "ACTIVE" => Poll::Done,
                (Some(a), _) if a.status.ends_with("FAILED") => {
                    Poll::Failed(format!("the add-on is {}{}", a.status, issues(&a)))
                }
                // DEGRADED settles once its pods run; the timeout reports it if not.
                (Some(a), _) => Poll::Pending(format!("{}{}", a.status, issues(&a))),
            })
        })
        .await
}

/// What a node group wait waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NodeGroupState {
    /// ACTIVE; CREATE_FAILED and DEGRADED are failures with EKS's health issues.
    Active,
    /// ACTIVE or DEGRADED: a state EKS takes an update in.
    Updatable,
    /// Deleted.
    Gone,
}

async fn wait_node_group(
    ctx: &Context,
    cluster: &str,
    name: &str,
    until: NodeGroupState,
) -> Result<(), ExecError> {
    let cloud = &ctx.cloud;
    let what = if until == NodeGroupState::Gone {
        format!("deletion of node group {name}")
    } else {
        format!("node group {name}")
    };
    ctx.waiter
        .wait(&what, || async {
            let group = cloud.kubernetes.describe_node_group(cluster, name).await?;
            Ok(match (group, until) {
                (None, NodeGroupState::Gone) => Poll::Done,
                (None, _) => Poll::Failed("the node group disappeared".to_owned()),
                (Some(g), NodeGroupState::Gone) if g.status == "DELETE_FAILED" => {
                    Poll::Failed(format!(
                        "deletion failed: {}",
                        crate::resources::nodegroup::health(&g)
                    ))
                }
                (Some(g), NodeGroupState::Gone) => Poll::Pending(g.status),
                (Some(g), _) if g.status == "ACTIVE" => Poll::Done,
                (Some(g), NodeGroupState::Updatable) if g.status == "DEGRADED" => Poll::Done,
                (Some(g), _) if matches!(g.status.as_str(), "CREATE_FAILED" | "DEGRADED") => {
                    Poll::Failed(format!(
                        "the node group is {}: {}",
                        g.status,
                        crate::resources::nodegroup::health(&g)
                    ))
                }
                (Some(g), _) if g.status == "DELETING" => {
                    Poll::Failed("the node group is being deleted".to_owned())
                }
                (Some(g), _) => Poll::Pending(g.status),
            })
        })
        .await
}

async fn wait_fargate(
    ctx: &Context,
    cluster: &str,
    name: &str,
    gone: bool,
) -> Result<(), ExecError> {
    let cloud = &ctx.cloud;
    let what = if gone {
        format!("deletion of Fargate profile {name}")
    } else {
        format!("Fargate profile {name}")
    };
    ctx.waiter
        .wait(&what, || async {
            Ok(
                match (
                    cloud
                        .kubernetes
                        .describe_fargate_profile(cluster, name)
                        .await?,
                    gone,
                ) {
                    (None, true) => Poll::Done,
                    (None, false) => Poll::Failed("the Fargate profile disappeared".to_owned()),
                    (Some(p), false) if p.status == "ACTIVE" => Poll::Done,
                    (Some(p), _) if p.status.ends_with("FAILED") => Poll::Failed(format!(
                        "EKS reports the Fargate profile {}: {}",
                        p.status,
                        if p.health_issues.is_empty() {
                            "no health issues reported".to_owned()
                        } else {
                            p.health_issues.join("; ")
                        }
                    )),
                    (Some(p), _) => Poll::Pending(p.status),
                },
            )
        })
        .await
}
