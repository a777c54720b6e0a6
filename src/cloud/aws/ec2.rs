//! `Network` over EC2; the load balancers in the network are in `elb`.

use async_trait::async_trait;
use aws_sdk_ec2::types::{
    AttachmentStatus, AttributeBooleanValue, CapacityReservationPreference,
    CapacityReservationTarget, ConnectivityType, DomainType, Filter, InstanceStateName,
    InstanceType, IpPermission, LaunchTemplate, LaunchTemplateBlockDeviceMappingRequest,
    LaunchTemplateCapacityReservationSpecificationRequest,
    LaunchTemplateCapacityReservationSpecificationResponse, LaunchTemplateEbsBlockDeviceRequest,
    LaunchTemplateHttpTokensState, LaunchTemplateInstanceMarketOptionsRequest,
    LaunchTemplateInstanceMetadataEndpointState, LaunchTemplateInstanceMetadataOptionsRequest,
    LaunchTemplateTagSpecificationRequest, MarketType, NatGatewayState, RequestLaunchTemplateData,
    Reservation, ResourceType, ResponseLaunchTemplateData, Tag, TagSpecification, UserIdGroupPair,
    VolumeType,
};
use futures::{StreamExt, TryStreamExt, stream};

use super::{AwsCloud, AwsContext, OrGone, READ_CONCURRENCY, after_create, required, string};
use crate::cloud::{
    AvailabilityZone, CapacityReservationTargeting, CloudError, CloudResult, Ec2Kind, ErrorKind,
    GroupRule, KarpenterLeftovers, LaunchTemplateData, LaunchTemplateRequest, Leftovers,
    LoadBalancerRef, Network, ObservedAddress, ObservedEgressOnlyInternetGateway, ObservedInstance,
    ObservedInternetGateway, ObservedLaunchTemplate, ObservedNatGateway, ObservedNetwork,
    ObservedRouteTable, ObservedSecurityGroup, ObservedSubnet, ObservedVpc, RouteTarget,
    SubnetRequest, Tags, VpcContents,
};
use crate::naming::{
    AUTO_MODE_CLUSTER_TAG, CLUSTER_TAG, KARPENTER_NODEPOOL_TAG, LB_CONTROLLER_CLUSTER_TAG,
    kubernetes_cluster_tag,
};

/// A security group, with its rules that name other groups.
fn observed_security_group(group: &aws_sdk_ec2::types::SecurityGroup) -> ObservedSecurityGroup {
    let rules = |ingress: bool, permissions: &[IpPermission]| -> Vec<GroupRule> {
        permissions
            .iter()
            .flat_map(|permission| {
                permission
                    .user_id_group_pairs()
                    .iter()
                    .filter_map(move |pair| {
                        Some(GroupRule {
                            ingress,
                            protocol: string(permission.ip_protocol()),
                            from_port: permission.from_port(),
                            to_port: permission.to_port(),
                            group_id: pair.group_id()?.to_owned(),
                        })
                    })
            })
            .collect()
    };
    let id = string(group.group_id());
    ObservedSecurityGroup {
        // A rule naming the group itself does not keep it (or another) from being deleted.
        group_rules: [
            rules(true, group.ip_permissions()),
            rules(false, group.ip_permissions_egress()),
        ]
        .concat()
        .into_iter()
        .filter(|r| r.group_id != id)
        .collect(),
        name: string(group.group_name()),
        tags: tags_of(group.tags()),
        id,
    }
}

/// The largest page most EC2 describes accept.
const PAGE: i32 = 1000;
/// DescribeRouteTables pages are at most 100.
const ROUTE_TABLE_PAGE: i32 = 100;
/// DescribeLaunchTemplates pages are at most 200.
const LAUNCH_TEMPLATE_PAGE: i32 = 200;
const DEFAULT_ROUTE: &str = "0.0.0.0/0";
const DEFAULT_IPV6_ROUTE: &str = "::/0";
/// Association states of an IPv6 block that is, or is becoming, the VPC's or subnet's.
const IPV6_LIVE_STATES: [&str; 2] = ["associating", "associated"];

fn filter(name: impl Into<String>, values: impl IntoIterator<Item = impl Into<String>>) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(values.into_iter().map(Into::into).collect()))
        .build()
}

fn ec2_tags(tags: &Tags) -> Vec<Tag> {
    tags.iter()
        .map(|(key, value)| Tag::builder().key(key).value(value).build())
        .collect()
}

fn tag_specification(resource_type: ResourceType, tags: &Tags) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(resource_type)
        .set_tags(Some(ec2_tags(tags)))
        .build()
}

fn tags_of(tags: &[Tag]) -> Tags {
    tags.iter()
        .filter_map(|tag| Some((tag.key()?.to_owned(), tag.value().unwrap_or("").to_owned())))
        .collect()
}

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

fn launch_template_data(data: &LaunchTemplateData) -> RequestLaunchTemplateData {
    let metadata = LaunchTemplateInstanceMetadataOptionsRequest::builder()
        .http_tokens(if data.metadata_tokens_required {
            LaunchTemplateHttpTokensState::Required
        } else {
            LaunchTemplateHttpTokensState::Optional
        })
        .http_put_response_hop_limit(i32::try_from(data.metadata_hop_limit).unwrap_or(i32::MAX))
        .http_endpoint(LaunchTemplateInstanceMetadataEndpointState::Enabled)
        .build();
    let disk = LaunchTemplateBlockDeviceMappingRequest::builder()
        .device_name(&data.disk_device)
        .ebs(
            LaunchTemplateEbsBlockDeviceRequest::builder()
                .volume_type(VolumeType::Gp3)
                .volume_size(i32::try_from(data.disk_size_gib).unwrap_or(i32::MAX))
                .encrypted(true)
                .delete_on_termination(true)
                .build(),
        )
        .build();
    // The AMI's own volume keeps its size; the mapping only has it encrypted (as eksctl's
    // `additionalEncryptedVolume` does for Bottlerocket).
    let os_volume = data.os_device.as_ref().map(|device| {
        LaunchTemplateBlockDeviceMappingRequest::builder()
            .device_name(device)
            .ebs(
                LaunchTemplateEbsBlockDeviceRequest::builder()
                    .volume_type(VolumeType::Gp3)
                    .encrypted(true)
                    .delete_on_termination(true)
                    .build(),
            )
            .build()
    });
    let launched = |resource_type| {
        LaunchTemplateTagSpecificationRequest::builder()
            .resource_type(resource_type)
            .set_tags(Some(ec2_tags(&data.instance_tags)))
            .build()
    };
    RequestLaunchTemplateData::builder()
        .metadata_options(metadata)
        .set_block_device_mappings(Some(std::iter::once(disk).chain(os_volume).collect()))
        .tag_specifications(launched(ResourceType::Instance))
        .tag_specifications(launched(ResourceType::Volume))
        .set_image_id(data.image_id.clone())
        .set_user_data(data.user_data.as_deref().map(|text| BASE64.encode(text)))
        .set_capacity_reservation_specification(
            data.capacity_reservation
                .as_ref()
                .map(capacity_reservation_specification),
        )
        .set_instance_type(data.instance_type.as_deref().map(InstanceType::from))
        .set_instance_market_options(data.market_type.as_deref().map(|market| {
            LaunchTemplateInstanceMarketOptionsRequest::builder()
                .market_type(MarketType::from(market))
                .build()
        }))
        .build()
}

