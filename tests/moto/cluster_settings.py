"""EKS cluster settings moto 5.2.1 drops, and the EKS APIs about versions and insights it
answers with 404, filled in as the EKS API reference documents them:

- CreateCluster and UpdateClusterConfig keep `upgradePolicy`, `deletionProtection`,
  `zonalShiftConfig` and `controlPlaneScalingConfig`, and DescribeCluster reports them, with
  AWS's defaults (EKS API reference, UpgradePolicyRequest: "The default value is EXTENDED";
  ControlPlaneScalingConfig: `standard` is EKS's default tier; CreateCluster
  `deletionProtection`: off unless asked). Each of these UpdateClusterConfig changes is an
  update of its own type (EKS API reference, Update `type`: UpgradePolicyUpdate,
  ZonalShiftConfigUpdate, DeletionProtectionUpdate, ControlPlaneScalingConfigUpdate).
- DescribeClusterVersions: the Kubernetes versions EKS offers with their support dates.
- ListInsights / DescribeInsight: the upgrade insights EKS keeps for every cluster.

Test hooks: `insight` (EKS finds an issue, or a passing check, for a cluster) and
`eks-clock` (the date DescribeClusterVersions judges support by).
Imported by `server.py` after `eks_lifecycle`.
"""

import datetime
import json
import os
import uuid

import eks_lifecycle
import strict
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.responses import ActionResult
from moto.eks import models, responses, urls
from moto.eks.exceptions import InvalidParameterException, ResourceNotFoundException

SUPPORT_TYPES = ["STANDARD", "EXTENDED"]
# EKS API reference, ControlPlaneScalingConfig `tier`: "Valid Values: standard | tier-xl |
# tier-2xl | tier-4xl | tier-8xl" (the SDKs' ProvisionedControlPlaneTier has the same five).
SCALING_TIERS = ["standard", "tier-xl", "tier-2xl", "tier-4xl", "tier-8xl"]

# --- Kubernetes versions -------------------------------------------------------------------

# EKS user guide, "Understand the Kubernetes version lifecycle on EKS", release calendar:
# the Amazon EKS release of each version; "A minor version is under standard support in
# Amazon EKS for the first 14 months after it's released. Once a version is past the end of
# standard support date, it enters extended support for the next 12 months." The table's end
# dates follow that rule to the day (1.29: released January 23, 2024, end of standard
# support March 23, 2025, end of extended support March 23, 2026; 1.34: October 2, 2025,
# December 2, 2026, December 2, 2027). 1.28 (September 26, 2023) from the same table's
# earlier edition.
EKS_RELEASES = {
    "1.28": (2023, 9, 26),
    "1.29": (2024, 1, 23),
    "1.30": (2024, 5, 23),
    "1.31": (2024, 9, 26),
    "1.32": (2025, 1, 23),
    "1.33": (2025, 5, 29),
    "1.34": (2025, 10, 2),
    # End of standard support March 27, 2027 (the same calendar), 14 months after.
    "1.35": (2026, 1, 27),
}
# The day the calendar is judged on: `EKSPEC_MOTO_TODAY` (YYYY-MM-DD) pins it, so a test
# suite does not change its verdicts as real days pass; unset, today. The `eks-clock` control
# moves it for one test.
_PINNED = os.environ.get("EKSPEC_MOTO_TODAY")
_CLOCK = {
    "now": None if not _PINNED
    else datetime.datetime.fromisoformat(_PINNED).replace(tzinfo=datetime.timezone.utc)
}


