//! eksctl's `wellKnownPolicies`: the managed policies and the statements eksctl attaches for
//! each (`createWellKnownPolicies` in pkg/cfn/builder/iam_helper.go, the statements of
//! pkg/cfn/builder/statement.go), written out so the role ekspec makes has the same rights.

use serde_json::{Value, json};

use super::Converter;
use super::model::Addon;
use crate::spec::{AddonSpec, ClusterSpec, FieldPath, IdentityMechanism, ServiceAccountSpec};

/// The flags of `wellKnownPolicies`, in the order eksctl adds their policies.
pub const FLAGS: &[&str] = &[
    "imageBuilder",
    "autoScaler",
    "awsLoadBalancerController",
    "externalDNS",
    "certManager",
    "ebsCSIController",
    "efsCSIController",
];

/// What eksctl attaches for one flag: managed policy ARNs, and statements for its custom
/// inline policies.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WellKnown {
    /// Managed policy ARNs.
    pub policy_arns: Vec<String>,
    /// Statements of eksctl's own inline policies, in eksctl's order.
    pub statements: Vec<Value>,
}

/// The partition of a region's ARNs.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else {
        "aws"
    }
}

/// What eksctl attaches for `flag` in `partition`, if `flag` is one of [`FLAGS`].
pub fn policies(flag: &str, partition: &str) -> Option<WellKnown> {
    let arn = |rest: &str| format!("arn:{partition}:{rest}");
    let managed = |name: &str| WellKnown {
        policy_arns: vec![arn(&format!("iam::aws:policy/{name}"))],
        statements: Vec::new(),
    };
    let custom = |statements: Vec<Value>| WellKnown {
        policy_arns: Vec::new(),
        statements,
    };
    Some(match flag {
        "imageBuilder" => managed("AmazonEC2ContainerRegistryPowerUser"),
        "autoScaler" => custom(auto_scaler()),
        "awsLoadBalancerController" => custom(load_balancer_controller(&arn)),
        "externalDNS" => custom([change_set(&arn), external_dns_hosted_zones()].concat()),
        "certManager" => custom(
            [
                change_set(&arn),
                cert_manager_get_change(&arn),
                cert_manager_hosted_zones(),
            ]
            .concat(),
        ),
        "ebsCSIController" => managed("service-role/AmazonEBSCSIDriverPolicy"),
        "efsCSIController" => custom(efs_csi_controller()),
        _ => return None,
    })
}

fn allow(actions: &[&str], resource: Value) -> Value {
    json!({"Effect": "Allow", "Action": actions, "Resource": resource})
}

fn allow_if(actions: &[&str], resource: Value, condition: Value) -> Value {
    json!({"Effect": "Allow", "Action": actions, "Resource": resource, "Condition": condition})
}

fn all() -> Value {
    Value::from("*")
}

fn auto_scaler() -> Vec<Value> {
    vec![
        allow(
            &[
                "autoscaling:DescribeAutoScalingGroups",
                "autoscaling:DescribeAutoScalingInstances",
                "autoscaling:DescribeLaunchConfigurations",
                "autoscaling:DescribeScalingActivities",
                "autoscaling:DescribeTags",
                "ec2:DescribeInstanceTypes",
                "ec2:DescribeLaunchTemplateVersions",
            ],
            all(),
        ),
        allow(
            &[
                "autoscaling:SetDesiredCapacity",
                "autoscaling:TerminateInstanceInAutoScalingGroup",
                "ec2:DescribeImages",
                "ec2:GetInstanceTypesFromInstanceRequirements",
                "eks:DescribeNodegroup",
            ],
            all(),
        ),
    ]
}

fn change_set(arn: &dyn Fn(&str) -> String) -> Vec<Value> {
    vec![allow(
        &["route53:ChangeResourceRecordSets"],
        Value::from(arn("route53:::hostedzone/*")),
    )]
}

fn external_dns_hosted_zones() -> Vec<Value> {
    vec![allow(
        &[
            "route53:ListHostedZones",
            "route53:ListResourceRecordSets",
            "route53:ListTagsForResource",
        ],
        all(),
    )]
}

fn cert_manager_get_change(arn: &dyn Fn(&str) -> String) -> Vec<Value> {
    vec![allow(
        &["route53:GetChange"],
        Value::from(arn("route53:::change/*")),
    )]
}