fn capacity_reservation_specification(
    targeting: &CapacityReservationTargeting,
) -> LaunchTemplateCapacityReservationSpecificationRequest {
    let target = (targeting.id.is_some() || targeting.resource_group_arn.is_some()).then(|| {
        CapacityReservationTarget::builder()
            .set_capacity_reservation_id(targeting.id.clone())
            .set_capacity_reservation_resource_group_arn(targeting.resource_group_arn.clone())
            .build()
    });
    LaunchTemplateCapacityReservationSpecificationRequest::builder()
        .set_capacity_reservation_preference(
            targeting
                .preference
                .as_deref()
                .map(CapacityReservationPreference::from),
        )
        .set_capacity_reservation_target(target)
        .build()
}

fn observed_capacity_reservation(
    spec: &LaunchTemplateCapacityReservationSpecificationResponse,
) -> CapacityReservationTargeting {
    let target = spec.capacity_reservation_target();
    CapacityReservationTargeting {
        preference: spec
            .capacity_reservation_preference()
            .map(|p| p.as_str().to_owned()),
        id: target
            .and_then(|t| t.capacity_reservation_id())
            .map(str::to_owned),
        resource_group_arn: target
            .and_then(|t| t.capacity_reservation_resource_group_arn())
            .map(str::to_owned),
    }
}

fn observed_launch_template_data(data: &ResponseLaunchTemplateData) -> LaunchTemplateData {
    let metadata = data.metadata_options();
    // The sized volume is the disk; one mapped without a size is the AMI's, only encrypted.
    let mappings = data.block_device_mappings();
    let sized = mappings
        .iter()
        .find_map(|mapping| Some((mapping.device_name()?, mapping.ebs()?.volume_size()?)));
    let os_device = mappings
        .iter()
        .find(|mapping| mapping.ebs().is_some_and(|ebs| ebs.volume_size().is_none()))
        .and_then(|mapping| mapping.device_name().map(str::to_owned));
    let instance_tags = data
        .tag_specifications()
        .iter()
        .find(|spec| spec.resource_type() == Some(&ResourceType::Instance))
        .map(|spec| tags_of(spec.tags()))
        .unwrap_or_default();
    LaunchTemplateData {
        disk_device: sized
            .map(|(device, _)| device.to_owned())
            .unwrap_or_default(),
        disk_size_gib: sized
            .and_then(|(_, size)| u32::try_from(size).ok())
            .unwrap_or(0),
        os_device,
        metadata_hop_limit: metadata
            .and_then(|m| m.http_put_response_hop_limit())
            .and_then(|l| u32::try_from(l).ok())
            .unwrap_or(0),
        metadata_tokens_required: metadata.and_then(|m| m.http_tokens())
            == Some(&LaunchTemplateHttpTokensState::Required),
        instance_tags,
        image_id: data.image_id().map(str::to_owned),
        // User data that is not base64 text reads as different from any ekspec writes.
        user_data: data.user_data().map(|encoded| {
            BASE64
                .decode(encoded)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .unwrap_or_else(|| encoded.to_owned())
        }),
        capacity_reservation: data
            .capacity_reservation_specification()
            .map(observed_capacity_reservation),
        instance_type: data.instance_type().map(|t| t.as_str().to_owned()),
        market_type: data
            .instance_market_options()
            .and_then(|m| m.market_type())
            .map(|m| m.as_str().to_owned()),
    }
}

/// A default route of `family` cannot point at `target` (a NAT gateway carries IPv4 only, an
/// egress-only internet gateway IPv6 only).
fn not_a_route_target(table: &str, target: &RouteTarget, family: &str) -> CloudError {
    CloudError {
        operation: "CreateRoute",
        resource: table.to_owned(),
        code: None,
        message: format!("{} cannot carry the {family} default route", target.id()),
        kind: ErrorKind::Other,
    }
}

impl AwsCloud {
    /// Creates the IPv4 (`0.0.0.0/0`) or IPv6 (`::/0`) default route of a route table, or
    /// replaces it when one exists: IPv4 goes to an internet or NAT gateway, IPv6 to an
    /// internet or egress-only gateway.
    async fn put_default_route(
        &self,
        route_table_id: &str,
        target: &RouteTarget,
        ipv6: bool,
    ) -> CloudResult<()> {
        let about = format!("route table {route_table_id}");
        let (gateway, nat, egress_only) = match (target, ipv6) {
            (RouteTarget::InternetGateway(id), _) => (Some(id.clone()), None, None),
            (RouteTarget::NatGateway(id), false) => (None, Some(id.clone()), None),
            (RouteTarget::EgressOnlyInternetGateway(id), true) => (None, None, Some(id.clone())),
            _ => {
                let family = if ipv6 { "IPv6" } else { "IPv4" };
                return Err(not_a_route_target(route_table_id, target, family));
            }
        };
        let (v4, v6) = if ipv6 {
            (None, Some(DEFAULT_IPV6_ROUTE.to_owned()))
        } else {
            (Some(DEFAULT_ROUTE.to_owned()), None)
        };
        let created = self
            .ec2
            .create_route()
            .route_table_id(route_table_id)
            .set_destination_cidr_block(v4.clone())
            .set_destination_ipv6_cidr_block(v6.clone())
            .set_gateway_id(gateway.clone())
            .set_nat_gateway_id(nat.clone())
            .set_egress_only_internet_gateway_id(egress_only.clone())
            .send()
            .await
            .context("CreateRoute", &about);
        match created {
            Err(error) if error.kind == ErrorKind::AlreadyExists => {
                self.ec2
                    .replace_route()
                    .route_table_id(route_table_id)
                    .set_destination_cidr_block(v4)
                    .set_destination_ipv6_cidr_block(v6)
                    .set_gateway_id(gateway)
                    .set_nat_gateway_id(nat)
                    .set_egress_only_internet_gateway_id(egress_only)
                    .send()
                    .await
                    .context("ReplaceRoute", &about)?;
                Ok(())
            }
            other => other.map(drop),
        }
    }