def _months_later(date, months):
    month = date.month - 1 + months
    return date.replace(year=date.year + month // 12, month=month % 12 + 1)


def _now():
    fixed = _CLOCK["now"]
    return fixed if fixed is not None else datetime.datetime.now(datetime.timezone.utc)


def _version_info(version):
    released = datetime.datetime(*EKS_RELEASES[version], tzinfo=datetime.timezone.utc)
    end_standard = _months_later(released, 14)
    end_extended = _months_later(released, 26)
    now = _now()
    if now < end_standard:
        status = "STANDARD_SUPPORT"
    elif now < end_extended:
        status = "EXTENDED_SUPPORT"
    else:
        status = "UNSUPPORTED"
    return {
        "clusterVersion": version,
        "clusterType": "eks",
        "defaultPlatformVersion": eks_lifecycle.PLATFORM_VERSION,
        "defaultVersion": False,
        "releaseDate": released,
        "endOfStandardSupportDate": end_standard,
        "endOfExtendedSupportDate": end_extended,
        # Deprecated twin of versionStatus (EKS API reference, ClusterVersionInformation).
        "status": status.lower().replace("_", "-"),
        "versionStatus": status,
    }


def _released(version):
    """Whether EKS offered the version by the calendar's day (a later one is not listed yet)."""
    released = datetime.datetime(*EKS_RELEASES[version], tzinfo=datetime.timezone.utc)
    return released <= _now()


def offered(version):
    """Whether a cluster can be created on `version` by the calendar's day: EKS user guide,
    "Understand the Kubernetes version lifecycle on EKS": "You can create new Amazon EKS
    clusters on any version offered in standard or extended support" (past extended support a
    version is gone: "your cluster is auto-upgraded to the oldest currently supported extended
    version")."""
    return (
        version in EKS_RELEASES
        and _released(version)
        and _version_info(version)["versionStatus"] != "UNSUPPORTED"
    )


def _multi(response, name):
    values = response.querystring.get(name) or []
    return [v for value in values for v in value.split(",") if v]


def describe_cluster_versions(self):
    """DescribeClusterVersions (EKS API reference): the versions EKS offers, filtered by
    `clusterVersions`, `versionStatus` and `defaultOnly`; versions past extended support only
    with `includeAll`. The newest version in standard support is the default."""
    infos = [_version_info(v) for v in EKS_RELEASES if _released(v)]
    standard = [i for i in infos if i["versionStatus"] == "STANDARD_SUPPORT"]
    if standard:
        standard[-1]["defaultVersion"] = True
    wanted = _multi(self, "clusterVersions")
    status = (self.querystring.get("versionStatus") or [None])[0]
    include_all = (self.querystring.get("includeAll") or ["false"])[0] == "true"
    default_only = (self.querystring.get("defaultOnly") or ["false"])[0] == "true"
    infos = [
        i for i in infos
        if (not wanted or i["clusterVersion"] in wanted)
        and (not status or i["versionStatus"] == status)
        and (include_all or wanted or i["versionStatus"] != "UNSUPPORTED")
        and (not default_only or i["defaultVersion"])
    ]
    infos.reverse()
    return ActionResult({"clusterVersions": infos})


@strict.control("eks-clock")
def _eks_clock(body):
    """`{"date": "2026-01-01"}`: DescribeClusterVersions and CreateCluster judge support as of
    that day (`null`: back to `EKSPEC_MOTO_TODAY`, or today)."""
    date = body.get("date") or _PINNED
    _CLOCK["now"] = (
        None if date is None
        else datetime.datetime.fromisoformat(date).replace(tzinfo=datetime.timezone.utc)
    )
    return {"date": date}


# --- Insights ------------------------------------------------------------------------------

# EKS user guide, "View cluster insights": every cluster gets EKS's upgrade checks for the
# next version ("Deprecated APIs removed in Kubernetes v1.32", category UPGRADE_READINESS,
# kubernetesVersion "1.32"); "An insight with a status of Error typically means the impacted
# Kubernetes version is N+1 of the current cluster version, while a status of Warning means
# the insight applies to a future Kubernetes version N+2 or more. An insight with status of
# Passing means Amazon EKS hasn't found any issues".
CHECKS = [
    ("Deprecated APIs removed in Kubernetes v{version}",
     "Checks for usage of deprecated APIs that are scheduled for removal in Kubernetes "
     "v{version}. Upgrading your cluster before migrating to the updated APIs supported by "
     "v{version} could cause application impact."),
    ("Kubelet version skew",
     "Checks for kubelet versions of worker nodes in the cluster to see if upgrade would "
     "cause non compliance with supported Kubernetes kubelet version skew policy."),
    ("Amazon EKS add-on version compatibility",
     "Checks version of installed EKS add-ons to ensure they are compatible with the next "
     "version of Kubernetes."),
    ("Cluster health issues",
     "Checks for any cluster health issues that prevent successful upgrade to the next "
     "Kubernetes version on EKS."),
]


def _next_version(cluster):
    major, minor = eks_lifecycle._minor(cluster.version)
    return f"{major}.{minor + 1}"


def _insights(cluster):
    """The cluster's upgrade insights for its next version: EKS's checks, passing unless a
    test planted another status, and what tests planted."""
    version = _next_version(cluster)
    planted = eks_lifecycle._state(cluster, "insights")
    found = {}
    for name, description in CHECKS:
        name = name.format(version=version)
        key = (name, version)
        found[key] = planted.get(key) or _insight(
            cluster, name, version, "PASSING", "No issues detected.",
            description.format(version=version), None,
        )
    for key, insight in planted.items():
        found.setdefault(key, insight)
    return list(found.values())


def _insight(cluster, name, version, status, reason, description, recommendation):
    now = datetime.datetime.now(datetime.timezone.utc)
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{cluster.arn}/{name}/{version}")),
        "name": name,
        "category": "UPGRADE_READINESS",
        "kubernetesVersion": version,
        "lastRefreshTime": now,
        "lastTransitionTime": now,
        "description": description,
        "insightStatus": {"status": status, "reason": reason},
        "recommendation": recommendation or "No action needed.",
        "additionalInfo": {},
        "resources": [],
    }


