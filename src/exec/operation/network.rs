//! EC2 and ELB operations: the VPC and its parts, launch templates, tags, deletes and leftovers.

use crate::cloud::{LaunchTemplateData, LaunchTemplateRequest, RouteTarget, SubnetRequest, Tags};
use crate::plan::{Operation, Ref};
use crate::resources::user_data::UserData;

use super::Context;
use super::retry::retry_while_in_use;
use crate::exec::ExecError;
use crate::exec::wait::Poll;

/// A client token made of `parts`: 39 ASCII characters whatever their length (EC2 takes at
/// most 64 and remembers each token, so two creates must never share one).
pub(super) fn client_token(parts: &[&str]) -> String {
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

/// Runs a network `operation` for `resource`; another area's is an internal error.
pub(super) async fn run(
    ctx: &Context,
    resource: &str,
    operation: &Operation,
) -> Result<(), ExecError> {
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
        Operation::AssociateVpcIpv6Cidr { vpc } => {
            let vpc_id = ctx.resolve(vpc)?;
            if cloud.network.vpc_ipv6_cidr(&vpc_id).await?.is_none() {
                cloud.network.associate_vpc_ipv6_cidr(&vpc_id).await?;
            }
            let block = vpc_ipv6_block(ctx, &vpc_id).await?;
            ctx.set(resource, "ipv6-cidr", block);
        }
        Operation::EnableSubnetIpv6 {
            subnet,
            vpc_block,
            index,
        } => {
            let cidr = match vpc_block {
                Some(block) => {
                    // The VPC's block may still be `associating` (an earlier run stopped
                    // while waiting for it): EC2 takes a subnet's /64 only of an associated
                    // one.
                    vpc_ipv6_block(ctx, &ctx.resolve(&Ref::output("vpc", "id"))?).await?;
                    Some(subnet_ipv6_block(&ctx.resolve(block)?, *index)?)
                }
                None => None,
            };
            cloud
                .network
                .enable_subnet_ipv6(&ctx.resolve(subnet)?, cidr.as_deref())
                .await?;
        }
        Operation::CreateEgressOnlyInternetGateway { vpc, tags } => {
            let id = cloud
                .network
                .create_egress_only_internet_gateway(&ctx.resolve(vpc)?, tags, &ctx.token(resource))
                .await?;
            ctx.set(resource, "id", id);
        }
        Operation::SetDefaultIpv6Route {
            table,
            internet_gateway,
            egress_only_internet_gateway,
        } => {
            let target = match (internet_gateway, egress_only_internet_gateway) {
                (Some(igw), _) => RouteTarget::InternetGateway(ctx.resolve(igw)?),
                (None, Some(eigw)) => RouteTarget::EgressOnlyInternetGateway(ctx.resolve(eigw)?),
                (None, None) => return Err(ExecError::Internal("route without target".to_owned())),
            };
            cloud
                .network
                .set_default_ipv6_route(&ctx.resolve(table)?, &target)
                .await?;
        }
        Operation::DeleteDefaultRoute { table } => {
            cloud
                .network
                .delete_default_route(&ctx.resolve(table)?)
                .await?;
        }
        Operation::TagEc2 { ids, tags } => {
            cloud
                .network
                .create_tags(&ctx.resolve_all(ids)?, tags)
                .await?;
        }
        Operation::RevokeGroupRules { group, rules } => {
            cloud.network.revoke_group_rules(group, rules).await?;
        }
        Operation::UntagEc2 { ids, tags } => {
            cloud
                .network
                .delete_tags(&ctx.resolve_all(ids)?, tags)
                .await?;
        }
        Operation::CreateLaunchTemplate {
            name,
            data,
            tags,
            user_data,
        } => {
            let request = LaunchTemplateRequest {
                name: name.clone(),
                data: with_user_data(ctx, data, user_data.as_ref())?,
                tags: tags.clone(),
                client_token: ctx.token(resource),
            };
            let (id, version) = cloud.network.create_launch_template(&request).await?;
            ctx.set(resource, "id", id);
            ctx.set(resource, "version", version.to_string());
        }
        Operation::CreateLaunchTemplateVersion {
            id,
            data,
            user_data,
        } => {
            let data = with_user_data(ctx, data, user_data.as_ref())?;
            let version = cloud
                .network
                .create_launch_template_version(id, &data, &ctx.token(resource))
                .await?;
            ctx.set(resource, "version", version.to_string());
        }
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
            // EKS Auto Mode's instances first: their interfaces hold the subnets and security
            // groups until they are terminated. (A cluster without Auto Mode has none: no call.)
            if !leftovers.instances.is_empty() {
                terminate_and_wait(
                    ctx,
                    &leftovers.instances,
                    &format!("EKS Auto Mode's instances of {cluster}"),
                )
                .await?;
            }
            for id in &leftovers.launch_templates {
                cloud
                    .network
                    .delete(crate::cloud::Ec2Kind::LaunchTemplate, id)
                    .await?;
            }
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
        _ => {
            return Err(ExecError::Internal(format!(
                "{resource}: not a network operation: {operation:?}"
            )));
        }
    }
    Ok(())
}