    async fn vpcs(&self, filter: Filter, about: &str) -> CloudResult<Vec<ObservedVpc>> {
        let vpcs = all_items!(
            self.ec2.describe_vpcs().filters(filter).max_results(PAGE),
            "DescribeVpcs",
            about
        )?;
        Ok(vpcs
            .into_iter()
            .map(|vpc| ObservedVpc {
                id: string(vpc.vpc_id()),
                cidr: string(vpc.cidr_block()),
                tags: tags_of(vpc.tags()),
                // A block still `associating` is the VPC's already (a run stopped while it
                // waited for it): another association would be a second block.
                ipv6_cidr: vpc
                    .ipv6_cidr_block_association_set()
                    .iter()
                    .find(|a| {
                        a.ipv6_cidr_block_state()
                            .and_then(|s| s.state())
                            .is_some_and(|s| IPV6_LIVE_STATES.contains(&s.as_str()))
                    })
                    .and_then(|a| a.ipv6_cidr_block().map(str::to_owned)),
            })
            .collect())
    }

    async fn subnets(&self, filter: Filter, about: &str) -> CloudResult<Vec<ObservedSubnet>> {
        let subnets = all_items!(
            self.ec2
                .describe_subnets()
                .filters(filter)
                .max_results(PAGE),
            "DescribeSubnets",
            about
        )?;
        Ok(subnets
            .into_iter()
            .map(|subnet| ObservedSubnet {
                id: string(subnet.subnet_id()),
                vpc_id: string(subnet.vpc_id()),
                cidr: string(subnet.cidr_block()),
                availability_zone: string(subnet.availability_zone()),
                map_public_ip_on_launch: subnet.map_public_ip_on_launch().unwrap_or(false),
                tags: tags_of(subnet.tags()),
                ipv6_cidr: subnet
                    .ipv6_cidr_block_association_set()
                    .iter()
                    .find(|a| {
                        a.ipv6_cidr_block_state()
                            .and_then(|s| s.state())
                            .is_some_and(|s| IPV6_LIVE_STATES.contains(&s.as_str()))
                    })
                    .and_then(|a| a.ipv6_cidr_block().map(str::to_owned)),
                assign_ipv6_address_on_creation: subnet
                    .assign_ipv6_address_on_creation()
                    .unwrap_or(false),
            })
            .collect())
    }

    async fn internet_gateways(
        &self,
        filter: Filter,
        about: &str,
    ) -> CloudResult<Vec<ObservedInternetGateway>> {
        let gateways = all_items!(
            self.ec2
                .describe_internet_gateways()
                .filters(filter)
                .max_results(PAGE),
            "DescribeInternetGateways",
            about
        )?;
        Ok(gateways
            .into_iter()
            .map(|igw| ObservedInternetGateway {
                id: string(igw.internet_gateway_id()),
                attached_vpc_ids: igw
                    .attachments()
                    .iter()
                    .filter(|a| a.state() != Some(&AttachmentStatus::Detached))
                    .filter_map(|a| a.vpc_id().map(str::to_owned))
                    .collect(),
                tags: tags_of(igw.tags()),
            })
            .collect())
    }

    async fn addresses(&self, filter: Filter, about: &str) -> CloudResult<Vec<ObservedAddress>> {
        // DescribeAddresses is not paginated.
        let output = self
            .ec2
            .describe_addresses()
            .filters(filter)
            .send()
            .await
            .context("DescribeAddresses", about)?;
        Ok(output
            .addresses()
            .iter()
            .map(|address| ObservedAddress {
                allocation_id: string(address.allocation_id()),
                association_id: address.association_id().map(str::to_owned),
                public_ip: address.public_ip().map(str::to_owned),
                tags: tags_of(address.tags()),
            })
            .collect())
    }

    async fn nat_gateways(
        &self,
        filter: Filter,
        about: &str,
    ) -> CloudResult<Vec<ObservedNatGateway>> {
        let gateways = all_items!(
            self.ec2
                .describe_nat_gateways()
                .filter(filter)
                .max_results(PAGE),
            "DescribeNatGateways",
            about
        )?;
        Ok(gateways
            .into_iter()
            .map(|nat| ObservedNatGateway {
                id: string(nat.nat_gateway_id()),
                subnet_id: string(nat.subnet_id()),
                allocation_ids: nat
                    .nat_gateway_addresses()
                    .iter()
                    .filter_map(|a| a.allocation_id().map(str::to_owned))
                    .collect(),
                state: nat
                    .state()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                tags: tags_of(nat.tags()),
            })
            .collect())
    }

    async fn route_tables(
        &self,
        filter: Filter,
        about: &str,
    ) -> CloudResult<Vec<ObservedRouteTable>> {
        let tables = all_items!(
            self.ec2
                .describe_route_tables()
                .filters(filter)
                .max_results(ROUTE_TABLE_PAGE),
            "DescribeRouteTables",
            about
        )?;
        Ok(tables
            .into_iter()
            .map(|table| {
                let default_route = table
                    .routes()
                    .iter()
                    .find(|r| r.destination_cidr_block() == Some(DEFAULT_ROUTE))
                    .and_then(|route| match (route.nat_gateway_id(), route.gateway_id()) {
                        (Some(nat), _) => Some(RouteTarget::NatGateway(nat.to_owned())),
                        (None, Some(igw)) if igw.starts_with("igw-") => {
                            Some(RouteTarget::InternetGateway(igw.to_owned()))
                        }
                        _ => None,
                    });
                let default_ipv6_route = table
                    .routes()
                    .iter()
                    .find(|r| r.destination_ipv6_cidr_block() == Some(DEFAULT_IPV6_ROUTE))
                    .and_then(|route| {
                        match (route.egress_only_internet_gateway_id(), route.gateway_id()) {
                            (Some(eigw), _) => {
                                Some(RouteTarget::EgressOnlyInternetGateway(eigw.to_owned()))
                            }
                            (None, Some(igw)) if igw.starts_with("igw-") => {
                                Some(RouteTarget::InternetGateway(igw.to_owned()))
                            }
                            _ => None,
                        }
                    });
                ObservedRouteTable {
                    id: string(table.route_table_id()),
                    vpc_id: string(table.vpc_id()),
                    default_route,
                    associations: table
                        .associations()
                        .iter()
                        .filter_map(|a| {
                            Some((
                                a.route_table_association_id()?.to_owned(),
                                a.subnet_id()?.to_owned(),
                            ))
                        })
                        .collect(),
                    tags: tags_of(table.tags()),
                    main: table.associations().iter().any(|a| a.main() == Some(true)),
                    default_ipv6_route,
                }
            })
            .collect())
    }

    /// Egress-only internet gateways (every one in the region without a filter: the call
    /// filters by tags only).
    async fn egress_only_internet_gateways(
        &self,
        filter: Option<Filter>,
        about: &str,
    ) -> CloudResult<Vec<ObservedEgressOnlyInternetGateway>> {
        let gateways = all_items!(
            self.ec2
                .describe_egress_only_internet_gateways()
                .set_filters(filter.map(|f| vec![f]))
                .max_results(ROUTE_TABLE_PAGE),
            "DescribeEgressOnlyInternetGateways",
            about
        )?;
        Ok(gateways
            .into_iter()
            .map(|gateway| ObservedEgressOnlyInternetGateway {
                id: string(gateway.egress_only_internet_gateway_id()),
                vpc_id: gateway
                    .attachments()
                    .iter()
                    .find(|a| a.state() != Some(&AttachmentStatus::Detached))
                    .and_then(|a| a.vpc_id().map(str::to_owned)),
                tags: tags_of(gateway.tags()),
            })
            .collect())
    }

