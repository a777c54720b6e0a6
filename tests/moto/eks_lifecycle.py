"""The EKS lifecycle APIs moto 5.2.1 answers with 404, filled in as the EKS API reference
documents them: version upgrades, secrets encryption, updates tracked by id, managed add-ons,
and access entries with their access policies.

moto makes every resource ACTIVE at once; these keep that (updates are `Successful` as soon
as they start) but refuse what AWS refuses. State lives on moto's own EKS objects (per account
and region), so DeleteCluster takes a cluster's add-ons and access entries with it, as on AWS.
Imported by `server.py` before the server starts.
"""

import json
import re

from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.eks import models, responses, urls
from moto.eks.exceptions import (
    InvalidParameterException,
    InvalidRequestException,
    ResourceInUseException,
    ResourceNotFoundException,
)
from moto.moto_api._internal import mock_random as random
from moto.sts.models import sts_backends

# Kubernetes versions EKS offers, oldest first (which of them it still lets a cluster be
# created on depends on the day: cluster_settings.py's calendar).
KUBERNETES_VERSIONS = ["1.28", "1.29", "1.30", "1.31", "1.32", "1.33", "1.34", "1.35"]
PLATFORM_VERSION = "eks.1"
ALL = KUBERNETES_VERSIONS


def _from(first, last=KUBERNETES_VERSIONS[-1]):
    start, end = KUBERNETES_VERSIONS.index(first), KUBERNETES_VERSIONS.index(last)
    return KUBERNETES_VERSIONS[start : end + 1]


# Per add-on: its type, whether its versions need an IAM role, and its versions newest first,
# each with the Kubernetes versions it runs on and those it is the default for (one default
# per Kubernetes version, as DescribeAddonVersions reports them). 1.34 and 1.35: the EKS user
# guide's tables of the latest add-on version per Kubernetes version ("Manage kube-proxy in
# Amazon EKS clusters": 1.35 v1.35.3-eksbuild.2, 1.34 v1.34.6-eksbuild.2; "Manage CoreDNS for
# DNS in Amazon EKS clusters": 1.35 v1.14.2-eksbuild.4, 1.34 v1.13.2-eksbuild.7; "Assign IPs to
# Pods with the Amazon VPC CNI": v1.20.1-eksbuild.3 for every version it lists, taken here for
# 1.34 and 1.35 too).
ADDONS = {
    "vpc-cni": ("networking", True, [
        ("v1.20.1-eksbuild.3", ALL, ["1.34", "1.35"]),
        ("v1.19.5-eksbuild.1", ALL, ["1.33"]),
        ("v1.19.2-eksbuild.1", ALL, ["1.31", "1.32"]),
        ("v1.18.5-eksbuild.1", ALL, ["1.29", "1.30"]),
        ("v1.18.3-eksbuild.1", ALL, ["1.28"]),
    ]),
    "kube-proxy": ("networking", False, [
        ("v1.35.3-eksbuild.2", ["1.35"], ["1.35"]),
        ("v1.34.6-eksbuild.2", ["1.34"], ["1.34"]),
        ("v1.33.0-eksbuild.2", ["1.33"], ["1.33"]),
        ("v1.32.3-eksbuild.7", ["1.32"], ["1.32"]),
        ("v1.32.0-eksbuild.2", ["1.32"], []),
        ("v1.31.3-eksbuild.2", ["1.31"], ["1.31"]),
        ("v1.31.2-eksbuild.3", ["1.31"], []),
        ("v1.30.6-eksbuild.3", ["1.30"], ["1.30"]),
        ("v1.29.10-eksbuild.3", ["1.29"], ["1.29"]),
        ("v1.29.9-eksbuild.2", ["1.29"], []),
        ("v1.28.15-eksbuild.4", ["1.28"], ["1.28"]),
    ]),
    "coredns": ("networking", False, [
        ("v1.14.2-eksbuild.4", ["1.35"], ["1.35"]),
        ("v1.13.2-eksbuild.7", ["1.34"], ["1.34"]),
        ("v1.12.1-eksbuild.2", ["1.33"], ["1.33"]),
        ("v1.11.4-eksbuild.2", _from("1.29", "1.32"), ["1.32"]),
        ("v1.11.3-eksbuild.1", _from("1.29", "1.31"), ["1.29", "1.30", "1.31"]),
        ("v1.10.1-eksbuild.13", ["1.28"], ["1.28"]),
    ]),
    "aws-ebs-csi-driver": ("storage", True, [
        ("v1.44.0-eksbuild.1", ALL, ["1.30", "1.31", "1.32", "1.33", "1.34", "1.35"]),
        ("v1.41.0-eksbuild.1", ALL, ["1.28", "1.29"]),
        ("v1.37.0-eksbuild.1", _from("1.28", "1.31"), []),
    ]),
    "eks-pod-identity-agent": ("security", False, [
        ("v1.3.7-eksbuild.2", ALL, ALL),
        ("v1.3.4-eksbuild.1", _from("1.28", "1.32"), []),
    ]),
    "aws-efs-csi-driver": ("storage", True, [
        ("v2.1.8-eksbuild.1", ALL, ALL),
        ("v2.0.7-eksbuild.1", _from("1.28", "1.32"), []),
    ]),
}

