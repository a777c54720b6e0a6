//! docs/iam-policy.json is enough for ekspec and nothing in it is spare; the read-only policy
//! is enough for `plan` (`--adopt` too), `get` and `export`. Proven against fakecloud started
//! with `--verify-sigv4 --iam strict`: an IAM user holding only the policy runs plan, apply,
//! an upgrade and delete of the production example, and export, adopt, apply and delete of a
//! cluster eksctl made, with its own signed keys, and succeeds; then, for every grant of an
//! action that run used, the same run with only that grant removed fails, and ekspec's message
//! names the denied action and resource.
//!
//! fakecloud 0.51 enforces identity policies on IAM and STS but not on EC2, ELB, EKS or SSM
//! (it says so when it starts). For those the proxy in front of it asks fakecloud's own policy evaluator
//! (`iam:SimulatePrincipalPolicy`, for the user, the action and the resource) and answers a
//! denied call the way AWS does (`UnauthorizedOperation` for EC2, `AccessDeniedException` for
//! EKS and SSM, with AWS's "is not authorized to perform" message). So every call ekspec makes
//! is judged by the same evaluator against the user's policy.
//!
//! Runs wherever fakecloud is installed (see `moto.rs`); prints a skip line otherwise.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_config::BehaviorVersion;
use aws_sdk_iam::types::{ContextEntry, ContextKeyTypeEnum, PolicyEvaluationDecisionType};
use serde_json::Value;
use tempfile::TempDir;

use crate::e2e::edit;
use crate::inventory::Inventory;
use crate::moto::Emulator;
use crate::proxy::{Fault, Gate, Proxy, Request, Rule, Verdict};
use crate::support::{Ekspec, Output, repo};

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";
const USER: &str = "ekspec-ci";

/// Policy actions the run cannot show to be needed (only situations it cannot make call
/// them), each with why it stays in the policy.
const NOT_EXERCISED: &[(&str, &str)] = &[
    (
        "ec2:RevokeSecurityGroupEgress",
        "only `delete` of a network adopted with `--adopt-network` revokes security group rules (tests/it/adopt.rs runs it on moto)",
    ),
    (
        "ec2:RevokeSecurityGroupIngress",
        "only `delete` of a network adopted with `--adopt-network` revokes security group rules (tests/it/adopt.rs runs it on moto)",
    ),
];

/// Policy statements whose grants the scenario does not take one by one, each with why. Their
/// actions are used (through other statements), so a run without one of these grants succeeds.
/// None today: the scenario adopts a cluster eksctl made, so the adopted roles' statements
/// are taken one by one too.
const NOT_EXERCISED_STATEMENTS: &[(&str, &str)] = &[];

/// How many fakecloud instances the remove-one-action runs are spread over
/// (`EKSPEC_LEAST_PRIVILEGE_SHARDS`, default 3): a run mostly waits on ekspec's polling, so
/// three share two cores well (measured: see the test's report).
fn shards() -> usize {
    std::env::var("EKSPEC_LEAST_PRIVILEGE_SHARDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(3)
}

/// The statements whose grants the remove-one-action runs take, by Sid, for a quicker run
/// while working on a few (`EKSPEC_LEAST_PRIVILEGE_STATEMENTS=TagRolesForEkspec,ReadTheCluster`);
/// every statement when unset.
fn statements_to_take() -> Option<BTreeSet<String>> {
    let sids = std::env::var("EKSPEC_LEAST_PRIVILEGE_STATEMENTS").ok()?;
    Some(sids.split(',').map(|s| s.trim().to_owned()).collect())
}

/// Every grant of the policy: the index of a statement and an action it allows, in order
/// (an action several statements allow, each on its own resources, has a grant in each).
fn grants(policy: &Value) -> Vec<(usize, String)> {
    let mut all = Vec::new();
    for (index, statement) in policy["Statement"].as_array().unwrap().iter().enumerate() {
        match &statement["Action"] {
            Value::String(action) => all.push((index, action.clone())),
            Value::Array(list) => {
                all.extend(list.iter().map(|a| (index, a.as_str().unwrap().to_owned())))
            }
            other => panic!("unexpected Action {other}"),
        }
    }
    all
}

/// `policy` without `action` in statement `index` (and without that statement if it is
/// left empty).
fn without(policy: &Value, index: usize, action: &str) -> Value {
    let mut policy = policy.clone();
    let statements = policy["Statement"].as_array_mut().unwrap();
    let emptied = match &mut statements[index]["Action"] {
        Value::String(a) => a == action,
        Value::Array(list) => {
            list.retain(|a| a != action);
            list.is_empty()
        }
        _ => false,
    };
    if emptied {
        statements.remove(index);
    }
    policy
}

/// The production example on Kubernetes 1.31: fakecloud 0.51 lists versions up to 1.34
/// (DescribeClusterVersions), and ekspec plans one EKS does not list as impossible.
fn production_example() -> String {
    edit(
        &std::fs::read_to_string(repo().join("examples/production.yaml")).unwrap(),
        "kubernetesVersion: \"1.35\"",
        "kubernetesVersion: \"1.31\"",
    )
}

fn read_policy(file: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(repo().join(file)).unwrap()).unwrap()
}

/// The IAM action of an EKS REST call (`POST /clusters` is `eks:CreateCluster`), from the
/// routes of the EKS API reference.
fn eks_action(method: &str, path: &str) -> Option<&'static str> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    Some(match (method, segments.as_slice()) {
        ("POST", ["clusters"]) => "CreateCluster",
        ("GET", ["clusters"]) => "ListClusters",
        ("GET", ["clusters", _]) => "DescribeCluster",
        ("DELETE", ["clusters", _]) => "DeleteCluster",
        ("POST", ["clusters", _, "update-config"]) => "UpdateClusterConfig",
        ("POST", ["clusters", _, "updates"]) => "UpdateClusterVersion",
        ("GET", ["clusters", _, "updates"]) => "ListUpdates",
        ("GET", ["clusters", _, "updates", _]) => "DescribeUpdate",
        ("POST", ["clusters", _, "encryption-config", "associate"]) => "AssociateEncryptionConfig",
        ("POST", ["clusters", _, "node-groups"]) => "CreateNodegroup",
        ("GET", ["clusters", _, "node-groups"]) => "ListNodegroups",
        ("GET", ["clusters", _, "node-groups", _]) => "DescribeNodegroup",
        ("DELETE", ["clusters", _, "node-groups", _]) => "DeleteNodegroup",
        ("GET", ["clusters", _, "node-groups", _, "updates", _]) => "DescribeUpdate",
        ("POST", ["clusters", _, "node-groups", _, "update-config"]) => "UpdateNodegroupConfig",
        ("POST", ["clusters", _, "node-groups", _, "update-version"]) => "UpdateNodegroupVersion",
        ("POST", ["clusters", _, "fargate-profiles"]) => "CreateFargateProfile",
        ("GET", ["clusters", _, "fargate-profiles"]) => "ListFargateProfiles",
        ("GET", ["clusters", _, "fargate-profiles", _]) => "DescribeFargateProfile",
        ("DELETE", ["clusters", _, "fargate-profiles", _]) => "DeleteFargateProfile",
        ("POST", ["clusters", _, "addons"]) => "CreateAddon",
        ("GET", ["clusters", _, "addons"]) => "ListAddons",
        ("GET", ["clusters", _, "addons", _]) => "DescribeAddon",
        ("DELETE", ["clusters", _, "addons", _]) => "DeleteAddon",
        ("POST", ["clusters", _, "addons", _, "update"]) => "UpdateAddon",
        ("GET", ["clusters", _, "addons", _, "updates", _]) => "DescribeUpdate",
        ("GET", ["addons", "supported-versions"]) => "DescribeAddonVersions",
        ("GET", ["cluster-versions"]) => "DescribeClusterVersions",
        ("POST", ["clusters", _, "insights"]) => "ListInsights",
        ("GET", ["clusters", _, "insights", _]) => "DescribeInsight",
        ("POST", ["clusters", _, "access-entries"]) => "CreateAccessEntry",
        ("GET", ["clusters", _, "access-entries"]) => "ListAccessEntries",
        ("GET", ["clusters", _, "access-entries", _]) => "DescribeAccessEntry",
        ("POST", ["clusters", _, "access-entries", _]) => "UpdateAccessEntry",
        ("DELETE", ["clusters", _, "access-entries", _]) => "DeleteAccessEntry",
        ("POST", ["clusters", _, "access-entries", _, "access-policies"]) => {
            "AssociateAccessPolicy"
        }
        ("GET", ["clusters", _, "access-entries", _, "access-policies"]) => {
            "ListAssociatedAccessPolicies"
        }
        ("DELETE", ["clusters", _, "access-entries", _, "access-policies", _]) => {
            "DisassociateAccessPolicy"
        }
        ("POST", ["clusters", _, "pod-identity-associations"]) => "CreatePodIdentityAssociation",
        ("GET", ["clusters", _, "pod-identity-associations"]) => "ListPodIdentityAssociations",
        ("GET", ["clusters", _, "pod-identity-associations", _]) => {
            "DescribePodIdentityAssociation"
        }
        ("POST", ["clusters", _, "pod-identity-associations", _]) => "UpdatePodIdentityAssociation",
        ("DELETE", ["clusters", _, "pod-identity-associations", _]) => {
            "DeletePodIdentityAssociation"
        }
        ("POST", ["tags", _]) => "TagResource",
        ("DELETE", ["tags", _]) => "UntagResource",
        ("GET", ["tags", _]) => "ListTagsForResource",
        _ => return None,
    })
}

