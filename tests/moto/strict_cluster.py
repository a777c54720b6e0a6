"""Strict mode: the EKS control plane as AWS runs it.

- A cluster is CREATING, then ACTIVE; an update (UpdateClusterConfig, UpdateClusterVersion,
  AssociateEncryptionConfig) makes it UPDATING, with the update InProgress, then ACTIVE and
  Successful; DeleteCluster makes it DELETING, then gone.
- While the cluster is not ACTIVE, EKS refuses node groups, Fargate profiles, add-ons, access
  entries and their updates; a cluster update while another runs is a ResourceInUseException.
- DescribeAvailabilityZones also lists opted-in Local Zones and Wavelength Zones, and
  CreateCluster refuses zones EKS does not take (UnsupportedAvailabilityZoneException).
- UpdateClusterConfig can move the control plane to other subnets of its VPC, in the zones it
  was created in.
- UpdateClusterVersion refuses an upgrade that EKS's upgrade insights block, unless `force`.

Test hooks: `cluster-update` (another tool's update runs on a cluster for some seconds) and
`upgrade-insight` (an upgrade-blocking insight finding on a cluster).
"""

import json

import cluster_settings
import eks_lifecycle
import strict
from moto.core.responses import ActionResult
from moto.ec2.models import ec2_backends
from moto.ec2.models.availability_zones_and_regions import RegionsAndZonesBackend, Zone
from moto.eks import models, responses
from moto.eks.exceptions import (
    EKSError,
    InvalidParameterException,
    InvalidRequestException,
    ResourceInUseException,
)
from moto.moto_api._internal import mock_random as random
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.utils import utcnow

# EKS's own error message for a cluster that is not ACTIVE; moto has it
# (models.CLUSTER_NOT_READY_MSG, "obtained through cURL responses from the actual APIs") and
# eksctl#2244 shows AWS answering CreateNodegroup with it:
# "Cluster 'my-cluster' is not in ACTIVE status (Service: AmazonEKS; Status Code: 400;
# Error Code: InvalidRequestException)".
NOT_ACTIVE = models.CLUSTER_NOT_READY_MSG


class UnsupportedAvailabilityZoneException(EKSError):
    """CreateCluster in a zone EKS does not take (EKS API reference, CreateCluster Errors:
    "At least one of your specified cluster subnets is in an Availability Zone that does not
    support Amazon EKS. The exception output specifies the supported Availability Zones for
    your account"); HTTP 400, with `validZones`."""

    TYPE = "UnsupportedAvailabilityZoneException"
    STATUS = 400


class InvalidStateException(EKSError):
    """UpdateClusterVersion blocked by upgrade insights (EKS API reference,
    UpdateClusterVersion Errors: "Amazon EKS detected upgrade readiness issues. Call the
    ListInsights API to view detected upgrade blocking issues. Pass the force flag when
    updating to override upgrade readiness errors."); HTTP 400."""

    TYPE = "InvalidStateException"
    STATUS = 400


# Zone ids whose zone EKS refuses for control planes, as eksctl avoids them (eksctl
# pkg/az/az.go `zoneIDsToAvoid`; eksctl#817 and #905: us-east-1e, use1-az3, refused with
# "Cannot create cluster 'app-staging' because us-east-1e, the targeted availability zone,
# does not currently have sufficient capacity to support the cluster. Retry and choose from
# these availability zones: us-east-1a, us-east-1b, us-east-1c, us-east-1d, us-east-1f").
UNSUPPORTED_ZONE_IDS = {"use1-az3", "usw1-az2", "cac1-az3", "cnn1-az4"}
UNSUPPORTED_ZONE_MSG = (
    "Cannot create cluster '{cluster}' because {zone}, the targeted availability zone, does not "
    "currently have sufficient capacity to support the cluster. Retry and choose from these "
    "availability zones: {valid}"
)