fn cert_manager_hosted_zones() -> Vec<Value> {
    vec![allow(
        &[
            "route53:ListResourceRecordSets",
            "route53:ListHostedZonesByName",
        ],
        all(),
    )]
}

fn efs_csi_controller() -> Vec<Value> {
    let tagged = |key: &str| json!({"StringLike": {key: "true"}});
    vec![
        allow(
            &[
                "elasticfilesystem:DescribeAccessPoints",
                "elasticfilesystem:DescribeFileSystems",
            ],
            all(),
        ),
        allow_if(
            &["elasticfilesystem:CreateAccessPoint"],
            all(),
            tagged("aws:RequestTag/efs.csi.aws.com/cluster"),
        ),
        allow_if(
            &["elasticfilesystem:TagResource"],
            all(),
            tagged("aws:RequestTag/efs.csi.aws.com/cluster"),
        ),
        allow_if(
            &["elasticfilesystem:DeleteAccessPoint"],
            all(),
            tagged("aws:ResourceTag/efs.csi.aws.com/cluster"),
        ),
    ]
}

fn load_balancer_controller(arn: &dyn Fn(&str) -> String) -> Vec<Value> {
    let security_groups = Value::from(arn("ec2:*:*:security-group/*"));
    let balancers = json!([
        arn("elasticloadbalancing:*:*:targetgroup/*/*"),
        arn("elasticloadbalancing:*:*:loadbalancer/net/*/*"),
        arn("elasticloadbalancing:*:*:loadbalancer/app/*/*"),
    ]);
    let request_tagged = json!({"Null": {"aws:RequestTag/elbv2.k8s.aws/cluster": "false"}});
    let resource_tagged = json!({"Null": {"aws:ResourceTag/elbv2.k8s.aws/cluster": "false"}});
    let tagged_not_requested = json!({"Null": {
        "aws:RequestTag/elbv2.k8s.aws/cluster": "true",
        "aws:ResourceTag/elbv2.k8s.aws/cluster": "false",
    }});
    vec![
        allow_if(
            &["iam:CreateServiceLinkedRole"],
            all(),
            json!({"StringEquals": {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}}),
        ),
        allow(
            &[
                "ec2:DescribeAccountAttributes",
                "ec2:DescribeAddresses",
                "ec2:DescribeAvailabilityZones",
                "ec2:DescribeInternetGateways",
                "ec2:DescribeVpcs",
                "ec2:DescribeVpcPeeringConnections",
                "ec2:DescribeSubnets",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeInstances",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeTags",
                "ec2:GetCoipPoolUsage",
                "ec2:DescribeCoipPools",
                "ec2:GetSecurityGroupsForVpc",
                "ec2:DescribeIpamPools",
                "ec2:DescribeRouteTables",
                "elasticloadbalancing:DescribeLoadBalancers",
                "elasticloadbalancing:DescribeLoadBalancerAttributes",
                "elasticloadbalancing:DescribeListeners",
                "elasticloadbalancing:DescribeListenerCertificates",
                "elasticloadbalancing:DescribeSSLPolicies",
                "elasticloadbalancing:DescribeRules",
                "elasticloadbalancing:DescribeTargetGroups",
                "elasticloadbalancing:DescribeTargetGroupAttributes",
                "elasticloadbalancing:DescribeTargetHealth",
                "elasticloadbalancing:DescribeTags",
                "elasticloadbalancing:DescribeTrustStores",
                "elasticloadbalancing:DescribeListenerAttributes",
                "elasticloadbalancing:DescribeCapacityReservation",
            ],
            all(),
        ),
        allow(
            &[
                "cognito-idp:DescribeUserPoolClient",
                "acm:ListCertificates",
                "acm:DescribeCertificate",
                "iam:ListServerCertificates",
                "iam:GetServerCertificate",
                "waf-regional:GetWebACL",
                "waf-regional:GetWebACLForResource",
                "waf-regional:AssociateWebACL",
                "waf-regional:DisassociateWebACL",
                "wafv2:GetWebACL",
                "wafv2:GetWebACLForResource",
                "wafv2:AssociateWebACL",
                "wafv2:DisassociateWebACL",
                "shield:GetSubscriptionState",
                "shield:DescribeProtection",
                "shield:CreateProtection",
                "shield:DeleteProtection",
            ],
            all(),
        ),
        allow(
            &[
                "ec2:AuthorizeSecurityGroupIngress",
                "ec2:RevokeSecurityGroupIngress",
            ],
            all(),
        ),
        allow(&["ec2:CreateSecurityGroup"], all()),
        allow_if(
            &["ec2:CreateTags"],
            security_groups.clone(),
            json!({
                "StringEquals": {"ec2:CreateAction": "CreateSecurityGroup"},
                "Null": {"aws:RequestTag/elbv2.k8s.aws/cluster": "false"},
            }),
        ),
        allow_if(
            &["ec2:CreateTags", "ec2:DeleteTags"],
            security_groups,
            tagged_not_requested.clone(),
        ),
        allow_if(
            &[
                "ec2:AuthorizeSecurityGroupIngress",
                "ec2:RevokeSecurityGroupIngress",
                "ec2:DeleteSecurityGroup",
            ],
            all(),
            resource_tagged.clone(),
        ),
        allow_if(
            &[
                "elasticloadbalancing:CreateLoadBalancer",
                "elasticloadbalancing:CreateTargetGroup",
            ],
            all(),
            request_tagged.clone(),
        ),
        allow(
            &[
                "elasticloadbalancing:CreateListener",
                "elasticloadbalancing:DeleteListener",
                "elasticloadbalancing:CreateRule",
                "elasticloadbalancing:DeleteRule",
            ],
            all(),
        ),
        allow_if(
            &[
                "elasticloadbalancing:AddTags",
                "elasticloadbalancing:RemoveTags",
            ],
            balancers.clone(),
            tagged_not_requested,
        ),
        allow(
            &[
                "elasticloadbalancing:AddTags",
                "elasticloadbalancing:RemoveTags",
            ],
            json!([
                arn("elasticloadbalancing:*:*:listener/net/*/*/*"),
                arn("elasticloadbalancing:*:*:listener/app/*/*/*"),
                arn("elasticloadbalancing:*:*:listener-rule/net/*/*/*"),
                arn("elasticloadbalancing:*:*:listener-rule/app/*/*/*"),
            ]),
        ),
        allow_if(
            &[
                "elasticloadbalancing:ModifyLoadBalancerAttributes",
                "elasticloadbalancing:SetIpAddressType",
                "elasticloadbalancing:SetSecurityGroups",
                "elasticloadbalancing:SetSubnets",
                "elasticloadbalancing:DeleteLoadBalancer",
                "elasticloadbalancing:ModifyTargetGroup",
                "elasticloadbalancing:ModifyTargetGroupAttributes",
                "elasticloadbalancing:DeleteTargetGroup",
                "elasticloadbalancing:ModifyListenerAttributes",
                "elasticloadbalancing:ModifyCapacityReservation",
                "elasticloadbalancing:ModifyIpPools",
            ],
            all(),
            resource_tagged,
        ),
        allow_if(
            &["elasticloadbalancing:AddTags"],
            balancers,
            json!({
                "StringEquals": {
                    "elasticloadbalancing:CreateAction": ["CreateTargetGroup", "CreateLoadBalancer"],
                },
                "Null": {"aws:RequestTag/elbv2.k8s.aws/cluster": "false"},
            }),
        ),
        allow(
            &[
                "elasticloadbalancing:RegisterTargets",
                "elasticloadbalancing:DeregisterTargets",
            ],
            Value::from(arn("elasticloadbalancing:*:*:targetgroup/*/*")),
        ),
        allow(
            &[
                "elasticloadbalancing:SetWebAcl",
                "elasticloadbalancing:ModifyListener",
                "elasticloadbalancing:AddListenerCertificates",
                "elasticloadbalancing:RemoveListenerCertificates",
                "elasticloadbalancing:ModifyRule",
                "elasticloadbalancing:SetRulePriorities",
            ],
            all(),
        ),
    ]
}

