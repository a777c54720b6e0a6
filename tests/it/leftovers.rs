//! What a node provisioner running in a cluster (Karpenter, EKS Auto Mode) leaves in its VPC,
//! made straight through EC2 as the provisioner makes it, and the check that it is gone.

use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};

/// A launch template named `template_name` and an instance launched in `subnet`, both tagged
/// `tags` as the provisioner tags them. Returns (instance id, launch template id).
pub async fn seed_node(
    ec2: &aws_sdk_ec2::Client,
    template_name: &str,
    subnet: &str,
    tags: &[(&str, &str)],
) -> (String, String) {
    let tagged = |kind: ResourceType| {
        TagSpecification::builder()
            .resource_type(kind)
            .set_tags(Some(
                tags.iter()
                    .map(|(k, v)| Tag::builder().key(*k).value(*v).build())
                    .collect(),
            ))
            .build()
    };
    let image = ec2.describe_images().send().await.unwrap().images()[0]
        .image_id()
        .unwrap()
        .to_owned();
    let template = ec2
        .create_launch_template()
        .launch_template_name(template_name)
        .launch_template_data(
            aws_sdk_ec2::types::RequestLaunchTemplateData::builder()
                .image_id(&image)
                .build(),
        )
        .tag_specifications(tagged(ResourceType::LaunchTemplate))
        .send()
        .await
        .unwrap()
        .launch_template()
        .unwrap()
        .launch_template_id()
        .unwrap()
        .to_owned();
    let instance = ec2
        .run_instances()
        .image_id(&image)
        .instance_type(aws_sdk_ec2::types::InstanceType::M5Large)
        .min_count(1)
        .max_count(1)
        .subnet_id(subnet)
        .tag_specifications(tagged(ResourceType::Instance))
        .send()
        .await
        .unwrap()
        .instances()[0]
        .instance_id()
        .unwrap()
        .to_owned();
    (instance, template)
}

/// Fails unless the seeded instance is terminated and its launch template deleted.
pub async fn assert_node_gone(ec2: &aws_sdk_ec2::Client, instance: &str, template: &str) {
    let described = ec2
        .describe_instances()
        .instance_ids(instance)
        .send()
        .await
        .unwrap();
    let state = described.reservations()[0].instances()[0]
        .state()
        .and_then(|s| s.name())
        .map(|n| n.as_str().to_owned());
    assert_eq!(state.as_deref(), Some("terminated"), "{instance}");
    let templates = ec2
        .describe_launch_templates()
        .launch_template_ids(template)
        .send()
        .await;
    assert!(
        templates.is_err() || templates.unwrap().launch_templates().is_empty(),
        "launch template {template} is left"
    );
}