    async fn launch_templates(
        &self,
        filter: Filter,
        about: &str,
    ) -> CloudResult<Vec<ObservedLaunchTemplate>> {
        let templates = all_items!(
            self.ec2
                .describe_launch_templates()
                .filters(filter)
                .max_results(LAUNCH_TEMPLATE_PAGE),
            "DescribeLaunchTemplates",
            about
        )?;
        stream::iter(templates)
            .map(|template| async move {
                let id = string(template.launch_template_id());
                let data = self.latest_version_data(&id).await?;
                Ok(ObservedLaunchTemplate {
                    name: string(template.launch_template_name()),
                    latest_version: template.latest_version_number().unwrap_or(0),
                    data,
                    tags: tags_of(template.tags()),
                    id,
                })
            })
            .buffered(READ_CONCURRENCY)
            .try_collect()
            .await
    }

    async fn security_groups(
        &self,
        filter: Filter,
        about: &str,
    ) -> CloudResult<Vec<ObservedSecurityGroup>> {
        let groups = all_items!(
            self.ec2
                .describe_security_groups()
                .filters(filter)
                .max_results(PAGE),
            "DescribeSecurityGroups",
            about
        )?;
        Ok(groups.iter().map(observed_security_group).collect())
    }

    /// The settings of a launch template's newest version (`None` if it vanished).
    async fn latest_version_data(&self, id: &str) -> CloudResult<Option<LaunchTemplateData>> {
        self.version_data(id, "$Latest").await
    }

    /// The settings of one version of a launch template (`None` if it vanished).
    async fn version_data(
        &self,
        id: &str,
        version: &str,
    ) -> CloudResult<Option<LaunchTemplateData>> {
        let output = self
            .ec2
            .describe_launch_template_versions()
            .launch_template_id(id)
            .versions(version)
            .send()
            .await
            .context(
                "DescribeLaunchTemplateVersions",
                format!("launch template {id}"),
            )
            .or_gone()?;
        Ok(output.and_then(|output| {
            let version = output.launch_template_versions().first()?;
            Some(observed_launch_template_data(
                version.launch_template_data()?,
            ))
        }))
    }
}

#[async_trait]
impl Network for AwsCloud {
    async fn discover(&self, cluster: &str) -> CloudResult<ObservedNetwork> {
        let tagged = || filter(format!("tag:{CLUSTER_TAG}"), [cluster]);
        let about = format!("resources tagged {CLUSTER_TAG}={cluster}");
        let (vpcs, subnets, internet_gateways, addresses, nat_gateways, route_tables, templates) =
            tokio::try_join!(
                self.vpcs(tagged(), &about),
                self.subnets(tagged(), &about),
                self.internet_gateways(tagged(), &about),
                self.addresses(tagged(), &about),
                self.nat_gateways(tagged(), &about),
                self.route_tables(tagged(), &about),
                self.launch_templates(tagged(), &about),
            )?;
        let (egress_only_internet_gateways, security_groups) = tokio::try_join!(
            self.egress_only_internet_gateways(Some(tagged()), &about),
            self.security_groups(tagged(), &about),
        )?;
        // The tag is checked again here: what discover returns may be deleted, so a filter an
        // emulator ignores must not hand over someone else's resources.
        let owned = |tags: &Tags| tags.get(CLUSTER_TAG).map(String::as_str) == Some(cluster);
        Ok(ObservedNetwork {
            vpcs: vpcs.into_iter().filter(|r| owned(&r.tags)).collect(),
            subnets: subnets.into_iter().filter(|r| owned(&r.tags)).collect(),
            internet_gateways: internet_gateways
                .into_iter()
                .filter(|r| owned(&r.tags))
                .collect(),
            addresses: addresses.into_iter().filter(|r| owned(&r.tags)).collect(),
            nat_gateways: nat_gateways
                .into_iter()
                .filter(|r| owned(&r.tags) && r.state != NatGatewayState::Deleted.as_str())
                .collect(),
            route_tables: route_tables
                .into_iter()
                .filter(|r| owned(&r.tags))
                .collect(),
            launch_templates: templates.into_iter().filter(|r| owned(&r.tags)).collect(),
            egress_only_internet_gateways: egress_only_internet_gateways
                .into_iter()
                .filter(|r| owned(&r.tags))
                .collect(),
            security_groups: security_groups
                .into_iter()
                .filter(|r| owned(&r.tags))
                .collect(),
        })
    }

    async fn vpc_contents(&self, vpc_id: &str) -> CloudResult<VpcContents> {
        let about = format!("VPC {vpc_id}");
        let in_vpc = || filter("vpc-id", [vpc_id]);
        let (vpcs, subnets, internet_gateways, nat_gateways, route_tables, security_groups) = tokio::try_join!(
            self.vpcs(in_vpc(), &about),
            self.subnets(in_vpc(), &about),
            self.internet_gateways(filter("attachment.vpc-id", [vpc_id]), &about),
            self.nat_gateways(in_vpc(), &about),
            self.route_tables(in_vpc(), &about),
            self.security_groups(in_vpc(), &about),
        )?;
        // DescribeEgressOnlyInternetGateways filters by tag only: its attachment says the VPC.
        let (egress_only, reservations) =
            tokio::try_join!(self.egress_only_internet_gateways(None, &about), async {
                all_items!(
                    self.ec2
                        .describe_instances()
                        .filters(in_vpc())
                        .filters(filter(
                            "instance-state-name",
                            ["pending", "running", "stopping", "stopped"],
                        ))
                        .max_results(PAGE),
                    "DescribeInstances",
                    &about
                )
            },)?;
        let nat_gateways: Vec<ObservedNatGateway> = nat_gateways
            .into_iter()
            .filter(|n| n.state != NatGatewayState::Deleted.as_str())
            .collect();
        let allocations: Vec<String> = nat_gateways
            .iter()
            .flat_map(|n| n.allocation_ids.clone())
            .collect();
        let addresses = if allocations.is_empty() {
            Vec::new()
        } else {
            self.addresses(filter("allocation-id", allocations), &about)
                .await?
        };
        Ok(VpcContents {
            network: ObservedNetwork {
                vpcs,
                subnets,
                internet_gateways,
                addresses,
                nat_gateways,
                route_tables,
                launch_templates: Vec::new(),
                egress_only_internet_gateways: egress_only
                    .into_iter()
                    .filter(|g| g.vpc_id.as_deref() == Some(vpc_id))
                    .collect(),
                security_groups: security_groups
                    .into_iter()
                    .filter(|g| g.name != "default")
                    .collect(),
            },
            instances: reservations
                .iter()
                .flat_map(Reservation::instances)
                .map(|instance| ObservedInstance {
                    id: string(instance.instance_id()),
                    state: instance
                        .state()
                        .and_then(|s| s.name())
                        .map(|n| n.as_str().to_owned())
                        .unwrap_or_default(),
                    tags: tags_of(instance.tags()),
                })
                .collect(),
        })
    }