ACCESS_POLICY_PREFIX = "arn:aws:eks::aws:cluster-access-policy/"
ACCESS_POLICIES = {
    ACCESS_POLICY_PREFIX + name
    for name in [
        "AmazonEKSClusterAdminPolicy",
        "AmazonEKSAdminPolicy",
        "AmazonEKSEditPolicy",
        "AmazonEKSViewPolicy",
        "AmazonEKSAdminViewPolicy",
        "AmazonEKSAutoNodePolicy",
        "AmazonEKSBlockStorageClusterPolicy",
        "AmazonEKSComputeClusterPolicy",
        "AmazonEKSLoadBalancingClusterPolicy",
        "AmazonEKSNetworkingClusterPolicy",
    ]
}
ACCESS_ENTRY_TYPES = {
    "STANDARD", "EC2", "EC2_LINUX", "EC2_WINDOWS", "FARGATE_LINUX", "HYBRID_LINUX",
    "HYPERPOD_LINUX",
}
PRINCIPAL_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):(role|user)/(?:.*/)?([^/]+)$")
AUTHENTICATION_MODES = ["CONFIG_MAP", "API_AND_CONFIG_MAP", "API"]
ADDON_ARN = "arn:{partition}:eks:{region}:{account}:addon/{cluster}/{addon}/{uuid}"
ACCESS_ENTRY_ARN = (
    "arn:{partition}:eks:{region}:{account}:access-entry/{cluster}/{kind}/{principal_account}"
    "/{principal_name}/{uuid}"
)


class Addon:
    """A managed add-on, serialized by moto through EKS's `Addon` shape."""

    def __init__(self, cluster, name, version, role_arn, configuration_values, tags, arn):
        self.addon_name = name
        self.cluster_name = cluster
        self.addon_version = version
        self.service_account_role_arn = role_arn or None
        self.configuration_values = configuration_values or None
        self.tags = dict(tags or {})
        self.addon_arn = arn
        self.status = "ACTIVE"
        self.health = {"issues": []}
        self.created_at = self.modified_at = utcnow()
        self.publisher = "eks"
        self.owner = "aws"
        self.updates = {}


class AccessEntry:
    """An access entry, serialized by moto through EKS's `AccessEntry` shape."""

    def __init__(self, cluster, principal_arn, entry_type, groups, username, tags, arn):
        self.cluster_name = cluster
        self.principal_arn = principal_arn
        self.type = entry_type
        self.kubernetes_groups = list(groups or [])
        self.username = username
        self.tags = dict(tags or {})
        self.access_entry_arn = arn
        self.created_at = self.modified_at = utcnow()
        # policy ARN -> AssociatedAccessPolicy
        self.policies = {}


def _cluster(backend, name):
    cluster = backend.clusters.get(name)
    if cluster is None:
        raise ResourceNotFoundException(
            clusterName=name,
            nodegroupName=None,
            fargateProfileName=None,
            addonName=None,
            message=models.CLUSTER_NOT_FOUND_MSG.format(clusterName=name),
        )
    return cluster


def _state(obj, field):
    """The add-ons, access entries or updates kept on a moto object, made on first use."""
    return obj.__dict__.setdefault(field, {})


def _invalid(message, **names):
    return InvalidParameterException(message=message, **names)


def _update(owner, update_type, params, errors=None):
    """Records an update on `owner` (cluster, node group or add-on) and returns it. moto makes
    every change at once, so the update is `Successful` from the start."""
    update = {
        "id": str(random.uuid4()),
        "status": "Successful" if not errors else "Failed",
        "type": update_type,
        "params": [{"type": kind, "value": value} for kind, value in params],
        "createdAt": utcnow(),
        "errors": errors or [],
    }
    _state(owner, "updates")[update["id"]] = update
    return update


def _minor(version):
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


# --- Clusters ----------------------------------------------------------------------------------


def authentication_mode(cluster):
    return (getattr(cluster, "access_config", None) or {}).get("authenticationMode", "CONFIG_MAP")


_create_cluster = responses.EKSResponse.create_cluster


def create_cluster(self):
    """moto 5.2.1 drops CreateCluster's accessConfig. AWS keeps it (authentication mode
    CONFIG_MAP when none is given through the API) and, unless
    bootstrapClusterCreatorAdminPermissions is false, gives the caller's IAM principal an
    access entry with AmazonEKSClusterAdminPolicy."""
    result = _create_cluster(self)
    cluster = self.eks_backend.clusters[self._get_param("name")]
    requested = self._get_param("accessConfig") or {}
    bootstrap = requested.get("bootstrapClusterCreatorAdminPermissions", True)
    cluster.access_config = {
        "authenticationMode": requested.get("authenticationMode", "CONFIG_MAP"),
        "bootstrapClusterCreatorAdminPermissions": bootstrap,
    }
    if bootstrap and authentication_mode(cluster) != "CONFIG_MAP":
        _, caller, _ = sts_backends[self.current_account][self.partition].get_caller_identity(
            self.access_key, self.region
        )
        # An IAM user calls as itself; EKS names the IAM principal, not the STS one.
        principal = re.sub(r"^arn:([^:]+):sts::(\d+):user/", r"arn:\1:iam::\2:user/", caller)
        principal = re.sub(
            r"^arn:([^:]+):sts::(\d+):assumed-role/([^/]+)/.*$",
            r"arn:\1:iam::\2:role/\3",
            principal,
        )
        entry = _new_access_entry(self.eks_backend, cluster, principal, "STANDARD", [], None, {})
        _associate(entry, ACCESS_POLICY_PREFIX + "AmazonEKSClusterAdminPolicy", {"type": "cluster"})
    return result


responses.EKSResponse.create_cluster = create_cluster

