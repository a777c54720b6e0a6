//! `Network` in memory: EC2 (the network, launch templates, instances) and the load balancers
//! and target groups Kubernetes makes.

use async_trait::async_trait;

use super::*;
use crate::naming::made_by_kubernetes_for;

#[async_trait]
impl Network for MemoryCloud {
    async fn discover(&self, cluster: &str) -> CloudResult<ObservedNetwork> {
        let s = self.lock();
        let keep = |tags: &Tags| owned_by(tags, cluster);
        Ok(ObservedNetwork {
            vpcs: s.vpcs.values().filter(|v| keep(&v.tags)).cloned().collect(),
            subnets: s
                .subnets
                .values()
                .filter(|v| keep(&v.tags))
                .cloned()
                .collect(),
            internet_gateways: s.igws.values().filter(|v| keep(&v.tags)).cloned().collect(),
            addresses: s
                .addresses
                .values()
                .filter(|v| keep(&v.tags))
                .cloned()
                .collect(),
            nat_gateways: s
                .nats
                .values()
                .filter(|v| keep(&v.tags) && v.state != "deleted")
                .cloned()
                .collect(),
            route_tables: s
                .route_tables
                .values()
                .filter(|v| keep(&v.tags))
                .cloned()
                .collect(),
            launch_templates: s
                .launch_templates
                .values()
                .filter(|v| keep(&v.tags))
                .cloned()
                .collect(),
            egress_only_internet_gateways: s
                .eigws
                .values()
                .filter(|v| keep(&v.tags))
                .cloned()
                .collect(),
            security_groups: s
                .security_groups
                .values()
                .filter(|v| keep(&v.tags))
                .cloned()
                .collect(),
        })
    }

    async fn vpc_contents(&self, vpc_id: &str) -> CloudResult<VpcContents> {
        // Security groups here record no VPC: none are listed.
        let s = self.lock();
        let in_vpc = |subnet: &str| s.subnets.get(subnet).is_some_and(|n| n.vpc_id == vpc_id);
        let nat_gateways: Vec<ObservedNatGateway> = s
            .nats
            .values()
            .filter(|n| n.state != "deleted" && in_vpc(&n.subnet_id))
            .cloned()
            .collect();
        Ok(VpcContents {
            network: ObservedNetwork {
                vpcs: s.vpcs.get(vpc_id).cloned().into_iter().collect(),
                subnets: s
                    .subnets
                    .values()
                    .filter(|n| n.vpc_id == vpc_id)
                    .cloned()
                    .collect(),
                internet_gateways: s
                    .igws
                    .values()
                    .filter(|g| g.attached_vpc_ids.iter().any(|v| v == vpc_id))
                    .cloned()
                    .collect(),
                addresses: s
                    .addresses
                    .values()
                    .filter(|a| {
                        nat_gateways
                            .iter()
                            .any(|n| n.allocation_ids.contains(&a.allocation_id))
                    })
                    .cloned()
                    .collect(),
                route_tables: s
                    .route_tables
                    .values()
                    .filter(|t| t.vpc_id == vpc_id)
                    .cloned()
                    .collect(),
                egress_only_internet_gateways: s
                    .eigws
                    .values()
                    .filter(|g| g.vpc_id.as_deref() == Some(vpc_id))
                    .cloned()
                    .collect(),
                nat_gateways,
                launch_templates: Vec::new(),
                security_groups: Vec::new(),
            },
            instances: s
                .instances
                .iter()
                .filter(|(_, (subnet, state, _))| {
                    !matches!(state.as_str(), "terminated" | "shutting-down") && in_vpc(subnet)
                })
                .map(|(id, (_, state, tags))| ObservedInstance {
                    id: id.clone(),
                    state: state.clone(),
                    tags: tags.clone(),
                })
                .collect(),
        })
    }

    async fn revoke_group_rules(&self, group: &str, rules: &[GroupRule]) -> CloudResult<()> {
        let mut s = self.lock();
        s.log(format!("RevokeSecurityGroupRules {group}"));
        if let Some(live) = s.security_groups.get_mut(group) {
            live.group_rules.retain(|r| !rules.contains(r));
        }
        Ok(())
    }