    async fn revoke_group_rules(&self, group: &str, rules: &[GroupRule]) -> CloudResult<()> {
        let about = format!("security group {group}");
        for rule in rules {
            let permission = IpPermission::builder()
                .ip_protocol(&rule.protocol)
                .set_from_port(rule.from_port)
                .set_to_port(rule.to_port)
                .user_id_group_pairs(UserIdGroupPair::builder().group_id(&rule.group_id).build())
                .build();
            // One rule a call: in a non-default VPC a rule that does not match answers
            // InvalidPermission.NotFound "and no rules are revoked" (RevokeSecurityGroupIngress
            // API reference). A rule (or the group) already gone is that error (or
            // InvalidGroup.NotFound), so a rerun after a stop goes on.
            let revoked = if rule.ingress {
                self.ec2
                    .revoke_security_group_ingress()
                    .group_id(group)
                    .ip_permissions(permission)
                    .send()
                    .await
                    .context("RevokeSecurityGroupIngress", &about)
                    .map(drop)
            } else {
                self.ec2
                    .revoke_security_group_egress()
                    .group_id(group)
                    .ip_permissions(permission)
                    .send()
                    .await
                    .context("RevokeSecurityGroupEgress", &about)
                    .map(drop)
            };
            match revoked {
                Err(error) if error.is_not_found() => {}
                other => other?,
            }
        }
        Ok(())
    }

    async fn describe_existing(
        &self,
        vpc_id: &str,
        subnet_ids: &[String],
    ) -> CloudResult<(Option<ObservedVpc>, Vec<ObservedSubnet>)> {
        // Filters instead of ids: a missing id is left out instead of failing the call.
        let about = format!("VPC {vpc_id}");
        let subnets = async {
            if subnet_ids.is_empty() {
                return Ok(Vec::new());
            }
            self.subnets(filter("subnet-id", subnet_ids), &about).await
        };
        let (vpcs, subnets) =
            tokio::try_join!(self.vpcs(filter("vpc-id", [vpc_id]), &about), subnets)?;
        Ok((vpcs.into_iter().next(), subnets))
    }

    async fn availability_zones(&self) -> CloudResult<Vec<AvailabilityZone>> {
        let output = self
            .ec2
            .describe_availability_zones()
            .filters(filter("state", ["available"]))
            .send()
            .await
            .context("DescribeAvailabilityZones", "the region")?;
        let mut zones: Vec<AvailabilityZone> = output
            .availability_zones()
            .iter()
            .filter_map(|zone| {
                Some(AvailabilityZone {
                    name: zone.zone_name()?.to_owned(),
                    id: zone.zone_id().unwrap_or_default().to_owned(),
                    kind: zone.zone_type().unwrap_or("availability-zone").to_owned(),
                })
            })
            .collect();
        zones.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(zones)
    }

    async fn create_vpc(&self, cidr: &str, tags: &Tags) -> CloudResult<String> {
        let output = self
            .ec2
            .create_vpc()
            .cidr_block(cidr)
            .tag_specifications(tag_specification(ResourceType::Vpc, tags))
            .send()
            .await
            .context("CreateVpc", format!("VPC {cidr}"))?;
        let id = required(
            output.vpc().and_then(|v| v.vpc_id()),
            "VPC id",
            "CreateVpc",
            format!("VPC {cidr}"),
        )?
        .to_owned();
        // ModifyVpcAttribute takes one attribute per call.
        let enabled = || AttributeBooleanValue::builder().value(true).build();
        after_create(|| async {
            self.ec2
                .modify_vpc_attribute()
                .vpc_id(&id)
                .enable_dns_support(enabled())
                .send()
                .await
                .context("ModifyVpcAttribute", format!("VPC {id}"))
        })
        .await?;
        after_create(|| async {
            self.ec2
                .modify_vpc_attribute()
                .vpc_id(&id)
                .enable_dns_hostnames(enabled())
                .send()
                .await
                .context("ModifyVpcAttribute", format!("VPC {id}"))
        })
        .await?;
        Ok(id)
    }

    async fn create_subnet(&self, request: &SubnetRequest) -> CloudResult<String> {
        let about = format!("subnet {} in {}", request.cidr, request.vpc_id);
        let output = self
            .ec2
            .create_subnet()
            .vpc_id(&request.vpc_id)
            .cidr_block(&request.cidr)
            .availability_zone(&request.availability_zone)
            .tag_specifications(tag_specification(ResourceType::Subnet, &request.tags))
            .send()
            .await
            .context("CreateSubnet", &about)?;
        let id = required(
            output.subnet().and_then(|s| s.subnet_id()),
            "subnet id",
            "CreateSubnet",
            &about,
        )?
        .to_owned();
        if request.public {
            after_create(|| async {
                self.ec2
                    .modify_subnet_attribute()
                    .subnet_id(&id)
                    .map_public_ip_on_launch(AttributeBooleanValue::builder().value(true).build())
                    .send()
                    .await
                    .context("ModifySubnetAttribute", format!("subnet {id}"))
            })
            .await?;
        }
        Ok(id)
    }

    async fn create_internet_gateway(&self, vpc_id: &str, tags: &Tags) -> CloudResult<String> {
        let about = format!("internet gateway for {vpc_id}");
        let output = self
            .ec2
            .create_internet_gateway()
            .tag_specifications(tag_specification(ResourceType::InternetGateway, tags))
            .send()
            .await
            .context("CreateInternetGateway", &about)?;
        let id = required(
            output
                .internet_gateway()
                .and_then(|g| g.internet_gateway_id()),
            "internet gateway id",
            "CreateInternetGateway",
            &about,
        )?
        .to_owned();
        after_create(|| async {
            self.ec2
                .attach_internet_gateway()
                .internet_gateway_id(&id)
                .vpc_id(vpc_id)
                .send()
                .await
                .context("AttachInternetGateway", format!("internet gateway {id}"))
        })
        .await?;
        Ok(id)
    }

    async fn allocate_address(&self, tags: &Tags) -> CloudResult<String> {
        let output = self
            .ec2
            .allocate_address()
            .domain(DomainType::Vpc)
            .tag_specifications(tag_specification(ResourceType::ElasticIp, tags))
            .send()
            .await
            .context("AllocateAddress", "Elastic IP")?;
        Ok(required(
            output.allocation_id(),
            "allocation id",
            "AllocateAddress",
            "Elastic IP",
        )?
        .to_owned())
    }

