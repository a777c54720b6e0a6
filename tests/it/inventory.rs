//! Lists every AWS resource that carries a cluster's ownership tags, straight through the AWS
//! SDK rather than ekspec's cloud layer, so the end-to-end tests check ekspec against an
//! independent reading of the account.

use aws_config::BehaviorVersion;
use aws_sdk_ec2::types::Filter;

/// SDK clients for one region of a moto server.
pub struct Inventory {
    pub ec2: aws_sdk_ec2::Client,
    pub iam: aws_sdk_iam::Client,
    pub eks: aws_sdk_eks::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub events: aws_sdk_eventbridge::Client,
    pub elbv2: aws_sdk_elasticloadbalancingv2::Client,
}

impl Inventory {
    pub async fn new(endpoint: &str, region: &str) -> Self {
        let config = aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(aws_config::Region::new(region.to_owned()))
            .credentials_provider(aws_credential_types::Credentials::new(
                "testing", "testing", None, None, "tests",
            ))
            .load()
            .await;
        Self {
            ec2: aws_sdk_ec2::Client::new(&config),
            iam: aws_sdk_iam::Client::new(&config),
            eks: aws_sdk_eks::Client::new(&config),
            ssm: aws_sdk_ssm::Client::new(&config),
            sqs: aws_sdk_sqs::Client::new(&config),
            events: aws_sdk_eventbridge::Client::new(&config),
            elbv2: aws_sdk_elasticloadbalancingv2::Client::new(&config),
        }
    }

    /// Every resource tagged `ekspec.io/cluster=<cluster>` (or, for security groups,
    /// `kubernetes.io/cluster/<cluster>`), as `kind id` lines, sorted.
    pub async fn owned(&self, cluster: &str) -> Vec<String> {
        let mut found = Vec::new();
        found.extend(self.owned_ec2(cluster).await);
        found.extend(self.owned_iam(cluster).await);
        found.extend(self.owned_eks(cluster).await);
        for (name, tags) in self.parameters().await {
            if tags.get("ekspec.io/cluster").map(String::as_str) == Some(cluster) {
                found.push(format!("ssm-parameter {name}"));
            }
        }
        for (kind, name, tags) in self.queues_and_rules().await {
            if tags.get("ekspec.io/cluster").map(String::as_str) == Some(cluster) {
                found.push(format!("{kind} {name}"));
            }
        }
        found.sort();
        found
    }

    /// Every SQS queue (`queue`) and EventBridge rule of the default bus (`event-rule`), by
    /// name, with its tags.
    pub async fn queues_and_rules(
        &self,
    ) -> Vec<(
        &'static str,
        String,
        std::collections::BTreeMap<String, String>,
    )> {
        let mut found = Vec::new();
        let queues = self.sqs.list_queues().send().await.unwrap();
        for url in queues.queue_urls() {
            let tags = self
                .sqs
                .list_queue_tags()
                .queue_url(url)
                .send()
                .await
                .unwrap();
            let name = url.rsplit('/').next().unwrap().to_owned();
            let tags = tags
                .tags()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .collect();
            found.push(("queue", name, tags));
        }
        let rules = self.events.list_rules().send().await.unwrap();
        for rule in rules.rules() {
            let tags = self
                .events
                .list_tags_for_resource()
                .resource_arn(rule.arn().unwrap())
                .send()
                .await
                .unwrap();
            let tags = tags
                .tags()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect();
            found.push(("event-rule", rule.name().unwrap().to_owned(), tags));
        }
        found
    }