    async fn describe_existing(
        &self,
        vpc_id: &str,
        subnet_ids: &[String],
    ) -> CloudResult<(Option<ObservedVpc>, Vec<ObservedSubnet>)> {
        let s = self.lock();
        Ok((
            s.vpcs.get(vpc_id).cloned(),
            subnet_ids
                .iter()
                .filter_map(|id| s.subnets.get(id).cloned())
                .collect(),
        ))
    }

    async fn availability_zones(&self) -> CloudResult<Vec<AvailabilityZone>> {
        // As AWS lists them: an opted-in Local Zone sorts before the zones, and us-east-1e
        // is use1-az3, which EKS refuses for control planes.
        Ok([
            ("us-east-1-bos-1a", "use1-bos1-az1", "local-zone"),
            ("us-east-1a", "use1-az6", "availability-zone"),
            ("us-east-1b", "use1-az1", "availability-zone"),
            ("us-east-1c", "use1-az2", "availability-zone"),
            ("us-east-1d", "use1-az4", "availability-zone"),
            ("us-east-1e", "use1-az3", "availability-zone"),
        ]
        .map(|(name, id, kind)| AvailabilityZone {
            name: name.to_owned(),
            id: id.to_owned(),
            kind: kind.to_owned(),
        })
        .to_vec())
    }

    async fn create_vpc(&self, cidr: &str, tags: &Tags) -> CloudResult<String> {
        self.gate("CreateVpc")?;
        let mut s = self.lock();
        let id = s.id("vpc");
        s.vpcs.insert(
            id.clone(),
            ObservedVpc {
                id: id.clone(),
                cidr: cidr.to_owned(),
                tags: tags.clone(),
                ipv6_cidr: None,
            },
        );
        s.log(format!("CreateVpc {id}"));
        Ok(id)
    }

    async fn create_subnet(&self, r: &SubnetRequest) -> CloudResult<String> {
        let mut s = self.lock();
        let id = s.id("subnet");
        s.subnets.insert(
            id.clone(),
            ObservedSubnet {
                id: id.clone(),
                vpc_id: r.vpc_id.clone(),
                cidr: r.cidr.clone(),
                availability_zone: r.availability_zone.clone(),
                map_public_ip_on_launch: r.public,
                tags: r.tags.clone(),
                ipv6_cidr: None,
                assign_ipv6_address_on_creation: false,
            },
        );
        s.log(format!("CreateSubnet {id}"));
        Ok(id)
    }

    async fn create_internet_gateway(&self, vpc_id: &str, tags: &Tags) -> CloudResult<String> {
        let mut s = self.lock();
        let id = s.id("igw");
        s.igws.insert(
            id.clone(),
            ObservedInternetGateway {
                id: id.clone(),
                attached_vpc_ids: vec![vpc_id.to_owned()],
                tags: tags.clone(),
            },
        );
        s.log(format!("CreateInternetGateway {id}"));
        Ok(id)
    }

    async fn allocate_address(&self, tags: &Tags) -> CloudResult<String> {
        let mut s = self.lock();
        let id = s.id("eipalloc");
        s.addresses.insert(
            id.clone(),
            ObservedAddress {
                allocation_id: id.clone(),
                association_id: None,
                public_ip: Some("198.51.100.1".to_owned()),
                tags: tags.clone(),
            },
        );
        s.log(format!("AllocateAddress {id}"));
        Ok(id)
    }

    async fn create_nat_gateway(
        &self,
        subnet_id: &str,
        allocation_id: &str,
        tags: &Tags,
        token: &str,
    ) -> CloudResult<(String, String)> {
        self.gate("CreateNatGateway")?;
        let mut s = self.lock();
        let request = format!("{subnet_id} {allocation_id} {tags:?}");
        if let Some(id) = s.token_used("CreateNatGateway", token, &request)? {
            let state = s.nats.get(&id).map_or("deleted", |n| n.state.as_str());
            return Ok((id, state.to_owned()));
        }
        let id = s.id("nat");
        s.nats.insert(
            id.clone(),
            ObservedNatGateway {
                id: id.clone(),
                subnet_id: subnet_id.to_owned(),
                allocation_ids: vec![allocation_id.to_owned()],
                state: "available".to_owned(),
                tags: tags.clone(),
            },
        );
        s.log(format!("CreateNatGateway {id}"));
        s.tokens.insert(
            ("CreateNatGateway", token.to_owned()),
            (request, id.clone()),
        );
        Ok((id, "available".to_owned()))
    }

    async fn nat_gateway_state(&self, id: &str) -> CloudResult<Option<String>> {
        Ok(self.lock().nats.get(id).map(|n| n.state.clone()))
    }

