//! `read` and `describe` over the in-memory cloud: a cluster another tool made, with the
//! live shapes the end-to-end tests do not reach (a main route table to the internet, roles
//! trusting several service accounts or another provider, several inline policies, custom
//! user names).

use serde_json::json;

use super::*;
use crate::cloud::memory::MemoryCloud;
use crate::cloud::{AccessEntryRequest, ClusterRequest, RoleRequest, RouteTarget, SubnetRequest};

const PROVIDER_HOST: &str = "oidc.eks.us-east-1.amazonaws.com/id/SHOP";

/// A cluster named `shop` in a VPC of its own, with a subnet on the main route table (which
/// reaches an internet gateway) and one on a table without an internet route.
async fn shop(cloud: &Cloud) -> (String, String) {
    let vpc = cloud
        .network
        .create_vpc("192.168.0.0/16", &Tags::new())
        .await
        .unwrap();
    let subnet = |cidr: &str, zone: &str| SubnetRequest {
        vpc_id: vpc.clone(),
        cidr: cidr.to_owned(),
        availability_zone: zone.to_owned(),
        public: false,
        tags: Tags::new(),
    };
    let on_main = cloud
        .network
        .create_subnet(&subnet("192.168.0.0/19", "us-east-1a"))
        .await
        .unwrap();
    let private = cloud
        .network
        .create_subnet(&subnet("192.168.32.0/19", "us-east-1b"))
        .await
        .unwrap();
    let igw = cloud
        .network
        .create_internet_gateway(&vpc, &Tags::new())
        .await
        .unwrap();
    let main = cloud
        .network
        .create_route_table(&vpc, &Tags::new())
        .await
        .unwrap();
    cloud
        .network
        .set_default_route(&main, &RouteTarget::InternetGateway(igw))
        .await
        .unwrap();
    let table = cloud
        .network
        .create_route_table(&vpc, &Tags::new())
        .await
        .unwrap();
    cloud
        .network
        .associate_route_table(&table, &private)
        .await
        .unwrap();
    cloud
        .kubernetes
        .create_cluster(&ClusterRequest {
            name: "shop".to_owned(),
            version: "1.31".to_owned(),
            role_arn: "arn:aws:iam::111122223333:role/shop-cluster".to_owned(),
            subnet_ids: vec![on_main.clone(), private.clone()],
            endpoint_public_access: true,
            endpoint_private_access: true,
            public_access_cidrs: vec!["0.0.0.0/0".to_owned()],
            enabled_log_types: Vec::new(),
            encryption_key_arn: None,
            tags: Tags::from([("team".to_owned(), "shop".to_owned())]),
            auto_mode: None,
            support_type: "STANDARD".to_owned(),
            deletion_protection: false,
            zonal_shift: false,
            scaling_tier: "standard".to_owned(),
            ip_family: None,
            client_request_token: "t".to_owned(),
        })
        .await
        .unwrap();
    (on_main, private)
}

async fn role(cloud: &Cloud, name: &str, path: &str, trust: serde_json::Value) {
    cloud
        .identity
        .create_role(&RoleRequest {
            name: name.to_owned(),
            path: path.to_owned(),
            trust_policy: trust,
            description: String::new(),
            tags: Tags::new(),
        })
        .await
        .unwrap();
}

fn irsa(provider: &str, subjects: serde_json::Value) -> serde_json::Value {
    json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"Federated": provider},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {format!("{PROVIDER_HOST}:sub"): subjects}}
    }]})
}

/// `read`, with the first route table made the VPC's main one (memory has no main table).
async fn live(memory: &MemoryCloud) -> Live {
    let mut live = read(&memory.cloud(), "shop", "us-east-1").await.unwrap();
    let first = live
        .route_tables
        .iter_mut()
        .min_by(|a, b| a.id.cmp(&b.id))
        .unwrap();
    first.main = true;
    live
}

#[tokio::test]
async fn subnets_on_a_main_route_table_to_the_internet_are_public() {
    let memory = MemoryCloud::new();
    let (on_main, private) = shop(&memory.cloud()).await;
    let exported = describe(&live(&memory).await);
    assert_eq!(
        exported.file.spec.vpc.subnets,
        Some(crate::spec::ExistingSubnets {
            private: vec![private],
            public: vec![on_main],
        })
    );
    assert!(
        exported
            .inferred
            .iter()
            .any(|i| i.contains("is brought in"))
    );
    assert_eq!(
        exported.file.metadata.tags.get("team").map(String::as_str),
        Some("shop")
    );
}