# Opted-in Local and Wavelength Zones that DescribeAvailabilityZones lists besides the
# availability zones (EC2 API reference, DescribeAvailabilityZones: "If you do not use this
# parameter [AllAvailabilityZones], the results include only the zones for the Regions where
# you have chosen the option to opt in"; ZoneType `availability-zone | local-zone |
# wavelength-zone`, OptInStatus `opted-in` for a zone group the account opted in to).
EXTRA_ZONES = {
    "us-east-1": [
        ("us-east-1-bos-1a", "use1-bos1-az1", "local-zone", "us-east-1-bos-1", "us-east-1a"),
        ("us-east-1-atl-2a", "use1-atl2-az1", "local-zone", "us-east-1-atl-2", "us-east-1b"),
        ("us-east-1-wl1-bos-wlz-1", "use1-wl1-bos-wlz1", "wavelength-zone",
         "us-east-1-wl1", "us-east-1a"),
    ],
}


def _zone_fields(zone, group, parent):
    zone.opt_in_status = "opted-in" if zone.zone_type != "availability-zone" else (
        "opt-in-not-required")
    zone.group_name = group
    zone.network_border_group = group
    zone.parent_zone_name = parent


if strict.ENABLED:
    for region, extras in EXTRA_ZONES.items():
        zones = RegionsAndZonesBackend.zones.setdefault(region, [])
        for zone in zones:
            _zone_fields(zone, region, None)
        for name, zone_id, zone_type, group, parent in extras:
            if not any(z.name == name for z in zones):
                zone = Zone(name=name, region_name=region, zone_id=zone_id, zone_type=zone_type)
                _zone_fields(zone, group, parent)
                zones.append(zone)

# --- Cluster states ------------------------------------------------------------------------

strict.timed_status(models.Cluster)


def _active(cluster):
    return cluster.status == "ACTIVE"


def _require_active(cluster):
    """EKS refuses work on a cluster that is not ACTIVE (see NOT_ACTIVE)."""
    if strict.ENABLED and not _active(cluster):
        raise InvalidRequestException(
            clusterName=cluster.name, message=NOT_ACTIVE.format(clusterName=cluster.name)
        )


def _running_update(cluster):
    """The id of the cluster's update still InProgress, if any."""
    for update in eks_lifecycle._state(cluster, "updates").values():
        if update["status"] == "InProgress":
            return update
    return None


def _require_no_update(cluster, update_type):
    """One cluster update at a time: another one while the cluster is UPDATING is a 409
    (aws-controllers-k8s/community#1192: "ResourceInUseException: Cannot EndpointAccessUpdate
    because cluster simple-cluster-... currently has update 408c0738-... in progress");
    a cluster still CREATING is not ACTIVE."""
    if not strict.ENABLED:
        return
    running = _running_update(cluster)
    if running is not None:
        raise ResourceInUseException(
            clusterName=cluster.name,
            nodegroupName=None,
            addonName=None,
            message=f"Cannot {update_type} because cluster {cluster.name} currently has update "
            f"{running['id']} in progress",
        )
    _require_active(cluster)


def _finish(update):
    if update["status"] == "InProgress":
        update["status"] = "Successful"


def _start(cluster, update, seconds=None):
    """The update runs: the cluster is UPDATING and the update InProgress for a while."""
    seconds = strict.SECONDS if seconds is None else seconds
    update["status"] = "InProgress"
    strict.transition(cluster, "UPDATING", "ACTIVE", seconds)
    strict.later(seconds, _finish, update)


_create_cluster_backend = models.EKSBackend.create_cluster


def create_cluster(self, name, role_arn, resources_vpc_config, **kwargs):
    """CreateCluster: the subnets' zones must be zones EKS takes; the cluster is CREATING for a
    while, then ACTIVE."""
    if strict.ENABLED:
        _check_zones(self, name, (resources_vpc_config or {}).get("subnetIds") or [])
    cluster = _create_cluster_backend(self, name, role_arn, resources_vpc_config, **kwargs)
    if strict.ENABLED:
        ec2 = ec2_backends[self.account_id][self.region_name]
        subnets = (resources_vpc_config or {}).get("subnetIds") or []
        cluster.__dict__["_strict_zones"] = {
            s.availability_zone for s in (_subnet(ec2, i) for i in subnets) if s is not None
        }
        strict.transition(cluster, "CREATING", "ACTIVE")
    return cluster


def _subnet(ec2, subnet_id):
    try:
        return ec2.get_subnet(subnet_id)
    except Exception:  # moto's InvalidSubnetIdError
        return None