def blocking_insights(cluster, version):
    """The ERROR insights about upgrading `cluster` to `version` (UpdateClusterVersion refuses
    them without `force`, strict_cluster.py)."""
    return [
        i for i in _insights(cluster)
        if i["kubernetesVersion"] == version and i["insightStatus"]["status"] == "ERROR"
    ]


SUMMARY_FIELDS = [
    "id", "name", "category", "kubernetesVersion", "lastRefreshTime", "lastTransitionTime",
    "description", "insightStatus",
]


def list_insights(self):
    """ListInsights (EKS API reference): the cluster's insights, filtered by `categories`,
    `kubernetesVersions` and `statuses` ("The default filter lists all categories and every
    status"), as InsightSummary objects, paginated by maxResults/nextToken."""
    cluster = eks_lifecycle._cluster(self.eks_backend, self._get_param("name"))
    criteria = self._get_param("filter") or {}
    categories = criteria.get("categories") or []
    versions = criteria.get("kubernetesVersions") or []
    statuses = criteria.get("statuses") or []
    summaries = [
        {k: i[k] for k in SUMMARY_FIELDS}
        for i in _insights(cluster)
        if (not categories or i["category"] in categories)
        and (not versions or i["kubernetesVersion"] in versions)
        and (not statuses or i["insightStatus"]["status"] in statuses)
    ]
    summaries.sort(key=lambda i: (i["kubernetesVersion"], i["name"]))
    start = int(self._get_param("nextToken") or 0)
    size = self._get_int_param("maxResults", 100)
    page = summaries[start : start + size]
    token = str(start + size) if start + size < len(summaries) else None
    return ActionResult({"insights": page, "nextToken": token})


def describe_insight(self):
    """DescribeInsight (EKS API reference): one insight with its recommendation, additional
    information and resources; an unknown id is a ResourceNotFoundException."""
    cluster = eks_lifecycle._cluster(self.eks_backend, self._get_param("name"))
    insight_id = self._get_param("id")
    for insight in _insights(cluster):
        if insight["id"] == insight_id:
            return ActionResult({"insight": insight})
    raise ResourceNotFoundException(
        clusterName=cluster.name,
        nodegroupName=None,
        fargateProfileName=None,
        addonName=None,
        message=f"No insight found for id: {insight_id}",
    )


def _find_cluster(body):
    backend = models.eks_backends[body.get("account", DEFAULT_ACCOUNT_ID)][
        body.get("region", "us-east-1")
    ]
    return eks_lifecycle._cluster(backend, body["name"])


@strict.control("insight")
def _plant_insight(body):
    """`{"name": CLUSTER, "insight": NAME, "status": "ERROR", "reason": ..., "recommendation":
    ..., "version": "1.32"}`: EKS's check NAME about upgrading to `version` (default: the
    cluster's next one) has that status until planted again."""
    cluster = _find_cluster(body)
    version = body.get("version") or _next_version(cluster)
    name = body["insight"]
    description = next(
        (d.format(version=version) for n, d in CHECKS if n.format(version=version) == name),
        name,
    )
    insight = _insight(
        cluster, name, version, body.get("status", "ERROR"), body.get("reason", ""),
        description, body.get("recommendation"),
    )
    eks_lifecycle._state(cluster, "insights")[(name, version)] = insight
    return {"id": insight["id"], "version": version}


# --- Cluster settings ----------------------------------------------------------------------

SETTINGS = ["upgradePolicy", "deletionProtection", "zonalShiftConfig",
            "controlPlaneScalingConfig"]
UPDATE_TYPES = {
    "upgradePolicy": "UpgradePolicyUpdate",
    "deletionProtection": "DeletionProtectionUpdate",
    "zonalShiftConfig": "ZonalShiftConfigUpdate",
    "controlPlaneScalingConfig": "ControlPlaneScalingConfigUpdate",
}


