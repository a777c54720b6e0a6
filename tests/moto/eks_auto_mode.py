"""EKS Auto Mode, which moto 5.2.1 does not know: CreateCluster and UpdateClusterConfig take
`computeConfig`, `storageConfig.blockStorage` and `kubernetesNetworkConfig.elasticLoadBalancing`,
DescribeCluster reports them, and EKS does what the user guide says it does with them.

Always (what AWS does, moto lacks):
- The three settings are kept and reported; an UpdateClusterConfig that changes them is one
  update of type `AutoModeUpdate` (EKS API reference, UpdateType).
- With node pools, EKS gives the node role an access entry of type `EC2` with the access policy
  `AmazonEKSAutoNodePolicy` (EKS user guide, "Learn about identity and access in EKS Auto
  Mode": "When you create a new auto mode cluster, EKS automatically creates the corresponding
  Kubernetes permissions using Access entries"; the entry's type and policy as
  terraform-aws-modules/terraform-aws-eks#3241 and eksctl#8098 show them).
- Turning Auto Mode off terminates the instances it runs (EKS user guide, "Disable EKS Auto
  Mode": "EKS will terminate all EC2 instances operated by EKS Auto Mode. EKS will delete all
  Load Balancers operated by EKS Auto Mode. EKS will not delete EBS volumes"): those tagged
  `eks:eks-cluster-name=<cluster>` (the tag AmazonEKSComputePolicy requires on everything Auto
  Mode makes: `aws:RequestTag/eks:eks-cluster-name`).
- Compute on with a node role: EKS puts the role in an instance profile it makes, named
  `eks-<region>-<cluster>-<hash>` (AmazonEKSComputePolicy grants `iam:AddRoleToInstanceProfile`
  on `arn:aws:iam::*:instance-profile/eks*` only; the rest of the name is ours, AWS does not
  document it). EKS leaves the profile, with the role in it, when the cluster is deleted ("once
  the deletion is complete the EKS-provisioned instance-profile still exists and is still
  associated with the IAM Role I manage for EKS-compute-nodes", aws/containers-roadmap#2531),
  and when Auto Mode is turned off: IAM then refuses DeleteRole of the node role with
  DeleteConflict, "Cannot delete entity, must remove roles from instance profile first." (moto's
  own IAM rule, as AWS words it; aws-controllers-k8s/iam-controller#180 meets it with Auto Mode).

Strict rules (`strict.ENABLED`), all InvalidParameterException, HTTP 400:
- Compute, block storage and load balancing all on or all off, in one request: "For EKS Auto
  Mode, please ensure that all required configs, including computeConfig,
  kubernetesNetworkConfig, and blockStorage are all either fully enabled or fully disabled."
  (CreateCluster's answer, kubernetes-sigs/cluster-api-provider-aws#5278; "The compute, block
  storage, and load balancing capabilities must all be enabled or disabled in the same request",
  EKS user guide, "Disable EKS Auto Mode").
- Node pools need the node role and the role needs node pools: "When Compute Config nodeRoleArn
  is null or empty, nodePool list cannot be populated." (terraform-aws-eks#3366) and "When
  Compute Config nodeRoleArn is not null or empty, nodePool value(s) must be provided."
  (aws/aws-cdk#33894).
- Node pools are `general-purpose` and/or `system` ("Node pool values are case-sensitive and
  must be general-purpose and/or system", aws-cdk's ComputeConfig documentation; AWS's own
  message for it is not published, so that sentence is the message).
- Compute off takes no node pools or role (aws/aws-cdk#33373: "If the computeConfig enabled
  flag is set to false ..., the request must not include values for the nodeRoleArn or
  nodePools fields"; AWS's message is not published, the wording here is ours).
- The node role cannot change once compute is on (EKS API reference, ComputeConfigRequest
  nodeRoleArn: "This value cannot be changed after the compute capability of EKS Auto Mode is
  enabled"; the message wording is that sentence).
"""

import hashlib
import json

import eks_lifecycle
import strict
from moto.core.responses import ActionResult
from moto.eks import responses
from moto.eks.exceptions import InvalidParameterException

CLUSTER_NAME_TAG = "eks:eks-cluster-name"
NODE_POOLS = {"general-purpose", "system"}
NODE_ACCESS_POLICY = eks_lifecycle.ACCESS_POLICY_PREFIX + "AmazonEKSAutoNodePolicy"
TOGETHER = (
    "For EKS Auto Mode, please ensure that all required configs, including computeConfig, "
    "kubernetesNetworkConfig, and blockStorage are all either fully enabled or fully disabled."
)


def _requested(response):
    """The Auto Mode parts of a request: (compute, block storage, load balancing), each the
    request's dict or None when the request leaves it out."""
    compute = response._get_param("computeConfig")
    storage = (response._get_param("storageConfig") or {}).get("blockStorage")
    network = (response._get_param("kubernetesNetworkConfig") or {}).get("elasticLoadBalancing")
    return compute, storage, network