    async fn create_route_table(&self, vpc_id: &str, tags: &Tags) -> CloudResult<String> {
        let mut s = self.lock();
        let id = s.id("rtb");
        s.route_tables.insert(
            id.clone(),
            ObservedRouteTable {
                id: id.clone(),
                vpc_id: vpc_id.to_owned(),
                default_route: None,
                associations: Vec::new(),
                tags: tags.clone(),
                main: false,
                default_ipv6_route: None,
            },
        );
        s.log(format!("CreateRouteTable {id}"));
        Ok(id)
    }

    async fn set_default_route(
        &self,
        route_table_id: &str,
        target: &RouteTarget,
    ) -> CloudResult<()> {
        self.put_default_route(route_table_id, |t| &mut t.default_route, target)
    }

    async fn associate_route_table(
        &self,
        route_table_id: &str,
        subnet_id: &str,
    ) -> CloudResult<String> {
        let mut s = self.lock();
        let id = s.id("rtbassoc");
        let table = s
            .route_tables
            .get_mut(route_table_id)
            .ok_or_else(|| not_found("AssociateRouteTable", route_table_id))?;
        table.associations.push((id.clone(), subnet_id.to_owned()));
        s.log(format!("AssociateRouteTable {route_table_id} {subnet_id}"));
        Ok(id)
    }

    async fn disassociate_route_table(&self, association_id: &str) -> CloudResult<()> {
        let mut s = self.lock();
        for table in s.route_tables.values_mut() {
            table.associations.retain(|(a, _)| a != association_id);
        }
        s.log(format!("DisassociateRouteTable {association_id}"));
        Ok(())
    }

    async fn create_tags(&self, resource_ids: &[String], tags: &Tags) -> CloudResult<()> {
        let mut s = self.lock();
        for id in resource_ids {
            if let Some(v) = s.vpcs.get_mut(id) {
                v.tags.extend(tags.clone());
            } else if let Some(v) = s.subnets.get_mut(id) {
                v.tags.extend(tags.clone());
            } else if let Some(v) = s.igws.get_mut(id) {
                v.tags.extend(tags.clone());
            } else if let Some(v) = s.addresses.get_mut(id) {
                v.tags.extend(tags.clone());
            } else if let Some(v) = s.nats.get_mut(id) {
                v.tags.extend(tags.clone());
            } else if let Some(v) = s.route_tables.get_mut(id) {
                v.tags.extend(tags.clone());
            } else if let Some(v) = s.launch_templates.get_mut(id) {
                v.tags.extend(tags.clone());
            } else if let Some(v) = s.security_groups.get_mut(id) {
                v.tags.extend(tags.clone());
            } else {
                return Err(not_found("CreateTags", id));
            }
        }
        s.log(format!("CreateTags {}", resource_ids.join(",")));
        Ok(())
    }

    async fn create_launch_template(
        &self,
        r: &LaunchTemplateRequest,
    ) -> CloudResult<(String, i64)> {
        let mut s = self.lock();
        let request = format!("{} {:?} {:?}", r.name, r.data, r.tags);
        if let Some(id) = s.token_used("CreateLaunchTemplate", &r.client_token, &request)? {
            let version = s.launch_templates.get(&id).map_or(1, |t| t.latest_version);
            return Ok((id, version));
        }
        let id = s.id("lt");
        s.tokens.insert(
            ("CreateLaunchTemplate", r.client_token.clone()),
            (request, id.clone()),
        );
        s.launch_templates.insert(
            id.clone(),
            ObservedLaunchTemplate {
                id: id.clone(),
                name: r.name.clone(),
                latest_version: 1,
                data: Some(r.data.clone()),
                tags: r.tags.clone(),
            },
        );
        s.log(format!("CreateLaunchTemplate {id}"));
        Ok((id, 1))
    }

    async fn create_launch_template_version(
        &self,
        id: &str,
        data: &LaunchTemplateData,
        client_token: &str,
    ) -> CloudResult<i64> {
        let mut s = self.lock();
        let request = format!("{id} {data:?}");
        if let Some(version) =
            s.token_used("CreateLaunchTemplateVersion", client_token, &request)?
        {
            return Ok(version.parse().unwrap_or(0));
        }
        let template = s
            .launch_templates
            .get_mut(id)
            .ok_or_else(|| not_found("CreateLaunchTemplateVersion", id))?;
        template.latest_version += 1;
        template.data = Some(data.clone());
        let version = template.latest_version;
        s.tokens.insert(
            ("CreateLaunchTemplateVersion", client_token.to_owned()),
            (request, version.to_string()),
        );
        s.log(format!("CreateLaunchTemplateVersion {id} {version}"));
        Ok(version)
    }