impl Converter<'_> {
    /// Adds what eksctl attaches for the `wellKnownPolicies` at `path` to `account`: managed
    /// policies to policyArns, eksctl's statements to inlinePolicy (after attachPolicy's).
    pub(super) fn well_known_policies(
        &mut self,
        flags: Option<&Value>,
        path: &FieldPath,
        account: &mut ServiceAccountSpec,
    ) {
        let Some(flags) = flags else { return };
        let Value::Object(flags) = flags else {
            self.lost(
                path,
                format!("not a mapping of eksctl's flags ({})", FLAGS.join(", ")),
            );
            return;
        };
        let mut chosen = Vec::new();
        let mut attached = WellKnown::default();
        for flag in flags.keys().filter(|flag| !FLAGS.contains(&flag.as_str())) {
            self.lost(
                &path.key(flag.clone()),
                format!(
                    "not one of eksctl's well-known policies ({})",
                    FLAGS.join(", ")
                ),
            );
        }
        // eksctl's order, whatever the file's.
        for flag in FLAGS {
            let (Some(on), Some(policies)) = (flags.get(*flag), policies(flag, self.partition))
            else {
                continue;
            };
            let flag_path = path.key(*flag);
            match on {
                Value::Bool(true) => {}
                Value::Bool(false) | Value::Null => continue,
                _ => {
                    self.lost(&flag_path, "expected true or false (eksctl rejects it too)");
                    continue;
                }
            }
            chosen.push(*flag);
            for arn in policies.policy_arns {
                if !account.policy_arns.contains(&arn) && !attached.policy_arns.contains(&arn) {
                    attached.policy_arns.push(arn);
                }
            }
            attached.statements.extend(policies.statements);
        }
        if chosen.is_empty() {
            return;
        }
        let statements = attached.statements.len();
        if statements > 0 && !self.add_statements(account, attached.statements, path) {
            return;
        }
        let arns = attached.policy_arns.len();
        account.policy_arns.extend(attached.policy_arns);
        let mut written = Vec::new();
        if arns > 0 {
            written.push(format!(
                "{arns} managed polic{} in policyArns",
                if arns == 1 { "y" } else { "ies" }
            ));
        }
        if statements > 0 {
            written.push(format!(
                "{statements} statement{} in inlinePolicy",
                if statements == 1 { "" } else { "s" }
            ));
        }
        self.assumed(
            path,
            format!(
                "written out as what eksctl attaches for {}: {}",
                chosen.join(", "),
                written.join(" and ")
            ),
        );
    }

    /// Appends `statements` to the account's inline policy, making one if it has none; false
    /// (and reported) when the existing policy has no Statement list to add to.
    fn add_statements(
        &mut self,
        account: &mut ServiceAccountSpec,
        statements: Vec<Value>,
        path: &FieldPath,
    ) -> bool {
        let Some(policy) = &mut account.inline_policy else {
            account.inline_policy = Some(json!({"Version": "2012-10-17", "Statement": statements}));
            return true;
        };
        let existing = policy
            .as_object_mut()
            .and_then(|doc| doc.get_mut("Statement"));
        match existing {
            Some(Value::Array(list)) => list.extend(statements),
            Some(single @ Value::Object(_)) => {
                let first = single.take();
                *single = Value::Array(std::iter::once(first).chain(statements).collect());
            }
            _ => {
                self.lost(path, "the service account's inline policy (attachPolicy) has no Statement list to add eksctl's statements to, so none of wellKnownPolicies is carried over");
                return false;
            }
        }
        true
    }
}

