//! Carries out one [`Operation`] against the cloud traits, waiting where AWS is asynchronous.

mod cluster;
mod compute;
mod iam;
mod interruption;
mod karpenter;
mod network;
mod pod_identity;
mod retry;

use std::collections::HashMap;
use std::sync::Mutex;

use crate::cloud::Cloud;
use crate::plan::operation::Trust;
use crate::plan::{Operation, Ref};
use crate::resources::iam::{issuer_host, trust_document};

use super::ExecError;
use super::wait::Waiter;

pub use retry::ROLE_PROPAGATION;

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
    /// Upgrade the control plane even when EKS's upgrade insights report upgrade-blocking
    /// issues (`UpdateClusterVersion`'s `force`).
    pub force_upgrade: bool,
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
            force_upgrade: false,
        }
    }

    /// The same context, upgrading past EKS's upgrade-blocking readiness checks when `force`.
    pub fn force_upgrade(mut self, force: bool) -> Self {
        self.force_upgrade = force;
        self
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
            Trust::ServiceAccount { .. } | Trust::ServiceAccountAndPodIdentity { .. } => {
                Some(self.oidc()?)
            }
            Trust::Service(_) | Trust::ServiceWithSessionTags(_) | Trust::PodIdentity => None,
        };
        trust_document(trust, oidc.as_ref().map(|(a, h)| (a.as_str(), h.as_str())))
            .ok_or_else(|| ExecError::Internal("trust policy needs the OIDC provider".to_owned()))
    }

    /// The client token of `resource`'s create in this run: the same for every attempt
    /// within the run, another in the next run.
    fn token(&self, resource: &str) -> String {
        network::client_token(&[&self.run_token, resource])
    }
}

/// Runs `operation` for `resource`: each service area carries out its own.
pub async fn run(ctx: &Context, resource: &str, operation: &Operation) -> Result<(), ExecError> {
    match operation {
        Operation::CreateVpc { .. }
        | Operation::CreateSubnet { .. }
        | Operation::CreateInternetGateway { .. }
        | Operation::AllocateAddress { .. }
        | Operation::CreateNatGateway { .. }
        | Operation::CreateRouteTable { .. }
        | Operation::SetDefaultRoute { .. }
        | Operation::AssociateRouteTable { .. }
        | Operation::DisassociateRouteTable { .. }
        | Operation::DeleteDefaultRoute { .. }
        | Operation::AssociateVpcIpv6Cidr { .. }
        | Operation::EnableSubnetIpv6 { .. }
        | Operation::CreateEgressOnlyInternetGateway { .. }
        | Operation::SetDefaultIpv6Route { .. }
        | Operation::TagEc2 { .. }
        | Operation::UntagEc2 { .. }
        | Operation::CreateLaunchTemplate { .. }
        | Operation::CreateLaunchTemplateVersion { .. }
        | Operation::DetachInternetGateway { .. }
        | Operation::DeleteEc2 { .. }
        | Operation::RevokeGroupRules { .. }
        | Operation::DeleteLeftovers { .. } => network::run(ctx, resource, operation).await,
        Operation::TagOidcProvider { .. }
        | Operation::CreateRole { .. }
        | Operation::UpdateTrust { .. }
        | Operation::AttachPolicy { .. }
        | Operation::DetachPolicy { .. }
        | Operation::PutInlinePolicy { .. }
        | Operation::DeleteInlinePolicy { .. }
        | Operation::TagRole { .. }
        | Operation::CreateOidcProvider { .. }
        | Operation::CreateServiceLinkedRole { .. }
        | Operation::DeleteRole { .. }
        | Operation::DeleteAutoModeInstanceProfiles { .. }
        | Operation::DeleteOidcProvider { .. } => iam::run(ctx, resource, operation).await,
        Operation::TagEks { .. }
        | Operation::CreateCluster { .. }
        | Operation::UpdateClusterConfig { .. }
        | Operation::UpdateClusterVersion { .. }
        | Operation::AssociateEncryptionConfig { .. }
        | Operation::CreateAddon { .. }
        | Operation::UpdateAddon { .. }
        | Operation::DeleteAddon { .. }
        | Operation::CreateAccessEntry { .. }
        | Operation::UpdateAccessEntry { .. }
        | Operation::AssociateAccessPolicy { .. }
        | Operation::DisassociateAccessPolicy { .. }
        | Operation::DeleteAccessEntry { .. }
        | Operation::DeleteCluster { .. } => cluster::run(ctx, resource, operation).await,
        Operation::UpdateNodeGroupVersion { .. }
        | Operation::UpdateNodeGroupLaunchTemplate { .. }
        | Operation::CreateNodeGroup { .. }
        | Operation::UpdateNodeGroup { .. }
        | Operation::DeleteNodeGroup { .. }
        | Operation::CreateFargateProfile { .. }
        | Operation::DeleteFargateProfile { .. } => compute::run(ctx, resource, operation).await,
        Operation::DeleteKarpenterLeftovers { .. } => {
            karpenter::run(ctx, resource, operation).await
        }
        Operation::CreatePodIdentityAssociation { .. }
        | Operation::UpdatePodIdentityAssociation { .. }
        | Operation::DeletePodIdentityAssociation { .. } => {
            pod_identity::run(ctx, resource, operation).await
        }
        Operation::CreateQueue { .. }
        | Operation::SetQueueAttributes { .. }
        | Operation::TagQueue { .. }
        | Operation::DeleteQueue { .. }
        | Operation::PutRule { .. }
        | Operation::PutTargets { .. }
        | Operation::RemoveTargets { .. }
        | Operation::TagRule { .. }
        | Operation::DeleteRule { .. } => interruption::run(ctx, resource, operation).await,
    }
}
