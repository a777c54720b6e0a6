//! Retries and waits that the operations of several areas share.

use std::time::Duration;

use crate::cloud::{CloudError, ErrorKind, UpdateOf};
use crate::plan::Ref;

use super::Context;
use crate::exec::ExecError;
use crate::exec::wait::{Poll, RETRY_EKS_BUSY, RETRY_IN_USE, RETRY_NEW_ROLE, Waiter};

/// Runs `call` until AWS stops answering InUse.
pub(super) async fn retry_while_in_use<F, Fut>(
    ctx: &Context,
    what: &str,
    call: F,
) -> Result<(), ExecError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<(), CloudError>>,
{
    ctx.waiter
        .wait(what, || async {
            match call().await {
                Ok(()) => Ok(Poll::Done),
                Err(e) if e.kind == ErrorKind::InUse => {
                    Ok(Poll::Pending(format!("{}{}", RETRY_IN_USE, e.message)))
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
pub(super) async fn retry_new_role<F, Fut>(waiter: &Waiter, call: F) -> Result<(), ExecError>
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
pub(super) async fn create_when_accepted<F, Fut>(
    waiter: &Waiter,
    what: &str,
    call: F,
) -> Result<(), ExecError>
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
                    Ok(Poll::Pending(format!("{}{}", RETRY_EKS_BUSY, e.message)))
                }
                Err(e) if role_not_usable_yet(&e) && started.elapsed() < ROLE_PROPAGATION => {
                    Ok(Poll::Pending(format!(
                        "{} (IAM propagates for a while): {}",
                        RETRY_NEW_ROLE, e.message
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

pub(super) async fn wait_cluster_active(ctx: &Context, name: &str) -> Result<String, ExecError> {
    let cloud = &ctx.cloud;
    ctx.waiter
        .wait(&format!("cluster {name}"), || async {
            Ok(match cloud.kubernetes.describe_cluster(name).await? {
                Some(c) if c.status == "ACTIVE" => {
                    if let Some(issuer) = &c.oidc_issuer {
                        ctx.set("cluster", "issuer", issuer.clone());
                    }
                    ctx.set("cluster", "arn", c.arn.clone());
                    if let Some(group) = &c.cluster_security_group_id {
                        ctx.set("cluster", "security-group", group.clone());
                    }
                    // What a custom AMI's nodes join with (their launch template's user data).
                    for (output, value) in [
                        ("endpoint", &c.endpoint),
                        ("certificate-authority", &c.certificate_authority),
                        ("service-cidr", &c.service_cidr),
                    ] {
                        if let Some(value) = value {
                            ctx.set("cluster", output, value.clone());
                        }
                    }
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

/// Whether EKS refused a call because the cluster is not ACTIVE (CREATING, or UPDATING for
/// another run's or tool's update): `InvalidRequestException: Cluster 'x' is not in ACTIVE
/// status` (eksctl#2244).
pub(super) fn cluster_not_active(error: &CloudError) -> bool {
    error.code.as_deref() == Some("InvalidRequestException")
        && error.message.contains("not in ACTIVE status")
}

/// Runs `call`; while EKS refuses it because the cluster is not ACTIVE, waits for the
/// cluster to be ACTIVE and runs it again. Nothing is waited for when the cluster is ACTIVE.
pub(super) async fn on_active_cluster<T, F, Fut>(
    ctx: &Context,
    cluster: &str,
    call: F,
) -> Result<T, ExecError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, ExecError>>,
{
    // DescribeCluster may say ACTIVE a moment before EKS takes work again.
    const ATTEMPTS: u32 = 20;
    let mut attempts = 0;
    loop {
        match call().await {
            Err(ExecError::Cloud(error)) if cluster_not_active(&error) && attempts < ATTEMPTS => {
                attempts += 1;
                tracing::info!(%error, "the cluster is not ACTIVE; waiting for it");
                wait_cluster_active(ctx, cluster).await?;
                ctx.waiter.sleep(ctx.waiter.initial).await;
            }
            other => return other,
        }
    }
}

/// Retries a call while EKS says another update of the same resource is still running
/// (`ResourceInUseException`), with the waiter's backoff and deadline.
pub(super) async fn retry_in_use<T, F, Fut>(ctx: &Context, mut call: F) -> Result<T, ExecError>
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
pub(super) async fn wait_update(
    ctx: &Context,
    waiter: &Waiter,
    cluster: &str,
    of: UpdateOf<'_>,
    id: &str,
) -> Result<(), ExecError> {
    let what = match of {
        UpdateOf::Cluster => format!("update {id} of cluster {cluster}"),
        UpdateOf::NodeGroup(name) => format!("update {id} of node group {name}"),
        UpdateOf::Addon(name) => format!("update {id} of add-on {name}"),
    };
    waiter
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
