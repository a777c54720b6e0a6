//! Pod Identity against the in-memory cloud: associations (standalone and add-ons'), the role
//! trust, a service account switching between IRSA and Pod Identity in place, and a switch
//! stopped after each of its steps.

use std::sync::Arc;

use ekspec::cloud::memory::MemoryCloud;
use ekspec::cloud::{ObservedPodIdentityAssociation, ObservedRole, PodIdentityAssociationRequest};
use ekspec::exec::{self, Context, wait::Waiter};
use ekspec::plan::operation::Trust;
use ekspec::plan::{ChangeKind, Operation, Plan};
use ekspec::resources::iam::{trust_document, trusts_oidc, trusts_pod_identity};
use ekspec::resources::{observe, planner};
use ekspec::spec::ClusterFile;

use crate::reconcile_memory::{apply, kinds, plan_for, spec};

const CLUSTER: &str = "pods";
const APP_ROLE: &str = "role/irsa/web/app";
const EBS_ROLE: &str = "role/irsa/kube-system/ebs-csi-controller-sa";

/// A cluster with a standalone account `web/app` and the EBS CSI driver's account, each with
/// `mechanism` as given, and a third IRSA account when `keep_irsa`.
fn cluster(app: &str, ebs: &str, keep_irsa: bool) -> ClusterFile {
    let dns = if keep_irsa {
        "    - {name: dns, namespace: kube-system, policyArns: ['arn:aws:iam::aws:policy/AmazonRoute53FullAccess']}\n"
    } else {
        ""
    };
    spec(&format!(
        r#"apiVersion: ekspec/v1alpha1
kind: Cluster
metadata: {{name: {CLUSTER}, region: us-east-1}}
spec:
  kubernetesVersion: "1.31"
  vpc: {{cidr: 10.4.0.0/16, availabilityZones: [us-east-1a, us-east-1b], natGateway: single}}
  nodeGroups:
    - {{name: system, instanceTypes: [m6i.large], minSize: 1, maxSize: 3}}
  serviceAccounts:
    - {{name: app, namespace: web, mechanism: {app}, policyArns: ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess']}}
    - {{name: ebs-csi-controller-sa, namespace: kube-system, mechanism: {ebs}, policyArns: ['arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy']}}
{dns}  addons:
    - name: eks-pod-identity-agent
    - name: aws-ebs-csi-driver
      serviceAccount: ebs-csi-controller-sa
      configurationValues: {{controller: {{replicaCount: 1}}}}
"#
    ))
}

async fn role(aws: &MemoryCloud, resource: &str) -> ObservedRole {
    aws.cloud()
        .identity
        .list_roles(&format!("/ekspec/{CLUSTER}/"))
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.tags.get("ekspec.io/resource").map(String::as_str) == Some(resource))
        .unwrap_or_else(|| panic!("no role {resource}"))
}

async fn associations(aws: &MemoryCloud) -> Vec<ObservedPodIdentityAssociation> {
    aws.cloud()
        .pod_identity
        .list_pod_identity_associations(CLUSTER)
        .await
        .unwrap()
}

fn position(calls: &[String], prefix: &str) -> usize {
    calls
        .iter()
        .position(|c| c.starts_with(prefix))
        .unwrap_or_else(|| panic!("no `{prefix}` call in {calls:#?}"))
}

fn change<'p>(plan: &'p Plan, resource: &str) -> &'p ekspec::plan::Change {
    plan.changes
        .iter()
        .find(|c| c.resource == resource)
        .unwrap_or_else(|| panic!("no {resource} in {:?}", kinds(plan)))
}

/// The operations of a change, by name.
fn steps(plan: &Plan, resource: &str) -> Vec<String> {
    change(plan, resource)
        .operations
        .iter()
        .map(|op| match op {
            Operation::UpdateTrust { trust, .. } => format!(
                "UpdateTrust {}",
                match trust {
                    Trust::ServiceAccount { .. } => "irsa",
                    Trust::PodIdentity => "podIdentity",
                    Trust::ServiceAccountAndPodIdentity { .. } => "both",
                    Trust::Service(_) | Trust::ServiceWithSessionTags(_) => "service",
                }
            ),
            other => format!("{other:?}")
                .split([' ', '{'])
                .next()
                .unwrap_or_default()
                .to_owned(),
        })
        .collect()
}