def _check_zones(backend, name, subnet_ids):
    ec2 = ec2_backends[backend.account_id][backend.region_name]
    zones = ec2.describe_availability_zones()
    valid = [
        z.name for z in zones
        if z.zone_type == "availability-zone" and z.zone_id not in UNSUPPORTED_ZONE_IDS
    ]
    for subnet_id in subnet_ids:
        subnet = _subnet(ec2, subnet_id)
        if subnet is None:
            continue
        zone = next((z for z in zones if z.name == subnet.availability_zone), None)
        if zone is not None and zone.name not in valid:
            raise UnsupportedAvailabilityZoneException(
                clusterName=name,
                nodegroupName=None,
                validZones=valid,
                message=UNSUPPORTED_ZONE_MSG.format(
                    cluster=name, zone=zone.name, valid=", ".join(valid)
                ),
            )


models.EKSBackend.create_cluster = create_cluster

_delete_cluster_backend = models.EKSBackend.delete_cluster


def delete_cluster(self, name):
    """DeleteCluster: DELETING for a while, then gone (EKS API reference, Cluster status);
    refused while an update runs (terraform containers-roadmap#1511: "ResourceInUseException:
    Cannot delete because cluster ... currently has an update in progress")."""
    if not strict.ENABLED:
        return _delete_cluster_backend(self, name)
    cluster = self.clusters.get(name)
    if cluster is not None and _running_update(cluster) is not None:
        raise ResourceInUseException(
            clusterName=name,
            nodegroupName=None,
            addonName=None,
            message=f"Cannot delete because cluster {name} currently has an update in progress",
        )
    if cluster is not None and cluster.status == "DELETING":
        return cluster
    cluster = _delete_cluster_backend(self, name)
    self.clusters[name] = cluster
    self.cluster_count += 1
    cluster.status = "DELETING"
    strict.later(strict.SECONDS, _gone, self, name, cluster)
    return cluster


def _gone(backend, name, cluster):
    if backend.clusters.get(name) is cluster:
        del backend.clusters[name]
        backend.cluster_count -= 1


models.EKSBackend.delete_cluster = delete_cluster

# --- Cluster updates -----------------------------------------------------------------------

UPDATE_TYPES = {
    "update_cluster_config": None,  # by the request
    "update_cluster_version": "VersionUpdate",
    "associate_encryption_config": "AssociateEncryptionConfig",
}


def _config_update_type(params):
    """The update type of an UpdateClusterConfig request, and whether it mixes several:
    AWS takes one kind per call (crossplane-contrib/provider-aws#642:
    "InvalidParameterException: Only one type of update can be allowed")."""
    kinds = []
    if params.get("accessConfig"):
        kinds.append("AccessConfigUpdate")
    if params.get("logging"):
        kinds.append("LoggingUpdate")
    vpc = params.get("resourcesVpcConfig") or {}
    if "subnetIds" in vpc or "securityGroupIds" in vpc:
        kinds.append("VpcConfigUpdate")
    if any(k in vpc for k in ("endpointPublicAccess", "endpointPrivateAccess",
                              "publicAccessCidrs")):
        kinds.append("EndpointAccessUpdate")
    for setting, kind in cluster_settings.UPDATE_TYPES.items():
        if params.get(setting) is not None:
            kinds.append(kind)
    # Auto Mode's three settings go together as one kind (EKS API reference, Update `type`:
    # AutoModeUpdate); hybrid nodes' network is RemoteNetworkConfigUpdate.
    if params.get("computeConfig") is not None or params.get("storageConfig") is not None or (
        "elasticLoadBalancing" in (params.get("kubernetesNetworkConfig") or {})
    ):
        kinds.append("AutoModeUpdate")
    if params.get("remoteNetworkConfig"):
        kinds.append("RemoteNetworkConfigUpdate")
    return kinds


