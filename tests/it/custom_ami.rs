//! Custom AMIs end to end through the real binary against strict moto: the launch template
//! carries the AMI and the user data that joins its nodes (strict moto fails the node group
//! when the user data does not name the live cluster), a new AMI rolls the group through a new
//! launch template version, and moving a group off a custom AMI replaces it.

use base64::Engine as _;
use serde_json::json;

use crate::e2e::{Emulated, edit, node_groups};
use crate::inventory::Inventory;

const PARAMETER: &str =
    "/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/x86_64/standard/recommended/image_id";

const SPEC: &str = r#"apiVersion: ekspec/v1alpha1
kind: Cluster
metadata: {name: amis, region: us-east-1}
spec:
  kubernetesVersion: "1.31"
  vpc: {cidr: 10.40.0.0/16, availabilityZones: [us-east-1a, us-east-1b], natGateway: none}
  nodeGroups:
    - name: web
      instanceTypes: [m6i.large]
      minSize: 1
      maxSize: 2
      privateNetworking: false
      amiParameter: /aws/service/eks/optimized-ami/1.31/amazon-linux-2023/x86_64/standard/recommended/image_id
      labels: {role: web}
      taints: [{key: dedicated, value: web, effect: NoSchedule}]
      preBootstrapCommands: ["echo tuned > /etc/motd"]
    - name: br
      instanceTypes: [m6i.large]
      amiType: BOTTLEROCKET_x86_64
      amiId: ami-0123456789abcdef0
      minSize: 1
      maxSize: 2
      privateNetworking: false
"#;

/// The newest version of the launch template ekspec made for node group `group`: its AMI,
/// decoded user data and version number.
async fn template(inventory: &Inventory, group: &str) -> (String, String, i64) {
    let groups = node_groups(inventory, "amis", group).await;
    let [live] = &groups[..] else {
        panic!("one generation of {group} expected: {groups:#?}")
    };
    let id = live.launch_template().unwrap().id().unwrap();
    let versions = inventory
        .ec2
        .describe_launch_template_versions()
        .launch_template_id(id)
        .versions("$Latest")
        .send()
        .await
        .unwrap();
    let version = &versions.launch_template_versions()[0];
    let data = version.launch_template_data().unwrap();
    let user_data = base64::engine::general_purpose::STANDARD
        .decode(data.user_data().unwrap())
        .unwrap();
    (
        data.image_id().unwrap().to_owned(),
        String::from_utf8(user_data).unwrap(),
        version.version_number().unwrap(),
    )
}