# The cluster security group. EKS User Guide, "View Amazon EKS security group requirements for
# clusters": "When you create a cluster, Amazon EKS creates a security group that's named
# eks-cluster-sg-my-cluster-uniqueID" with the tags `kubernetes.io/cluster/my-cluster: owned`,
# `aws:eks:cluster-name: my-cluster` and `Name: eks-cluster-sg-my-cluster-uniqueid`;
# DescribeCluster reports it as resourcesVpcConfig.clusterSecurityGroupId (EKS API reference,
# VpcConfigResponse: "The cluster security group that was created by Amazon EKS for the
# cluster"), and EKS deletes it with the cluster. moto 5.2.1 makes none.

_create_cluster_backend = models.EKSBackend.create_cluster


def _ec2(backend):
    from moto.ec2.models import ec2_backends

    return ec2_backends[backend.account_id][backend.region_name]


def create_cluster_with_security_group(self, name, role_arn, resources_vpc_config, **kwargs):
    cluster = _create_cluster_backend(self, name, role_arn, resources_vpc_config, **kwargs)
    ec2 = _ec2(self)
    subnets = (resources_vpc_config or {}).get("subnetIds") or []
    vpc_id = None
    for subnet_id in subnets:
        try:
            vpc_id = ec2.get_subnet(subnet_id).vpc_id
            break
        except Exception:  # moto's InvalidSubnetIdError: no group then
            continue
    if vpc_id is not None:
        group_name = f"eks-cluster-sg-{name}-{random.get_random_hex(10)}"
        group = ec2.create_security_group(
            group_name,
            "EKS created security group applied to ENI that is attached to EKS Control Plane "
            "master nodes, as well as any managed workloads.",
            vpc_id=vpc_id,
            tags={
                f"kubernetes.io/cluster/{name}": "owned",
                "aws:eks:cluster-name": name,
                "Name": group_name,
            },
        )
        cluster.__dict__["_cluster_security_group"] = (group.id, vpc_id)
    return cluster


models.EKSBackend.create_cluster = create_cluster_with_security_group

_describe_cluster_backend = models.EKSBackend.describe_cluster


def describe_cluster_with_security_group(self, name):
    cluster = _describe_cluster_backend(self, name)
    group = cluster.__dict__.get("_cluster_security_group")
    if group is not None:
        # UpdateClusterConfig replaces moto's resourcesVpcConfig: the group is added back.
        cluster.resources_vpc_config = {
            **(cluster.resources_vpc_config or {}),
            "clusterSecurityGroupId": group[0],
            "vpcId": group[1],
        }
    return cluster


models.EKSBackend.describe_cluster = describe_cluster_with_security_group

_delete_cluster_backend = models.EKSBackend.delete_cluster


def delete_cluster_with_security_group(self, name):
    cluster = _delete_cluster_backend(self, name)
    group = cluster.__dict__.get("_cluster_security_group") if cluster is not None else None
    if group is not None:
        try:
            _ec2(self).delete_security_group(group_id=group[0])
        except Exception:
            # Already gone; or still named by another group's rule, when EKS leaves it behind
            # and the VPC cannot be deleted (terraform-provider-aws#11473).
            pass
    return cluster


models.EKSBackend.delete_cluster = delete_cluster_with_security_group


def update_cluster_config(self):
    """moto 5.2.1 answers UpdateClusterConfig with the cluster, ignores accessConfig and keeps
    no update. AWS answers with an update DescribeUpdate finds, and moves the authentication
    mode only forwards (CONFIG_MAP -> API_AND_CONFIG_MAP -> API)."""
    name = self._get_param("name")
    cluster = _cluster(self.eks_backend, name)
    access = self._get_param("accessConfig") or {}
    mode = access.get("authenticationMode")
    if mode:
        if mode not in AUTHENTICATION_MODES:
            raise _invalid(f"Unsupported authentication mode {mode}", clusterName=name)
        current = authentication_mode(cluster)
        if AUTHENTICATION_MODES.index(mode) <= AUTHENTICATION_MODES.index(current):
            raise InvalidParameterException(
                clusterName=name,
                message=f"Unsupported authentication mode update from {current} to {mode}",
            )
    vpc = self._get_param("resourcesVpcConfig")
    logging = self._get_param("logging")
    self.eks_backend.update_cluster_config(
        name=name,
        resources_vpc_config=vpc,
        logging=logging,
        client_request_token=self._get_param("clientRequestToken"),
        kubernetes_network_config=self._get_param("kubernetesNetworkConfig"),
        remote_network_config=self._get_param("remoteNetworkConfig"),
    )
    params = []
    if mode:
        cluster.access_config = {**(getattr(cluster, "access_config", None) or {}), **access}
        params.append(("AuthenticationMode", mode))
        update_type = "AccessConfigUpdate"
    elif logging:
        params.append(("ClusterLogging", json.dumps(logging.get("clusterLogging", []))))
        update_type = "LoggingUpdate"
    else:
        for field, kind in [
            ("endpointPublicAccess", "EndpointPublicAccess"),
            ("endpointPrivateAccess", "EndpointPrivateAccess"),
            ("publicAccessCidrs", "PublicAccessCidrs"),
        ]:
            if field in (vpc or {}):
                params.append((kind, json.dumps(vpc[field])))
        update_type = "EndpointAccessUpdate"
    return ActionResult({"update": _update(cluster, update_type, params)})


responses.EKSResponse.update_cluster_config = update_cluster_config