def _wrap(method, update_type_of):
    original = getattr(responses.EKSResponse, method)

    def wrapped(self):
        if not strict.ENABLED:
            return original(self)
        name = self._get_param("name") or self._get_param("clusterName")
        cluster = eks_lifecycle._cluster(self.eks_backend, name)
        with strict.LOCK:
            update_type = update_type_of(self, cluster)
            _require_no_update(cluster, update_type)
            result = original(self)
            update = eks_lifecycle._state(cluster, "updates").get(
                _update_id(result), None
            )
            if update is not None and update["status"] == "Successful":
                _start(cluster, update)
        return result

    wrapped.__name__ = method
    setattr(responses.EKSResponse, method, wrapped)


def _update_id(result):
    data = getattr(result, "result", None) or getattr(result, "_result", None)
    if isinstance(data, dict):
        return (data.get("update") or {}).get("id")
    return None


def _config_type(response, cluster):
    params = {
        "accessConfig": response._get_param("accessConfig"),
        "logging": response._get_param("logging"),
        "resourcesVpcConfig": response._get_param("resourcesVpcConfig"),
        **{k: response._get_param(k) for k in ("computeConfig", "storageConfig",
                                               "kubernetesNetworkConfig",
                                               "remoteNetworkConfig")},
        **cluster_settings.settings_of(response),
    }
    kinds = _config_update_type(params)
    if len(kinds) > 1:
        raise InvalidParameterException(
            clusterName=cluster.name, message="Only one type of update can be allowed."
        )
    if not kinds:
        # A request that changes nothing (aws-controllers-k8s/community#2995, an
        # UpdateClusterConfig with `deletionProtection: null`: "InvalidParameterException:
        # The type for cluster update was not provided.").
        raise InvalidParameterException(
            clusterName=cluster.name, message="The type for cluster update was not provided."
        )
    vpc = params["resourcesVpcConfig"] or {}
    if "subnetIds" in vpc:
        _check_new_subnets(response.eks_backend, cluster, vpc["subnetIds"])
    return kinds[0] if kinds else "EndpointAccessUpdate"


def _check_new_subnets(backend, cluster, subnet_ids):
    """UpdateClusterConfig subnetIds (EKS user guide, "View Amazon EKS networking requirements
    for VPC and subnets": the control plane's subnets can be changed; "All subnets that you add
    must be in the same set of AZs as originally provided when you created the cluster"; the
    VPC cannot change; at least two subnets in different zones, as at creation)."""
    ec2 = ec2_backends[backend.account_id][backend.region_name]
    current = [s for s in (_subnet(ec2, i) for i in cluster.resources_vpc_config.get(
        "subnetIds") or []) if s is not None]
    original_zones = cluster.__dict__.get("_strict_zones") or {
        s.availability_zone for s in current
    }
    vpc_ids = {s.vpc_id for s in current}
    zones = set()
    for subnet_id in subnet_ids:
        subnet = _subnet(ec2, subnet_id)
        if subnet is None:
            raise InvalidParameterException(
                clusterName=cluster.name,
                message=f"The subnet ID '{subnet_id}' does not exist",
            )
        if vpc_ids and subnet.vpc_id not in vpc_ids:
            raise InvalidParameterException(
                clusterName=cluster.name,
                message=f"Subnet {subnet_id} is not in the cluster's VPC {sorted(vpc_ids)[0]}",
            )
        if original_zones and subnet.availability_zone not in original_zones:
            raise InvalidParameterException(
                clusterName=cluster.name,
                message=f"Subnet {subnet_id} is in {subnet.availability_zone}; the cluster's "
                f"subnets must be in the Availability Zones it was created in: "
                f"{', '.join(sorted(original_zones))}",
            )
        zones.add(subnet.availability_zone)
    if len(zones) < 2:
        raise InvalidParameterException(
            clusterName=cluster.name,
            message="Subnets specified must be in at least two different AZs",
        )


def _check_readiness(response, cluster):
    """Upgrade insights: an upgrade-blocking finding refuses UpdateClusterVersion without
    `force` (hashicorp/terraform-provider-aws#42031: "InvalidStateException: Upgrade readiness
    issues detected. Call the EKS ListInsights API to view upgrade blocking issues detected by
    EKS. Pass the force flag to override upgrade readiness errors and proceed with upgrade.")."""
    force = response._get_param("force")
    blocked = cluster_settings.blocking_insights(cluster, response._get_param("version"))
    if blocked and force is not True:
        raise InvalidStateException(
            clusterName=cluster.name,
            message="Upgrade readiness issues detected. Call the EKS ListInsights API to view "
            "upgrade blocking issues detected by EKS. Pass the force flag to override upgrade "
            "readiness errors and proceed with upgrade.",
        )
    return "VersionUpdate"