    async fn create_nat_gateway(
        &self,
        subnet_id: &str,
        allocation_id: &str,
        tags: &Tags,
        client_token: &str,
    ) -> CloudResult<(String, String)> {
        let about = format!("NAT gateway in {subnet_id}");
        let output = self
            .ec2
            .create_nat_gateway()
            .subnet_id(subnet_id)
            .allocation_id(allocation_id)
            .connectivity_type(ConnectivityType::Public)
            .client_token(client_token)
            .tag_specifications(tag_specification(ResourceType::Natgateway, tags))
            .send()
            .await
            .context("CreateNatGateway", &about)?;
        let id = required(
            output.nat_gateway().and_then(|n| n.nat_gateway_id()),
            "NAT gateway id",
            "CreateNatGateway",
            &about,
        )?
        .to_owned();
        let state = output
            .nat_gateway()
            .and_then(|n| n.state())
            .map_or_else(|| "pending".to_owned(), |s| s.as_str().to_owned());
        Ok((id, state))
    }

    async fn nat_gateway_state(&self, id: &str) -> CloudResult<Option<String>> {
        // A filter, not NatGatewayIds: an unknown id is "gone", not an error.
        let gateways = self
            .nat_gateways(filter("nat-gateway-id", [id]), &format!("NAT gateway {id}"))
            .await?;
        Ok(gateways.into_iter().next().map(|nat| nat.state))
    }

    async fn create_route_table(&self, vpc_id: &str, tags: &Tags) -> CloudResult<String> {
        let about = format!("route table in {vpc_id}");
        let output = self
            .ec2
            .create_route_table()
            .vpc_id(vpc_id)
            .tag_specifications(tag_specification(ResourceType::RouteTable, tags))
            .send()
            .await
            .context("CreateRouteTable", &about)?;
        Ok(required(
            output.route_table().and_then(|t| t.route_table_id()),
            "route table id",
            "CreateRouteTable",
            &about,
        )?
        .to_owned())
    }

    async fn set_default_route(
        &self,
        route_table_id: &str,
        target: &RouteTarget,
    ) -> CloudResult<()> {
        self.put_default_route(route_table_id, target, false).await
    }

    async fn associate_route_table(
        &self,
        route_table_id: &str,
        subnet_id: &str,
    ) -> CloudResult<String> {
        let about = format!("route table {route_table_id} and subnet {subnet_id}");
        let output = self
            .ec2
            .associate_route_table()
            .route_table_id(route_table_id)
            .subnet_id(subnet_id)
            .send()
            .await
            .context("AssociateRouteTable", &about)?;
        Ok(required(
            output.association_id(),
            "association id",
            "AssociateRouteTable",
            &about,
        )?
        .to_owned())
    }

    async fn disassociate_route_table(&self, association_id: &str) -> CloudResult<()> {
        self.ec2
            .disassociate_route_table()
            .association_id(association_id)
            .send()
            .await
            .context(
                "DisassociateRouteTable",
                format!("route table association {association_id}"),
            )
            .or_gone()
            .map(drop)
    }

    async fn create_tags(&self, resource_ids: &[String], tags: &Tags) -> CloudResult<()> {
        self.ec2
            .create_tags()
            .set_resources(Some(resource_ids.to_vec()))
            .set_tags(Some(ec2_tags(tags)))
            .send()
            .await
            .context("CreateTags", resource_ids.join(", "))
            .map(drop)
    }

    async fn create_launch_template(
        &self,
        request: &LaunchTemplateRequest,
    ) -> CloudResult<(String, i64)> {
        let about = format!("launch template {}", request.name);
        let output = self
            .ec2
            .create_launch_template()
            .launch_template_name(&request.name)
            .client_token(&request.client_token)
            .launch_template_data(launch_template_data(&request.data))
            .tag_specifications(tag_specification(
                ResourceType::LaunchTemplate,
                &request.tags,
            ))
            .send()
            .await
            .context("CreateLaunchTemplate", &about)?;
        let template = required(
            output.launch_template(),
            "launch template",
            "CreateLaunchTemplate",
            &about,
        )?;
        let id = required(
            template.launch_template_id(),
            "launch template id",
            "CreateLaunchTemplate",
            &about,
        )?;
        Ok((id.to_owned(), template.latest_version_number().unwrap_or(1)))
    }

    async fn create_launch_template_version(
        &self,
        id: &str,
        data: &LaunchTemplateData,
        client_token: &str,
    ) -> CloudResult<i64> {
        let about = format!("launch template {id}");
        let output = self
            .ec2
            .create_launch_template_version()
            .launch_template_id(id)
            .client_token(client_token)
            .launch_template_data(launch_template_data(data))
            .send()
            .await
            .context("CreateLaunchTemplateVersion", &about)?;
        let version = required(
            output
                .launch_template_version()
                .and_then(|v| v.version_number()),
            "version number",
            "CreateLaunchTemplateVersion",
            &about,
        )?;
        Ok(version)
    }

    async fn discover_leftovers(&self, cluster: &str, vpc_id: &str) -> CloudResult<Leftovers> {
        let about = format!("VPC {vpc_id}");
        let in_vpc = || filter("vpc-id", [vpc_id]);
        // The in-tree cloud provider tags its groups `kubernetes.io/cluster/<cluster>`, the
        // AWS Load Balancer Controller `elbv2.k8s.aws/cluster = <cluster>`; EC2 filters are
        // ANDed, so the VPC's groups are read and told apart by their tags here.
        let groups = async {
            all_items!(
                self.ec2
                    .describe_security_groups()
                    .filters(in_vpc())
                    .filters(filter(
                        "tag-key",
                        [
                            kubernetes_cluster_tag(cluster),
                            LB_CONTROLLER_CLUSTER_TAG.to_owned(),
                            AUTO_MODE_CLUSTER_TAG.to_owned()
                        ],
                    ))
                    .max_results(PAGE),
                "DescribeSecurityGroups",
                &about
            )
        };
        let interfaces = async {
            all_items!(
                self.ec2
                    .describe_network_interfaces()
                    .filters(in_vpc())
                    .filters(filter("status", ["available"]))
                    .max_results(PAGE),
                "DescribeNetworkInterfaces",
                &about
            )
        };
        let load_balancers = self.kubernetes_load_balancers(cluster, vpc_id);
        // EKS Auto Mode's instances and launch templates carry `eks:eks-cluster-name`.
        let auto_mode = || filter(format!("tag:{AUTO_MODE_CLUSTER_TAG}"), [cluster]);
        let reservations = async {
            all_items!(
                self.ec2
                    .describe_instances()
                    .filters(in_vpc())
                    .filters(auto_mode())
                    .filters(filter(
                        "instance-state-name",
                        ["pending", "running", "shutting-down", "stopping", "stopped"],
                    ))
                    .max_results(PAGE),
                "DescribeInstances",
                &about
            )
        };
        let templates = async {
            all_items!(
                self.ec2
                    .describe_launch_templates()
                    .filters(auto_mode())
                    .max_results(LAUNCH_TEMPLATE_PAGE),
                "DescribeLaunchTemplates",
                &about
            )
        };
        let auto_mode_made = |tags: &[Tag]| {
            tags_of(tags)
                .get(AUTO_MODE_CLUSTER_TAG)
                .is_some_and(|value| value == cluster)
        };
        let (groups, interfaces, load_balancers, reservations, templates): (
            _,
            _,
            _,
            Vec<Reservation>,
            Vec<LaunchTemplate>,
        ) = tokio::try_join!(groups, interfaces, load_balancers, reservations, templates)?;
        Ok(Leftovers {
            load_balancers: load_balancers.load_balancers,
            target_groups: load_balancers.target_groups,
            security_groups: groups
                .iter()
                .filter(|g| g.group_name() != Some("default"))
                .filter(|g| {
                    let tags = tags_of(g.tags());
                    tags.contains_key(&kubernetes_cluster_tag(cluster))
                        || [LB_CONTROLLER_CLUSTER_TAG, AUTO_MODE_CLUSTER_TAG]
                            .iter()
                            .any(|key| tags.get(*key).is_some_and(|name| name == cluster))
                })
                .filter_map(|g| g.group_id().map(str::to_owned))
                .collect(),
            network_interfaces: interfaces
                .iter()
                .filter_map(|i| i.network_interface_id().map(str::to_owned))
                .collect(),
            // Checked again here, as the filters asked: nothing is terminated or deleted on a
            // filter EC2 (or an emulator) did not apply.
            instances: reservations
                .iter()
                .flat_map(|r| r.instances())
                .filter(|i| auto_mode_made(i.tags()) && i.vpc_id() == Some(vpc_id))
                .filter(|i| {
                    !matches!(
                        i.state().and_then(|s| s.name()),
                        Some(InstanceStateName::Terminated)
                    )
                })
                .filter_map(|i| i.instance_id().map(str::to_owned))
                .collect(),
            launch_templates: templates
                .iter()
                .filter(|t| auto_mode_made(t.tags()))
                .filter_map(|t| t.launch_template_id().map(str::to_owned))
                .collect(),
        })
    }