/// The query-protocol service of a request body, by its API version.
fn query_service(body: &str) -> Option<&'static str> {
    [
        ("Version=2016-11-15", "ec2"),
        ("Version=2010-05-08", "iam"),
        ("Version=2011-06-15", "sts"),
        ("Version=2015-12-01", "elasticloadbalancing"),
        ("Version=2012-06-01", "elasticloadbalancing"),
    ]
    .into_iter()
    .find(|(version, _)| body.contains(version))
    .map(|(_, service)| service)
}

/// One permission AWS checks for a call: an action on a resource, with the condition keys
/// AWS sets for it (`iam:PassedToService`, the multivalued `aws:TagKeys`, or the resource's
/// tags as `aws:ResourceTag/<key>`).
struct Check {
    action: String,
    resource: String,
    context: Vec<(String, Vec<String>)>,
}

impl Check {
    fn new(action: String, resource: String) -> Self {
        Self {
            action,
            resource,
            context: Vec::new(),
        }
    }
}

/// A resource's tags as the condition keys AWS sets for them (`aws:ResourceTag/<key>`).
fn resource_tags(tags: Vec<(String, String)>) -> Vec<(String, Vec<String>)> {
    tags.into_iter()
        .map(|(key, value)| (format!("aws:ResourceTag/{key}"), vec![value]))
        .collect()
}

/// Tags a call carries as the condition keys AWS sets for them: `aws:RequestTag/<key>` for
/// each, and the keys as the multivalued `aws:TagKeys` (IAM User Guide, "Controlling access to
/// and for IAM users and roles using tags": "aws:RequestTag/key-name ... to specify what tags
/// can be added, changed, or removed from an IAM user or role"; "Controlling access during
/// AWS requests" for `aws:TagKeys`). Nothing when it carries none.
fn request_tags(tags: Vec<(String, String)>) -> Vec<(String, Vec<String>)> {
    if tags.is_empty() {
        return Vec::new();
    }
    let keys = tags.iter().map(|(key, _)| key.clone()).collect();
    let mut context: Vec<(String, Vec<String>)> = tags
        .into_iter()
        .map(|(key, value)| (format!("aws:RequestTag/{key}"), vec![value]))
        .collect();
    context.push(("aws:TagKeys".to_owned(), keys));
    context
}

/// The tags of an IAM call (`Tags.member.N.Key`, `Tags.member.N.Value`).
fn form_tags(body: &str) -> Vec<(String, String)> {
    (1..)
        .map_while(|n| {
            let key = form_param(body, &format!("Tags.member.{n}.Key"))?;
            let value = form_param(body, &format!("Tags.member.{n}.Value")).unwrap_or_default();
            Some((key, value))
        })
        .collect()
}

/// A form parameter of a query-protocol body, decoded.
fn form_param(body: &str, key: &str) -> Option<String> {
    body.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| {
            percent_encoding::percent_decode_str(&v.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        })
    })
}

/// The permissions AWS checks for an SQS or EventBridge call (JSON protocol): its action on
/// the queue or rule it names (`*` for the account-wide listings), plus the tagging action
/// when a create carries tags ("To be able to tag a queue on creation, you must have the
/// sqs:CreateQueue and sqs:TagQueue permissions"; PutRule: "you must have both the
/// events:PutRule and events:TagResource permissions").
fn queue_and_rule_checks(request: &Request) -> Vec<Check> {
    let target = request.target.unwrap_or_default();
    let body: Value = serde_json::from_slice(request.body).unwrap_or(Value::Null);
    let field = |name: &str| body[name].as_str().map(str::to_owned);
    if let Some(action) = target.strip_prefix("AmazonSQS.") {
        let queue = field("QueueName")
            .or_else(|| field("QueueUrl").map(|u| u.rsplit('/').next().unwrap().to_owned()));
        let resource = queue.map_or_else(
            || "*".to_owned(),
            |q| format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{q}"),
        );
        let mut checks = vec![Check::new(format!("sqs:{action}"), resource.clone())];
        if action == "CreateQueue" && body["tags"].is_object() {
            checks.push(Check::new("sqs:TagQueue".to_owned(), resource));
        }
        return checks;
    }
    let action = target.trim_start_matches("AWSEvents.");
    let resource = field("ResourceARN")
        .or_else(|| {
            field("Name")
                .or_else(|| field("Rule"))
                .map(|rule| format!("arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule}"))
        })
        .unwrap_or_else(|| "*".to_owned());
    let mut checks = vec![Check::new(format!("events:{action}"), resource.clone())];
    if action == "PutRule" && body["Tags"].is_array() {
        checks.push(Check::new("events:TagResource".to_owned(), resource));
    }
    checks
}