/// The `index`th /64 of a VPC's IPv6 block (an Amazon-provided /56 holds 256).
/// Waits until VPC `vpc_id`'s IPv6 block is associated (AWS answers `associating` first);
/// returns it.
async fn vpc_ipv6_block(ctx: &Context, vpc_id: &str) -> Result<String, ExecError> {
    let network = &ctx.cloud.network;
    ctx.waiter
        .wait(&format!("IPv6 block of VPC {vpc_id}"), || async {
            Ok(match network.vpc_ipv6_cidr(vpc_id).await? {
                Some((_, state)) if state == "associated" => Poll::Done,
                Some((_, state)) => Poll::Pending(state),
                None => Poll::Failed("EC2 dropped the IPv6 block it was associating".to_owned()),
            })
        })
        .await?;
    let (block, _) = network
        .vpc_ipv6_cidr(vpc_id)
        .await?
        .ok_or_else(|| ExecError::Internal(format!("VPC {vpc_id} lost its IPv6 block")))?;
    Ok(block)
}

fn subnet_ipv6_block(vpc_block: &str, index: u32) -> Result<String, ExecError> {
    let block: ipnet::Ipv6Net = vpc_block.parse().map_err(|_| {
        ExecError::Internal(format!("the VPC's IPv6 block `{vpc_block}` is not a CIDR"))
    })?;
    block
        .subnets(64)
        .ok()
        .and_then(|mut subnets| subnets.nth(usize::try_from(index).ok()?))
        .map(|net| net.to_string())
        .ok_or_else(|| {
            ExecError::Internal(format!(
                "the VPC's IPv6 block {vpc_block} has no /64 number {index}"
            ))
        })
}

/// Deletes, retrying while AWS still sees a dependency (ENIs of a deleted NAT, cluster or
/// load balancer linger for a while).
/// The launch template data with its user data written from the cluster's outputs.
fn with_user_data(
    ctx: &Context,
    data: &LaunchTemplateData,
    user_data: Option<&UserData>,
) -> Result<LaunchTemplateData, ExecError> {
    let mut data = data.clone();
    if let Some(user_data) = user_data {
        let text = user_data
            .render(&|r| ctx.resolve(r).ok())
            .ok_or_else(|| ExecError::Failed {
                what: "node user data".to_owned(),
                reason: "the cluster's endpoint, certificate authority or service CIDR is not known yet (EKS reports them once the cluster is ACTIVE)".to_owned(),
            })?;
        data.user_data = Some(text);
    }
    Ok(data)
}

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

/// Terminates instances (`what` names them in waits) and waits until none is left running.
pub(super) async fn terminate_and_wait(
    ctx: &Context,
    ids: &[String],
    what: &str,
) -> Result<(), ExecError> {
    let network = &ctx.cloud.network;
    network.terminate_instances(ids).await?;
    ctx.waiter
        .wait(&format!("termination of {what}"), || async {
            let left = network.instances_not_terminated(ids).await?;
            Ok(match left.first() {
                None => Poll::Done,
                Some((id, state)) => Poll::Pending(format!("{} left, {id} {state}", left.len())),
            })
        })
        .await?;
    Ok(())
}
