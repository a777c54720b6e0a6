"""Strict mode for EKS Pod Identity associations (pod_identity.py): what EKS checks of the role.

- The role must trust EKS Pod Identity: the service principal `pods.eks.amazonaws.com` with
  `sts:AssumeRole` and `sts:TagSession` (EKS user guide, "Assign an IAM role to a Kubernetes
  service account": "The list only contains roles that have the following trust policy which
  allows EKS Pod Identity to use them"). Otherwise CreatePodIdentityAssociation (and an
  add-on's associations) fail with InvalidParameterException (HTTP 400) "Trust policy of the
  role provided is invalid." (hashicorp/terraform-provider-aws#41483 with an IRSA-only trust;
  aws/aws-cdk#31522; the CDK's own construct adds `sts:TagSession` because "Without it, the
  PodIdentityAssociation create call rejects the role"). So a service account moving from
  IRSA to Pod Identity needs the new trust before its association.
- A role made moments ago is not visible to EKS yet (IAM is eventually consistent; see
  strict_iam.py): EKS answers "Role provided in the request does not exist" until it
  propagates (hashicorp/terraform-provider-aws#34711, fixed by retrying it in #34717). Same
  window as strict_iam.py's `iam-propagation` hook (0 unless a test sets it).

EKS's API reference says nothing of the cluster's state for these calls (only the generic
InvalidRequestException), so no state rule is made up here.
"""

import json
from urllib.parse import unquote

from moto.eks.exceptions import InvalidParameterException

import pod_identity
import strict
import strict_iam

POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"
NEEDED_ACTIONS = {"sts:assumerole", "sts:tagsession"}


def _listed(value):
    return value if isinstance(value, list) else [value]


def trusts_pod_identity(document):
    """Whether a trust policy lets EKS Pod Identity assume the role and tag its sessions."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            document = json.loads(unquote(document))
    allowed = set()
    for statement in _listed(document.get("Statement", [])):
        if statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal") or {}
        services = _listed(principal.get("Service", [])) if isinstance(principal, dict) else []
        if POD_IDENTITY_PRINCIPAL not in services:
            continue
        for action in _listed(statement.get("Action", [])):
            action = action.lower()
            allowed |= NEEDED_ACTIONS if action in ("*", "sts:*") else {action}
    return NEEDED_ACTIONS <= allowed


_check_role = pod_identity.check_role


def check_role(backend, cluster, role_arn):
    if strict.ENABLED and strict_iam._too_new(role_arn):
        raise InvalidParameterException(
            clusterName=cluster.name,
            message="Role provided in the request does not exist",
        )
    _check_role(backend, cluster, role_arn)
    if strict.ENABLED:
        role = pod_identity.role(backend, role_arn)
        if not trusts_pod_identity(role.assume_role_policy_document):
            raise InvalidParameterException(
                clusterName=cluster.name,
                message="Trust policy of the role provided is invalid.",
            )


pod_identity.check_role = check_role