    async fn security_group(&self, id: &str) -> CloudResult<Option<ObservedSecurityGroup>> {
        let about = format!("security group {id}");
        let output = self
            .ec2
            .describe_security_groups()
            .group_ids(id)
            .send()
            .await
            .context("DescribeSecurityGroups", &about)
            .or_gone()?;
        Ok(output.and_then(|o| o.security_groups().first().map(observed_security_group)))
    }

    async fn delete_tags(&self, resource_ids: &[String], tags: &Tags) -> CloudResult<()> {
        // With a value, EC2 deletes a tag only where it has that value (DeleteTags).
        self.ec2
            .delete_tags()
            .set_resources(Some(resource_ids.to_vec()))
            .set_tags(Some(ec2_tags(tags)))
            .send()
            .await
            .context("DeleteTags", resource_ids.join(", "))
            .map(drop)
    }

    async fn discover_karpenter_leftovers(&self, cluster: &str) -> CloudResult<KarpenterLeftovers> {
        let about = format!("Karpenter's instances of {cluster}");
        let karpenter = || {
            [
                filter(
                    format!("tag:{}", kubernetes_cluster_tag(cluster)),
                    ["owned"],
                ),
                filter("tag-key", [KARPENTER_NODEPOOL_TAG]),
            ]
        };
        let reservations = async {
            all_items!(
                self.ec2
                    .describe_instances()
                    .set_filters(Some(
                        [
                            karpenter().to_vec(),
                            vec![filter(
                                "instance-state-name",
                                ["pending", "running", "shutting-down", "stopping", "stopped"],
                            )],
                        ]
                        .concat()
                    ))
                    .max_results(PAGE),
                "DescribeInstances",
                &about
            )
        };
        let templates = async {
            all_items!(
                self.ec2
                    .describe_launch_templates()
                    .set_filters(Some(karpenter().to_vec()))
                    .max_results(LAUNCH_TEMPLATE_PAGE),
                "DescribeLaunchTemplates",
                &about
            )
        };
        let (reservations, templates): (Vec<Reservation>, Vec<LaunchTemplate>) =
            tokio::try_join!(reservations, templates)?;
        // The filters asked EC2 for these; the tags are checked again here, so nothing is
        // terminated or deleted on a filter EC2 (or an emulator) did not apply: ekspec's own
        // launch templates carry the cluster tag too.
        let karpenter_made = |tags: &[Tag]| {
            let tags = tags_of(tags);
            tags.get(&kubernetes_cluster_tag(cluster))
                .is_some_and(|value| value == "owned")
                && tags.contains_key(KARPENTER_NODEPOOL_TAG)
        };
        Ok(KarpenterLeftovers {
            instances: reservations
                .iter()
                .flat_map(|r| r.instances())
                .filter(|i| karpenter_made(i.tags()))
                .filter_map(|i| i.instance_id().map(str::to_owned))
                .collect(),
            launch_templates: templates
                .iter()
                .filter(|t| karpenter_made(t.tags()))
                .filter_map(|t| t.launch_template_id().map(str::to_owned))
                .collect(),
        })
    }