/// Asserts the final state of every account of `file`: one role each (the same ARN as
/// `arns`, when given), trusting only its mechanism; the binding made; a second plan empty.
async fn assert_converged(aws: &MemoryCloud, file: &ClusterFile, app_pods: bool, ebs_pods: bool) {
    let again = plan_for(aws, file).await;
    assert!(again.is_empty(), "{:?}", kinds(&again));
    let app = role(aws, APP_ROLE).await;
    let ebs = role(aws, EBS_ROLE).await;
    for (role, pods) in [(&app, app_pods), (&ebs, ebs_pods)] {
        assert_eq!(trusts_pod_identity(&role.trust_policy), pods, "{role:#?}");
        assert_eq!(trusts_oidc(&role.trust_policy), !pods, "{role:#?}");
        if pods {
            assert_eq!(
                Some(role.trust_policy.clone()),
                trust_document(&Trust::PodIdentity, None)
            );
        }
    }
    let live = associations(aws).await;
    let standalone: Vec<_> = live.iter().filter(|a| a.owner_arn.is_none()).collect();
    if app_pods {
        assert_eq!(standalone.len(), 1, "{live:#?}");
        assert_eq!(
            (
                standalone[0].namespace.as_str(),
                standalone[0].service_account.as_str()
            ),
            ("web", "app")
        );
        assert_eq!(standalone[0].role_arn, app.arn);
        assert_eq!(
            standalone[0]
                .tags
                .get("ekspec.io/resource")
                .map(String::as_str),
            Some("pod-identity/web/app")
        );
    } else {
        assert!(standalone.is_empty(), "{live:#?}");
    }
    let addons = aws.cloud().kubernetes.list_addons(CLUSTER).await.unwrap();
    let driver = addons
        .iter()
        .find(|a| a.name == "aws-ebs-csi-driver")
        .unwrap();
    let owned: Vec<_> = live.iter().filter(|a| a.owner_arn.is_some()).collect();
    if ebs_pods {
        assert_eq!(driver.service_account_role_arn.as_deref().unwrap_or(""), "");
        assert_eq!(owned.len(), 1, "{live:#?}");
        assert_eq!(owned[0].service_account, "ebs-csi-controller-sa");
        assert_eq!(owned[0].role_arn, ebs.arn);
        assert_eq!(
            driver.pod_identity_associations,
            [owned[0].association_arn.clone()]
        );
    } else {
        assert_eq!(
            driver.service_account_role_arn.as_deref(),
            Some(ebs.arn.as_str())
        );
        assert!(owned.is_empty(), "{live:#?}");
        assert!(driver.pod_identity_associations.is_empty());
    }
}

#[tokio::test]
async fn pod_identity_accounts_get_their_associations_after_the_agent_and_converge() {
    let aws = MemoryCloud::new();
    let file = cluster("podIdentity", "podIdentity", true);
    let plan = apply(&aws, &file).await;
    let association = change(&plan, "pod-identity/web/app");
    assert_eq!(association.kind, ChangeKind::Create);
    for before in [APP_ROLE, "cluster", "addon/eks-pod-identity-agent"] {
        assert!(
            association.after.contains(&before.to_owned()),
            "{:?}",
            association.after
        );
    }
    // The add-on's account gets no association of its own: the add-on's is EKS's.
    assert!(
        !plan
            .changes
            .iter()
            .any(|c| c.resource == "pod-identity/kube-system/ebs-csi-controller-sa")
    );
    match &change(&plan, "addon/aws-ebs-csi-driver").operations[..] {
        [
            Operation::CreateAddon {
                role, pod_identity, ..
            },
        ] => {
            assert_eq!(role, &None);
            assert_eq!(pod_identity.len(), 1);
            assert_eq!(pod_identity[0].service_account, "ebs-csi-controller-sa");
        }
        other => panic!("{other:?}"),
    }
    let calls = aws.mutating_calls();
    assert!(
        position(&calls, "CreateAddon eks-pod-identity-agent")
            < position(&calls, "CreatePodIdentityAssociation web/app")
    );
    // The IRSA account keeps the OIDC provider.
    assert!(
        plan.changes
            .iter()
            .any(|c| c.resource == "oidc-provider" && c.kind == ChangeKind::Create)
    );
    assert_converged(&aws, &file, true, true).await;
}