    /// Every resource of every kind ekspec manages, tagged or not, as `kind id` lines, sorted
    /// (to find twins and untagged leftovers against a baseline).
    pub async fn everything(&self) -> Vec<String> {
        let ec2 = &self.ec2;
        let mut found = Vec::new();
        for vpc in ec2.describe_vpcs().send().await.unwrap().vpcs() {
            found.push(format!("vpc {}", vpc.vpc_id().unwrap()));
        }
        for subnet in ec2.describe_subnets().send().await.unwrap().subnets() {
            found.push(format!("subnet {}", subnet.subnet_id().unwrap()));
        }
        let gateways = ec2.describe_internet_gateways().send().await.unwrap();
        for gateway in gateways.internet_gateways() {
            found.push(format!(
                "internet-gateway {}",
                gateway.internet_gateway_id().unwrap()
            ));
        }
        for address in ec2.describe_addresses().send().await.unwrap().addresses() {
            found.push(format!("eip {}", address.allocation_id().unwrap()));
        }
        for gateway in egress_only_gateways(ec2, None).await {
            found.push(format!("egress-only-internet-gateway {gateway}"));
        }
        let nats = ec2
            .describe_nat_gateways()
            .max_results(1000)
            .send()
            .await
            .unwrap();
        for nat in nats.nat_gateways() {
            if nat.state().map(|s| s.as_str()) != Some("deleted") {
                found.push(format!("nat-gateway {}", nat.nat_gateway_id().unwrap()));
            }
        }
        for table in ec2
            .describe_route_tables()
            .send()
            .await
            .unwrap()
            .route_tables()
        {
            found.push(format!("route-table {}", table.route_table_id().unwrap()));
        }
        let templates = ec2
            .describe_launch_templates()
            .max_results(200)
            .send()
            .await
            .unwrap();
        for template in templates.launch_templates() {
            found.push(format!(
                "launch-template {}",
                template.launch_template_name().unwrap()
            ));
        }
        let groups = ec2.describe_security_groups().send().await.unwrap();
        for group in groups.security_groups() {
            found.push(format!("security-group {}", group.group_id().unwrap()));
        }
        let roles = self.iam.list_roles().max_items(1000).send().await.unwrap();
        for role in roles.roles() {
            // Service-linked roles belong to the account, made once for a service (EC2 Spot).
            let kind = if role.path().starts_with("/aws-service-role/") {
                "service-linked-role"
            } else {
                "role"
            };
            found.push(format!("{kind} {}", role.role_name()));
        }
        let providers = self
            .iam
            .list_open_id_connect_providers()
            .send()
            .await
            .unwrap();
        for provider in providers.open_id_connect_provider_list() {
            found.push(format!("oidc-provider {}", provider.arn().unwrap()));
        }
        for name in self.eks.list_clusters().send().await.unwrap().clusters() {
            found.push(format!("cluster {name}"));
            let groups = self
                .eks
                .list_nodegroups()
                .cluster_name(name)
                .send()
                .await
                .unwrap();
            for group in groups.nodegroups() {
                found.push(format!("nodegroup {name}/{group}"));
            }
        }
        for (name, _) in self.parameters().await {
            found.push(format!("ssm-parameter {name}"));
        }
        for (kind, name, _) in self.queues_and_rules().await {
            found.push(format!("{kind} {name}"));
        }
        found.sort();
        found
    }