impl Converter<'_> {
    /// An add-on's `wellKnownPolicies`: eksctl gives them to the IRSA role it makes for the
    /// add-on, so they go to the add-on's service account (made if the add-on has none yet).
    pub(super) fn addon_well_known_policies(
        &mut self,
        spec: &mut ClusterSpec,
        addon: &Addon,
        converted: &mut AddonSpec,
        path: &FieldPath,
    ) {
        let flags_path = path.key("wellKnownPolicies");
        let Some((account, namespace)) = super::addon_service_account(&converted.name) else {
            self.lost(
                &flags_path,
                format!("ekspec does not know the service account of add-on `{}`, so its IRSA role is not carried over: declare it in spec.serviceAccounts and set `serviceAccount` on the add-on", converted.name),
            );
            return;
        };
        let index = match spec
            .service_accounts
            .iter()
            .position(|a| a.name == account && a.namespace == namespace)
        {
            Some(index) => index,
            None => {
                spec.service_accounts.push(ServiceAccountSpec {
                    name: account.to_owned(),
                    namespace: namespace.to_owned(),
                    mechanism: IdentityMechanism::Irsa,
                    policy_arns: Vec::new(),
                    inline_policy: None,
                    role_name: None,
                });
                self.assumed(
                    path,
                    format!("the add-on's IRSA role is written as spec.serviceAccounts entry `{account}` ({namespace}), which the add-on uses"),
                );
                spec.service_accounts.len() - 1
            }
        };
        converted.service_account = Some(account.to_owned());
        self.well_known_policies(
            addon.well_known_policies.as_ref(),
            &flags_path,
            &mut spec.service_accounts[index],
        );
    }
}