#[tokio::test]
async fn no_irsa_account_means_no_oidc_provider() {
    let aws = MemoryCloud::new();
    let file = cluster("podIdentity", "podIdentity", false);
    let plan = apply(&aws, &file).await;
    assert!(
        !plan.changes.iter().any(|c| c.resource == "oidc-provider"),
        "{:?}",
        kinds(&plan)
    );
    assert_converged(&aws, &file, true, true).await;
}

#[tokio::test]
async fn switching_to_pod_identity_and_back_is_in_place_and_never_leaves_pods_without_a_binding() {
    let aws = MemoryCloud::new();
    let irsa = cluster("irsa", "irsa", false);
    apply(&aws, &irsa).await;
    assert_converged(&aws, &irsa, false, false).await;
    let (app_arn, ebs_arn) = (
        role(&aws, APP_ROLE).await.arn,
        role(&aws, EBS_ROLE).await.arn,
    );

    // IRSA -> Pod Identity: one update per role, trust both, bind, trust Pod Identity only.
    let pods = cluster("podIdentity", "podIdentity", false);
    let plan = plan_for(&aws, &pods).await;
    assert_eq!(change(&plan, APP_ROLE).kind, ChangeKind::Update);
    assert_eq!(
        steps(&plan, APP_ROLE),
        [
            "UpdateTrust both",
            "CreatePodIdentityAssociation",
            "UpdateTrust podIdentity"
        ]
    );
    assert_eq!(
        steps(&plan, EBS_ROLE),
        ["UpdateTrust both", "UpdateAddon", "UpdateTrust podIdentity"]
    );
    let fields: Vec<&str> = change(&plan, APP_ROLE)
        .fields
        .iter()
        .map(|f| f.field.as_str())
        .collect();
    assert_eq!(fields, ["mechanism", "pod-identity/web/app", "trustPolicy"]);
    let reason = change(&plan, APP_ROLE).reason.clone().unwrap_or_default();
    assert!(
        reason.starts_with("web/app moves from IRSA to Pod Identity in place"),
        "{reason}"
    );
    // The binding moves only inside the role's change.
    for resource in ["pod-identity/web/app", "addon/aws-ebs-csi-driver"] {
        assert!(
            !plan.changes.iter().any(|c| c.resource == resource),
            "{:?}",
            kinds(&plan)
        );
    }
    // No account uses IRSA any more: the provider goes once the trusts stop naming it.
    let provider = change(&plan, "oidc-provider");
    assert_eq!(provider.kind, ChangeKind::Delete);
    assert!(provider.after.contains(&APP_ROLE.to_owned()));
    assert!(provider.after.contains(&EBS_ROLE.to_owned()));
    let before = aws.mutating_calls().len();
    apply(&aws, &pods).await;
    let calls = aws.mutating_calls()[before..].to_vec();
    let trust_calls: Vec<usize> = calls
        .iter()
        .enumerate()
        .filter(|(_, c)| c.starts_with("UpdateAssumeRolePolicy pods-web-app"))
        .map(|(i, _)| i)
        .collect();
    let bind = position(&calls, "CreatePodIdentityAssociation web/app");
    assert!(
        trust_calls.len() == 2 && trust_calls[0] < bind && bind < trust_calls[1],
        "{calls:#?}"
    );
    assert!(
        position(&calls, "UpdateAddon aws-ebs-csi-driver")
            < position(&calls, "DeleteOpenIDConnectProvider"),
        "{calls:#?}"
    );
    assert_converged(&aws, &pods, true, true).await;
    assert_eq!(role(&aws, APP_ROLE).await.arn, app_arn);
    assert_eq!(role(&aws, EBS_ROLE).await.arn, ebs_arn);

    // And back: the provider is made first, then each role trusts both, drops the
    // association (or gives the add-on the role again), and trusts IRSA only.
    let plan = plan_for(&aws, &irsa).await;
    assert_eq!(change(&plan, "oidc-provider").kind, ChangeKind::Create);
    assert_eq!(change(&plan, APP_ROLE).kind, ChangeKind::Update);
    assert!(
        change(&plan, APP_ROLE)
            .after
            .contains(&"oidc-provider".to_owned())
    );
    assert_eq!(
        steps(&plan, APP_ROLE),
        [
            "UpdateTrust both",
            "DeletePodIdentityAssociation",
            "UpdateTrust irsa"
        ]
    );
    assert_eq!(
        steps(&plan, EBS_ROLE),
        ["UpdateTrust both", "UpdateAddon", "UpdateTrust irsa"]
    );
    assert!(
        !plan
            .changes
            .iter()
            .any(|c| c.resource == "pod-identity/web/app"),
        "{:?}",
        kinds(&plan)
    );
    apply(&aws, &irsa).await;
    assert_converged(&aws, &irsa, false, false).await;
    assert_eq!(role(&aws, APP_ROLE).await.arn, app_arn);
    assert_eq!(role(&aws, EBS_ROLE).await.arn, ebs_arn);
}