    async fn owned_ec2(&self, cluster: &str) -> Vec<String> {
        let owned = || {
            Filter::builder()
                .name("tag:ekspec.io/cluster")
                .values(cluster)
                .build()
        };
        let ec2 = &self.ec2;
        let mut found = Vec::new();
        let vpcs = ec2.describe_vpcs().filters(owned()).send().await.unwrap();
        for vpc in vpcs.vpcs() {
            found.push(format!("vpc {}", vpc.vpc_id().unwrap()));
        }
        let subnets = ec2
            .describe_subnets()
            .filters(owned())
            .send()
            .await
            .unwrap();
        for subnet in subnets.subnets() {
            found.push(format!("subnet {}", subnet.subnet_id().unwrap()));
        }
        let gateways = ec2
            .describe_internet_gateways()
            .filters(owned())
            .send()
            .await
            .unwrap();
        // fakecloud ignores tag filters on internet gateways: check the tags here.
        let tagged = |tags: &[aws_sdk_ec2::types::Tag]| {
            tags.iter()
                .any(|t| t.key() == Some("ekspec.io/cluster") && t.value() == Some(cluster))
        };
        for gateway in gateways
            .internet_gateways()
            .iter()
            .filter(|g| tagged(g.tags()))
        {
            found.push(format!(
                "internet-gateway {}",
                gateway.internet_gateway_id().unwrap()
            ));
        }
        for gateway in egress_only_gateways(ec2, Some(cluster)).await {
            found.push(format!("egress-only-internet-gateway {gateway}"));
        }
        let addresses = ec2
            .describe_addresses()
            .filters(owned())
            .send()
            .await
            .unwrap();
        for address in addresses.addresses() {
            found.push(format!("eip {}", address.allocation_id().unwrap()));
        }
        // moto ignores tag filters on NAT gateways: check the tags here.
        let nats = ec2
            .describe_nat_gateways()
            .max_results(1000)
            .send()
            .await
            .unwrap();
        for nat in nats.nat_gateways() {
            let state = nat.state().map(|s| s.as_str()).unwrap_or_default();
            let tagged = nat
                .tags()
                .iter()
                .any(|t| t.key() == Some("ekspec.io/cluster") && t.value() == Some(cluster));
            if tagged && state != "deleted" {
                found.push(format!("nat-gateway {}", nat.nat_gateway_id().unwrap()));
            }
        }
        let tables = ec2
            .describe_route_tables()
            .filters(owned())
            .send()
            .await
            .unwrap();
        for table in tables.route_tables() {
            found.push(format!("route-table {}", table.route_table_id().unwrap()));
        }
        let templates = ec2
            .describe_launch_templates()
            .filters(owned())
            .max_results(200)
            .send()
            .await
            .unwrap();
        for template in templates.launch_templates() {
            found.push(format!(
                "launch-template {}",
                template.launch_template_name().unwrap()
            ));
        }
        let kubernetes = Filter::builder()
            .name("tag-key")
            .values(format!("kubernetes.io/cluster/{cluster}"))
            .build();
        for filter in [owned(), kubernetes] {
            let groups = ec2
                .describe_security_groups()
                .filters(filter)
                .send()
                .await
                .unwrap();
            for group in groups.security_groups() {
                found.push(format!("security-group {}", group.group_id().unwrap()));
            }
        }
        found
    }

    async fn owned_iam(&self, cluster: &str) -> Vec<String> {
        let mut found = Vec::new();
        let roles = self.iam.list_roles().max_items(1000).send().await.unwrap();
        for role in roles.roles() {
            let tags = self
                .iam
                .list_role_tags()
                .role_name(role.role_name())
                .send()
                .await
                .unwrap();
            if tags
                .tags()
                .iter()
                .any(|t| t.key() == "ekspec.io/cluster" && t.value() == cluster)
            {
                found.push(format!("role {}", role.role_name()));
            }
        }
        let providers = self
            .iam
            .list_open_id_connect_providers()
            .send()
            .await
            .unwrap();
        for provider in providers.open_id_connect_provider_list() {
            let arn = provider.arn().unwrap();
            let tags = self
                .iam
                .list_open_id_connect_provider_tags()
                .open_id_connect_provider_arn(arn)
                .send()
                .await
                .unwrap();
            if tags
                .tags()
                .iter()
                .any(|t| t.key() == "ekspec.io/cluster" && t.value() == cluster)
            {
                found.push(format!("oidc-provider {arn}"));
            }
        }
        found
    }

    /// Every SSM parameter with its tags.
    pub async fn parameters(&self) -> Vec<(String, std::collections::BTreeMap<String, String>)> {
        let mut found = Vec::new();
        let mut pages = self.ssm.describe_parameters().into_paginator().send();
        while let Some(page) = pages.next().await {
            for parameter in page.unwrap().parameters() {
                let name = parameter.name().unwrap().to_owned();
                let tags = self
                    .ssm
                    .list_tags_for_resource()
                    .resource_type(aws_sdk_ssm::types::ResourceTypeForTagging::Parameter)
                    .resource_id(&name)
                    .send()
                    .await
                    .unwrap();
                let tags = tags
                    .tag_list()
                    .iter()
                    .map(|t| (t.key().to_owned(), t.value().to_owned()))
                    .collect();
                found.push((name, tags));
            }
        }
        found
    }

