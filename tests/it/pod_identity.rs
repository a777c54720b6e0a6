//! EKS Pod Identity end to end through the real binary against strict moto: a standalone
//! association and an add-on's, service accounts switching between IRSA and Pod Identity in
//! place (both directions at once), `get`, a removed account, and `delete`; every state read
//! back past ekspec.

use serde_json::Value;

use crate::e2e::{Emulated, edit};
use crate::inventory::Inventory;

const CLUSTER: &str = "pid";

/// `app` (standalone) uses IRSA, the EBS CSI driver's account Pod Identity; `dns` stays IRSA.
const SPEC: &str = r#"apiVersion: ekspec/v1alpha1
kind: Cluster
metadata: {name: pid, region: us-east-1}
spec:
  kubernetesVersion: "1.31"
  vpc: {cidr: 10.7.0.0/16, availabilityZones: [us-east-1a, us-east-1b], natGateway: none}
  serviceAccounts:
    - name: app
      namespace: web
      mechanism: irsa
      policyArns: [arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess]
    - name: ebs-csi-controller-sa
      namespace: kube-system
      mechanism: podIdentity
      policyArns: [arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy]
    - name: dns
      namespace: kube-system
      policyArns: [arn:aws:iam::aws:policy/AmazonRoute53FullAccess]
  addons:
    - name: eks-pod-identity-agent
    - name: aws-ebs-csi-driver
      serviceAccount: ebs-csi-controller-sa
"#;

/// Each association of the cluster as `(namespace/service account, role ARN, owner ARN,
/// ekspec.io/resource tag)`, sorted.
async fn associations(
    inventory: &Inventory,
) -> Vec<(String, String, Option<String>, Option<String>)> {
    let listed = inventory
        .eks
        .list_pod_identity_associations()
        .cluster_name(CLUSTER)
        .send()
        .await
        .unwrap();
    let mut found = Vec::new();
    for summary in listed.associations() {
        let described = inventory
            .eks
            .describe_pod_identity_association()
            .cluster_name(CLUSTER)
            .association_id(summary.association_id().unwrap())
            .send()
            .await
            .unwrap();
        let a = described.association().unwrap();
        found.push((
            format!(
                "{}/{}",
                a.namespace().unwrap_or_default(),
                a.service_account().unwrap_or_default()
            ),
            a.role_arn().unwrap_or_default().to_owned(),
            a.owner_arn().map(str::to_owned),
            a.tags().and_then(|t| t.get("ekspec.io/resource")).cloned(),
        ));
    }
    found.sort();
    found
}

/// A role's ARN and the principals its trust policy names (`Federated`, `Service`).
async fn role(inventory: &Inventory, name: &str) -> (String, Vec<String>) {
    let got = inventory
        .iam
        .get_role()
        .role_name(name)
        .send()
        .await
        .unwrap();
    let role = got.role().unwrap();
    let document = percent_encoding::percent_decode_str(
        role.assume_role_policy_document().unwrap_or_default(),
    )
    .decode_utf8_lossy()
    .into_owned();
    let document: Value = serde_json::from_str(&document).unwrap();
    let principals = document["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["Principal"].as_object().unwrap().keys().cloned())
        .collect();
    (role.arn().to_owned(), principals)
}

/// The add-on's role ARN and the ARNs of its associations.
async fn driver(inventory: &Inventory) -> (Option<String>, Vec<String>) {
    let described = inventory
        .eks
        .describe_addon()
        .cluster_name(CLUSTER)
        .addon_name("aws-ebs-csi-driver")
        .send()
        .await
        .unwrap();
    let addon = described.addon().unwrap();
    (
        addon
            .service_account_role_arn()
            .filter(|arn| !arn.is_empty())
            .map(str::to_owned),
        addon.pod_identity_associations().to_vec(),
    )
}

/// The plan as JSON; fails unless `plan --detailed-exitcode` exits `code`.
fn plan(aws: &Emulated, spec: &str, code: i32) -> Value {
    let out = aws.expect(
        code,
        &[
            "plan",
            "-f",
            spec,
            "--output",
            "json",
            "--detailed-exitcode",
        ],
    );
    serde_json::from_str(&out.stdout).unwrap()
}

fn kind_of(plan: &Value, resource: &str) -> Option<String> {
    plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["resource"] == resource)
        .map(|c| c["kind"].as_str().unwrap().to_owned())
}

