"""Strict mode for IAM as EKS sees it: new roles propagate late, and EKS-made access entries
are bound to the role's unique id, not its name.

- IAM is eventually consistent (IAM user guide, "Changes that I make are not always
  immediately visible"): right after CreateRole, EKS may not be able to assume the role yet.
  EKS then answers InvalidParameterException (HTTP 400), on CreateCluster "Role with arn:
  <arn>, could not be assumed because it does not exist or the trusted entity is not correct"
  (terraform-aws-modules/terraform-aws-eks#2406, eksctl-io/eksctl#2182; aws/aws-cdk#16037 saw
  it with a role made 3 minutes before), on CreateFargateProfile "Misconfigured
  PodExecutionRole Trust Policy; Please add the eks-fargate-pods.amazonaws.com Service
  Principal" (terraform-provider-aws retries both for its IAM propagation timeout). A role is
  refused for `WINDOW` seconds after its creation: 0 (off) unless a test sets it with the
  `iam-propagation` hook, so the suite does not wait on it everywhere.
- An access entry names its principal by ARN but is bound to the principal's unique id when it
  is made (EKS API reference, AccessEntry.principalArn: "If you don't delete the access entry
  and ever recreate the IAM principal, even if it has the same ARN, the access entry won't
  work. This is because even though the ARN is the same for the recreated IAM principal, the
  roleID or userID ... is different for the recreated IAM principal than it was for the
  original IAM principal. Even though you don't see the IAM principal's roleID or userID for an
  access entry, Amazon EKS stores it with the access entry."; DeleteAccessEntry: "If you delete
  an access entry in error, you can recreate it."). The `access-entry` hook tells a test which
  role id an entry holds and whether that is the role of that ARN today, which decides whether
  nodes can join.
- CreateServiceLinkedRole for `spot.amazonaws.com` makes `AWSServiceRoleForEC2Spot`, and a
  second one is InvalidInput ("... has been taken in this account ...").
"""

from moto.eks import models
from moto.eks.exceptions import InvalidParameterException
from moto.iam.exceptions import InvalidInput
from moto.iam import models as iam_models

import eks_lifecycle
import strict

# Seconds a new role stays unusable by EKS (set by the `iam-propagation` hook).
WINDOW = 0.0

_create_role = iam_models.IAMBackend.create_role


def create_role(self, *args, **kwargs):
    role = _create_role(self, *args, **kwargs)
    role.__dict__["_strict_created"] = strict.now()
    return role


def _role(arn):
    """The IAM role with this ARN today, in any account, or None."""
    for account in list(iam_models.iam_backends.values()):
        for backend in list(account.values()):
            for role in list(backend.roles.values()):
                if role.arn == arn:
                    return role
    return None


def _too_new(arn):
    role = _role(arn)
    created = role.__dict__.get("_strict_created") if role is not None else None
    return created is not None and strict.now() < created + WINDOW


_create_cluster = models.EKSBackend.create_cluster


def create_cluster(self, name, role_arn, *args, **kwargs):
    if strict.ENABLED and _too_new(role_arn):
        raise InvalidParameterException(
            clusterName=name,
            message=f"Role with arn: {role_arn}, could not be assumed because it does not "
            "exist or the trusted entity is not correct",
        )
    return _create_cluster(self, name, role_arn, *args, **kwargs)


_create_fargate_profile = models.EKSBackend.create_fargate_profile


def create_fargate_profile(self, fargate_profile_name, cluster_name, selectors,
                           pod_execution_role_arn, **kwargs):
    if strict.ENABLED and _too_new(pod_execution_role_arn):
        raise InvalidParameterException(
            clusterName=cluster_name,
            fargateProfileName=fargate_profile_name,
            message="Misconfigured PodExecutionRole Trust Policy; Please add the "
            "eks-fargate-pods.amazonaws.com Service Principal",
        )
    return _create_fargate_profile(
        self, fargate_profile_name=fargate_profile_name, cluster_name=cluster_name,
        selectors=selectors, pod_execution_role_arn=pod_execution_role_arn, **kwargs
    )


_new_access_entry = eks_lifecycle._new_access_entry


def new_access_entry(backend, cluster, principal_arn, *args):
    """Records the unique id of the principal the entry is bound to."""
    entry = _new_access_entry(backend, cluster, principal_arn, *args)
    role = _role(principal_arn)
    entry.__dict__["_strict_principal_id"] = role.id if role is not None else None
    return entry


if strict.ENABLED:
    iam_models.IAMBackend.create_role = create_role
    models.EKSBackend.create_cluster = create_cluster
    models.EKSBackend.create_fargate_profile = create_fargate_profile
    # eks_lifecycle looks `_new_access_entry` up at each call.
    eks_lifecycle._new_access_entry = new_access_entry


@strict.control("iam-propagation")
def _propagation(body):
    """Roles created from now on are refused by EKS for `seconds`."""
    global WINDOW
    WINDOW = float(body["seconds"])
    return {"seconds": WINDOW}


@strict.control("access-entry")
def _access_entry(body):
    """The access entry of `principal` in cluster `cluster`: its type, the role id it is bound
    to, the id of the role with that ARN today, and whether the entry is stale (nodes using
    the role cannot join)."""
    for regions in list(models.eks_backends.values()):
        for backend in list(regions.values()):
            cluster = backend.clusters.get(body["cluster"])
            if cluster is None:
                continue
            entry = eks_lifecycle._state(cluster, "access_entries").get(body["principal"])
            if entry is None:
                return {"exists": False}
            role = _role(body["principal"])
            bound = entry.__dict__.get("_strict_principal_id")
            current = role.id if role is not None else None
            return {
                "exists": True,
                "type": entry.type,
                "principalId": bound,
                "currentPrincipalId": current,
                "stale": bound != current,
            }
    raise KeyError(f"cluster {body['cluster']}")


# --- Service-linked roles ---------------------------------------------------------------------

_create_service_linked_role = iam_models.IAMBackend.create_service_linked_role


def create_service_linked_role(self, service_name, description, suffix):
    """EC2 Spot's service-linked role is `AWSServiceRoleForEC2Spot` (IAM User Guide, "AWS
    services that work with IAM"; moto 5.2.1 names it `AWSServiceRoleForspot`), and a second
    CreateServiceLinkedRole for it is InvalidInput (HTTP 400): "Service role name
    AWSServiceRoleForEC2Spot has been taken in this account, please try a different suffix."
    (Karpenter's getting-started guide, step06-add-spot-role.sh)."""
    if not strict.ENABLED or service_name != "spot.amazonaws.com":
        return _create_service_linked_role(self, service_name, description, suffix)
    name = "AWSServiceRoleForEC2Spot" + (f"_{suffix}" if suffix else "")
    if any(role.name == name for role in self.roles.values()):
        raise InvalidInput(
            f"Service role name {name} has been taken in this account, please try a "
            "different suffix."
        )
    role = _create_service_linked_role(self, service_name, description, suffix)
    role.name = name
    return role


iam_models.IAMBackend.create_service_linked_role = create_service_linked_role