def _check(name, params):
    policy = params.get("upgradePolicy")
    if policy is not None and policy.get("supportType") not in SUPPORT_TYPES:
        raise InvalidParameterException(
            clusterName=name,
            message=f"Invalid supportType {policy.get('supportType')}: expected one of "
            f"{', '.join(SUPPORT_TYPES)}",
        )
    scaling = params.get("controlPlaneScalingConfig")
    if scaling is not None and scaling.get("tier") not in SCALING_TIERS:
        raise InvalidParameterException(
            clusterName=name,
            message=f"Invalid tier {scaling.get('tier')}: expected one of "
            f"{', '.join(SCALING_TIERS)}",
        )


def _apply(cluster, params):
    if params.get("upgradePolicy") is not None:
        cluster.upgrade_policy = {"supportType": params["upgradePolicy"]["supportType"]}
    if params.get("deletionProtection") is not None:
        cluster.deletion_protection = bool(params["deletionProtection"])
    if params.get("zonalShiftConfig") is not None:
        cluster.zonal_shift_config = {
            "enabled": bool(params["zonalShiftConfig"].get("enabled", False))
        }
    if params.get("controlPlaneScalingConfig") is not None:
        cluster.control_plane_scaling_config = {
            "tier": params["controlPlaneScalingConfig"]["tier"]
        }


_create_cluster = responses.EKSResponse.create_cluster


def create_cluster(self):
    """CreateCluster keeps the settings, with AWS's defaults for those not given."""
    params = {k: self._get_param(k) for k in SETTINGS}
    _check(self._get_param("name"), params)
    version = self._get_param("version")
    # EKS refuses a version it does not offer (any more, or yet) with InvalidParameterException
    # "unsupported Kubernetes version 1.31" (HTTP 400; quoted from CreateCluster in
    # terraform-aws-modules/terraform-aws-eks#3164, before EKS offered 1.31, and
    # hashicorp/terraform-provider-aws#21410 for a version past its end of support).
    if strict.ENABLED and version is not None and not offered(version):
        raise InvalidParameterException(
            clusterName=self._get_param("name"),
            message=f"unsupported Kubernetes version {version}",
        )
    result = _create_cluster(self)
    cluster = self.eks_backend.clusters[self._get_param("name")]
    cluster.upgrade_policy = {"supportType": "EXTENDED"}
    cluster.deletion_protection = False
    cluster.zonal_shift_config = {"enabled": False}
    cluster.control_plane_scaling_config = {"tier": "standard"}
    _apply(cluster, params)
    return result


responses.EKSResponse.create_cluster = create_cluster

_update_cluster_config = responses.EKSResponse.update_cluster_config


def settings_of(response):
    """The settings an UpdateClusterConfig request names."""
    return {k: v for k in SETTINGS if (v := response._get_param(k)) is not None}


def update_cluster_config(self):
    """UpdateClusterConfig of one setting: the update is recorded with its own type (the
    other kinds of change are eks_lifecycle's)."""
    params = settings_of(self)
    if not params:
        return _update_cluster_config(self)
    name = self._get_param("name")
    cluster = eks_lifecycle._cluster(self.eks_backend, name)
    _check(name, params)
    kind = next(iter(params))
    value = params[kind]
    update_params = []
    if kind == "controlPlaneScalingConfig":
        previous = (getattr(cluster, "control_plane_scaling_config", None) or {}).get(
            "tier", "standard")
        update_params = [("UpdatedTier", value["tier"]), ("PreviousTier", previous)]
    else:
        param = {"upgradePolicy": "UpgradePolicy", "deletionProtection": "DeletionProtection",
                 "zonalShiftConfig": "ZonalShiftConfig"}[kind]
        update_params = [(param, json.dumps(value))]
    _apply(cluster, params)
    update = eks_lifecycle._update(cluster, UPDATE_TYPES[kind], update_params)
    return ActionResult({"update": update})


responses.EKSResponse.update_cluster_config = update_cluster_config

# --- Routes --------------------------------------------------------------------------------

for operation in [describe_cluster_versions, list_insights, describe_insight]:
    setattr(responses.EKSResponse, operation.__name__, operation)

urls.url_paths.update({
    "{0}/cluster-versions$": urls.response.dispatch,
    "{0}/clusters/(?P<name>[^/]+)/insights$": urls.response.dispatch,
    "{0}/clusters/(?P<name>[^/]+)/insights/(?P<id>[^/]+)$": urls.response.dispatch,
})