    async fn terminate_instances(&self, ids: &[String]) -> CloudResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        self.ec2
            .terminate_instances()
            .set_instance_ids(Some(ids.to_vec()))
            .send()
            .await
            .context("TerminateInstances", ids.join(", "))
            .or_gone()
            .map(drop)
    }

    async fn instances_not_terminated(&self, ids: &[String]) -> CloudResult<Vec<(String, String)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let reservations: Vec<Reservation> = match all_items!(
            self.ec2
                .describe_instances()
                .set_instance_ids(Some(ids.to_vec())),
            "DescribeInstances",
            ids.join(", ")
        )
        .or_gone()?
        {
            Some(reservations) => reservations,
            // EC2 forgets terminated instances after a while: gone.
            None => return Ok(Vec::new()),
        };
        Ok(reservations
            .iter()
            .flat_map(|r| r.instances())
            .filter_map(|i| {
                let state = i.state()?.name()?.as_str().to_owned();
                let id = i.instance_id()?.to_owned();
                (state != "terminated").then_some((id, state))
            })
            .collect())
    }

    async fn delete_load_balancer(&self, load_balancer: &LoadBalancerRef) -> CloudResult<()> {
        self.delete_load_balancer_ref(load_balancer).await
    }

    async fn delete_target_group(&self, arn: &str) -> CloudResult<()> {
        self.delete_target_group_arn(arn).await
    }

    async fn delete(&self, kind: Ec2Kind, id: &str) -> CloudResult<()> {
        let (operation, noun) = match kind {
            Ec2Kind::Vpc => ("DeleteVpc", "VPC"),
            Ec2Kind::Subnet => ("DeleteSubnet", "subnet"),
            Ec2Kind::InternetGateway => ("DeleteInternetGateway", "internet gateway"),
            Ec2Kind::Address => ("ReleaseAddress", "Elastic IP"),
            Ec2Kind::NatGateway => ("DeleteNatGateway", "NAT gateway"),
            Ec2Kind::RouteTable => ("DeleteRouteTable", "route table"),
            Ec2Kind::LaunchTemplate => ("DeleteLaunchTemplate", "launch template"),
            Ec2Kind::SecurityGroup => ("DeleteSecurityGroup", "security group"),
            Ec2Kind::NetworkInterface => ("DeleteNetworkInterface", "network interface"),
            Ec2Kind::EgressOnlyInternetGateway => (
                "DeleteEgressOnlyInternetGateway",
                "egress-only internet gateway",
            ),
        };
        let about = format!("{noun} {id}");
        // Each call has its own error type, so each is sent and converted on its own.
        macro_rules! send {
            ($request:expr) => {
                $request.send().await.map(drop).context(operation, &about)
            };
        }
        let ec2 = &self.ec2;
        let result = match kind {
            Ec2Kind::Vpc => send!(ec2.delete_vpc().vpc_id(id)),
            Ec2Kind::Subnet => send!(ec2.delete_subnet().subnet_id(id)),
            Ec2Kind::InternetGateway => {
                send!(ec2.delete_internet_gateway().internet_gateway_id(id))
            }
            Ec2Kind::Address => send!(ec2.release_address().allocation_id(id)),
            Ec2Kind::NatGateway => send!(ec2.delete_nat_gateway().nat_gateway_id(id)),
            Ec2Kind::RouteTable => send!(ec2.delete_route_table().route_table_id(id)),
            Ec2Kind::LaunchTemplate => {
                send!(ec2.delete_launch_template().launch_template_id(id))
            }
            Ec2Kind::SecurityGroup => send!(ec2.delete_security_group().group_id(id)),
            Ec2Kind::NetworkInterface => {
                send!(ec2.delete_network_interface().network_interface_id(id))
            }
            Ec2Kind::EgressOnlyInternetGateway => {
                send!(
                    ec2.delete_egress_only_internet_gateway()
                        .egress_only_internet_gateway_id(id)
                )
            }
        };
        result.or_gone().map(drop)
    }

    async fn delete_default_route(&self, route_table_id: &str) -> CloudResult<()> {
        let deleted = self
            .ec2
            .delete_route()
            .route_table_id(route_table_id)
            .destination_cidr_block(DEFAULT_ROUTE)
            .send()
            .await
            .context("DeleteRoute", format!("route table {route_table_id}"));
        match deleted {
            // No such route: what the caller wanted.
            Err(error) if error.code.as_deref() == Some("InvalidRoute.NotFound") => Ok(()),
            other => other.or_gone().map(drop),
        }
    }

    async fn vpc_route_tables(&self, vpc_id: &str) -> CloudResult<Vec<ObservedRouteTable>> {
        self.route_tables(filter("vpc-id", [vpc_id]), &format!("VPC {vpc_id}"))
            .await
    }

    async fn launch_template_version(
        &self,
        id: &str,
        version: &str,
    ) -> CloudResult<Option<LaunchTemplateData>> {
        self.version_data(id, version).await
    }

    async fn detach_internet_gateway(&self, igw_id: &str, vpc_id: &str) -> CloudResult<()> {
        let detached = self
            .ec2
            .detach_internet_gateway()
            .internet_gateway_id(igw_id)
            .vpc_id(vpc_id)
            .send()
            .await
            .context(
                "DetachInternetGateway",
                format!("internet gateway {igw_id} from {vpc_id}"),
            );
        match detached {
            // Already detached: what the caller wanted.
            Err(error) if error.code.as_deref() == Some("Gateway.NotAttached") => Ok(()),
            other => other.or_gone().map(drop),
        }
    }

    async fn vpc_ipv6_cidr(&self, vpc_id: &str) -> CloudResult<Option<(String, String)>> {
        let output = self
            .ec2
            .describe_vpcs()
            .vpc_ids(vpc_id)
            .send()
            .await
            .context("DescribeVpcs", format!("VPC {vpc_id}"))?;
        Ok(output
            .vpcs()
            .iter()
            .flat_map(|vpc| vpc.ipv6_cidr_block_association_set())
            .find_map(|association| {
                let state = association.ipv6_cidr_block_state()?.state()?.as_str();
                IPV6_LIVE_STATES
                    .contains(&state)
                    .then(|| (string(association.ipv6_cidr_block()), state.to_owned()))
            }))
    }

    async fn associate_vpc_ipv6_cidr(&self, vpc_id: &str) -> CloudResult<()> {
        self.ec2
            .associate_vpc_cidr_block()
            .vpc_id(vpc_id)
            .amazon_provided_ipv6_cidr_block(true)
            .send()
            .await
            .context("AssociateVpcCidrBlock", format!("VPC {vpc_id}"))
            .map(drop)
    }

    async fn enable_subnet_ipv6(&self, subnet_id: &str, cidr: Option<&str>) -> CloudResult<()> {
        let about = format!("subnet {subnet_id}");
        if let Some(cidr) = cidr {
            self.ec2
                .associate_subnet_cidr_block()
                .subnet_id(subnet_id)
                .ipv6_cidr_block(cidr)
                .send()
                .await
                .context("AssociateSubnetCidrBlock", &about)?;
        }
        // The EKS IPv6 guide's subnets assign IPv6 addresses on creation (its VPC template's
        // AssignIpv6AddressOnCreation: true); ModifySubnetAttribute takes one attribute a call.
        after_create(|| async {
            self.ec2
                .modify_subnet_attribute()
                .subnet_id(subnet_id)
                .assign_ipv6_address_on_creation(
                    AttributeBooleanValue::builder().value(true).build(),
                )
                .send()
                .await
                .context("ModifySubnetAttribute", &about)
        })
        .await
        .map(drop)
    }

    async fn create_egress_only_internet_gateway(
        &self,
        vpc_id: &str,
        tags: &Tags,
        client_token: &str,
    ) -> CloudResult<String> {
        let about = format!("egress-only internet gateway for {vpc_id}");
        let output = self
            .ec2
            .create_egress_only_internet_gateway()
            .vpc_id(vpc_id)
            .client_token(client_token)
            .tag_specifications(tag_specification(
                ResourceType::EgressOnlyInternetGateway,
                tags,
            ))
            .send()
            .await
            .context("CreateEgressOnlyInternetGateway", &about)?;
        Ok(required(
            output
                .egress_only_internet_gateway()
                .and_then(|g| g.egress_only_internet_gateway_id()),
            "egress-only internet gateway id",
            "CreateEgressOnlyInternetGateway",
            &about,
        )?
        .to_owned())
    }

    async fn set_default_ipv6_route(
        &self,
        route_table_id: &str,
        target: &RouteTarget,
    ) -> CloudResult<()> {
        self.put_default_route(route_table_id, target, true).await
    }
}