async fn parameter(inventory: &Inventory) -> String {
    let got = inventory
        .ssm
        .get_parameter()
        .name(PARAMETER)
        .send()
        .await
        .unwrap();
    got.parameter().unwrap().value().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_custom_ami_group_joins_rolls_to_a_new_ami_and_converges() {
    let aws = Emulated::start();
    let inventory = aws.inventory("us-east-1").await;
    let v1 = aws.spec("amis.yaml", SPEC);
    let ami = parameter(&inventory).await;

    // The plan shows the AMI the parameter resolves to.
    let plan = aws.expect(2, &["plan", "-f", &v1, "--detailed-exitcode"]);
    assert!(plan.stdout.contains(&ami), "{}", plan.stdout);
    aws.expect(0, &["apply", "-f", &v1, "--auto-approve"]);

    // Strict moto fails a custom-AMI group whose nodes would not join: both are ACTIVE.
    for group in ["web", "br"] {
        let groups = node_groups(&inventory, "amis", group).await;
        assert_eq!(
            groups[0].status().unwrap().as_str(),
            "ACTIVE",
            "{groups:#?}"
        );
        assert_eq!(groups[0].ami_type().unwrap().as_str(), "CUSTOM");
    }
    let cluster = inventory
        .eks
        .describe_cluster()
        .name("amis")
        .send()
        .await
        .unwrap();
    let cluster = cluster.cluster().unwrap();
    let endpoint = cluster.endpoint().unwrap();
    let ca = cluster.certificate_authority().unwrap().data().unwrap();

    let (image, user_data, version) = template(&inventory, "web").await;
    assert_eq!((image.as_str(), version), (ami.as_str(), 1));
    for part in [
        "Content-Type: multipart/mixed; boundary=\"//\"",
        "Content-Type: text/x-shellscript",
        "echo tuned > /etc/motd",
        "Content-Type: application/node.eks.aws",
        "apiVersion: node.eks.aws/v1alpha1",
        "kind: NodeConfig",
        "    name: \"amis\"",
        &format!("    apiServerEndpoint: \"{endpoint}\""),
        &format!("    certificateAuthority: \"{ca}\""),
        "    cidr: \"172.20.0.0/16\"",
        "--register-with-taints=dedicated=web:NoSchedule",
        &format!("eks.amazonaws.com/nodegroup-image={ami}"),
        "role=web",
    ] {
        assert!(user_data.contains(part), "no `{part}` in\n{user_data}");
    }
    // The script runs before nodeadm's part.
    assert!(user_data.find("echo tuned").unwrap() < user_data.find("kind: NodeConfig").unwrap());

    let (image, user_data, _) = template(&inventory, "br").await;
    assert_eq!(image, "ami-0123456789abcdef0");
    for part in [
        "[settings.kubernetes]",
        "cluster-name = \"amis\"",
        &format!("api-server = \"{endpoint}\""),
        &format!("cluster-certificate = \"{ca}\""),
        "cluster-dns-ip = \"172.20.0.10\"",
    ] {
        assert!(user_data.contains(part), "no `{part}` in\n{user_data}");
    }
    let again = aws.expect(0, &["plan", "-f", &v1, "--detailed-exitcode"]);
    assert_eq!(again.stdout.trim(), "No changes.");

    // AWS publishes a new AMI under the parameter, and the Bottlerocket group gets another
    // AMI: each template gets a new version the group rolls to, in place.
    let newer = "ami-0fedcba9876543210";
    aws.emulator()
        .control("ami-parameter", json!({"name": PARAMETER, "value": newer}));
    let v2 = aws.spec(
        "amis.yaml",
        &edit(
            SPEC,
            "amiId: ami-0123456789abcdef0",
            "amiId: ami-0aaaabbbbccccdddd",
        ),
    );
    let plan = aws.expect(2, &["plan", "-f", &v2, "--detailed-exitcode"]);
    assert!(
        plan.stdout.contains(&ami) && plan.stdout.contains(newer),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("Plan: 0 to create, 4 to update, 0 to replace, 0 to delete."),
        "{}",
        plan.stdout
    );
    aws.expect(0, &["apply", "-f", &v2, "--auto-approve"]);
    for (group, want) in [("web", newer), ("br", "ami-0aaaabbbbccccdddd")] {
        let (image, user_data, version) = template(&inventory, group).await;
        assert_eq!((image.as_str(), version), (want, 2));
        let groups = node_groups(&inventory, "amis", group).await;
        assert_eq!(groups[0].launch_template().unwrap().version(), Some("2"));
        if group == "web" {
            assert!(user_data.contains(&format!("nodegroup-image={newer}")));
        }
    }
    let again = aws.expect(0, &["plan", "-f", &v2, "--detailed-exitcode"]);
    assert_eq!(again.stdout.trim(), "No changes.");

    // EKS cannot move a group between a custom AMI and its own: a replace, with the reason.
    let v3 = aws.spec(
        "amis.yaml",
        &edit(SPEC, "      amiId: ami-0123456789abcdef0\n", ""),
    );
    let plan = aws.expect(2, &["plan", "-f", &v3, "--detailed-exitcode"]);
    assert!(
        plan.stdout
            .contains("amiType: CUSTOM -> BOTTLEROCKET_x86_64")
            && plan
                .stdout
                .contains("EKS cannot change these fields in place"),
        "{}",
        plan.stdout
    );
    aws.expect(0, &["apply", "-f", &v3, "--auto-approve"]);
    let groups = node_groups(&inventory, "amis", "br").await;
    assert_eq!(groups.len(), 1, "{groups:#?}");
    assert_eq!(
        groups[0].ami_type().unwrap().as_str(),
        "BOTTLEROCKET_x86_64"
    );
    let again = aws.expect(0, &["plan", "-f", &v3, "--detailed-exitcode"]);
    assert_eq!(again.stdout.trim(), "No changes.");

    aws.expect(0, &["delete", "-f", &v3, "--auto-approve"]);
    assert_eq!(inventory.owned("amis").await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_ami_parameter_is_impossible_and_changes_nothing() {
    let aws = Emulated::start();
    let spec = aws.spec(
        "amis.yaml",
        &edit(
            SPEC,
            "amiParameter: /aws/service/eks/optimized-ami/1.31/",
            "amiParameter: /aws/service/eks/optimized-ami/1.99/",
        ),
    );
    let out = aws.expect(1, &["apply", "-f", &spec, "--auto-approve"]);
    assert!(
        out.stdout.contains(
            "the SSM parameter `/aws/service/eks/optimized-ami/1.99/amazon-linux-2023/x86_64/standard/recommended/image_id` (amiParameter) does not exist in us-east-1"
        ),
        "{}",
        out.stdout
    );
    let inventory = aws.inventory("us-east-1").await;
    assert_eq!(inventory.owned("amis").await, Vec::<String>::new());
}