#[tokio::test]
async fn an_irsa_role_becomes_the_one_service_account_its_trust_names() {
    let memory = MemoryCloud::new();
    let cloud = memory.cloud();
    shop(&cloud).await;
    let provider = format!("arn:aws:iam::111122223333:oidc-provider/{PROVIDER_HOST}");
    role(
        &cloud,
        "uploader",
        "/apps/",
        irsa(&provider, json!("system:serviceaccount:apps:uploader")),
    )
    .await;
    for (name, document) in [
        (
            "s3",
            json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}}),
        ),
        (
            "sqs",
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]}),
        ),
    ] {
        cloud
            .identity
            .put_inline_policy("uploader", name, &document)
            .await
            .unwrap();
    }
    let two = json!(["system:serviceaccount:a:one", "system:serviceaccount:b:two"]);
    role(&cloud, "two-accounts", "/", irsa(&provider, two)).await;
    let elsewhere =
        "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/OTHER";
    role(
        &cloud,
        "other-cluster",
        "/",
        irsa(elsewhere, json!("system:serviceaccount:x:y")),
    )
    .await;

    let exported = describe(&live(&memory).await);
    let accounts = &exported.file.spec.service_accounts;
    assert_eq!(accounts.len(), 1, "{accounts:#?}");
    assert_eq!(
        (accounts[0].namespace.as_str(), accounts[0].name.as_str()),
        ("apps", "uploader")
    );
    assert_eq!(accounts[0].role_name.as_deref(), Some("uploader"));
    // Both inline policies, as one document.
    assert_eq!(
        accounts[0].inline_policy,
        Some(json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"},
            {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}
        ]}))
    );
    assert!(
        exported
            .inferred
            .iter()
            .any(|i| i.contains("s3, sqs of role uploader are merged"))
    );
    let lines: Vec<String> = exported.omissions.iter().map(ToString::to_string).collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("left out: role uploader path: /apps/")),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("left out: role two-accounts trustPolicy: trusts the cluster's OIDC provider for system:serviceaccount:a:one, system:serviceaccount:b:two")),
        "{lines:#?}"
    );
    // A role of another cluster's provider is not this cluster's at all.
    assert!(
        !lines.iter().any(|l| l.contains("other-cluster")),
        "{lines:#?}"
    );
}

#[tokio::test]
async fn only_user_names_eks_would_not_give_are_written() {
    let memory = MemoryCloud::new();
    let cloud = memory.cloud();
    shop(&cloud).await;
    for (principal, username) in [
        ("arn:aws:iam::111122223333:role/team/dev", None),
        ("arn:aws:iam::111122223333:role/ops", Some("ops-admin")),
        ("arn:aws:iam::111122223333:user/alice", None),
    ] {
        cloud
            .kubernetes
            .create_access_entry(&AccessEntryRequest {
                cluster: "shop".to_owned(),
                principal_arn: principal.to_owned(),
                kubernetes_groups: vec!["viewers".to_owned()],
                username: username.map(str::to_owned),
                entry_type: None,
                tags: Tags::new(),
                client_request_token: principal.to_owned(),
            })
            .await
            .unwrap();
    }
    let live = live(&memory).await;
    let eks_names: Vec<Option<String>> = live
        .contents
        .access_entries
        .iter()
        .map(|e| e.username.clone())
        .collect();
    let exported = describe(&live);
    let names: Vec<(&str, Option<&str>)> = exported
        .file
        .spec
        .access_entries
        .iter()
        .map(|e| (e.principal_arn.as_str(), e.username.as_deref()))
        .collect();
    assert_eq!(
        names,
        [
            ("arn:aws:iam::111122223333:role/ops", Some("ops-admin")),
            ("arn:aws:iam::111122223333:role/team/dev", None),
            ("arn:aws:iam::111122223333:user/alice", None),
        ],
        "EKS named them {eks_names:?}"
    );
}
