"""moto_server with the gaps that matter to ekspec's tests filled in.

Each patch makes moto behave as AWS documents; none makes a test pass that AWS would fail.
Run exactly like `moto_server`: `python3 tests/moto/server.py -H 127.0.0.1 -p PORT`.
"""

import sys
import uuid

from moto.ec2.models import launch_templates
from moto.eks import models, responses
from moto.server import main

# The EKS lifecycle APIs moto lacks (upgrades, add-ons, access entries, ...) and tags on every
# EKS resource: see that module.
import eks_lifecycle  # noqa: E402,F401  (patches on import)

# EKS Pod Identity associations, standalone and made by add-ons: see that module.
import pod_identity  # noqa: E402,F401  (patches on import)

# EKS Auto Mode (compute, block storage, load balancing) on clusters: see that module.
import eks_auto_mode  # noqa: E402,F401  (patches on import)
# Cluster settings (support policy, deletion protection, zonal shift, control plane tier),
# DescribeClusterVersions and upgrade insights: see that module.
import cluster_settings  # noqa: E402,F401  (patches on import)
# IPv6 answers moto gets wrong (subnet block states, egress-only gateway filters, the
# cluster's network config): see that module.
import ipv6  # noqa: E402,F401  (patches on import)

# Strict mode (`EKSPEC_MOTO_STRICT=1`): the rules AWS enforces that moto skips, one module per
# area (`strict_<area>.py`), each loaded here; see strict.py.
import importlib  # noqa: E402
import pathlib  # noqa: E402

import strict  # noqa: E402,F401

for _module in sorted(pathlib.Path(__file__).parent.glob("strict_*.py")):
    importlib.import_module(_module.stem)

_create_nodegroup = responses.EKSResponse.create_nodegroup


def create_nodegroup(self):
    """moto 5.2.1 drops CreateNodegroup's updateConfig (and nodeRepairConfig) and gives every node group Kubernetes
    1.19; AWS stores the update config and uses the cluster's version when none is given."""
    result = _create_nodegroup(self)
    cluster_name = self._get_param("name")
    nodegroup = self.eks_backend.describe_nodegroup(
        cluster_name=cluster_name,
        nodegroup_name=self._get_param("nodegroupName"),
    )
    update_config = self._get_param("updateConfig")
    if update_config:
        nodegroup.update_config = update_config
    # moto 5.2.1 drops nodeRepairConfig too; AWS keeps and reports it.
    node_repair_config = self._get_param("nodeRepairConfig")
    if node_repair_config:
        nodegroup.node_repair_config = node_repair_config
    if not self._get_param("version"):
        nodegroup.version = self.eks_backend.clusters[cluster_name].version
    return result


responses.EKSResponse.create_nodegroup = create_nodegroup

_update_cluster_config = models.EKSBackend.update_cluster_config


def merged_logging(current, request):
    """The log types enabled after `request`: AWS changes only the types the request names."""
    enabled = set()
    for setup in (current or {}).get("clusterLogging", []):
        if setup.get("enabled"):
            enabled.update(setup.get("types", []))
    for setup in request.get("clusterLogging", []):
        types = set(setup.get("types", []))
        enabled = enabled | types if setup.get("enabled") else enabled - types
    return {"clusterLogging": [{"types": sorted(enabled), "enabled": True}]} if enabled else {
        "clusterLogging": []
    }


def update_cluster_config(self, name, resources_vpc_config, logging=None, **kwargs):
    """moto 5.2.1 replaces the whole resourcesVpcConfig (losing the subnets) and the whole
    logging setup; AWS changes only the fields and log types the request names."""
    cluster = self.clusters.get(name)
    if cluster is not None:
        if resources_vpc_config:
            resources_vpc_config = {**cluster.resources_vpc_config, **resources_vpc_config}
        if logging:
            logging = merged_logging(cluster.logging, logging)
    return _update_cluster_config(self, name, resources_vpc_config, logging=logging, **kwargs)


models.EKSBackend.update_cluster_config = update_cluster_config

_cluster_init = models.Cluster.__init__


def cluster_init(self, *args, **kwargs):
    """moto 5.2.1 gives every cluster the same OIDC issuer (drawn once at import), so a second
    cluster's OIDC provider collides with the first; AWS gives each cluster its own."""
    _cluster_init(self, *args, **kwargs)
    issuer = self.identity["oidc"]["issuer"]
    self.identity["oidc"]["issuer"] = issuer[: issuer.rfind("/") + 1] + uuid.uuid4().hex.upper()


models.Cluster.__init__ = cluster_init

# moto 5.2.1 copies a launch template's tags when it is created, so CreateTags on it never shows
# in DescribeLaunchTemplates; AWS shows the current tags.
launch_templates.LaunchTemplate.tags = property(
    lambda self: self.get_tags(), lambda self, value: None
)

if __name__ == "__main__":
    main(sys.argv[1:])