def update_cluster_version(self):
    """UpdateClusterVersion: AWS moves the control plane one minor version at a time, refuses
    a skip or a downgrade (InvalidParameterException), and refuses to start while a node group
    is still behind the current version (InvalidRequestException)."""
    name = self._get_param("name")
    cluster = _cluster(self.eks_backend, name)
    version = self._get_param("version")
    if version not in KUBERNETES_VERSIONS:
        raise _invalid(f"unsupported Kubernetes version {version}", clusterName=name)
    current, target = _minor(cluster.version), _minor(version)
    if target[0] != current[0] or target[1] != current[1] + 1:
        raise _invalid(
            f"Unsupported Kubernetes minor version update from {cluster.version} to {version}",
            clusterName=name,
        )
    behind = sorted(
        group.nodegroup_name
        for group in cluster.nodegroups.values()
        if group.version != cluster.version
    )
    if behind:
        raise InvalidRequestException(
            clusterName=name,
            message=f"Nodegroups {', '.join(behind)} must be updated to match cluster version "
            f"{cluster.version} before updating cluster version",
        )
    cluster.version = version
    cluster.platformVersion = PLATFORM_VERSION
    update = _update(
        cluster, "VersionUpdate", [("Version", version), ("PlatformVersion", PLATFORM_VERSION)]
    )
    return ActionResult({"update": update})


def associate_encryption_config(self):
    """AssociateEncryptionConfig: AWS turns on envelope encryption of secrets with a KMS key
    for a cluster that has none; encryption cannot be changed once on
    (InvalidRequestException)."""
    name = self._get_param("name")
    cluster = _cluster(self.eks_backend, name)
    config = self._get_param("encryptionConfig") or []
    if cluster.encryption_config:
        raise InvalidRequestException(
            clusterName=name, message="Encryption is already enabled on the cluster"
        )
    if len(config) != 1 or not (config[0].get("provider") or {}).get("keyArn"):
        raise _invalid("Exactly one encryptionConfig with a provider keyArn is required",
                       clusterName=name)
    cluster.encryption_config = config
    update = _update(
        cluster, "AssociateEncryptionConfig", [("EncryptionConfig", json.dumps(config))]
    )
    return ActionResult({"update": update})


def describe_update(self):
    """DescribeUpdate: the update with this id of the cluster, or of the node group or add-on
    named by the `nodegroupName` / `addonName` query parameter."""
    name = self._get_param("name")
    cluster = _cluster(self.eks_backend, name)
    update_id = self._get_param("updateId")
    nodegroup = self._get_param("nodegroupName")
    addon = self._get_param("addonName")
    if nodegroup:
        owner = self.eks_backend.describe_nodegroup(cluster_name=name, nodegroup_name=nodegroup)
    elif addon:
        owner = _addon(cluster, addon)
    else:
        owner = cluster
    update = _state(owner, "updates").get(update_id)
    if update is None:
        raise ResourceNotFoundException(
            clusterName=name,
            nodegroupName=nodegroup,
            fargateProfileName=None,
            addonName=addon,
            message=f"No update found for ID: {update_id}",
        )
    return ActionResult({"update": update})


# --- Node groups -------------------------------------------------------------------------------

_create_nodegroup_backend = models.EKSBackend.create_nodegroup


def create_nodegroup_with_access(self, cluster_name, node_role, **kwargs):
    """On a cluster whose authentication mode includes API, AWS gives a new managed node
    group's node role an access entry (EC2_LINUX, or EC2_WINDOWS for Windows AMIs) when it has
    none."""
    nodegroup = _create_nodegroup_backend(self, cluster_name=cluster_name, node_role=node_role,
                                          **kwargs)
    cluster = self.clusters[cluster_name]
    if (authentication_mode(cluster) != "CONFIG_MAP"
            and node_role not in _state(cluster, "access_entries")):
        windows = (kwargs.get("ami_type") or "").startswith("WINDOWS")
        kind = "EC2_WINDOWS" if windows else "EC2_LINUX"
        _new_access_entry(self, cluster, node_role, kind, [], None, {})
    return nodegroup


models.EKSBackend.create_nodegroup = create_nodegroup_with_access

_create_fargate_profile_backend = models.EKSBackend.create_fargate_profile


def create_fargate_profile_with_access(self, fargate_profile_name, cluster_name, selectors,
                                       pod_execution_role_arn, **kwargs):
    """On a cluster whose authentication mode includes API, AWS gives a new Fargate profile's
    pod execution role a FARGATE_LINUX access entry when it has none."""
    profile = _create_fargate_profile_backend(
        self, fargate_profile_name=fargate_profile_name, cluster_name=cluster_name,
        selectors=selectors, pod_execution_role_arn=pod_execution_role_arn, **kwargs
    )
    cluster = self.clusters[cluster_name]
    if (authentication_mode(cluster) != "CONFIG_MAP"
            and pod_execution_role_arn not in _state(cluster, "access_entries")):
        _new_access_entry(self, cluster, pod_execution_role_arn, "FARGATE_LINUX", [], None, {})
    return profile


models.EKSBackend.create_fargate_profile = create_fargate_profile_with_access

_update_nodegroup_config = models.EKSBackend.update_nodegroup_config


def update_nodegroup_config(self, cluster_name, nodegroup_name, **kwargs):
    """moto 5.2.1 answers UpdateNodegroupConfig with an update id it forgets; AWS's
    DescribeUpdate finds it."""
    update = _update_nodegroup_config(
        self, cluster_name=cluster_name, nodegroup_name=nodegroup_name, **kwargs
    )
    nodegroup = self.clusters[cluster_name].nodegroups[nodegroup_name]
    _state(nodegroup, "updates")[update["id"]] = update
    return update


models.EKSBackend.update_nodegroup_config = update_nodegroup_config


_list_nodegroups = models.EKSBackend.list_nodegroups
_list_fargate_profiles = models.EKSBackend.list_fargate_profiles