/// Runs only the first `steps` operations of the service account roles' changes of the plan
/// from `from` to `to`: a run stopped right after that step.
async fn stop_after(aws: &MemoryCloud, to: &ClusterFile, steps: usize) {
    let observed = observe(&aws.cloud(), CLUSTER, Some(to)).await.unwrap();
    let mut plan = planner::plan(to, &observed);
    plan.changes
        .retain(|c| c.resource.starts_with("role/irsa/"));
    for change in &mut plan.changes {
        change.operations.truncate(steps);
    }
    let ctx = Context::new(
        aws.cloud(),
        &observed,
        CLUSTER,
        "us-east-1",
        Waiter::default(),
    );
    let (_stop, stop) = tokio::sync::watch::channel(false);
    let report = exec::execute(&plan, Arc::new(ctx), stop, |_| {}).await;
    assert!(report.success(), "{:?}", report.failed);
}

#[tokio::test]
async fn a_switch_stopped_after_any_step_is_finished_by_the_next_apply() {
    for (from, to, to_pods) in [
        ("irsa", "podIdentity", true),
        ("podIdentity", "irsa", false),
    ] {
        for done in 1..=2 {
            let aws = MemoryCloud::new();
            // Another IRSA account keeps the provider: the switch alone is under test.
            let start = cluster(from, from, true);
            apply(&aws, &start).await;
            let arns = (
                role(&aws, APP_ROLE).await.arn,
                role(&aws, EBS_ROLE).await.arn,
            );
            let target = cluster(to, to, true);
            stop_after(&aws, &target, done).await;

            let plan = plan_for(&aws, &target).await;
            for resource in [APP_ROLE, EBS_ROLE] {
                let change = change(&plan, resource);
                assert_eq!(change.kind, ChangeKind::Update, "{from}->{to} after {done}");
                // The steps already done are not done again.
                let left = steps(&plan, resource);
                let expected = if done == 1 { 2 } else { 1 };
                assert_eq!(left.len(), expected, "{from}->{to} after {done}: {left:?}");
                assert!(left[0] != "UpdateTrust both", "{left:?}");
            }
            apply(&aws, &target).await;
            assert_converged(&aws, &target, to_pods, to_pods).await;
            assert_eq!(
                (
                    role(&aws, APP_ROLE).await.arn,
                    role(&aws, EBS_ROLE).await.arn
                ),
                arns
            );
        }
    }
}

#[tokio::test]
async fn an_association_ekspec_did_not_make_blocks_the_plan_and_is_left_alone() {
    let aws = MemoryCloud::new();
    let irsa = cluster("irsa", "irsa", true);
    apply(&aws, &irsa).await;
    let other_role = "arn:aws:iam::111122223333:role/someone-elses";
    let id = aws
        .cloud()
        .pod_identity
        .create_pod_identity_association(&PodIdentityAssociationRequest {
            cluster: CLUSTER.to_owned(),
            namespace: "web".to_owned(),
            service_account: "app".to_owned(),
            role_arn: other_role.to_owned(),
            tags: Default::default(),
            client_request_token: "by-hand".to_owned(),
        })
        .await
        .unwrap();
    let plan = plan_for(&aws, &cluster("podIdentity", "irsa", true)).await;
    let blocked = change(&plan, "pod-identity/web/app");
    assert_eq!(blocked.kind, ChangeKind::Impossible);
    let reason = blocked.reason.clone().unwrap_or_default();
    assert!(
        reason.contains("EKS allows one association per service account")
            && reason.contains(&id)
            && reason.contains(other_role),
        "{reason}"
    );
    // Nothing touches it: the plan is not applied, and an IRSA spec leaves it too.
    assert!(plan.impossible().count() == 1);
    let again = plan_for(&aws, &irsa).await;
    assert!(again.is_empty(), "{:?}", kinds(&again));
    let live = associations(&aws).await;
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].role_arn, other_role);
}