    async fn owned_eks(&self, cluster: &str) -> Vec<String> {
        let mut found = Vec::new();
        let clusters = self.eks.list_clusters().send().await.unwrap();
        for name in clusters.clusters() {
            let described = self.eks.describe_cluster().name(name).send().await.unwrap();
            let live = described.cluster().unwrap();
            if !owned_by(live.tags(), cluster) {
                continue;
            }
            found.push(format!("cluster {name}"));
            let groups = self
                .eks
                .list_nodegroups()
                .cluster_name(name)
                .send()
                .await
                .unwrap();
            for group in groups.nodegroups() {
                found.push(format!("nodegroup {name}/{group}"));
            }
            let profiles = self
                .eks
                .list_fargate_profiles()
                .cluster_name(name)
                .send()
                .await
                .unwrap();
            for profile in profiles.fargate_profile_names() {
                found.push(format!("fargate-profile {name}/{profile}"));
            }
            found.extend(self.owned_addons(name, cluster).await);
            found.extend(self.owned_access_entries(name, cluster).await);
            found.extend(self.owned_pod_identity_associations(name, cluster).await);
        }
        found
    }

    /// The Pod Identity associations of EKS cluster `name` tagged for `cluster`; none when the
    /// emulator has no Pod Identity API.
    async fn owned_pod_identity_associations(&self, name: &str, cluster: &str) -> Vec<String> {
        let Ok(listed) = self
            .eks
            .list_pod_identity_associations()
            .cluster_name(name)
            .send()
            .await
        else {
            return Vec::new();
        };
        let mut found = Vec::new();
        for summary in listed.associations() {
            let id = summary.association_id().unwrap_or_default();
            let described = self
                .eks
                .describe_pod_identity_association()
                .cluster_name(name)
                .association_id(id)
                .send()
                .await
                .unwrap();
            let association = described.association().unwrap();
            if owned_by(association.tags(), cluster) {
                found.push(format!(
                    "pod-identity-association {name}/{}/{}",
                    association.namespace().unwrap_or_default(),
                    association.service_account().unwrap_or_default()
                ));
            }
        }
        found
    }

    /// The add-ons of EKS cluster `name` tagged for `cluster`; none when the emulator has no
    /// add-on API.
    async fn owned_addons(&self, name: &str, cluster: &str) -> Vec<String> {
        let Ok(addons) = self.eks.list_addons().cluster_name(name).send().await else {
            return Vec::new();
        };
        let mut found = Vec::new();
        for addon in addons.addons() {
            let described = self
                .eks
                .describe_addon()
                .cluster_name(name)
                .addon_name(addon)
                .send()
                .await
                .unwrap();
            if owned_by(described.addon().unwrap().tags(), cluster) {
                found.push(format!("addon {name}/{addon}"));
            }
        }
        found
    }

    /// The access entries of EKS cluster `name` tagged for `cluster`; none when the emulator
    /// has no access entry API.
    async fn owned_access_entries(&self, name: &str, cluster: &str) -> Vec<String> {
        let Ok(entries) = self
            .eks
            .list_access_entries()
            .cluster_name(name)
            .send()
            .await
        else {
            return Vec::new();
        };
        let mut found = Vec::new();
        for principal in entries.access_entries() {
            let described = self
                .eks
                .describe_access_entry()
                .cluster_name(name)
                .principal_arn(principal)
                .send()
                .await
                .unwrap();
            if owned_by(described.access_entry().unwrap().tags(), cluster) {
                found.push(format!("access-entry {name}/{principal}"));
            }
        }
        found
    }
}

fn owned_by(tags: Option<&std::collections::HashMap<String, String>>, cluster: &str) -> bool {
    tags.is_some_and(|t| t.get("ekspec.io/cluster").map(String::as_str) == Some(cluster))
}

/// Egress-only internet gateways (those tagged for `cluster`, or all), by id. An emulator
/// without the call (fakecloud) has none.
async fn egress_only_gateways(ec2: &aws_sdk_ec2::Client, cluster: Option<&str>) -> Vec<String> {
    let Ok(answer) = ec2.describe_egress_only_internet_gateways().send().await else {
        return Vec::new();
    };
    answer
        .egress_only_internet_gateways()
        .iter()
        .filter(|g| {
            cluster.is_none_or(|cluster| {
                g.tags()
                    .iter()
                    .any(|t| t.key() == Some("ekspec.io/cluster") && t.value() == Some(cluster))
            })
        })
        .filter_map(|g| g.egress_only_internet_gateway_id().map(str::to_owned))
        .collect()
}