    async fn discover_leftovers(&self, cluster: &str, vpc_id: &str) -> CloudResult<Leftovers> {
        let s = self.lock();
        let made_here =
            |(vpc, tags): &(String, Tags)| vpc == vpc_id && made_by_kubernetes_for(tags, cluster);
        let auto_mode = |tags: &Tags| {
            tags.get(crate::naming::AUTO_MODE_CLUSTER_TAG)
                .is_some_and(|v| v == cluster)
        };
        Ok(Leftovers {
            load_balancers: s
                .load_balancers
                .iter()
                .filter(|(_, lb)| made_here(lb))
                .map(|(id, _)| id.clone())
                .collect(),
            target_groups: s
                .target_groups
                .iter()
                .filter(|(_, group)| made_here(group))
                .map(|(arn, _)| arn.clone())
                .collect(),
            security_groups: Vec::new(),
            network_interfaces: Vec::new(),
            instances: s
                .instances
                .iter()
                .filter(|(_, (subnet, state, tags))| {
                    state != "terminated"
                        && s.subnets.get(subnet).is_some_and(|n| n.vpc_id == vpc_id)
                        && auto_mode(tags)
                })
                .map(|(id, _)| id.clone())
                .collect(),
            launch_templates: s
                .launch_templates
                .values()
                .filter(|t| auto_mode(&t.tags))
                .map(|t| t.id.clone())
                .collect(),
        })
    }

    async fn security_group(&self, id: &str) -> CloudResult<Option<ObservedSecurityGroup>> {
        Ok(self.lock().security_groups.get(id).cloned())
    }

    async fn delete_tags(&self, resource_ids: &[String], tags: &Tags) -> CloudResult<()> {
        let mut s = self.lock();
        for id in resource_ids {
            let live = if let Some(v) = s.subnets.get_mut(id) {
                &mut v.tags
            } else if let Some(v) = s.security_groups.get_mut(id) {
                &mut v.tags
            } else {
                return Err(not_found("DeleteTags", id));
            };
            live.retain(|key, value| tags.get(key) != Some(value));
        }
        s.log(format!("DeleteTags {}", resource_ids.join(",")));
        Ok(())
    }

    async fn discover_karpenter_leftovers(&self, cluster: &str) -> CloudResult<KarpenterLeftovers> {
        let s = self.lock();
        let karpenter = |tags: &Tags| {
            tags.get(&crate::naming::kubernetes_cluster_tag(cluster))
                .is_some_and(|v| v == "owned")
                && tags.contains_key(crate::naming::KARPENTER_NODEPOOL_TAG)
        };
        Ok(KarpenterLeftovers {
            instances: s
                .instances
                .iter()
                .filter(|(_, (_, state, tags))| state != "terminated" && karpenter(tags))
                .map(|(id, _)| id.clone())
                .collect(),
            launch_templates: s
                .launch_templates
                .values()
                .filter(|t| karpenter(&t.tags))
                .map(|t| t.id.clone())
                .collect(),
        })
    }

    async fn terminate_instances(&self, ids: &[String]) -> CloudResult<()> {
        self.gate("TerminateInstances")?;
        let mut s = self.lock();
        for id in ids {
            if let Some((_, state, _)) = s.instances.get_mut(id) {
                "terminated".clone_into(state);
            }
        }
        s.log(format!("TerminateInstances {}", ids.join(",")));
        Ok(())
    }

    async fn instances_not_terminated(&self, ids: &[String]) -> CloudResult<Vec<(String, String)>> {
        let s = self.lock();
        Ok(ids
            .iter()
            .filter_map(|id| {
                let (_, state, _) = s.instances.get(id)?;
                (state != "terminated").then(|| (id.clone(), state.clone()))
            })
            .collect())
    }

    async fn delete_load_balancer(&self, load_balancer: &LoadBalancerRef) -> CloudResult<()> {
        self.gate("DeleteLoadBalancer")?;
        let mut s = self.lock();
        s.load_balancers.remove(load_balancer);
        s.log(format!("DeleteLoadBalancer {load_balancer}"));
        Ok(())
    }

