"""Strict mode: EKS managed node groups as AWS runs them (see strict.py).

- CreateNodegroup answers CREATING; the group is ACTIVE `strict.SECONDS` later.
- UpdateNodegroupConfig and UpdateNodegroupVersion answer an update `InProgress` that
  DescribeUpdate follows to `Successful` (or `Failed` with EKS's errors, see the hook); the group
  is UPDATING meanwhile, and a version update shows the new version only once it is done.
- DeleteNodegroup answers DELETING; the group is gone `strict.SECONDS` later.
- Updates and deletes of a group in a transitional state are refused (ResourceInUseException).
- The hook `POST /moto-api/ekspec/nodegroup` puts a group in CREATE_FAILED or DEGRADED with
  EKS's health issues (they stay until the group is deleted, or for DEGRADED until an update
  heals it, as AWS does), or makes its next update fail.

Sources:
- API reference, Nodegroup `status`: CREATING | ACTIVE | UPDATING | DELETING | CREATE_FAILED |
  DELETE_FAILED | DEGRADED; Nodegroup `health.issues` with `code`, `message`, `resourceIds`.
  https://docs.aws.amazon.com/eks/latest/APIReference/API_Nodegroup.html
- API reference, UpdateNodegroupConfig / UpdateNodegroupVersion: "The response output includes
  an update ID that you can use to track the status of your node group update with the
  DescribeUpdate API operation"; errors include ResourceInUseException ("The specified resource
  is in use", HTTP 409). https://docs.aws.amazon.com/eks/latest/APIReference/API_UpdateNodegroupConfig.html
- The refusal's wording on a real account: "ResourceInUseException: Nodegroup cannot be updated
  as it is currently not in Active State" (StatusCode 409), aws/karpenter-provider-aws#133.
- A DEGRADED group still takes updates, and only a successful one heals it ("The only way to
  reset its status back to active/healthy is to successfully scale out"),
  aws/containers-roadmap#2326. A CREATE_FAILED group stays so until deleted,
  crossplane-contrib/provider-aws#1447.
- A failed update leaves the group ACTIVE with its previous configuration and the update
  `Failed` with `errors` (errorCode, errorMessage, resourceIds), crossplane-contrib/provider-aws#1475;
  the API reference's ErrorDetail lists the codes (PodEvictionFailure, AsgInstanceLaunchFailures,
  ...).
"""

from moto.eks import models, responses
from moto.eks.exceptions import ResourceInUseException, ResourceNotFoundException

import strict

# The states in which EKS takes an update: ACTIVE, and DEGRADED (which an update may heal).
UPDATABLE = ("ACTIVE", "DEGRADED")

strict.timed_status(models.Nodegroup)


def _nodegroup(backend, cluster_name, nodegroup_name):
    cluster = backend.clusters.get(cluster_name)
    group = cluster.nodegroups.get(nodegroup_name) if cluster is not None else None
    if group is None:
        raise ResourceNotFoundException(
            clusterName=cluster_name,
            nodegroupName=nodegroup_name,
            fargateProfileName=None,
            addonName=None,
            message=models.NODEGROUP_NOT_FOUND_MSG.format(nodegroupName=nodegroup_name),
        )
    return group


def _refuse_unless_updatable(group):
    """AWS's answer to an update of a group that is not ACTIVE (or DEGRADED)."""
    if group.status not in UPDATABLE:
        raise ResourceInUseException(
            clusterName=group.cluster_name,
            nodegroupName=group.nodegroup_name,
            addonName=None,
            message="Nodegroup cannot be updated as it is currently not in Active State",
        )


def _set_health(group, issues):
    # moto shares one health dict between all node groups: give each its own.
    group.health = {"issues": [dict(issue) for issue in issues]}


def _run_update(group, update, heals, applied=None):
    """The update runs for `strict.SECONDS`: the group is UPDATING, the update InProgress; then
    both end as the group's hook said (Successful and healed, or Failed with EKS's errors).
    `applied()` makes what only shows once the update succeeded (a new version)."""
    failure = group.__dict__.pop("_strict_fail_next_update", None)
    degraded = group.status == "DEGRADED"
    healed = heals in group.__dict__.get("_strict_healed_by", ())
    final = "DEGRADED" if degraded and (failure or not healed) else "ACTIVE"
    strict.transition(group, "UPDATING", final)
    update["status"] = "InProgress"

    def finish():
        if failure:
            update["status"] = "Failed"
            update["errors"] = [{
                "errorCode": failure.get("code", "PodEvictionFailure"),
                "errorMessage": failure.get("message", "Reached max retries while trying to "
                                            "evict pods from nodes in node group"),
                "resourceIds": failure.get("resourceIds", [group.nodegroup_name]),
            }]
            return
        if applied is not None:
            applied()
        update["status"] = "Successful"
        if final == "ACTIVE" and degraded:
            _set_health(group, [])

    strict.later(strict.SECONDS, finish)


_create_nodegroup = models.EKSBackend.create_nodegroup


def create_nodegroup(self, *args, **kwargs):
    group = _create_nodegroup(self, *args, **kwargs)
    if strict.ENABLED:
        failing = _failing_creates(self.clusters[group.cluster_name])
        prefix = next((p for p in failing if group.nodegroup_name.startswith(p)), None)
        if prefix is None:
            strict.transition(group, "CREATING", "ACTIVE")
        else:
            # The create is taken, and the group fails while CREATING, as on AWS.
            strict.transition(group, "CREATING", "CREATE_FAILED")
            _set_health(group, failing.pop(prefix))
    return group


