//! `ekspec karpenter values`: the Helm values the Karpenter chart needs for a live cluster,
//! so `helm upgrade --install` runs with nothing copied by hand.

use anyhow::{Result, bail};
use serde_json::{Value, json};

use super::{ExitStatus, GlobalOptions, KarpenterValuesArgs, session};
use crate::cloud::ObservedCluster;
use crate::naming::karpenter_queue;
use crate::printer::{OutputFormat, Printer};
use crate::spec::{ClusterFile, KarpenterSpec};

/// Runs `karpenter values`.
pub fn run_values(
    args: &KarpenterValuesArgs,
    global: &GlobalOptions,
    printer: &Printer,
) -> Result<ExitStatus> {
    let mut specs = session::load_specs(&args.specs.all(), global, printer)?;
    if specs.len() != 1 {
        bail!(
            "karpenter values prints the values of one cluster; give one spec, not {}",
            specs.len()
        );
    }
    let loaded = specs.remove(0);
    let file = loaded.file;
    let Some(karpenter) = &file.spec.karpenter else {
        bail!(
            "{}: the spec has no `spec.karpenter` section, so ekspec made nothing for Karpenter; add one (see examples/karpenter.yaml) and run `ekspec apply`",
            loaded.path.display()
        );
    };
    let (name, region) = (&file.metadata.name, &file.metadata.region);
    let observed = session::runtime()?.block_on(async {
        let cloud = session::cloud(global, region).await?;
        anyhow::Ok(cloud.kubernetes.describe_cluster(name).await?)
    })?;
    let endpoint = live_endpoint(observed, name, region)?;
    let values = values(&file, karpenter, &endpoint);
    if printer.format() == OutputFormat::Json {
        printer.json(&values);
    } else {
        printer.result(format!(
            "# Karpenter {version} on {name} ({region}), read from the live cluster. Install with:\n\
             #   helm upgrade --install karpenter oci://public.ecr.aws/karpenter/karpenter \\\n\
             #     --version {version} --namespace {namespace} --create-namespace --values FILE\n{}",
            yaml(&values, 0),
            version = karpenter.version,
            namespace = karpenter.namespace(),
        ));
    }
    Ok(ExitStatus::Success)
}

/// The API server URL of a cluster that has one, or why it has none.
fn live_endpoint(observed: Option<ObservedCluster>, name: &str, region: &str) -> Result<String> {
    let Some(cluster) = observed else {
        bail!(
            "cluster `{name}` does not exist in {region} yet: the chart needs its endpoint; create it with `ekspec apply`, or check --region and --profile"
        );
    };
    match cluster.endpoint.filter(|e| !e.is_empty()) {
        Some(endpoint) if cluster.status == "ACTIVE" || cluster.status == "UPDATING" => {
            Ok(endpoint)
        }
        _ => bail!(
            "cluster `{name}` in {region} is {}, not ACTIVE: it has no API server endpoint yet; run this again once `ekspec get` shows it ACTIVE",
            cluster.status
        ),
    }
}

/// The chart's values (charts/karpenter/values.yaml): the cluster, its endpoint, the
/// interruption queue, and the service account EKS Pod Identity binds to the controller's
/// role (Pod Identity needs no annotation on it, unlike IRSA).
fn values(file: &ClusterFile, karpenter: &KarpenterSpec, endpoint: &str) -> Value {
    let mut settings = json!({
        "clusterName": file.metadata.name,
        "clusterEndpoint": endpoint,
    });
    if karpenter.interruption_queue {
        settings["interruptionQueue"] = json!(karpenter_queue(&file.metadata.name));
    }
    json!({
        "serviceAccount": {"name": karpenter.service_account()},
        "settings": settings,
    })
}

/// A JSON object of objects and strings as block YAML; scalars are written as JSON strings,
/// which YAML reads as they are.
fn yaml(value: &Value, indent: usize) -> String {
    let mut text = String::new();
    if let Value::Object(map) = value {
        for (key, item) in map {
            let pad = " ".repeat(indent);
            match item {
                Value::Object(_) => {
                    text.push_str(&format!("{pad}{key}:\n{}", yaml(item, indent + 2)));
                }
                scalar => text.push_str(&format!("{pad}{key}: {scalar}\n")),
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_the_charts_keys_as_yaml() {
        let text = "apiVersion: ekspec/v1alpha1\nkind: Cluster\nmetadata: {name: demo, region: us-east-1}\nspec:\n  kubernetesVersion: \"1.31\"\n  nodeGroups: [{name: system, instanceTypes: [m6i.large], minSize: 1, maxSize: 3}]\n  addons: [{name: eks-pod-identity-agent}]\n  karpenter: {version: \"1.8.1\", serviceAccount: kp}\n";
        let report = crate::spec::parse_str("t.yaml", text);
        let file = report
            .spec
            .unwrap_or_else(|| panic!("{:#?}", report.diagnostics));
        let karpenter = file.spec.karpenter.clone().unwrap();
        let values = values(
            &file,
            &karpenter,
            "https://ABC.gr7.us-east-1.eks.amazonaws.com",
        );
        assert_eq!(
            yaml(&values, 0),
            "serviceAccount:\n  name: \"kp\"\nsettings:\n  clusterName: \"demo\"\n  clusterEndpoint: \"https://ABC.gr7.us-east-1.eks.amazonaws.com\"\n  interruptionQueue: \"demo-karpenter\"\n"
        );
    }
}