def list_nodegroups_of_a_cluster(self, cluster_name, max_results, next_token):
    """moto 5.2.1 answers ListNodegroups of a cluster that does not exist (or no longer does:
    its delete just finished) with a 500 (KeyError). AWS answers ResourceNotFoundException,
    HTTP 404 (EKS API reference, ListNodegroups Errors: "The specified resource could not be
    found. You can view your available clusters with ListClusters.")."""
    _cluster(self, cluster_name)
    return _list_nodegroups(self, cluster_name, max_results, next_token)


def list_fargate_profiles_of_a_cluster(self, cluster_name, max_results, next_token):
    """ListFargateProfiles of a missing cluster: ResourceNotFoundException, HTTP 404 (EKS API
    reference, ListFargateProfiles Errors), not moto 5.2.1's 500."""
    _cluster(self, cluster_name)
    return _list_fargate_profiles(self, cluster_name, max_results, next_token)


models.EKSBackend.list_nodegroups = list_nodegroups_of_a_cluster
models.EKSBackend.list_fargate_profiles = list_fargate_profiles_of_a_cluster


def update_nodegroup_version(self):
    """UpdateNodegroupVersion: AWS moves a node group to the given Kubernetes version (the
    cluster's when none is given), never past the cluster's (InvalidParameterException)."""
    name = self._get_param("name")
    cluster = _cluster(self.eks_backend, name)
    group_name = self._get_param("nodegroupName")
    nodegroup = self.eks_backend.describe_nodegroup(cluster_name=name, nodegroup_name=group_name)
    version = self._get_param("version") or cluster.version
    if version not in KUBERNETES_VERSIONS:
        raise _invalid(f"unsupported Kubernetes version {version}", clusterName=name,
                       nodegroupName=group_name)
    if _minor(version) > _minor(cluster.version):
        raise _invalid(
            f"Requested Nodegroup version {version} is newer than the cluster version "
            f"{cluster.version}",
            clusterName=name,
            nodegroupName=group_name,
        )
    if _minor(version) < _minor(nodegroup.version):
        raise _invalid(
            f"Requested Nodegroup version {version} is older than the current version "
            f"{nodegroup.version}",
            clusterName=name,
            nodegroupName=group_name,
        )
    release = self._get_param("releaseVersion") or f"{version}.0-20250101"
    nodegroup.version = version
    nodegroup.release_version = release
    nodegroup.modified_at = utcnow()
    template = self._get_param("launchTemplate")
    params = [("Version", version), ("ReleaseVersion", release)]
    if template:
        nodegroup.launch_template = {**(nodegroup.launch_template or {}), **template}
        params.append(("LaunchTemplateVersion", str(template.get("version"))))
    update = _update(nodegroup, "VersionUpdate", params)
    return ActionResult({"update": update})


# --- Add-ons -----------------------------------------------------------------------------------


def _addon(cluster, name):
    addon = _state(cluster, "addons").get(name)
    if addon is None:
        raise ResourceNotFoundException(
            clusterName=cluster.name,
            nodegroupName=None,
            fargateProfileName=None,
            addonName=name,
            message=f"No addon: {name} found in cluster: {cluster.name}",
        )
    return addon


def _compatible_versions(name, kubernetes_version):
    """The versions of add-on `name` that run on `kubernetes_version`, newest first, with the
    default one."""
    _, _, versions = ADDONS[name]
    compatible = [v for v, runs_on, _ in versions if kubernetes_version in runs_on]
    default = next((v for v, _, defaults in versions if kubernetes_version in defaults), None)
    return compatible, default


def _addon_version(cluster, name, version):
    """The version to install: the requested one if it runs on the cluster's Kubernetes
    version, else InvalidParameterException; the default one when none is requested."""
    compatible, default = ([], None)
    if name in ADDONS:
        compatible, default = _compatible_versions(name, cluster.version)
    if not compatible:
        raise _invalid(
            f"Addon {name} specified is not supported in {cluster.version} kubernetes version",
            clusterName=cluster.name,
            addonName=name,
        )
    if not version:
        return default
    if version not in compatible:
        raise _invalid(
            f"Addon version specified is not supported: {name} {version} on Kubernetes "
            f"{cluster.version}",
            clusterName=cluster.name,
            addonName=name,
        )
    return version