/// The permissions AWS checks for an EKS call: its own action on the cluster, plus
/// `iam:PassRole` for the role it hands to EKS (with the role's tags, `role_tags` read by its
/// ARN) and the KMS actions on the secrets key.
fn eks_checks(
    request: &Request,
    role_tags: impl Fn(&str) -> Vec<(String, String)>,
) -> Option<Vec<Check>> {
    let action = eks_action(request.method, request.path)?;
    let cluster = request
        .path
        .strip_prefix("/clusters/")
        .and_then(|rest| rest.split('/').next());
    // TagResource names the resource it tags in its path (`/tags/{resourceArn}`).
    let tagged = request.path.strip_prefix("/tags/").map(|arn| {
        percent_encoding::percent_decode_str(arn)
            .decode_utf8_lossy()
            .into_owned()
    });
    let resource = match (cluster, tagged) {
        (Some(name), _) => format!("arn:aws:eks:{REGION}:{ACCOUNT}:cluster/{name}"),
        (None, Some(arn)) => arn,
        (None, None) => "*".to_owned(),
    };
    let body: Value = serde_json::from_slice(request.body).unwrap_or(Value::Null);
    // Tags a call carries are authorized with `aws:RequestTag/<key>` and `aws:TagKeys`
    // (Service Authorization Reference, Amazon EKS: TagResource and the Create actions list
    // both condition keys).
    let tags: Vec<(String, String)> = body["tags"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(key, value)| (key.clone(), value.as_str().unwrap_or_default().to_owned()))
        .collect();
    let tag_context = request_tags(tags);
    let mut checks = vec![Check {
        action: format!("eks:{action}"),
        resource,
        context: tag_context.clone(),
    }];
    // iam:PassRole is authorized on the role passed, with `iam:PassedToService` and the role's
    // tags as `aws:ResourceTag/<key>` (Service Authorization Reference, IAM: PassRole on
    // resource type role, whose condition keys include aws:ResourceTag/${TagKey}): the policy
    // lets ekspec pass a role outside its path only when it carries `ekspec.io/cluster`.
    let pass = |role: &str, service: &str| {
        let mut context = vec![("iam:PassedToService".to_owned(), vec![service.to_owned()])];
        context.extend(resource_tags(role_tags(role)));
        Check {
            action: "iam:PassRole".to_owned(),
            resource: role.to_owned(),
            context,
        }
    };
    // A Pod Identity association hands its role to EKS Pod Identity (`pods.eks.amazonaws.com`)
    // when it is made or pointed at another role, and so do an add-on's associations.
    let pod_identity = action.ends_with("PodIdentityAssociation");
    for (field, service) in [
        ("roleArn", "eks.amazonaws.com"),
        ("nodeRole", "eks.amazonaws.com"),
        ("podExecutionRoleArn", "eks-fargate-pods.amazonaws.com"),
    ] {
        let service = if pod_identity {
            "pods.eks.amazonaws.com"
        } else {
            service
        };
        if let Some(role) = body[field]
            .as_str()
            .filter(|_| action.starts_with("Create") || pod_identity)
        {
            checks.push(pass(role, service));
        }
    }
    // An add-on's IRSA role is passed to EKS when the add-on is made or changed (Service
    // Authorization Reference, Amazon EKS: CreateAddon and UpdateAddon list iam:PassRole as a
    // dependent action); an empty one takes the role away and passes none.
    if let Some(role) = body["serviceAccountRoleArn"]
        .as_str()
        .filter(|role| !role.is_empty() && matches!(action, "CreateAddon" | "UpdateAddon"))
    {
        checks.push(pass(role, "eks.amazonaws.com"));
    }
    for association in body["podIdentityAssociations"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if let Some(role) = association["roleArn"].as_str() {
            checks.push(pass(role, "pods.eks.amazonaws.com"));
        }
    }
    if action.starts_with("Create") && !tag_context.is_empty() {
        checks.push(Check {
            action: "eks:TagResource".to_owned(),
            resource: checks[0].resource.clone(),
            context: tag_context,
        });
    }
    let encryption = body["encryptionConfig"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for key in encryption
        .iter()
        .filter_map(|c| c["provider"]["keyArn"].as_str())
    {
        for kms in ["kms:DescribeKey", "kms:CreateGrant"] {
            checks.push(Check::new(kms.to_owned(), key.to_owned()));
        }
    }
    Some(checks)
}

/// The permissions AWS checks for an IAM call, on the resource AWS names: a role's ARN
/// includes its path (fakecloud 0.51 leaves the path out, so its own check of IAM calls
/// would judge a resource AWS never names). `role` reads a role's ARN and tags, `profile` an
/// instance profile's.
fn iam_checks(
    request: &Request,
    body: &str,
    role: impl Fn(&str) -> Option<(String, Vec<(String, String)>)>,
    profile: impl Fn(&str) -> Option<(String, Vec<(String, String)>)>,
) -> Vec<Check> {
    // The instance profile calls (Get, RemoveRoleFrom, Delete) are authorized on the profile,
    // with its tags as `aws:ResourceTag/<key>` (Service Authorization Reference, IAM:
    // resource type instance-profile, condition key aws:ResourceTag/${TagKey}).
    if let Some(name) = form_param(body, "InstanceProfileName") {
        let (resource, tags) = profile(&name).unwrap_or_else(|| {
            (
                format!("arn:aws:iam::{ACCOUNT}:instance-profile/{name}"),
                Vec::new(),
            )
        });
        return vec![Check {
            action: format!("iam:{}", request.name),
            resource,
            context: resource_tags(tags),
        }];
    }
    let mut context = Vec::new();
    let resource = if let Some(name) = form_param(body, "RoleName") {
        match (request.name, form_param(body, "Path")) {
            ("CreateRole", path) => format!(
                "arn:aws:iam::{ACCOUNT}:role{}{name}",
                path.unwrap_or_else(|| "/".to_owned())
            ),
            // A call on a role is authorized with its tags as `aws:ResourceTag/<key>` (IAM
            // User Guide, "Controlling access to and for IAM users and roles using tags":
            // "aws:ResourceTag/key-name ... to specify which tag key-value pair must be attached
            // to the resource"): the policy lets ekspec change a role outside its own path
            // only when it carries `ekspec.io/cluster`.
            _ => {
                let (arn, tags) = role(&name)
                    .unwrap_or_else(|| (format!("arn:aws:iam::{ACCOUNT}:role/{name}"), Vec::new()));
                context = resource_tags(tags);
                arn
            }
        }
    } else if let Some(arn) = form_param(body, "OpenIDConnectProviderArn") {
        arn
    } else if let Some(url) = form_param(body, "Url") {
        format!(
            "arn:aws:iam::{ACCOUNT}:oidc-provider/{}",
            url.trim_start_matches("https://")
        )
    } else if let Some(service) = form_param(body, "AWSServiceName") {
        // CreateServiceLinkedRole is authorized on the role it makes, under
        // `/aws-service-role/<service>/`, with `iam:AWSServiceName` set to the service (IAM
        // User Guide, "Service-linked role permissions"; Service Authorization Reference, IAM
        // condition keys).
        let context = vec![("iam:AWSServiceName".to_owned(), vec![service.clone()])];
        let role = match service.as_str() {
            "spot.amazonaws.com" => "AWSServiceRoleForEC2Spot",
            "eks.amazonaws.com" => "AWSServiceRoleForAmazonEKS",
            "eks-nodegroup.amazonaws.com" => "AWSServiceRoleForAmazonEKSNodegroup",
            "eks-fargate.amazonaws.com" => "AWSServiceRoleForAmazonEKSForFargate",
            other => panic!("the test does not know the service-linked role of {other}"),
        };
        return vec![Check {
            action: format!("iam:{}", request.name),
            resource: format!("arn:aws:iam::{ACCOUNT}:role/aws-service-role/{service}/{role}"),
            context,
        }];
    } else {
        "*".to_owned()
    };
    // Tags a call carries (TagRole, TagOpenIDConnectProvider, a create's) are authorized with
    // `aws:RequestTag/<key>` and `aws:TagKeys`; a create's are authorized as the tagging action
    // too. The policy lets ekspec tag a role outside its own path only with `ekspec.io/cluster`
    // in the request.
    let tags = request_tags(form_tags(body));
    context.extend(tags.iter().cloned());
    let tagging = match request.name {
        "CreateRole" => Some("iam:TagRole"),
        "CreateOpenIDConnectProvider" => Some("iam:TagOpenIDConnectProvider"),
        _ => None,
    };
    let mut checks = vec![Check {
        action: format!("iam:{}", request.name),
        resource: resource.clone(),
        context: context.clone(),
    }];
    if let Some(tagging) = tagging.filter(|_| !tags.is_empty()) {
        checks.push(Check {
            action: tagging.to_owned(),
            resource,
            context,
        });
    }
    checks
}

/// fakecloud in strict IAM mode, the proxy that judges EC2/EKS/SSM calls with fakecloud's
/// evaluator, and the calls the user made.
struct StrictAccount {
    fakecloud: Emulator,
    proxy: Proxy,
    /// Root client (`test` keys bypass fakecloud's checks) to set up users and simulate.
    iam: aws_sdk_iam::Client,
    /// Root clients that read tags for the checks and leave what other tools make.
    ec2: aws_sdk_ec2::Client,
    eks: aws_sdk_eks::Client,
    elb: aws_sdk_elasticloadbalancingv2::Client,
    sqs: aws_sdk_sqs::Client,
    runtime: Arc<tokio::runtime::Runtime>,
    /// Every `service:Action` the user's runs asked for.
    used: Arc<std::sync::Mutex<BTreeSet<String>>>,
    dir: TempDir,
}

/// Where a scenario stopped: the step, its output, and what every step so far printed.
struct Stopped {
    step: String,
    out: Output,
    said: String,
}

/// The access keys of the user under test.
struct Keys {
    id: String,
    secret: String,
}

impl StrictAccount {
    fn start() -> Option<Self> {
        let fakecloud = Emulator::fakecloud_with(&["--verify-sigv4", "--iam", "strict"])?;
        let proxy = Proxy::start(&fakecloud.endpoint());
        let runtime = Arc::new(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap(),
        );
        let config = runtime.block_on(
            aws_config::defaults(BehaviorVersion::latest())
                .endpoint_url(fakecloud.endpoint())
                .region(aws_config::Region::new(REGION))
                .credentials_provider(aws_credential_types::Credentials::new(
                    "test", "test", None, None, "tests",
                ))
                .load(),
        );
        let account = Self {
            iam: aws_sdk_iam::Client::new(&config),
            ec2: aws_sdk_ec2::Client::new(&config),
            eks: aws_sdk_eks::Client::new(&config),
            elb: aws_sdk_elasticloadbalancingv2::Client::new(&config),
            sqs: aws_sdk_sqs::Client::new(&config),
            fakecloud,
            proxy,
            runtime,
            used: Arc::default(),
            dir: TempDir::new().unwrap(),
        };
        account.proxy.authorize(account.gate());
        // fakecloud reports every upgrade insight PASSING, so ekspec would never read one's
        // details (DescribeInsight): its answers to ListInsights say WARNING instead, one of
        // InsightStatus's values (`PASSING | WARNING | ERROR | UNKNOWN`, EKS API reference),
        // which plan shows and apply does not stop for.
        account.proxy.faults(vec![
            Rule::new(
                |call| call.starts_with("POST /clusters/") && call.ends_with("/insights"),
                Fault::Rewrite(vec![("\"PASSING\"".to_owned(), "\"WARNING\"".to_owned())]),
                usize::MAX,
            ),
            // See `trust_with_stand_in`: the role's trust policy as ekspec wrote it.
            Rule::new(
                |call| call == "GetRole" || call == "ListRoles",
                Fault::Rewrite(vec![(
                    percent_encode_policy(TAG_SESSION_STAND_IN),
                    percent_encode_policy("sts:TagSession"),
                )]),
                usize::MAX,
            ),
        ]);
        Some(account)
    }

    /// Records every permission the user's calls need, and refuses a call fakecloud's
    /// evaluator denies the user, as AWS would. STS calls are left to fakecloud's own check;
    /// IAM calls are judged here (with the resource AWS names) and forwarded as root.
    fn gate(&self) -> Gate {
        let iam = self.iam.clone();
        let ec2 = self.ec2.clone();
        let runtime = Arc::clone(&self.runtime);
        let used = Arc::clone(&self.used);
        Arc::new(move |request: &Request| {
            let instance_tags = |id: &str| -> Vec<(String, String)> {
                let read = runtime.block_on(ec2.describe_instances().instance_ids(id).send());
                read.ok()
                    .iter()
                    .flat_map(|o| o.reservations())
                    .flat_map(|r| r.instances())
                    .flat_map(|i| i.tags())
                    .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
                    .collect()
            };
            // A role's ARN (with its path) and tags, by its name.
            let role = |name: &str| {
                let read = runtime.block_on(iam.get_role().role_name(name).send());
                let read = read.ok()?;
                let role = read.role()?;
                let tags = role
                    .tags()
                    .iter()
                    .map(|t| (t.key().to_owned(), t.value().to_owned()))
                    .collect();
                Some((role.arn().to_owned(), tags))
            };
            let role_tags = |arn: &str| {
                let name = arn.rsplit('/').next().unwrap_or(arn);
                role(name).map(|(_, tags)| tags).unwrap_or_default()
            };
            // Root (`test...`) calls are the test's own.
            if request.authorization.contains("Credential=test") {
                return Verdict::Forward;
            }
            let body = String::from_utf8_lossy(request.body);
            let mut forward = Verdict::Forward;
            let checks = match query_service(&body) {
                Some("sts") => {
                    used.lock().unwrap().insert(format!("sts:{}", request.name));
                    return Verdict::Forward;
                }
                Some("iam") => {
                    let profile = |name: &str| {
                        let read = runtime.block_on(
                            iam.get_instance_profile()
                                .instance_profile_name(name)
                                .send(),
                        );
                        let read = read.ok()?;
                        let profile = read.instance_profile()?;
                        let tags = profile
                            .tags()
                            .iter()
                            .map(|t| (t.key().to_owned(), t.value().to_owned()))
                            .collect();
                        Some((
                            format!(
                                "arn:aws:iam::{ACCOUNT}:instance-profile{}{name}",
                                profile.path()
                            ),
                            tags,
                        ))
                    };
                    let root = as_root(request.authorization);
                    forward = match trust_with_stand_in(request.name, request.body) {
                        Some(body) => Verdict::ForwardEdited {
                            authorization: root,
                            body,
                        },
                        None => Verdict::ForwardAs(root),
                    };
                    iam_checks(request, &body, role, profile)
                }
                Some(service) => {
                    let resource = format!("arn:aws:{service}:{REGION}:{ACCOUNT}:*");
                    let mut checks = vec![Check::new(
                        format!("{service}:{}", request.name),
                        resource.clone(),
                    )];
                    // CreateTags/DeleteTags are authorized with the keys they name as
                    // `aws:TagKeys` (EC2 User Guide, "Control access to EC2 resources using
                    // resource tags"): the policy lets ekspec delete only Karpenter's
                    // discovery tag.
                    if matches!(request.name, "CreateTags" | "DeleteTags") {
                        let keys: Vec<String> = (1..)
                            .map_while(|n| form_param(&body, &format!("Tag.{n}.Key")))
                            .collect();
                        checks[0].context = vec![("aws:TagKeys".to_owned(), keys)];
                    }
                    // TerminateInstances is authorized on each instance, with its tags as
                    // `aws:ResourceTag/<key>` (Service Authorization Reference, EC2: resource
                    // type instance): the policy lets ekspec terminate only instances
                    // Karpenter or EKS Auto Mode launched.
                    if request.name == "TerminateInstances" {
                        checks = (1..)
                            .map_while(|n| form_param(&body, &format!("InstanceId.{n}")))
                            .map(|id| Check {
                                action: "ec2:TerminateInstances".to_owned(),
                                resource: format!("arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{id}"),
                                context: resource_tags(instance_tags(&id)),
                            })
                            .collect();
                    }
                    // Tags given to a create are authorized as ec2:CreateTags too.
                    if body.contains("TagSpecification.1.") {
                        checks.push(Check::new("ec2:CreateTags".to_owned(), resource));
                    }
                    checks
                }
                None if request.target.is_some_and(|t| {
                    t.starts_with("AmazonSQS.") || t.starts_with("AWSEvents.")
                }) =>
                {
                    // fakecloud enforces SQS itself, and evaluates the queue policy's
                    // `DenyHTTP` statement (Karpenter's, `aws:SecureTransport` false) against
                    // this plain-HTTP test connection; ekspec talks to AWS over HTTPS only, so
                    // SQS calls are judged here, like IAM's, and forwarded as root.
                    if request.target.is_some_and(|t| t.starts_with("AmazonSQS.")) {
                        forward = Verdict::ForwardAs(as_root(request.authorization));
                    }
                    queue_and_rule_checks(request)
                }
                None => match request.target.filter(|t| t.starts_with("AmazonSSM.")) {
                    Some(target) => {
                        let name = serde_json::from_slice::<Value>(request.body)
                            .ok()
                            .and_then(|b| b["Name"].as_str().map(str::to_owned))
                            .unwrap_or_default();
                        // AWS's public parameters (`/aws/service/...`) are AWS's own: their
                        // ARN names no account. fakecloud 0.51 holds none (it refuses the
                        // reserved names: "No access to reserved parameter name"), so once
                        // the user may read one, the proxy answers with an AMI id.
                        let public = name.starts_with("/aws/service/");
                        let resource = if public {
                            format!("arn:aws:ssm:{REGION}::parameter{name}")
                        } else {
                            format!("arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{name}")
                        };
                        if public && target == "AmazonSSM.GetParameter" {
                            forward = Verdict::Answer(
                                serde_json::json!({"Parameter": {
                                    "Name": name,
                                    "Type": "String",
                                    "Value": "ami-0123456789abcdef0",
                                    "Version": 1,
                                    "ARN": resource,
                                    "DataType": "aws:ec2:image",
                                }})
                                .to_string(),
                            );
                        }
                        let mut checks = vec![Check::new(
                            format!("ssm:{}", target.trim_start_matches("AmazonSSM.")),
                            resource.clone(),
                        )];
                        // Tags given to a create are authorized as the tagging action too.
                        if body.contains("\"Tags\"") {
                            checks.push(Check::new("ssm:AddTagsToResource".to_owned(), resource));
                        }
                        checks
                    }
                    None => eks_checks(request, role_tags).unwrap_or_else(|| {
                        panic!("the test does not know the IAM action of {}", request.name)
                    }),
                },
            };
            for check in checks {
                used.lock().unwrap().insert(check.action.clone());
                if !allowed(&runtime, &iam, &check) {
                    let Check {
                        action, resource, ..
                    } = check;
                    let message = format!(
                        "User: arn:aws:iam::{ACCOUNT}:user/{USER} is not authorized to perform: {action} on resource: {resource} because no identity-based policy allows the {action} action"
                    );
                    let code = match query_service(&body) {
                        Some("ec2") => "UnauthorizedOperation",
                        Some(_) => "AccessDenied",
                        None => "AccessDeniedException",
                    };
                    return Verdict::Refuse(403, code, message);
                }
            }
            forward
        })
    }

    /// A fresh account (fakecloud reset) with the user holding only `policy`; its keys.
    fn user_with(&self, policy: &Value) -> Keys {
        self.fakecloud.post("/_reset");
        self.used.lock().unwrap().clear();
        self.runtime.block_on(async {
            self.iam.create_user().user_name(USER).send().await.unwrap();
            self.iam
                .put_user_policy()
                .user_name(USER)
                .policy_name("ekspec")
                .policy_document(policy.to_string())
                .send()
                .await
                .unwrap();
            let key = self
                .iam
                .create_access_key()
                .user_name(USER)
                .send()
                .await
                .unwrap();
            let key = key.access_key().unwrap();
            Keys {
                id: key.access_key_id().to_owned(),
                secret: key.secret_access_key().to_owned(),
            }
        })
    }

    fn spec(&self, name: &str, text: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    }

    /// ekspec with `keys`, through the proxy.
    fn run(&self, keys: &Keys, args: &[&str]) -> Output {
        Ekspec::new(args)
            .env("AWS_ENDPOINT_URL", &self.proxy.endpoint())
            .env("AWS_ACCESS_KEY_ID", &keys.id)
            .env("AWS_SECRET_ACCESS_KEY", &keys.secret)
            .env("AWS_REGION", REGION)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .run()
    }

    /// The production example with a Pod Identity account, before a change (1.30, fewer logs,
    /// no secrets encryption, one NAT gateway, other sizes, tags, access entries, an add-on, a
    /// Fargate profile, Karpenter, the account's role named otherwise), then as it is (after the plan of a cluster whose nodes take their AMI
    /// from AWS's public parameter): plan, apply, get, export, apply again over a queue and
    /// a role changed outside ekspec, apply the change (an upgrade, Karpenter and what it left go),
    /// delete (with what Kubernetes left in the VPC); then an IPv6 Auto Mode cluster made,
    /// its NAT gateway turned off, and deleted; then a cluster eksctl made exported, planned
    /// and adopted, its roles changed outside ekspec and put back, and deleted. Stops at the
    /// first step that does not exit as expected and returns it.
    fn scenario(&self, keys: &Keys) -> Result<(), Stopped> {
        let example = production_example();
        // A role named in the spec keeps its name when its service account moves namespace
        // (the old role goes before the new one is made).
        let example = edit(
            &example,
            "    - name: external-dns\n      namespace: kube-system\n",
            "    - name: external-dns\n      namespace: kube-system\n      roleName: prod-external-dns\n",
        );
        // A Pod Identity account whose role is renamed: its association is pointed at the
        // new role.
        let example = edit(
            &edit(
                &example,
                "    - name: coredns\n",
                "    - name: coredns\n    - name: eks-pod-identity-agent\n",
            ),
            "    - name: ebs-csi-controller-sa\n",
            "    - name: app\n      namespace: apps\n      mechanism: podIdentity\n      roleName: prod-app-v2\n      policyArns: [arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess]\n    - name: ebs-csi-controller-sa\n",
        );
        let before = [
            ("kubernetesVersion: \"1.31\"", "kubernetesVersion: \"1.30\""),
            (
                "logging: [api, audit, authenticator, controllerManager, scheduler]",
                "logging: [api, audit]",
            ),
            (
                "  secretsEncryption:\n    keyArn: arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab\n",
                "",
            ),
            ("natGateway: perZone", "natGateway: single"),
            ("maxSize: 4", "maxSize: 5"),
            ("cost-center: \"4711\"", "cost-center: \"4700\"\n    stage: blue"),
            (
                "      kubernetesGroups: [developers]\n",
                "      kubernetesGroups: [developers, readers]\n",
            ),
            ("scope: {namespaces: [apps, staging]}", "scope: {namespaces: [apps]}"),
            (
                "          scope: cluster\n",
                "          scope: cluster\n        - policyArn: arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy\n          scope: cluster\n    - principalArn: arn:aws:iam::111122223333:role/auditors\n      kubernetesGroups: [auditors]\n",
            ),
            (
                "      namespace: kube-system\n      roleName: prod-external-dns\n",
                "      namespace: dns\n      roleName: prod-external-dns\n",
            ),
            ("roleName: prod-app-v2", "roleName: prod-app-v1"),
            (
                "    - name: coredns\n",
                "    - name: coredns\n    - name: metrics-server\n",
            ),
            (
                "  serviceAccounts:\n",
                "  fargateProfiles:\n    - name: batch\n      selectors: [{namespace: batch}]\n  serviceAccounts:\n",
            ),
            // Karpenter's interruption queue and rules are made, then deleted with it.
            (
                "  accessEntries:\n",
                "  karpenter:\n    version: \"1.8.1\"\n  accessEntries:\n",
            ),
        ]
        .into_iter()
        .fold(example.clone(), |text, (from, to)| edit(&text, from, to));
        let before = self.spec("before.yaml", &before);
        let after = self.spec("after.yaml", &example);
        let custom = self.spec("custom.yaml", CUSTOM_AMI_CLUSTER);
        let dual = self.spec("dual.yaml", IPV6_AUTO_MODE_CLUSTER);
        // Its NAT gateway turned off: the private subnets' default IPv4 route goes.
        let dual_without_nat = self.spec(
            "dual-without-nat.yaml",
            &edit(
                IPV6_AUTO_MODE_CLUSTER,
                "    availabilityZones: [us-east-1a, us-east-1b]\n",
                "    availabilityZones: [us-east-1a, us-east-1b]\n    natGateway: none\n",
            ),
        );
        // The spec `export` writes for the cluster eksctl made, which `adopt` then takes.
        let shop = self.dir.path().join("shop.yaml");
        let shop = shop.to_string_lossy();
        let mut said = String::new();
        for step in [
            Step::Ekspec(vec!["plan", "-f", &custom, "--detailed-exitcode"], 2),
            Step::Ekspec(vec!["plan", "-f", &before, "--detailed-exitcode"], 2),
            Step::Ekspec(vec!["apply", "-f", &before, "--auto-approve"], 0),
            Step::Ekspec(vec!["get", "-f", &before], 0),
            Step::Ekspec(vec!["export", "--name", "prod", "--region", REGION], 0),
            // A queue and a role changed outside ekspec: apply puts them back.
            Step::Leave(StrictAccount::changed_outside),
            Step::Ekspec(vec!["apply", "-f", &before, "--auto-approve"], 0),
            Step::Ekspec(vec!["plan", "-f", &after], 0),
            // Karpenter goes with this apply: what it launched and made goes with it.
            Step::Leave(StrictAccount::karpenter_leaves),
            Step::Ekspec(vec!["apply", "-f", &after, "--auto-approve"], 0),
            Step::Ekspec(vec!["plan", "-f", &after, "--detailed-exitcode"], 0),
            Step::Leave(StrictAccount::kubernetes_leaves),
            Step::Ekspec(vec!["delete", "-f", &after, "--auto-approve"], 0),
            Step::Ekspec(vec!["apply", "-f", &dual, "--auto-approve"], 0),
            Step::Ekspec(vec!["apply", "-f", &dual_without_nat, "--auto-approve"], 0),
            Step::Ekspec(
                vec!["plan", "-f", &dual_without_nat, "--detailed-exitcode"],
                0,
            ),
            // EKS Auto Mode put its node role in an instance profile of its own.
            Step::Leave(StrictAccount::auto_mode_leaves),
            Step::Ekspec(vec!["delete", "-f", &dual_without_nat, "--auto-approve"], 0),
            // A cluster eksctl made: exported, adopted, put back after a change outside
            // ekspec, and deleted.
            Step::Leave(StrictAccount::eksctl_makes_shop),
            Step::Ekspec(
                vec![
                    "export", "--name", "shop", "--region", REGION, "-o", &shop, "--force",
                ],
                0,
            ),
            Step::Ekspec(vec!["plan", "--adopt", "-f", &shop], 0),
            Step::Ekspec(vec!["adopt", "-f", &shop, "--auto-approve"], 0),
            Step::Leave(StrictAccount::adopted_role_changed_outside),
            Step::Ekspec(vec!["apply", "-f", &shop, "--auto-approve"], 0),
            Step::Ekspec(vec!["plan", "-f", &shop, "--detailed-exitcode"], 0),
            Step::Ekspec(vec!["delete", "-f", &shop, "--auto-approve"], 0),
        ] {
            let (args, code) = match step {
                Step::Ekspec(args, code) => (args, code),
                Step::Leave(make) => {
                    make(self);
                    continue;
                }
            };
            let out = self.run(keys, &args);
            said.push_str(&out.stdout);
            said.push_str(&out.stderr);
            if out.code != code {
                return Err(Stopped {
                    step: args.join(" "),
                    out,
                    said,
                });
            }
        }
        Ok(())
    }
}

/// A cluster whose node group takes its AMI from AWS's public parameter, in the region's
/// first zones (planned only).
const CUSTOM_AMI_CLUSTER: &str = r#"apiVersion: ekspec/v1alpha1
kind: Cluster
metadata:
  name: custom
  region: us-east-1
spec:
  kubernetesVersion: "1.31"
  nodeGroups:
    - name: default
      instanceTypes: [m6i.large]
      amiType: AL2023_x86_64_STANDARD
      amiParameter: /aws/service/eks/optimized-ami/1.31/amazon-linux-2023/x86_64/standard/recommended/image_id
"#;

/// An IPv6 cluster that EKS Auto Mode runs, without node groups: the VPC's IPv6 block, the
/// subnets' /64s and the egress-only internet gateway are made, then deleted with it.
const IPV6_AUTO_MODE_CLUSTER: &str = r#"apiVersion: ekspec/v1alpha1
kind: Cluster
metadata:
  name: dual
  region: us-east-1
spec:
  kubernetesVersion: "1.31"
  ipFamily: ipv6
  vpc:
    availabilityZones: [us-east-1a, us-east-1b]
  autoMode:
    enabled: true
    nodePools: [general-purpose, system]
"#;

/// The node role of the cluster eksctl made (`export::eksctl_cluster`).
const SHOP_NODE_ROLE: &str = "eksctl-shop-nodegroup-ng-1-NodeInstanceRole-R4T5Y6";

/// One step of the scenario: an ekspec run and the exit code it must end with, or what
/// another tool leaves in the account meanwhile (made as root).
enum Step<'a> {
    Ekspec(Vec<&'a str>, i32),
    Leave(fn(&StrictAccount)),
}

impl StrictAccount {
    /// The VPC and subnets of the scenario's cluster.
    async fn cluster_network(&self) -> (String, Vec<String>) {
        let cluster = self
            .eks
            .describe_cluster()
            .name("prod")
            .send()
            .await
            .unwrap();
        let config = cluster.cluster().unwrap().resources_vpc_config().unwrap();
        (
            config.vpc_id().unwrap().to_owned(),
            config.subnet_ids().to_vec(),
        )
    }

    /// An instance launched in the cluster's first subnet, tagged `tags`.
    async fn launch(&self, subnet: &str, tags: &[(&str, &str)]) {
        use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};
        let mut spec = TagSpecification::builder().resource_type(ResourceType::Instance);
        for (key, value) in tags {
            spec = spec.tags(Tag::builder().key(*key).value(*value).build());
        }
        self.ec2
            .run_instances()
            .image_id("ami-0123456789abcdef0")
            .instance_type(aws_sdk_ec2::types::InstanceType::M6iLarge)
            .min_count(1)
            .max_count(1)
            .subnet_id(subnet)
            .tag_specifications(spec.build())
            .send()
            .await
            .unwrap();
    }

    /// Changes made outside ekspec: Karpenter's interruption queue keeps messages an hour
    /// instead of five minutes, and a service account's role trusts EC2 instead of the
    /// cluster's OIDC provider.
    fn changed_outside(&self) {
        self.runtime.block_on(async {
            self.iam
                .update_assume_role_policy()
                .role_name("prod-kube-system-cluster-autoscaler")
                .policy_document(
                    serde_json::json!({
                        "Version": "2012-10-17",
                        "Statement": [{
                            "Effect": "Allow",
                            "Principal": {"Service": "ec2.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }],
                    })
                    .to_string(),
                )
                .send()
                .await
                .unwrap();
            let url = self
                .sqs
                .get_queue_url()
                .queue_name("prod-karpenter")
                .send()
                .await
                .unwrap();
            self.sqs
                .set_queue_attributes()
                .queue_url(url.queue_url().unwrap())
                .attributes(
                    aws_sdk_sqs::types::QueueAttributeName::MessageRetentionPeriod,
                    "3600",
                )
                .send()
                .await
                .unwrap();
        });
    }

    /// A cluster `shop` made the way eksctl makes one (node group, IRSA and Pod Identity
    /// roles, add-on, access entry), as root.
    fn eksctl_makes_shop(&self) {
        self.runtime.block_on(async {
            let inventory = Inventory::new(&self.fakecloud.endpoint(), REGION).await;
            crate::adopt::seed_eksctl_style(&inventory, "shop").await;
        });
    }

    /// A change outside ekspec to a role it adopted: the node role loses the spec's `team`
    /// tag, which ekspec puts back without its own tags in the request (so only the adopted
    /// role's tag lets it).
    fn adopted_role_changed_outside(&self) {
        self.runtime.block_on(async {
            self.iam
                .untag_role()
                .role_name(SHOP_NODE_ROLE)
                .tag_keys("team")
                .send()
                .await
                .unwrap();
        });
    }

    /// What a running Karpenter (v1) leaves when its node role goes: an instance it launched
    /// and the instance profile it made for an EC2NodeClass, holding the node role, each
    /// tagged as Karpenter tags them.
    fn karpenter_leaves(&self) {
        self.runtime.block_on(async {
            let (_, subnets) = self.cluster_network().await;
            let owned = ("kubernetes.io/cluster/prod", "owned");
            self.launch(&subnets[0], &[owned, ("karpenter.sh/nodepool", "default")])
                .await;
            let tag = |key: &str, value: &str| {
                aws_sdk_iam::types::Tag::builder()
                    .key(key)
                    .value(value)
                    .build()
                    .unwrap()
            };
            self.iam
                .create_instance_profile()
                .instance_profile_name("prod_1234567890123456789")
                .path("/karpenter/us-east-1/prod/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b/")
                .tags(tag(owned.0, owned.1))
                .tags(tag("topology.kubernetes.io/region", REGION))
                .tags(tag("karpenter.k8s.aws/ec2nodeclass", "default"))
                .send()
                .await
                .unwrap();
            self.iam
                .add_role_to_instance_profile()
                .instance_profile_name("prod_1234567890123456789")
                .role_name("prod-karpenter-node")
                .send()
                .await
                .unwrap();
        });
    }

    /// What EKS Auto Mode leaves when its node role goes: the instance profile it made for
    /// that role (`eks-<region>-<cluster>-<hash>`, which stays after the cluster is gone:
    /// aws/containers-roadmap#2531), holding the role, so IAM refuses DeleteRole until it goes.
    fn auto_mode_leaves(&self) {
        self.runtime.block_on(async {
            let name = "eks-us-east-1-dual-0a1b2c3d4e";
            self.iam
                .create_instance_profile()
                .instance_profile_name(name)
                .send()
                .await
                .unwrap();
            self.iam
                .add_role_to_instance_profile()
                .instance_profile_name(name)
                .role_name("dual-auto-node")
                .send()
                .await
                .unwrap();
        });
    }

    /// What Kubernetes leaves in the cluster's VPC for ekspec's delete: a load balancer and
    /// its target group (AWS Load Balancer Controller), a security group (the in-tree cloud
    /// provider), a detached network interface, and an instance EKS Auto Mode launched.
    fn kubernetes_leaves(&self) {
        use aws_sdk_elasticloadbalancingv2::types::{LoadBalancerTypeEnum, ProtocolEnum, Tag};
        self.runtime.block_on(async {
            let (vpc, subnets) = self.cluster_network().await;
            self.launch(&subnets[0], &[("eks:eks-cluster-name", "prod")])
                .await;
            self.ec2
                .create_network_interface()
                .subnet_id(&subnets[0])
                .send()
                .await
                .unwrap();
            self.ec2
                .create_security_group()
                .group_name("k8s-elb-a1b2c3d4e5f6")
                .description("Security group for Kubernetes ELB a1b2c3d4e5f6 (default/web)")
                .vpc_id(&vpc)
                .tag_specifications(
                    aws_sdk_ec2::types::TagSpecification::builder()
                        .resource_type(aws_sdk_ec2::types::ResourceType::SecurityGroup)
                        .tags(
                            aws_sdk_ec2::types::Tag::builder()
                                .key("kubernetes.io/cluster/prod")
                                .value("owned")
                                .build(),
                        )
                        .build(),
                )
                .send()
                .await
                .unwrap();
            let controller = Tag::builder()
                .key("elbv2.k8s.aws/cluster")
                .value("prod")
                .build();
            self.elb
                .create_load_balancer()
                .name("k8s-default-web-1a2b3c4d5e")
                .r#type(LoadBalancerTypeEnum::Network)
                .set_subnets(Some(subnets[..2].to_vec()))
                .tags(controller.clone())
                .send()
                .await
                .unwrap();
            self.elb
                .create_target_group()
                .name("k8s-default-web-6f7a8b9c0d")
                .protocol(ProtocolEnum::Tcp)
                .port(80)
                .vpc_id(&vpc)
                .tags(controller)
                .send()
                .await
                .unwrap();
        });
    }
}

/// `authorization` signed as fakecloud's root (`test` keys skip its checks).
fn as_root(authorization: &str) -> String {
    let Some((before, after)) = authorization.split_once("Credential=") else {
        return authorization.to_owned();
    };
    let scope = after.split_once('/').map_or("", |(_, rest)| rest);
    format!("{before}Credential=test/{scope}")
}

/// The action fakecloud 0.51 keeps in a trust policy in place of `sts:TagSession` (see
/// [`trust_with_stand_in`]); nothing in these tests trusts SAML.
const TAG_SESSION_STAND_IN: &str = "sts:AssumeRoleWithSAML";

/// The body of an UpdateAssumeRolePolicy whose trust policy allows `sts:TagSession`, with
/// [`TAG_SESSION_STAND_IN`] in its place; `None` for any other call.
///
/// fakecloud 0.51 refuses `sts:TagSession` in a trust policy on UpdateAssumeRolePolicy
/// (MalformedPolicyDocument: "Trust Policy statement actions can only be sts:AssumeRole,
/// sts:AssumeRoleWithSAML, and sts:AssumeRoleWithWebIdentity") though its CreateRole takes it,
/// and AWS takes it in both (IAM User Guide, "Passing session tags in AWS STS": the role's
/// trust policy must allow `sts:TagSession`; EKS Pod Identity's trust policy allows it). The
/// scenario's own Pod Identity roles are made with that trust (CreateRole); only adopt
/// rewrites one, eksctl's, whose trust lacks the Sid ekspec gives it. So the proxy forwards
/// the stand-in, and puts `sts:TagSession` back in the GetRole and ListRoles answers (rule in
/// `StrictAccount::start`): ekspec reads the document it wrote.
fn trust_with_stand_in(call: &str, body: &[u8]) -> Option<Vec<u8>> {
    let body = String::from_utf8_lossy(body);
    let encoded = percent_encode_policy("sts:TagSession");
    (call == "UpdateAssumeRolePolicy" && body.contains(&encoded)).then(|| {
        body.replace(&encoded, &percent_encode_policy(TAG_SESSION_STAND_IN))
            .into_bytes()
    })
}

/// `text` percent-encoded as the SDK encodes a form value and IAM a policy in its answers
/// (all but ASCII letters, digits and `-_.~`).
fn percent_encode_policy(text: &str) -> String {
    const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(text, UNRESERVED).to_string()
}

/// Whether fakecloud's evaluator allows the user `check`.
fn allowed(runtime: &tokio::runtime::Runtime, iam: &aws_sdk_iam::Client, check: &Check) -> bool {
    let mut simulation = iam
        .simulate_principal_policy()
        .policy_source_arn(format!("arn:aws:iam::{ACCOUNT}:user/{USER}"))
        .action_names(&check.action)
        .resource_arns(&check.resource);
    for (key, values) in &check.context {
        // `aws:TagKeys` is multivalued (IAM User Guide, "Condition keys with multiple values").
        let kind = if key == "aws:TagKeys" {
            ContextKeyTypeEnum::StringList
        } else {
            ContextKeyTypeEnum::String
        };
        simulation = simulation.context_entries(
            ContextEntry::builder()
                .context_key_name(key)
                .context_key_type(kind)
                .set_context_key_values(Some(values.clone()))
                .build(),
        );
    }
    let decision = runtime
        .block_on(simulation.send())
        .expect("fakecloud simulates the user's policy");
    let results = decision.evaluation_results();
    !results.is_empty()
        && results
            .iter()
            .all(|r| r.eval_decision() == &PolicyEvaluationDecisionType::Allowed)
}

#[test]
fn the_documented_policy_is_enough_and_every_action_it_allows_is_needed() {
    let started = std::time::Instant::now();
    let Some(account) = StrictAccount::start() else {
        return;
    };
    let policy = read_policy("docs/iam-policy.json");
    let keys = account.user_with(&policy);
    if let Err(Stopped { step, out, said }) = account.scenario(&keys) {
        panic!(
            "with docs/iam-policy.json, `ekspec {step}` failed:\n{out:?}\nthe run so far:\n{said}"
        );
    }
    let used = account.used.lock().unwrap().clone();
    let listed: BTreeSet<String> = grants(&policy).into_iter().map(|(_, a)| a).collect();
    let unlisted: Vec<&String> = used.difference(&listed).collect();
    assert!(
        unlisted.is_empty(),
        "used but not in the policy: {unlisted:?}"
    );

    let excused: BTreeSet<&str> = NOT_EXERCISED.iter().map(|(a, _)| *a).collect();
    let unused: Vec<&String> = listed
        .iter()
        .filter(|a| !used.contains(*a) && !excused.contains(a.as_str()))
        .collect();
    assert!(
        unused.is_empty(),
        "in the policy, never used by the run and not explained in NOT_EXERCISED: {unused:?}"
    );
    let stale: Vec<&&str> = excused
        .iter()
        .filter(|a| used.contains(**a) || !listed.contains(**a))
        .collect();
    assert!(
        stale.is_empty(),
        "NOT_EXERCISED lists actions the run used or the policy lacks: {stale:?}"
    );

    // One run per grant of a used action (an action two statements allow on different
    // resources is taken from each in turn), each on a fresh account: the runs are spread
    // over `shards()` fakecloud instances (each behind its own proxy), a worker taking the
    // next grant as it finishes one. Every outcome is gathered before judging, so one run of
    // the test names every grant that is spare or not named.
    let sid = |index: usize| {
        policy["Statement"][index]["Sid"]
            .as_str()
            .unwrap_or("?")
            .to_owned()
    };
    let only = statements_to_take();
    let queue: Vec<(usize, String)> = grants(&policy)
        .into_iter()
        .filter(|(_, action)| used.contains(action))
        .filter(|(index, _)| {
            !NOT_EXERCISED_STATEMENTS
                .iter()
                .any(|(s, _)| *s == sid(*index))
        })
        .filter(|(index, _)| only.as_ref().is_none_or(|only| only.contains(&sid(*index))))
        .collect();
    let next = AtomicUsize::new(0);
    let outcomes: Vec<((usize, String), Result<(), Stopped>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..shards())
            .map(|worker| {
                let (account, policy, queue, next, sid, started) =
                    (&account, &policy, &queue, &next, &sid, &started);
                scope.spawn(move || {
                    let own;
                    let account = if worker == 0 {
                        account
                    } else {
                        own = StrictAccount::start().expect("fakecloud starts again");
                        &own
                    };
                    let mut outcomes = Vec::new();
                    while let Some((index, action)) = queue.get(next.fetch_add(1, Ordering::SeqCst))
                    {
                        let keys = account.user_with(&without(policy, *index, action));
                        let outcome = account.scenario(&keys);
                        if let Err(Stopped { step, .. }) = &outcome {
                            println!(
                                "{:>6.0?} without {action} in {}: `ekspec {step}` stops",
                                started.elapsed(),
                                sid(*index)
                            );
                        }
                        outcomes.push(((*index, action.clone()), outcome));
                    }
                    outcomes
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().expect("a worker finishes"))
            .collect()
    });
    let mut spare = Vec::new();
    let mut unnamed = Vec::new();
    for ((index, action), outcome) in outcomes {
        match outcome {
            Ok(()) => spare.push(format!("{action} in {}", sid(index))),
            // A lock ekspec may not remove is a warning of the run that holds it (its
            // changes are made) and stops the next run.
            Err(Stopped { step, said, .. }) => {
                if !said.contains(&format!("may not `{action}` on ")) {
                    unnamed.push(format!(
                        "without {action} in {}, `ekspec {step}` failed and no step named it:\n{said}",
                        sid(index)
                    ));
                }
            }
        }
    }
    assert!(unnamed.is_empty(), "{}", unnamed.join("\n\n"));
    assert!(
        spare.is_empty(),
        "the run succeeds without these grants of the policy: {spare:?}"
    );
    println!(
        "least privilege: {} actions used, each of their {} grants needed; {} excused; {} runs over {} fakecloud instances in {:?}",
        used.len(),
        queue.len(),
        excused.len(),
        queue.len() + 1,
        shards(),
        started.elapsed()
    );
}

#[test]
fn the_read_only_policy_is_enough_for_plan_get_and_export_and_refuses_apply() {
    let Some(account) = StrictAccount::start() else {
        return;
    };
    // The full policy makes the cluster; the read-only user then looks at it.
    let keys = account.user_with(&read_policy("docs/iam-policy.json"));
    let example = production_example();
    let spec = account.spec("prod.yaml", &example);
    let apply = account.run(&keys, &["apply", "-f", &spec, "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");

    let policy = read_policy("docs/iam-policy-readonly.json");
    account.runtime.block_on(async {
        account
            .iam
            .put_user_policy()
            .user_name(USER)
            .policy_name("ekspec")
            .policy_document(policy.to_string())
            .send()
            .await
            .unwrap();
    });
    let plan = account.run(&keys, &["plan", "-f", &spec, "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    // A node group's AMI from AWS's public parameter is read at plan time.
    let custom = account.spec("custom.yaml", CUSTOM_AMI_CLUSTER);
    let plan = account.run(&keys, &["plan", "-f", &custom, "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{plan:?}");
    assert!(plan.stdout.contains("ami-0123456789abcdef0"), "{plan:?}");
    // An upgrade's plan reads EKS's upgrade insights, and the details of each not passing.
    let upgrade = account.spec(
        "upgrade.yaml",
        &edit(
            &example,
            "kubernetesVersion: \"1.31\"",
            "kubernetesVersion: \"1.32\"",
        ),
    );
    let plan = account.run(&keys, &["plan", "-f", &upgrade, "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{plan:?}");
    let said = format!("{}{}", plan.stdout, plan.stderr);
    assert!(
        said.contains("EKS upgrade insight for Kubernetes ") && said.contains("(recommendation: "),
        "{plan:?}"
    );
    let get = account.run(&keys, &["get", "-f", &spec]);
    assert_eq!(get.code, 0, "{get:?}");
    // Export reads with Describe/List/Get calls only, and every one of those is in the policy.
    let export = account.run(&keys, &["export", "--name", "prod", "--region", REGION]);
    assert_eq!(export.code, 0, "{export:?}");
    assert!(export.stdout.contains("natGateway: perZone"), "{export:?}");
    // A cluster eksctl made: its export, and the plan that would adopt it, read only.
    account.eksctl_makes_shop();
    let shop = account.dir.path().join("shop.yaml");
    let shop = shop.to_string_lossy();
    let export = account.run(
        &keys,
        &["export", "--name", "shop", "--region", REGION, "-o", &shop],
    );
    assert_eq!(export.code, 0, "{export:?}");
    let plan = account.run(&keys, &["plan", "--adopt", "-f", &shop]);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(
        plan.stdout.contains("<= adopt cluster (shop)")
            && plan
                .stdout
                .contains(&format!("<= adopt role/node ({SHOP_NODE_ROLE})")),
        "{plan:?}"
    );

    let changed = account.spec(
        "changed.yaml",
        &edit(&example, "cost-center: \"4711\"", "cost-center: \"4712\""),
    );
    let apply = account.run(&keys, &["apply", "-f", &changed, "--auto-approve"]);
    assert_ne!(apply.code, 0, "{apply:?}");
    assert!(
        apply.stderr.contains("may not `ssm:PutParameter` on "),
        "the read-only user's apply stops at the lock, naming it:\n{}",
        apply.stderr
    );
}