#[tokio::test]
async fn a_removed_account_loses_its_association_before_its_role() {
    let aws = MemoryCloud::new();
    let file = cluster("podIdentity", "podIdentity", true);
    apply(&aws, &file).await;
    let mut without = file.clone();
    without.spec.service_accounts.retain(|a| a.name != "app");
    let plan = plan_for(&aws, &without).await;
    let association = change(&plan, "pod-identity/web/app");
    assert_eq!(association.kind, ChangeKind::Delete);
    let role = change(&plan, APP_ROLE);
    assert_eq!(role.kind, ChangeKind::Delete);
    assert!(
        role.after.contains(&"pod-identity/web/app".to_owned()),
        "{:?}",
        role.after
    );
    apply(&aws, &without).await;
    assert!(
        associations(&aws)
            .await
            .iter()
            .all(|a| a.owner_arn.is_some()),
        "{:#?}",
        associations(&aws).await
    );
    let again = plan_for(&aws, &without).await;
    assert!(again.is_empty(), "{:?}", kinds(&again));
}

#[tokio::test]
async fn a_renamed_role_takes_over_the_association_before_the_old_one_goes() {
    let aws = MemoryCloud::new();
    let file = cluster("podIdentity", "podIdentity", true);
    apply(&aws, &file).await;
    let mut renamed = file.clone();
    for account in &mut renamed.spec.service_accounts {
        account.role_name = Some(format!("renamed-{}", account.name));
    }
    let plan = plan_for(&aws, &renamed).await;
    assert_eq!(change(&plan, APP_ROLE).kind, ChangeKind::Replace);
    assert_eq!(
        steps(&plan, APP_ROLE),
        ["CreateRole", "UpdatePodIdentityAssociation", "DeleteRole"]
    );
    assert_eq!(
        steps(&plan, EBS_ROLE),
        ["CreateRole", "UpdateAddon", "DeleteRole"]
    );
    apply(&aws, &renamed).await;
    assert_converged(&aws, &renamed, true, true).await;
    assert!(role(&aws, APP_ROLE).await.name == "renamed-app");
}

/// A renamed role and new cluster tags in one apply: the association is pointed at the new
/// role by the role's change and retagged by its own, so the next plan is empty (the tags were
/// dropped with the role's change before).
#[tokio::test]
async fn a_renamed_role_with_new_tags_leaves_nothing_to_do() {
    let aws = MemoryCloud::new();
    let file = cluster("podIdentity", "podIdentity", true);
    apply(&aws, &file).await;
    let mut renamed = file.clone();
    for account in &mut renamed.spec.service_accounts {
        account.role_name = Some(format!("renamed-{}", account.name));
    }
    renamed
        .metadata
        .tags
        .insert("cost-center".to_owned(), "4711".to_owned());
    let plan = plan_for(&aws, &renamed).await;
    assert_eq!(steps(&plan, "pod-identity/web/app"), ["TagEks"]);
    apply(&aws, &renamed).await;
    let again = plan_for(&aws, &renamed).await;
    assert!(again.is_empty(), "{:?}", kinds(&again));
    let live = associations(&aws).await;
    // The add-on's own association carries no tags of ekspec's.
    let app = live.iter().find(|a| a.service_account == "app").unwrap();
    assert_eq!(
        app.tags.get("cost-center").map(String::as_str),
        Some("4711"),
        "{app:?}"
    );
}