_wrap("update_cluster_config", _config_type)
_wrap("update_cluster_version", _check_readiness)
_wrap("associate_encryption_config", lambda response, cluster: "AssociateEncryptionConfig")

# A subnet change is its own update type: eks_lifecycle records the rest.
_lifecycle_update_config = responses.EKSResponse.update_cluster_config


def update_cluster_config_subnets(self):
    vpc = self._get_param("resourcesVpcConfig") or {}
    result = _lifecycle_update_config(self)
    if strict.ENABLED and "subnetIds" in vpc:
        update = eks_lifecycle._state(
            eks_lifecycle._cluster(self.eks_backend, self._get_param("name")), "updates"
        ).get(_update_id(result))
        if update is not None:
            update["type"] = "VpcConfigUpdate"
            update["params"] = [{"type": "SubnetIds", "value": json.dumps(vpc["subnetIds"])}]
    return result


responses.EKSResponse.update_cluster_config = update_cluster_config_subnets

# --- Work on a cluster that is not ACTIVE --------------------------------------------------


def _guard(method):
    """EKS refuses `method` while the cluster is not ACTIVE (moto checks CreateNodegroup and
    CreateFargateProfile itself, with the same message)."""
    original = getattr(responses.EKSResponse, method)

    def guarded(self):
        if strict.ENABLED:
            name = self._get_param("name") or self._get_param("clusterName")
            cluster = self.eks_backend.clusters.get(name)
            if cluster is not None:
                _require_active(cluster)
        return original(self)

    guarded.__name__ = method
    setattr(responses.EKSResponse, method, guarded)


for _method in [
    "create_nodegroup",
    "create_fargate_profile",
    "update_nodegroup_config",
    "update_nodegroup_version",
    "create_addon",
    "update_addon",
    "create_access_entry",
    "update_access_entry",
    "associate_access_policy",
]:
    _guard(_method)

# --- Test hooks ----------------------------------------------------------------------------


def _find_cluster(body):
    name = body["name"]
    account = body.get("account", DEFAULT_ACCOUNT_ID)
    backend = models.eks_backends[account][body.get("region", "us-east-1")]
    if name not in backend.clusters:
        raise KeyError(f"cluster {name}")
    return backend.clusters[name]


@strict.control("cluster-update")
def _another_tools_update(body):
    """`{"name": CLUSTER, "seconds": S}`: another tool updates the cluster (logging, say): it
    is UPDATING for S seconds with that update InProgress."""
    cluster = _find_cluster(body)
    update = {
        "id": str(random.uuid4()),
        "status": "InProgress",
        "type": body.get("type", "LoggingUpdate"),
        "params": [],
        "createdAt": utcnow(),
        "errors": [],
    }
    eks_lifecycle._state(cluster, "updates")[update["id"]] = update
    _start(cluster, update, float(body.get("seconds", strict.SECONDS)))
    return {"update": update["id"], "status": cluster.status}


@strict.control("upgrade-insight")
def _upgrade_insight(body):
    """`{"name": CLUSTER, "blocking": true}`: EKS's upgrade insights find an upgrade-blocking
    issue on the cluster (a deprecated API in use) for its next version, until `blocking` is
    false (cluster_settings.py's `insight` hook plants any insight)."""
    cluster = _find_cluster(body)
    blocking = bool(body.get("blocking", True))
    version = cluster_settings._next_version(cluster)
    cluster_settings._plant_insight({
        "name": cluster.name,
        "account": body.get("account", DEFAULT_ACCOUNT_ID),
        "region": body.get("region", "us-east-1"),
        "insight": f"Deprecated APIs removed in Kubernetes v{version}",
        "status": "ERROR" if blocking else "PASSING",
        "reason": "Deprecated API usage detected" if blocking else "No issues detected.",
        "recommendation": "Update manifests and API clients to use newer Kubernetes APIs if "
        "applicable before upgrading to Kubernetes v" + version + ".",
    })
    return {"blocking": blocking}