def _role_arn(value, cluster, name):
    if value and not re.match(r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$", value):
        raise _invalid(f"Invalid serviceAccountRoleArn: {value}", clusterName=cluster.name,
                       addonName=name)
    return value


def _configuration(value, cluster, name):
    """AWS parses configurationValues as JSON or YAML; an object is required."""
    if value is None or value.strip() in ("", "{}"):
        return value
    try:
        parsed = json.loads(value)
    except ValueError:
        try:
            import yaml

            parsed = yaml.safe_load(value)
        except Exception:
            parsed = None
    if not isinstance(parsed, dict):
        raise _invalid("ConfigurationValue provided in request is not supported: not an object",
                       clusterName=cluster.name, addonName=name)
    return value


def list_addons(self):
    """ListAddons: the names of a cluster's add-ons, paginated by maxResults/nextToken."""
    cluster = _cluster(self.eks_backend, self._get_param("name"))
    names, token = models.paginated_list(
        list(_state(cluster, "addons")),
        self._get_int_param("maxResults", 100),
        self._get_param("nextToken"),
    )
    return ActionResult({"addons": names, "nextToken": token})


def describe_addon(self):
    """DescribeAddon: one add-on with its version, role, configuration and tags."""
    cluster = _cluster(self.eks_backend, self._get_param("name"))
    return ActionResult({"addon": _addon(cluster, self._get_param("addonName"))})


def describe_addon_versions(self):
    """DescribeAddonVersions: the add-ons EKS offers with their versions, each with the
    Kubernetes versions it runs on and whether it is that version's default; filtered by
    `addonName` and `kubernetesVersion` and paginated as AWS does."""
    only = self._get_param("addonName")
    kubernetes_version = self._get_param("kubernetesVersion")
    infos = []
    for name in sorted(ADDONS):
        if only and name != only:
            continue
        addon_type, needs_role, versions = ADDONS[name]
        addon_versions = []
        for version, runs_on, defaults in versions:
            clusters = [kubernetes_version] if kubernetes_version else runs_on
            compatibilities = [
                {"clusterVersion": v, "platformVersions": ["*"], "defaultVersion": v in defaults}
                for v in clusters
                if v in runs_on
            ]
            if compatibilities:
                addon_versions.append({
                    "addonVersion": version,
                    "architecture": ["amd64", "arm64"],
                    "computeTypes": ["ec2"],
                    "compatibilities": compatibilities,
                    "requiresConfiguration": False,
                    "requiresIamPermissions": needs_role,
                })
        if addon_versions:
            infos.append({
                "addonName": name,
                "type": addon_type,
                "addonVersions": addon_versions,
                "publisher": "eks",
                "owner": "aws",
                "defaultNamespace": "kube-system",
            })
    start = int(self._get_param("nextToken") or 0)
    size = self._get_int_param("maxResults", 100)
    page = infos[start : start + size]
    token = str(start + size) if start + size < len(infos) else None
    return ActionResult({"addons": page, "nextToken": token})


def create_addon(self):
    """CreateAddon: installs a managed add-on at the requested version (the default one for
    the cluster's Kubernetes version when none is given); a second add-on of that name is a
    ResourceInUseException, an unknown add-on or version an InvalidParameterException."""
    backend = self.eks_backend
    cluster = _cluster(backend, self._get_param("name"))
    name = self._get_param("addonName")
    addons = _state(cluster, "addons")
    if name in addons:
        raise ResourceInUseException(
            clusterName=cluster.name,
            nodegroupName=None,
            addonName=name,
            message="Addon already exists.",
        )
    version = _addon_version(cluster, name, self._get_param("addonVersion"))
    role = _role_arn(self._get_param("serviceAccountRoleArn"), cluster, name)
    values = _configuration(self._get_param("configurationValues"), cluster, name)
    arn = ADDON_ARN.format(
        partition=backend.partition,
        region=backend.region_name,
        account=backend.account_id,
        cluster=cluster.name,
        addon=name,
        uuid=str(random.uuid4()),
    )
    addon = Addon(cluster.name, name, version, role, values, self._get_param("tags"), arn)
    addons[name] = addon
    return ActionResult({"addon": addon})


def update_addon(self):
    """UpdateAddon: changes an add-on's version, role (an empty ARN removes it) and
    configuration (an empty string or `{}` resets it); returns an AddonUpdate DescribeUpdate
    finds under the add-on's name."""
    cluster = _cluster(self.eks_backend, self._get_param("name"))
    name = self._get_param("addonName")
    addon = _addon(cluster, name)
    params = []
    version = self._get_param("addonVersion")
    if version:
        addon.addon_version = _addon_version(cluster, name, version)
        params.append(("AddonVersion", addon.addon_version))
    role = self._get_param("serviceAccountRoleArn")
    if role is not None:
        addon.service_account_role_arn = _role_arn(role, cluster, name) or None
        params.append(("ServiceAccountRoleArn", role))
    values = self._get_param("configurationValues")
    if values is not None:
        values = _configuration(values, cluster, name)
        addon.configuration_values = None if values.strip() in ("", "{}") else values
        params.append(("ConfigurationValues", values))
    conflicts = self._get_param("resolveConflicts")
    if conflicts:
        params.append(("ResolveConflicts", conflicts))
    addon.modified_at = utcnow()
    return ActionResult({"update": _update(addon, "AddonUpdate", params)})


def delete_addon(self):
    """DeleteAddon: removes the add-on (moto at once; AWS answers DELETING)."""
    cluster = _cluster(self.eks_backend, self._get_param("name"))
    name = self._get_param("addonName")
    addon = _addon(cluster, name)
    del _state(cluster, "addons")[name]
    addon.status = "DELETING"
    return ActionResult({"addon": addon})


# --- Access entries ----------------------------------------------------------------------------


def _require_api_mode(cluster):
    if authentication_mode(cluster) == "CONFIG_MAP":
        raise InvalidRequestException(
            clusterName=cluster.name,
            message="The cluster's authentication mode must be set to one of "
            "[API, API_AND_CONFIG_MAP] to perform this operation.",
        )


def _entry(cluster, principal_arn):
    entry = _state(cluster, "access_entries").get(principal_arn)
    if entry is None:
        raise ResourceNotFoundException(
            clusterName=cluster.name,
            nodegroupName=None,
            fargateProfileName=None,
            addonName=None,
            message=f"The specified access entry resource {principal_arn} could not be found.",
        )
    return entry


def _default_username(principal_arn, entry_type):
    """The Kubernetes user name AWS gives an entry that names none."""
    if entry_type in ("EC2_LINUX", "EC2_WINDOWS", "EC2"):
        return "system:node:{{EC2PrivateDNSName}}"
    if entry_type == "FARGATE_LINUX":
        return "system:node:{{SessionName}}"
    match = PRINCIPAL_ARN.match(principal_arn)
    if match and match.group(2) == "role":
        partition = principal_arn.split(":")[1]
        return (f"arn:{partition}:sts::{match.group(1)}:assumed-role/{match.group(3)}"
                "/{{SessionName}}")
    return principal_arn


def _check_groups(groups, cluster):
    for group in groups or []:
        if group.startswith("system:"):
            raise _invalid(
                f"The kubernetes group name {group} is invalid, it cannot start with system:",
                clusterName=cluster.name,
            )


def _new_access_entry(backend, cluster, principal_arn, entry_type, groups, username, tags):
    match = PRINCIPAL_ARN.match(principal_arn or "")
    if match is None:
        raise _invalid(f"The specified principalArn is invalid: {principal_arn}",
                       clusterName=cluster.name)
    arn = ACCESS_ENTRY_ARN.format(
        partition=backend.partition,
        region=backend.region_name,
        account=backend.account_id,
        cluster=cluster.name,
        kind=match.group(2),
        principal_account=match.group(1),
        principal_name=match.group(3),
        uuid=str(random.uuid4()),
    )
    entry = AccessEntry(
        cluster.name,
        principal_arn,
        entry_type,
        groups,
        username or _default_username(principal_arn, entry_type),
        tags,
        arn,
    )
    _state(cluster, "access_entries")[principal_arn] = entry
    return entry


def _associate(entry, policy_arn, scope):
    now = utcnow()
    previous = entry.policies.get(policy_arn)
    entry.policies[policy_arn] = {
        "policyArn": policy_arn,
        "accessScope": {"type": scope.get("type"), "namespaces": scope.get("namespaces") or []},
        "associatedAt": previous["associatedAt"] if previous else now,
        "modifiedAt": now,
    }
    return entry.policies[policy_arn]


def list_access_entries(self):
    """ListAccessEntries: the principal ARNs of a cluster's access entries, optionally only
    those with `associatedPolicyArn`, paginated."""
    cluster = _cluster(self.eks_backend, self._get_param("name"))
    _require_api_mode(cluster)
    policy = self._get_param("associatedPolicyArn")
    principals = [
        arn
        for arn, entry in _state(cluster, "access_entries").items()
        if not policy or policy in entry.policies
    ]
    page, token = models.paginated_list(
        principals, self._get_int_param("maxResults", 100), self._get_param("nextToken")
    )
    return ActionResult({"accessEntries": page, "nextToken": token})


def describe_access_entry(self):
    """DescribeAccessEntry: one entry with its groups, user name, type and tags."""
    cluster = _cluster(self.eks_backend, self._get_param("name"))
    _require_api_mode(cluster)
    return ActionResult({"accessEntry": _entry(cluster, self._get_param("principalArn"))})


def create_access_entry(self):
    """CreateAccessEntry: type STANDARD unless given; the default user name is the principal
    (an IAM role's as its assumed-role session); node and Fargate types take no groups or user
    name; a second entry for the principal is a ResourceInUseException."""
    backend = self.eks_backend
    cluster = _cluster(backend, self._get_param("name"))
    _require_api_mode(cluster)
    principal = self._get_param("principalArn")
    entry_type = self._get_param("type") or "STANDARD"
    if entry_type not in ACCESS_ENTRY_TYPES:
        raise _invalid(f"Unsupported access entry type {entry_type}", clusterName=cluster.name)
    groups = self._get_param("kubernetesGroups") or []
    username = self._get_param("username")
    if entry_type != "STANDARD" and (groups or username):
        raise _invalid(
            f"kubernetesGroups and username cannot be specified for access entry type {entry_type}",
            clusterName=cluster.name,
        )
    _check_groups(groups, cluster)
    if principal in _state(cluster, "access_entries"):
        raise ResourceInUseException(
            clusterName=cluster.name,
            nodegroupName=None,
            addonName=None,
            message="The specified access entry resource is already in use on this cluster.",
        )
    entry = _new_access_entry(
        backend, cluster, principal, entry_type, groups, username, self._get_param("tags")
    )
    return ActionResult({"accessEntry": entry})


def update_access_entry(self):
    """UpdateAccessEntry: replaces the Kubernetes groups (when given) and the user name (when
    given) of a STANDARD entry."""
    cluster = _cluster(self.eks_backend, self._get_param("name"))
    _require_api_mode(cluster)
    entry = _entry(cluster, self._get_param("principalArn"))
    groups = self._get_param("kubernetesGroups")
    username = self._get_param("username")
    if entry.type != "STANDARD" and (groups or username):
        raise _invalid(
            f"kubernetesGroups and username cannot be updated for access entry type {entry.type}",
            clusterName=cluster.name,
        )
    if groups is not None:
        _check_groups(groups, cluster)
        entry.kubernetes_groups = list(groups)
    if username:
        entry.username = username
    entry.modified_at = utcnow()
    return ActionResult({"accessEntry": entry})


def delete_access_entry(self):
    """DeleteAccessEntry: removes the entry and its policy associations."""
    cluster = _cluster(self.eks_backend, self._get_param("name"))
    _require_api_mode(cluster)
    principal = self._get_param("principalArn")
    _entry(cluster, principal)
    del _state(cluster, "access_entries")[principal]
    return ActionResult({})


def associate_access_policy(self):
    """AssociateAccessPolicy: gives a STANDARD entry an EKS access policy, cluster-wide or in
    named namespaces; associating it again replaces its scope."""
    cluster = _cluster(self.eks_backend, self._get_param("name"))
    _require_api_mode(cluster)
    principal = self._get_param("principalArn")
    entry = _entry(cluster, principal)
    policy = self._get_param("policyArn")
    scope = self._get_param("accessScope") or {}
    if policy not in ACCESS_POLICIES:
        raise _invalid(f"The specified policyArn is invalid: {policy}", clusterName=cluster.name)
    if entry.type != "STANDARD":
        raise InvalidRequestException(
            clusterName=cluster.name,
            message=f"Access policies cannot be associated with an access entry of type "
            f"{entry.type}",
        )
    kind, namespaces = scope.get("type"), scope.get("namespaces") or []
    if kind not in ("cluster", "namespace"):
        raise _invalid("accessScope type must be cluster or namespace", clusterName=cluster.name)
    if (kind == "namespace") != bool(namespaces):
        raise _invalid(
            "namespaces must be given for a namespace scope and only for it",
            clusterName=cluster.name,
        )
    associated = _associate(entry, policy, scope)
    return ActionResult({
        "clusterName": cluster.name,
        "principalArn": principal,
        "associatedAccessPolicy": associated,
    })


def disassociate_access_policy(self):
    """DisassociateAccessPolicy: removes an associated policy; one not associated is a
    ResourceNotFoundException."""
    cluster = _cluster(self.eks_backend, self._get_param("name"))
    _require_api_mode(cluster)
    entry = _entry(cluster, self._get_param("principalArn"))
    policy = self._get_param("policyArn")
    if entry.policies.pop(policy, None) is None:
        raise ResourceNotFoundException(
            clusterName=cluster.name,
            nodegroupName=None,
            fargateProfileName=None,
            addonName=None,
            message=f"The specified policy {policy} is not associated with the access entry.",
        )
    return ActionResult({})


def list_associated_access_policies(self):
    """ListAssociatedAccessPolicies: an entry's policies with their scopes, paginated."""
    cluster = _cluster(self.eks_backend, self._get_param("name"))
    _require_api_mode(cluster)
    principal = self._get_param("principalArn")
    entry = _entry(cluster, principal)
    arns, token = models.paginated_list(
        list(entry.policies), self._get_int_param("maxResults", 100), self._get_param("nextToken")
    )
    return ActionResult({
        "clusterName": cluster.name,
        "principalArn": principal,
        "associatedAccessPolicies": [entry.policies[arn] for arn in arns],
        "nextToken": token,
    })


# --- Tags --------------------------------------------------------------------------------------


def _tagged(backend, arn):
    """The EKS resource with this ARN: cluster, node group, Fargate profile, add-on, access
    entry or Pod Identity association (pod_identity.py)."""
    for cluster in backend.clusters.values():
        if cluster.arn == arn:
            return cluster
        children = [
            *cluster.nodegroups.values(),
            *cluster.fargate_profiles.values(),
            *_state(cluster, "addons").values(),
            *_state(cluster, "access_entries").values(),
            *_state(cluster, "pod_identity_associations").values(),
        ]
        for child in children:
            child_arn = (
                getattr(child, "arn", None)
                or getattr(child, "fargate_profile_arn", None)
                or getattr(child, "addon_arn", None)
                or getattr(child, "access_entry_arn", None)
                or getattr(child, "association_arn", None)
            )
            if child_arn == arn:
                return child
    raise ResourceNotFoundException(
        clusterName=None,
        nodegroupName=None,
        fargateProfileName=None,
        addonName=None,
        message="Resource was not found",
    )


def tag_resource(self, resource_arn, tags):
    """moto 5.2.1 tags clusters only; AWS also tags node groups, Fargate profiles, add-ons,
    access entries and Pod Identity associations."""
    resource = _tagged(self, resource_arn)
    resource.tags = {**(resource.tags or {}), **tags}


def untag_resource(self, resource_arn, tag_keys):
    """moto 5.2.1 untags clusters only; AWS untags every EKS resource with an ARN."""
    resource = _tagged(self, resource_arn)
    keys = tag_keys if isinstance(tag_keys, list) else [tag_keys]
    resource.tags = {k: v for k, v in (resource.tags or {}).items() if k not in keys}


def list_tags_for_resource(self, resource_arn):
    """moto 5.2.1 lists the tags of clusters only; AWS lists every EKS resource's."""
    return _tagged(self, resource_arn).tags or {}


models.EKSBackend.tag_resource = tag_resource
models.EKSBackend.untag_resource = untag_resource
models.EKSBackend.list_tags_for_resource = list_tags_for_resource

# --- Routes ------------------------------------------------------------------------------------

for operation in [
    update_cluster_version,
    associate_encryption_config,
    describe_update,
    update_nodegroup_version,
    list_addons,
    describe_addon,
    describe_addon_versions,
    create_addon,
    update_addon,
    delete_addon,
    list_access_entries,
    describe_access_entry,
    create_access_entry,
    update_access_entry,
    delete_access_entry,
    associate_access_policy,
    disassociate_access_policy,
    list_associated_access_policies,
]:
    setattr(responses.EKSResponse, operation.__name__, operation)

# moto picks the operation from botocore's model of the method and path; these only let the
# paths reach it. Principal and policy ARNs hold `/` once decoded, hence `.+`.
_CLUSTER = "{0}/clusters/(?P<name>[^/]+)"
urls.url_paths.update({
    _CLUSTER + "/updates$": urls.response.dispatch,
    _CLUSTER + "/updates/(?P<updateId>[^/]+)$": urls.response.dispatch,
    _CLUSTER + "/encryption-config/associate$": urls.response.dispatch,
    _CLUSTER + "/node-groups/(?P<nodegroupName>[^/]+)/update-version$": urls.response.dispatch,
    _CLUSTER + "/addons$": urls.response.dispatch,
    _CLUSTER + "/addons/(?P<addonName>[^/]+)$": urls.response.dispatch,
    _CLUSTER + "/addons/(?P<addonName>[^/]+)/update$": urls.response.dispatch,
    "{0}/addons/supported-versions$": urls.response.dispatch,
    _CLUSTER + "/access-entries$": urls.response.dispatch,
    _CLUSTER + "/access-entries/(?P<principalArn>.+)$": urls.response.dispatch,
})