#[tokio::test]
async fn a_switch_during_an_upgrade_moves_the_add_on_after_its_upgrade_steps() {
    let aws = MemoryCloud::new();
    // The agent pinned: nothing holds the switch back until the upgrade is done.
    let pinned = |file: ClusterFile, version: &str| {
        let mut file = file;
        file.spec.kubernetes_version = version.to_owned();
        file.spec.addons[0].version = Some("v1.3.4-eksbuild.1".to_owned());
        file
    };
    apply(&aws, &pinned(cluster("irsa", "irsa", true), "1.29")).await;
    let target = pinned(cluster("podIdentity", "podIdentity", true), "1.31");
    let plan = plan_for(&aws, &target).await;
    assert!(
        change(&plan, EBS_ROLE)
            .after
            .contains(&"addon/aws-ebs-csi-driver/version-1.30".to_owned()),
        "{:?}",
        change(&plan, EBS_ROLE).after
    );
    apply(&aws, &target).await;
    assert_converged(&aws, &target, true, true).await;
}

fn eks_error(code: &str, message: &str) -> ekspec::cloud::CloudError {
    ekspec::cloud::CloudError {
        operation: "CreatePodIdentityAssociation",
        resource: "web/app".to_owned(),
        code: Some(code.to_owned()),
        message: message.to_owned(),
        kind: ekspec::cloud::CloudError::kind_of(code),
    }
}

#[tokio::test(start_paused = true)]
async fn an_association_waits_while_eks_cannot_see_a_new_role_yet() {
    let aws = MemoryCloud::new();
    // What EKS answers while IAM propagates a role made moments ago
    // (hashicorp/terraform-provider-aws#34711).
    aws.fail_next(
        "CreatePodIdentityAssociation",
        eks_error(
            "InvalidParameterException",
            "Role provided in the request does not exist",
        ),
    );
    let file = cluster("podIdentity", "podIdentity", true);
    apply(&aws, &file).await;
    assert_converged(&aws, &file, true, true).await;
}

#[tokio::test]
async fn an_association_made_by_a_create_whose_answer_was_lost_is_taken_as_made() {
    let aws = MemoryCloud::new();
    let irsa = cluster("podIdentity", "irsa", true);
    let mut without_app = irsa.clone();
    without_app
        .spec
        .service_accounts
        .retain(|a| a.name != "app");
    apply(&aws, &without_app).await;
    // The plan is made while the association does not exist; then a create whose answer was
    // lost (an earlier run) makes it, with ekspec's tags.
    let observed = observe(&aws.cloud(), CLUSTER, Some(&irsa)).await.unwrap();
    let plan = planner::plan(&irsa, &observed);
    let tags = match &change(&plan, "pod-identity/web/app").operations[..] {
        [Operation::CreatePodIdentityAssociation { tags, .. }] => tags.clone(),
        other => panic!("{other:?}"),
    };
    let ctx = Context::new(
        aws.cloud(),
        &observed,
        CLUSTER,
        "us-east-1",
        Waiter::default(),
    );
    let (_stop, stop) = tokio::sync::watch::channel(false);
    // The role first (it is in the plan), then the lost create, then the rest.
    let mut roles = plan.clone();
    roles.changes.retain(|c| c.resource == APP_ROLE);
    assert!(
        exec::execute(&roles, Arc::new(ctx), stop.clone(), |_| {})
            .await
            .success()
    );
    let app = role(&aws, APP_ROLE).await;
    aws.cloud()
        .pod_identity
        .create_pod_identity_association(&PodIdentityAssociationRequest {
            cluster: CLUSTER.to_owned(),
            namespace: "web".to_owned(),
            service_account: "app".to_owned(),
            role_arn: app.arn.clone(),
            tags,
            client_request_token: "an-earlier-run".to_owned(),
        })
        .await
        .unwrap();
    let observed = observe(&aws.cloud(), CLUSTER, Some(&without_app))
        .await
        .unwrap();
    let ctx = Context::new(
        aws.cloud(),
        &observed,
        CLUSTER,
        "us-east-1",
        Waiter::default(),
    );
    let mut rest = plan.clone();
    rest.changes
        .retain(|c| c.resource == "pod-identity/web/app");
    let report = exec::execute(&rest, Arc::new(ctx), stop, |_| {}).await;
    assert!(report.success(), "{:?}", report.failed);
    assert_converged(&aws, &irsa, true, false).await;
}

