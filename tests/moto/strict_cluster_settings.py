"""Strict mode: the rules of EKS's cluster settings (cluster_settings.py keeps the settings).

- DeleteCluster refuses an ACTIVE or UPDATING cluster with deletion protection on.
- UpdateClusterConfig cannot turn extended support off once the cluster's version is in it.
(One kind of change per UpdateClusterConfig, these settings included, is strict_cluster.py's.)
"""

import cluster_settings
import strict
from moto.eks import models, responses
from moto.eks.exceptions import InvalidRequestException

_delete_cluster_backend = models.EKSBackend.delete_cluster


def delete_cluster(self, name):
    """EKS user guide, "Protect EKS clusters from accidental deletion": "If you try to delete
    an active cluster that has deletion protection turned on, you will receive an
    InvalidRequestException"; "If the cluster state is creating, failed, or deleting, you can
    delete the cluster even if deletion protection is turned on". HTTP 400."""
    cluster = self.clusters.get(name)
    if (
        strict.ENABLED
        and cluster is not None
        and getattr(cluster, "deletion_protection", False)
        and cluster.status in ("ACTIVE", "UPDATING")
    ):
        raise InvalidRequestException(
            clusterName=name,
            message=f"Cluster {name} cannot be deleted because deletion protection is enabled. "
            "Disable deletion protection with UpdateClusterConfig, then delete the cluster.",
        )
    return _delete_cluster_backend(self, name)


models.EKSBackend.delete_cluster = delete_cluster

_update_cluster_config = responses.EKSResponse.update_cluster_config


def update_cluster_config(self):
    """EKS user guide, "Prevent increased cluster costs by disabling EKS extended support":
    "You cannot disable extended support once your cluster has entered it. You can only
    disable extended support for clusters on standard support." Answered as the request
    the cluster's state does not allow (InvalidRequestException, HTTP 400)."""
    policy = self._get_param("upgradePolicy") or {}
    if strict.ENABLED and policy.get("supportType") == "STANDARD":
        name = self._get_param("name")
        cluster = self.eks_backend.clusters.get(name)
        if (
            cluster is not None
            and (getattr(cluster, "upgrade_policy", None) or {}).get("supportType") == "EXTENDED"
            and cluster.version in cluster_settings.EKS_RELEASES
            and cluster_settings._version_info(cluster.version)["versionStatus"]
            == "EXTENDED_SUPPORT"
        ):
            raise InvalidRequestException(
                clusterName=name,
                message=f"Cannot set support type to STANDARD: cluster {name} runs Kubernetes "
                f"{cluster.version}, which is in extended support. Upgrade to a version in "
                "standard support first.",
            )
    return _update_cluster_config(self)


update_cluster_config.__name__ = "update_cluster_config"
responses.EKSResponse.update_cluster_config = update_cluster_config