def _failing_creates(cluster):
    """Name prefix -> the health issues the next create of such a group fails with."""
    return cluster.__dict__.setdefault("_strict_failing_creates", {})


models.EKSBackend.create_nodegroup = create_nodegroup

_update_nodegroup_config = models.EKSBackend.update_nodegroup_config


def update_nodegroup_config(self, cluster_name, nodegroup_name, **kwargs):
    if not strict.ENABLED:
        return _update_nodegroup_config(self, cluster_name, nodegroup_name, **kwargs)
    with strict.LOCK:
        group = _nodegroup(self, cluster_name, nodegroup_name)
        _refuse_unless_updatable(group)
        previous = {
            "labels": dict(group.labels),
            "taints": list(group.taints),
            "scaling_config": dict(group.scaling_config),
            "update_config": group.update_config,
        }
        update = _update_nodegroup_config(self, cluster_name, nodegroup_name, **kwargs)
        if group.__dict__.get("_strict_fail_next_update"):
            # A failed update leaves the previous configuration.
            for field, value in previous.items():
                setattr(group, field, value)
        _run_update(group, update, "scalingConfig" if kwargs.get("scaling_config") else "config")
        return update


models.EKSBackend.update_nodegroup_config = update_nodegroup_config

_update_nodegroup_version = responses.EKSResponse.update_nodegroup_version


def update_nodegroup_version(self):
    if not strict.ENABLED:
        return _update_nodegroup_version(self)
    with strict.LOCK:
        group = _nodegroup(
            self.eks_backend, self._get_param("name"), self._get_param("nodegroupName")
        )
        _refuse_unless_updatable(group)
        before = (group.version, group.release_version)
        result = _update_nodegroup_version(self)
        after = (group.version, group.release_version)
        # EKS reports the old version until the nodes are replaced.
        group.version, group.release_version = before
        update = list(group.__dict__["updates"].values())[-1]
        _run_update(group, update, "version", lambda: _set_version(group, after))
        return result


def _set_version(group, version):
    group.version, group.release_version = version


responses.EKSResponse.update_nodegroup_version = update_nodegroup_version

_delete_nodegroup = models.EKSBackend.delete_nodegroup


def delete_nodegroup(self, cluster_name, nodegroup_name):
    """DeleteNodegroup answers the group DELETING; it is gone `strict.SECONDS` later. A group
    being created, updated or deleted is refused (ResourceInUseException, as the API reference
    lists for DeleteNodegroup; the wording of that refusal is not documented)."""
    if not strict.ENABLED:
        return _delete_nodegroup(self, cluster_name, nodegroup_name)
    with strict.LOCK:
        group = _nodegroup(self, cluster_name, nodegroup_name)
        if strict.in_transition(group) or group.status == "DELETING":
            raise ResourceInUseException(
                clusterName=cluster_name,
                nodegroupName=nodegroup_name,
                addonName=None,
                message=f"Nodegroup {nodegroup_name} cannot be deleted as it is currently in "
                f"{group.status} state",
            )
        group.status = "DELETING"
        strict.later(strict.SECONDS, _remove, self, cluster_name, nodegroup_name, group)
        return group


def _remove(backend, cluster_name, nodegroup_name, group):
    cluster = backend.clusters.get(cluster_name)
    if cluster is not None and cluster.nodegroups.get(nodegroup_name) is group:
        del cluster.nodegroups[nodegroup_name]
        cluster.nodegroup_count -= 1


models.EKSBackend.delete_nodegroup = delete_nodegroup


@strict.control("nodegroup")
def _control(body):
    """Puts node groups in a state AWS can reach. Body: `cluster`, `nodegroup` (a name, or a
    prefix ending in `-` for every generation of a spec name), and any of
    - `status`: `CREATE_FAILED` or `DEGRADED`, with `issues` ([{code, message, resourceIds}])
      and, for DEGRADED, `healedBy` (what a successful update heals it with: `scalingConfig`,
      `version`, `config`; default scaling and version, as a scale-out or new AMI does);
    - `failNextUpdate`: {code, message} for the group's next update;
    - `deleteAfter`: seconds: the group is DELETING for that long, then gone (a slow delete
      another run started);
    - `failNextCreate`: issues: the next CreateNodegroup of a name starting with `nodegroup`
      ends CREATE_FAILED with them (the group need not exist yet).
    Answers the names it changed."""
    from moto.eks.models import eks_backends

    changed = []
    for account in eks_backends.values():
        for backend in account.values():
            cluster = backend.clusters.get(body["cluster"])
            if cluster is None:
                continue
            wanted = body["nodegroup"]
            if "failNextCreate" in body:
                _failing_creates(cluster)[wanted] = body["failNextCreate"]
                changed.append(wanted)
            for name, group in list(cluster.nodegroups.items()):
                if not (name == wanted or (wanted.endswith("-") and name.startswith(wanted))):
                    continue
                status = body.get("status")
                if status:
                    group.status = status
                    _set_health(group, body.get("issues", []))
                    group.__dict__["_strict_healed_by"] = tuple(
                        body.get("healedBy", ["scalingConfig", "version"])
                    )
                if "deleteAfter" in body:
                    strict.transition(group, "DELETING", "DELETING", body["deleteAfter"])
                    strict.later(body["deleteAfter"], _remove, backend, cluster.name, name, group)
                if "failNextUpdate" in body:
                    group.__dict__["_strict_fail_next_update"] = body["failNextUpdate"]
                changed.append(name)
    return {"changed": sorted(changed)}