/// Asserts the service accounts' state: `app` and the driver's account each bound by one
/// mechanism only, on their first roles.
async fn assert_bound(inventory: &Inventory, app_pods: bool, roles: &(String, String)) {
    let (app_arn, app_trust) = role(inventory, "pid-web-app").await;
    let (ebs_arn, ebs_trust) = role(inventory, "pid-kube-system-ebs-csi-controller-sa").await;
    assert_eq!((&app_arn, &ebs_arn), (&roles.0, &roles.1));
    let (pods, irsa) = (vec!["Service".to_owned()], vec!["Federated".to_owned()]);
    assert_eq!(&app_trust, if app_pods { &pods } else { &irsa });
    assert_eq!(&ebs_trust, if app_pods { &irsa } else { &pods });
    let live = associations(inventory).await;
    let (driver_role, driver_associations) = driver(inventory).await;
    assert_eq!(live.len(), 1, "{live:#?}");
    let (account, role_arn, owner, tag) = &live[0];
    if app_pods {
        assert_eq!(account, "web/app");
        assert_eq!(role_arn, &app_arn);
        assert_eq!(owner, &None);
        assert_eq!(tag.as_deref(), Some("pod-identity/web/app"));
        assert_eq!(driver_role.as_deref(), Some(ebs_arn.as_str()));
        assert!(driver_associations.is_empty());
    } else {
        assert_eq!(account, "kube-system/ebs-csi-controller-sa");
        assert_eq!(role_arn, &ebs_arn);
        assert!(
            owner
                .as_deref()
                .is_some_and(|o| o.contains(":addon/pid/aws-ebs-csi-driver/"))
        );
        assert_eq!(driver_role, None);
        assert_eq!(driver_associations.len(), 1);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn pod_identity_is_planned_switched_in_place_listed_and_deleted_on_moto() {
    let aws = Emulated::start();
    let inventory = aws.inventory("us-east-1").await;
    let v1 = aws.spec("irsa.yaml", SPEC);

    // Create: the add-on's association is EKS's, through CreateAddon.
    let created = plan(&aws, &v1, 2);
    assert_eq!(
        kind_of(&created, "addon/aws-ebs-csi-driver").as_deref(),
        Some("create")
    );
    assert_eq!(
        kind_of(&created, "pod-identity/kube-system/ebs-csi-controller-sa"),
        None
    );
    aws.expect(0, &["apply", "-f", &v1, "--auto-approve"]);
    plan(&aws, &v1, 0);
    let roles = (
        role(&inventory, "pid-web-app").await.0,
        role(&inventory, "pid-kube-system-ebs-csi-controller-sa")
            .await
            .0,
    );
    assert_bound(&inventory, false, &roles).await;

    // Switch both ways at once: app to Pod Identity, the driver's account to IRSA. Updates of
    // the same roles, no replace, and no step of the binding outside the role's change.
    let switched = SPEC
        .replacen("mechanism: irsa", "mechanism: X", 1)
        .replacen("mechanism: podIdentity", "mechanism: irsa", 1)
        .replacen("mechanism: X", "mechanism: podIdentity", 1);
    let v2 = aws.spec("switched.yaml", &switched);
    let switch = plan(&aws, &v2, 2);
    for resource in [
        "role/irsa/web/app",
        "role/irsa/kube-system/ebs-csi-controller-sa",
    ] {
        assert_eq!(
            kind_of(&switch, resource).as_deref(),
            Some("update"),
            "{switch:#}"
        );
    }
    assert_eq!(kind_of(&switch, "pod-identity/web/app"), None, "{switch:#}");
    assert_eq!(
        kind_of(&switch, "addon/aws-ebs-csi-driver"),
        None,
        "{switch:#}"
    );
    assert_eq!(switch["summary"]["replace"], 0);
    aws.expect(0, &["apply", "-f", &v2, "--auto-approve"]);
    plan(&aws, &v2, 0);
    assert_bound(&inventory, true, &roles).await;

    // `get` lists the association.
    let get = aws.expect(0, &["get", "-f", &v2, "--output", "json"]);
    let get: Value = serde_json::from_str(&get.stdout).unwrap();
    let row = get["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource"] == "pod-identity/web/app")
        .unwrap_or_else(|| panic!("no association in\n{get:#}"));
    assert_eq!(row["status"], format!("web/app -> {}", roles.0));

    // New spec tags reach the association (TagResource on its ARN).
    let tagged = edit(
        &switched,
        "metadata: {name: pid, region: us-east-1}",
        "metadata: {name: pid, region: us-east-1, tags: {team: storage}}",
    );
    let v2t = aws.spec("tagged.yaml", &tagged);
    let retag = plan(&aws, &v2t, 2);
    assert_eq!(
        kind_of(&retag, "pod-identity/web/app").as_deref(),
        Some("update")
    );
    aws.expect(0, &["apply", "-f", &v2t, "--auto-approve"]);
    plan(&aws, &v2t, 0);
    let listed = inventory
        .eks
        .list_pod_identity_associations()
        .cluster_name(CLUSTER)
        .namespace("web")
        .send()
        .await
        .unwrap();
    let described = inventory
        .eks
        .describe_pod_identity_association()
        .cluster_name(CLUSTER)
        .association_id(listed.associations()[0].association_id().unwrap())
        .send()
        .await
        .unwrap();
    let tags = described.association().unwrap().tags().unwrap();
    assert_eq!(tags.get("team").map(String::as_str), Some("storage"));

    // And back.
    plan(&aws, &v1, 2);
    aws.expect(0, &["apply", "-f", &v1, "--auto-approve"]);
    plan(&aws, &v1, 0);
    assert_bound(&inventory, false, &roles).await;

    // Pod Identity again, then the account removed: its association goes before its role.
    aws.expect(0, &["apply", "-f", &v2, "--auto-approve"]);
    let removed = edit(
        &switched,
        "    - name: app\n      namespace: web\n      mechanism: podIdentity\n      policyArns: [arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess]\n",
        "",
    );
    let v3 = aws.spec("removed.yaml", &removed);
    let plan3 = plan(&aws, &v3, 2);
    assert_eq!(
        kind_of(&plan3, "pod-identity/web/app").as_deref(),
        Some("delete")
    );
    aws.expect(0, &["apply", "-f", &v3, "--auto-approve"]);
    plan(&aws, &v3, 0);
    assert_eq!(associations(&inventory).await, Vec::new());

    // Delete leaves nothing of the cluster's.
    aws.expect(0, &["apply", "-f", &v2, "--auto-approve"]);
    assert!(
        inventory
            .owned(CLUSTER)
            .await
            .contains(&format!("pod-identity-association {CLUSTER}/web/app"))
    );
    aws.expect(0, &["delete", "-f", &v2, "--auto-approve"]);
    assert_eq!(inventory.owned(CLUSTER).await, Vec::<String>::new());
    assert!(
        inventory
            .eks
            .list_pod_identity_associations()
            .cluster_name(CLUSTER)
            .send()
            .await
            .is_err(),
        "the cluster and its associations are gone"
    );
}