    async fn delete_target_group(&self, arn: &str) -> CloudResult<()> {
        self.gate("DeleteTargetGroup")?;
        let mut s = self.lock();
        s.target_groups.remove(arn);
        s.log(format!("DeleteTargetGroup {arn}"));
        Ok(())
    }

    async fn delete(&self, kind: Ec2Kind, id: &str) -> CloudResult<()> {
        self.gate("DeleteEc2")?;
        let mut s = self.lock();
        let has_load_balancers =
            |s: &State, vpc_id: &str| s.load_balancers.values().any(|(vpc, _)| vpc == vpc_id);
        let dependency_violation = |operation| CloudError {
            operation,
            resource: id.to_owned(),
            code: Some("DependencyViolation".to_owned()),
            message: format!("{id} has dependencies"),
            kind: ErrorKind::InUse,
        };
        match kind {
            Ec2Kind::Vpc => {
                if s.subnets.values().any(|x| x.vpc_id == id)
                    || s.route_tables.values().any(|x| x.vpc_id == id)
                    || s.eigws.values().any(|x| x.vpc_id.as_deref() == Some(id))
                    || has_load_balancers(&s, id)
                {
                    return Err(dependency_violation("DeleteVpc"));
                }
                s.vpcs.remove(id);
            }
            Ec2Kind::Subnet => {
                let has_instances = s
                    .instances
                    .values()
                    .any(|(subnet, state, _)| subnet == id && state != "terminated");
                if has_instances
                    || s.subnets
                        .get(id)
                        .is_some_and(|subnet| has_load_balancers(&s, &subnet.vpc_id))
                {
                    return Err(dependency_violation("DeleteSubnet"));
                }
                s.subnets.remove(id);
            }
            Ec2Kind::InternetGateway => {
                s.igws.remove(id);
            }
            Ec2Kind::Address => {
                s.addresses.remove(id);
            }
            Ec2Kind::NatGateway => {
                if let Some(nat) = s.nats.get_mut(id) {
                    nat.state = "deleted".to_owned();
                }
            }
            Ec2Kind::RouteTable => {
                s.route_tables.remove(id);
            }
            Ec2Kind::LaunchTemplate => {
                s.launch_templates.remove(id);
            }
            Ec2Kind::EgressOnlyInternetGateway => {
                s.eigws.remove(id);
            }
            Ec2Kind::SecurityGroup | Ec2Kind::NetworkInterface => {}
        }
        s.log(format!("Delete{kind:?} {id}"));
        Ok(())
    }

    async fn delete_default_route(&self, route_table_id: &str) -> CloudResult<()> {
        let mut s = self.lock();
        if let Some(table) = s.route_tables.get_mut(route_table_id) {
            table.default_route = None;
        }
        s.log(format!("DeleteRoute {route_table_id}"));
        Ok(())
    }

    async fn vpc_route_tables(&self, vpc_id: &str) -> CloudResult<Vec<ObservedRouteTable>> {
        Ok(self
            .lock()
            .route_tables
            .values()
            .filter(|t| t.vpc_id == vpc_id)
            .cloned()
            .collect())
    }

    /// Memory keeps only a template's newest version, so only that one is found.
    async fn launch_template_version(
        &self,
        id: &str,
        version: &str,
    ) -> CloudResult<Option<LaunchTemplateData>> {
        Ok(self
            .lock()
            .launch_templates
            .get(id)
            .filter(|t| t.latest_version.to_string() == version || version == "$Latest")
            .and_then(|t| t.data.clone()))
    }

    async fn detach_internet_gateway(&self, igw_id: &str, vpc_id: &str) -> CloudResult<()> {
        let mut s = self.lock();
        // AWS: a load balancer's public addresses are mapped through the gateway.
        if s.load_balancers.values().any(|(vpc, _)| vpc == vpc_id) {
            return Err(CloudError {
                operation: "DetachInternetGateway",
                resource: igw_id.to_owned(),
                code: Some("DependencyViolation".to_owned()),
                message: format!(
                    "Network {vpc_id} has some mapped public address(es). Please unmap those \
                     public address(es) before detaching the gateway."
                ),
                kind: ErrorKind::InUse,
            });
        }
        if let Some(igw) = s.igws.get_mut(igw_id) {
            igw.attached_vpc_ids.retain(|v| v != vpc_id);
        }
        s.log(format!("DetachInternetGateway {igw_id}"));
        Ok(())
    }