#[tokio::test]
async fn a_create_refused_for_an_association_someone_else_made_meanwhile_fails_and_leaves_it() {
    let aws = MemoryCloud::new();
    let file = cluster("podIdentity", "irsa", true);
    let mut without_app = file.clone();
    without_app
        .spec
        .service_accounts
        .retain(|a| a.name != "app");
    apply(&aws, &without_app).await;
    let observed = observe(&aws.cloud(), CLUSTER, Some(&file)).await.unwrap();
    let plan = planner::plan(&file, &observed);
    aws.cloud()
        .pod_identity
        .create_pod_identity_association(&PodIdentityAssociationRequest {
            cluster: CLUSTER.to_owned(),
            namespace: "web".to_owned(),
            service_account: "app".to_owned(),
            role_arn: "arn:aws:iam::111122223333:role/someone-elses".to_owned(),
            tags: Default::default(),
            client_request_token: "by-hand".to_owned(),
        })
        .await
        .unwrap();
    let ctx = Context::new(
        aws.cloud(),
        &observed,
        CLUSTER,
        "us-east-1",
        Waiter::default(),
    );
    let (_stop, stop) = tokio::sync::watch::channel(false);
    let report = exec::execute(&plan, Arc::new(ctx), stop, |_| {}).await;
    let failed = format!("{:?}", report.failed);
    assert!(
        failed.contains("pod-identity/web/app") && failed.contains("Association already exists"),
        "{failed}"
    );
    let live = associations(&aws).await;
    let app: Vec<_> = live.iter().filter(|a| a.namespace == "web").collect();
    assert_eq!(app.len(), 1);
    assert!(app[0].role_arn.ends_with("someone-elses"));
}

#[tokio::test]
async fn an_account_an_add_on_stops_using_gets_its_own_association_once_the_add_on_lets_go() {
    let aws = MemoryCloud::new();
    let file = cluster("podIdentity", "podIdentity", true);
    apply(&aws, &file).await;
    let mut alone = file.clone();
    alone.spec.addons[1].service_account = None;
    let plan = plan_for(&aws, &alone).await;
    let addon = change(&plan, "addon/aws-ebs-csi-driver");
    assert!(
        addon
            .fields
            .iter()
            .any(|f| f.field == "podIdentityAssociations" && f.new.is_none()),
        "{:?}",
        addon.fields
    );
    let own = change(&plan, "pod-identity/kube-system/ebs-csi-controller-sa");
    assert_eq!(own.kind, ChangeKind::Create);
    assert!(own.after.contains(&"addon/aws-ebs-csi-driver".to_owned()));
    apply(&aws, &alone).await;
    let again = plan_for(&aws, &alone).await;
    assert!(again.is_empty(), "{:?}", kinds(&again));
    let ebs = role(&aws, EBS_ROLE).await;
    let live = associations(&aws).await;
    let own: Vec<_> = live
        .iter()
        .filter(|a| a.service_account == "ebs-csi-controller-sa")
        .collect();
    assert_eq!(own.len(), 1, "{live:#?}");
    assert_eq!(
        (own[0].owner_arn.as_deref(), own[0].role_arn.as_str()),
        (None, ebs.arn.as_str())
    );
}

#[tokio::test]
async fn an_account_back_to_irsa_without_a_live_binding_trusts_the_provider_made_in_the_same_run() {
    let aws = MemoryCloud::new();
    apply(&aws, &cluster("podIdentity", "podIdentity", false)).await;
    // The association is gone (deleted by hand): nothing to move, but the trust still is.
    let live = associations(&aws).await;
    let app = live.iter().find(|a| a.namespace == "web").unwrap();
    aws.cloud()
        .pod_identity
        .delete_pod_identity_association(CLUSTER, &app.association_id)
        .await
        .unwrap();
    let irsa = cluster("irsa", "podIdentity", false);
    let plan = plan_for(&aws, &irsa).await;
    assert_eq!(change(&plan, "oidc-provider").kind, ChangeKind::Create);
    let role_change = change(&plan, APP_ROLE);
    assert_eq!(steps(&plan, APP_ROLE), ["UpdateTrust irsa"]);
    assert!(role_change.after.contains(&"oidc-provider".to_owned()));
    apply(&aws, &irsa).await;
    let again = plan_for(&aws, &irsa).await;
    assert!(again.is_empty(), "{:?}", kinds(&again));
    let trust = role(&aws, APP_ROLE).await.trust_policy;
    assert!(
        trusts_oidc(&trust) && !trusts_pod_identity(&trust),
        "{trust}"
    );
}