def _check(name, compute, storage, network, creating, cluster=None):
    parts = [compute, storage, network]
    if all(p is None for p in parts):
        return
    # At create an absent part is off; an update names all three.
    flags = [
        (p or {}).get("enabled", False) if (p is not None or creating) else None for p in parts
    ]
    if None in flags or len(set(flags)) > 1:
        raise InvalidParameterException(clusterName=name, message=TOGETHER)
    compute = compute or {}
    pools = compute.get("nodePools") or []
    role = compute.get("nodeRoleArn") or ""
    if not flags[0]:
        if pools or role:
            raise InvalidParameterException(
                clusterName=name,
                message="When Compute Config is disabled, nodeRoleArn and nodePools must not "
                "be provided.",
            )
        return
    if pools and not role:
        raise InvalidParameterException(
            clusterName=name,
            message="When Compute Config nodeRoleArn is null or empty, nodePool list cannot be "
            "populated.",
        )
    if role and not pools:
        raise InvalidParameterException(
            clusterName=name,
            message="When Compute Config nodeRoleArn is not null or empty, nodePool value(s) "
            "must be provided.",
        )
    unknown = [p for p in pools if p not in NODE_POOLS]
    if unknown:
        raise InvalidParameterException(
            clusterName=name,
            message="Node pool values are case-sensitive and must be general-purpose and/or "
            f"system: {', '.join(unknown)}",
        )
    had = ((getattr(cluster, "compute_config", None) or {}) if cluster else {})
    if had.get("enabled") and had.get("nodeRoleArn") and role and role != had["nodeRoleArn"]:
        raise InvalidParameterException(
            clusterName=name,
            message="The nodeRoleArn cannot be changed after the compute capability of EKS "
            "Auto Mode is enabled.",
        )


def _apply(backend, cluster, compute, storage, network):
    """Keeps the settings on moto's cluster (DescribeCluster reports them by these names)."""
    enabled = bool((compute or {}).get("enabled"))
    was = bool((getattr(cluster, "compute_config", None) or {}).get("enabled"))
    if enabled:
        had = getattr(cluster, "compute_config", None) or {}
        role = compute.get("nodeRoleArn") or had.get("nodeRoleArn")
        cluster.compute_config = {"enabled": True, "nodePools": compute.get("nodePools") or []}
        if role:
            cluster.compute_config["nodeRoleArn"] = role
    else:
        cluster.compute_config = {"enabled": False}
    cluster.storage_config = {"blockStorage": {"enabled": enabled}}
    cluster.kubernetes_network_config = {
        **(cluster.kubernetes_network_config or {}),
        "elasticLoadBalancing": {"enabled": enabled},
    }
    role = cluster.compute_config.get("nodeRoleArn")
    if enabled and cluster.compute_config["nodePools"] and role:
        entries = eks_lifecycle._state(cluster, "access_entries")
        if role not in entries:
            entry = eks_lifecycle._new_access_entry(backend, cluster, role, "EC2", [], None, {})
            eks_lifecycle._associate(entry, NODE_ACCESS_POLICY, {"type": "cluster"})
    if enabled and cluster.compute_config["nodePools"] and role:
        _instance_profile(backend, cluster, role)
    if was and not enabled:
        _terminate_instances(backend, cluster.name)


def _instance_profile(backend, cluster, role_arn):
    """Puts the node role in the instance profile Auto Mode makes for it (once)."""
    from moto.iam import models as iam_models

    for iam in list(iam_models.iam_backends.get(backend.account_id, {}).values()):
        role = next((r for r in list(iam.roles.values()) if r.arn == role_arn), None)
        if role is None:
            continue
        digest = hashlib.sha256(f"{cluster.name}/{role_arn}".encode()).hexdigest()[:8]
        name = f"eks-{backend.region_name}-{cluster.name}-{digest}"
        if name not in iam.instance_profiles:
            iam.create_instance_profile(name, "/", [role.name])
        return


def _terminate_instances(backend, name):
    ec2 = eks_lifecycle._ec2(backend)
    ids = [
        i.id
        for i in ec2.all_instances()
        if i.state not in ("terminated", "shutting-down")
        and any(t["key"] == CLUSTER_NAME_TAG and t["value"] == name
                for t in ec2.describe_tags(filters={"resource-id": [i.id]}))
    ]
    if ids:
        ec2.terminate_instances(ids)


_create_cluster = responses.EKSResponse.create_cluster


def create_cluster(self):
    name = self._get_param("name")
    compute, storage, network = _requested(self)
    if strict.ENABLED:
        _check(name, compute, storage, network, creating=True)
    result = _create_cluster(self)
    if compute is not None or storage is not None or network is not None:
        cluster = self.eks_backend.clusters[name]
        _apply(self.eks_backend, cluster, compute, storage, network)
    return result


responses.EKSResponse.create_cluster = create_cluster

_update_cluster_config = responses.EKSResponse.update_cluster_config


def update_cluster_config(self):
    name = self._get_param("name")
    compute, storage, network = _requested(self)
    if compute is None and storage is None and network is None:
        return _update_cluster_config(self)
    cluster = eks_lifecycle._cluster(self.eks_backend, name)
    if strict.ENABLED:
        _check(name, compute, storage, network, creating=False, cluster=cluster)
    _apply(self.eks_backend, cluster, compute, storage, network)
    params = [
        ("ComputeConfig", json.dumps(compute or {})),
        ("StorageConfig", json.dumps({"blockStorage": storage or {}})),
        ("KubernetesNetworkConfig", json.dumps({"elasticLoadBalancing": network or {}})),
    ]
    update = eks_lifecycle._update(cluster, "AutoModeUpdate", params)
    return ActionResult({"update": update})


responses.EKSResponse.update_cluster_config = update_cluster_config