    async fn vpc_ipv6_cidr(&self, vpc_id: &str) -> CloudResult<Option<(String, String)>> {
        let s = self.lock();
        Ok(s.vpcs
            .get(vpc_id)
            .and_then(|v| v.ipv6_cidr.clone())
            .map(|cidr| (cidr, "associated".to_owned())))
    }

    async fn associate_vpc_ipv6_cidr(&self, vpc_id: &str) -> CloudResult<()> {
        self.gate("AssociateVpcCidrBlock")?;
        let mut s = self.lock();
        // A /56 per VPC, as Amazon hands them out.
        let block = format!("2600:1f18:{:x}:{:x}00::/56", s.next >> 8, s.next & 0xff);
        s.next += 1;
        let vpc = s
            .vpcs
            .get_mut(vpc_id)
            .ok_or_else(|| not_found("AssociateVpcCidrBlock", vpc_id))?;
        if vpc.ipv6_cidr.is_some() {
            // AWS: one Amazon-provided IPv6 block per VPC.
            return Err(CloudError {
                operation: "AssociateVpcCidrBlock",
                resource: vpc_id.to_owned(),
                code: Some("CidrLimitExceeded".to_owned()),
                message: format!(
                    "This network '{vpc_id}' has met its maximum number of allowed CIDRs: 1"
                ),
                kind: ErrorKind::Other,
            });
        }
        vpc.ipv6_cidr = Some(block);
        s.log(format!("AssociateVpcCidrBlock {vpc_id}"));
        Ok(())
    }

    async fn enable_subnet_ipv6(&self, subnet_id: &str, cidr: Option<&str>) -> CloudResult<()> {
        self.gate("AssociateSubnetCidrBlock")?;
        let mut s = self.lock();
        let subnet = s
            .subnets
            .get_mut(subnet_id)
            .ok_or_else(|| not_found("ModifySubnetAttribute", subnet_id))?;
        if let Some(cidr) = cidr {
            subnet.ipv6_cidr = Some(cidr.to_owned());
        }
        subnet.assign_ipv6_address_on_creation = true;
        if cidr.is_some() {
            s.log(format!("AssociateSubnetCidrBlock {subnet_id}"));
        }
        s.log(format!("ModifySubnetAttribute {subnet_id}"));
        Ok(())
    }

    async fn create_egress_only_internet_gateway(
        &self,
        vpc_id: &str,
        tags: &Tags,
        client_token: &str,
    ) -> CloudResult<String> {
        self.gate("CreateEgressOnlyInternetGateway")?;
        let mut s = self.lock();
        let request = format!("{vpc_id} {tags:?}");
        if let Some(id) = s.token_used("CreateEgressOnlyInternetGateway", client_token, &request)? {
            return Ok(id);
        }
        let id = s.id("eigw");
        s.eigws.insert(
            id.clone(),
            ObservedEgressOnlyInternetGateway {
                id: id.clone(),
                vpc_id: Some(vpc_id.to_owned()),
                tags: tags.clone(),
            },
        );
        s.tokens.insert(
            ("CreateEgressOnlyInternetGateway", client_token.to_owned()),
            (request, id.clone()),
        );
        s.log(format!("CreateEgressOnlyInternetGateway {id}"));
        Ok(id)
    }

    async fn set_default_ipv6_route(
        &self,
        route_table_id: &str,
        target: &RouteTarget,
    ) -> CloudResult<()> {
        self.put_default_route(route_table_id, |t| &mut t.default_ipv6_route, target)
    }
}

impl MemoryCloud {
    /// CreateRoute or ReplaceRoute of a table's default route: `route` picks the IPv4
    /// (0.0.0.0/0) or the IPv6 (::/0) one.
    fn put_default_route(
        &self,
        route_table_id: &str,
        route: fn(&mut ObservedRouteTable) -> &mut Option<RouteTarget>,
        target: &RouteTarget,
    ) -> CloudResult<()> {
        let mut s = self.lock();
        let table = s
            .route_tables
            .get_mut(route_table_id)
            .ok_or_else(|| not_found("CreateRoute", route_table_id))?;
        *route(table) = Some(target.clone());
        s.log(format!("CreateRoute {route_table_id}"));
        Ok(())
    }
}
