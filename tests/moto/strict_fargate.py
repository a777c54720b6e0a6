"""Strict mode for Fargate profiles: timed states, one profile operation at a time per cluster,
and profiles that fail as AWS's can.

- A new profile is CREATING for `strict.SECONDS`, then ACTIVE; a deleted one is DELETING for
  `strict.SECONDS`, then gone (moto 5.2.1 makes it ACTIVE at once and removes it at once).
- EKS API reference, CreateFargateProfile: "If any Fargate profiles in a cluster are in the
  DELETING status, you must wait for that Fargate profile to finish deleting before you can
  create any other profiles in that cluster." and, per the anchors, one CREATING at a time:
  terraform-aws-modules/terraform-aws-eks#866 quotes "ResourceInUseException: Cannot create
  Fargate Profile eks_fargate_profile_myprofile2 because cluster my_cluster currently has
  Fargate profile eks_fargate_profile_myprofile1 in status CREATING".
- EKS API reference, DeleteFargateProfile: "Only one Fargate profile in a cluster can be in the
  DELETING status at a time. You must wait for a Fargate profile to finish deleting before you
  can delete any other profiles in that cluster."; hashicorp/terraform#25059 quotes
  "ResourceInUseException: Cannot Delete Fargate Profile fp-kubernetes-dashboard because
  cluster xxx-global currently has Fargate profile fp-yellowpages in status DELETING".
- FargateProfile.status (API reference, FargateProfile) includes CREATE_FAILED and
  DELETE_FAILED, with `health.issues` saying why; the `fargate-profile` hook puts a profile in
  one, the `fargate-profile-fails-next` hook makes the next created profile end CREATE_FAILED.
"""

from moto.eks import models
from moto.eks.exceptions import ResourceInUseException

import strict

BUSY = ("CREATING", "DELETING")


def _in_use(cluster, message):
    return ResourceInUseException(
        clusterName=cluster.name, nodegroupName=None, addonName=None, message=message
    )


def _busy(cluster, name, statuses):
    """Another profile of `cluster` in one of `statuses`, with its status."""
    for other in cluster.fargate_profiles.values():
        if other.fargate_profile_name != name and other.status in statuses:
            return other.fargate_profile_name, other.status
    return None


# Per cluster name: the health issues the next created profile fails with.
_FAIL_NEXT = {}

_create = models.EKSBackend.create_fargate_profile


def create_fargate_profile(self, fargate_profile_name, cluster_name, **kwargs):
    if not strict.ENABLED:
        return _create(self, fargate_profile_name=fargate_profile_name,
                       cluster_name=cluster_name, **kwargs)
    with strict.LOCK:
        cluster = self.clusters.get(cluster_name)
        if cluster is not None and fargate_profile_name not in cluster.fargate_profiles:
            busy = _busy(cluster, fargate_profile_name, BUSY)
            if busy:
                raise _in_use(
                    cluster,
                    f"Cannot create Fargate Profile {fargate_profile_name} because cluster "
                    f"{cluster_name} currently has Fargate profile {busy[0]} in status {busy[1]}",
                )
        profile = _create(self, fargate_profile_name=fargate_profile_name,
                          cluster_name=cluster_name, **kwargs)
        profile.health = {"issues": []}
        issues = _FAIL_NEXT.pop(cluster_name, None)
        if issues is not None:
            profile.health = {"issues": issues}
            strict.transition(profile, "CREATING", "CREATE_FAILED")
        else:
            strict.transition(profile, "CREATING", "ACTIVE")
        return profile


_delete = models.EKSBackend.delete_fargate_profile


def _remove(backend, cluster_name, name, profile):
    """The end of DELETING: the profile goes, unless it failed meanwhile (DELETE_FAILED)."""
    cluster = backend.clusters.get(cluster_name)
    if (cluster is not None and cluster.fargate_profiles.get(name) is profile
            and profile.status == "DELETING"):
        _delete(backend, cluster_name=cluster_name, fargate_profile_name=name)


def delete_fargate_profile(self, cluster_name, fargate_profile_name):
    if not strict.ENABLED:
        return _delete(self, cluster_name=cluster_name, fargate_profile_name=fargate_profile_name)
    with strict.LOCK:
        cluster = self.clusters.get(cluster_name)
        profile = cluster.fargate_profiles.get(fargate_profile_name) if cluster else None
        if profile is None:
            # moto's own ResourceNotFoundException, as AWS answers.
            return _delete(self, cluster_name=cluster_name,
                           fargate_profile_name=fargate_profile_name)
        busy = _busy(cluster, fargate_profile_name, ("DELETING",))
        if profile.status == "DELETING":
            busy = (fargate_profile_name, "DELETING")
        if busy:
            raise _in_use(
                cluster,
                f"Cannot Delete Fargate Profile {fargate_profile_name} because cluster "
                f"{cluster_name} currently has Fargate profile {busy[0]} in status {busy[1]}",
            )
        profile.status = "DELETING"
        strict.later(strict.SECONDS, _remove, self, cluster_name, fargate_profile_name, profile)
        return profile


if strict.ENABLED:
    strict.timed_status(models.FargateProfile)
    models.EKSBackend.create_fargate_profile = create_fargate_profile
    models.EKSBackend.delete_fargate_profile = delete_fargate_profile


def _clusters(name):
    """Every moto EKS cluster called `name`, in any account and region."""
    for regions in list(models.eks_backends.values()):
        for backend in list(regions.values()):
            cluster = backend.clusters.get(name)
            if cluster is not None:
                yield cluster


def _issues(body):
    return body.get("issues") or [{
        "code": "InternalFailure",
        "message": "the Fargate profile failed (set by the test)",
        "resourceIds": [],
    }]


@strict.control("fargate-profile")
def _set_status(body):
    """Puts profile `name` of cluster `cluster` in `status` (CREATE_FAILED, DELETE_FAILED)
    with `issues` ([{code, message, resourceIds}]) as its health; with `seconds`, `status`
    lasts that long and then `then` (default ACTIVE) follows (another tool's profile
    CREATING for a while)."""
    for cluster in _clusters(body["cluster"]):
        profile = cluster.fargate_profiles.get(body["name"])
        if profile is not None:
            if "seconds" in body:
                strict.transition(profile, body["status"], body.get("then", "ACTIVE"),
                                  float(body["seconds"]))
                return {"status": profile.status}
            profile.status = body["status"]
            profile.health = {"issues": _issues(body)}
            return {"status": profile.status}
    raise KeyError(f"Fargate profile {body['name']} of cluster {body['cluster']}")


@strict.control("fargate-profile-fails-next")
def _fail_next(body):
    """The next profile created in cluster `cluster` is CREATING, then CREATE_FAILED with
    `issues` (as when its subnets have no route to a NAT gateway)."""
    _FAIL_NEXT[body["cluster"]] = _issues(body)
    return {"cluster": body["cluster"]}
