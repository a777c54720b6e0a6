"""EKS Pod Identity associations, which moto 5.2.1 answers with 404, filled in as the EKS API
reference documents them (CreatePodIdentityAssociation, DescribePodIdentityAssociation,
ListPodIdentityAssociations, UpdatePodIdentityAssociation, DeletePodIdentityAssociation), and
the associations EKS makes for add-ons (CreateAddon/UpdateAddon `podIdentityAssociations`).

Associations live on moto's cluster objects (as eks_lifecycle.py keeps add-ons), so a deleted
cluster takes its associations with it; TagResource, UntagResource and ListTagsForResource
reach them through eks_lifecycle.py's `_tagged`. Strict-mode rules (the role's trust policy, a
role too new for EKS) are in strict_pod_identity.py. Imported by `server.py` after
eks_lifecycle.py.
"""

import json
import string

from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.eks import models, responses, urls
from moto.eks.exceptions import (
    InvalidParameterException,
    ResourceInUseException,
    ResourceNotFoundException,
)
from moto.iam import models as iam_models
from moto.moto_api._internal import mock_random as random

import eks_lifecycle
from eks_lifecycle import _addon, _addon_version, _cluster, _state

ASSOCIATION_ARN = "arn:{partition}:eks:{region}:{account}:podidentityassociation/{cluster}/{id}"

# The namespace EKS installs an add-on in unless CreateAddon's namespaceConfig names another
# (DescribeAddonVersions' defaultNamespace; eks_lifecycle.py reports kube-system for all).
ADDON_NAMESPACE = "kube-system"

# The service accounts of each add-on that take a Pod Identity association
# (DescribeAddonConfiguration's podIdentityConfiguration; EKS user guide, "Use Pod Identities
# to assign an IAM role to an Amazon EKS add-on": `serviceAccount=ebs-csi-controller-sa` for
# aws-ebs-csi-driver). Add-ons not listed need no AWS permissions, and EKS refuses
# associations for them.
ADDON_SERVICE_ACCOUNTS = {
    "vpc-cni": ["aws-node"],
    "aws-ebs-csi-driver": ["ebs-csi-controller-sa"],
    "aws-efs-csi-driver": ["efs-csi-controller-sa", "efs-csi-node-sa"],
}


class PodIdentityAssociation:
    """An association, serialized by moto through EKS's `PodIdentityAssociation` shape (and
    `PodIdentityAssociationSummary` in lists, which leaves out the role, tags and times)."""

    def __init__(self, cluster, namespace, service_account, role_arn, arn, association_id,
                 tags, owner_arn=None, disable_session_tags=False):
        self.cluster_name = cluster
        self.namespace = namespace
        self.service_account = service_account
        self.role_arn = role_arn
        self.association_arn = arn
        self.association_id = association_id
        self.tags = dict(tags or {})
        self.owner_arn = owner_arn
        self.disable_session_tags = bool(disable_session_tags)
        self.created_at = self.modified_at = utcnow()


def associations(cluster):
    """The cluster's associations by id."""
    return _state(cluster, "pod_identity_associations")


def _new_id():
    """`a-` and 17 lowercase letters and digits, like `a-4wvljrezsukshq1bv` (EKS user guide)."""
    alphabet = string.ascii_lowercase + string.digits
    return "a-" + "".join(random.choice(alphabet) for _ in range(17))


def _association(cluster, association_id):
    association = associations(cluster).get(association_id)
    if association is None:
        # EKS API reference, DescribePodIdentityAssociation/UpdatePodIdentityAssociation/
        # DeletePodIdentityAssociation, Errors: ResourceNotFoundException (HTTP 404).
        raise ResourceNotFoundException(
            clusterName=cluster.name,
            nodegroupName=None,
            fargateProfileName=None,
            addonName=None,
            message=f"Association not found: {association_id}",
        )
    return association


def _holder(cluster, namespace, service_account):
    """The association of `namespace`/`service_account` in the cluster, if any."""
    return next(
        (a for a in associations(cluster).values()
         if a.namespace == namespace and a.service_account == service_account),
        None,
    )


def _refuse_second(cluster, namespace, service_account):
    """One association per service account: "You can associate one IAM role to each Kubernetes
    service account in each cluster" (EKS user guide, "EKS Pod Identity considerations"). A
    second one is ResourceInUseException (HTTP 409) "Association already exists: <id>"
    (eksctl-io/eksctl#7753, aws/eks-hybrid#679)."""
    holder = _holder(cluster, namespace, service_account)
    if holder is not None:
        raise ResourceInUseException(
            clusterName=cluster.name,
            nodegroupName=None,
            addonName=None,
            message=f"Association already exists: {holder.association_id}",
        )


def role(backend, arn):
    """The IAM role with this ARN in the cluster's account, or None: "You can only associate
    roles that are in the same AWS account as the cluster" (EKS user guide, "EKS Pod Identity
    considerations")."""
    for iam in list(iam_models.iam_backends.get(backend.account_id, {}).values()):
        for candidate in list(iam.roles.values()):
            if candidate.arn == arn:
                return candidate
    return None


def check_role(backend, cluster, role_arn):
    """The role must exist: InvalidParameterException (HTTP 400) "Role provided in the request
    does not exist" (hashicorp/terraform-provider-aws#34711/#34717, which retries it while a new
    role propagates). strict_pod_identity.py adds the strict rules."""
    if role(backend, role_arn) is None:
        raise InvalidParameterException(
            clusterName=cluster.name,
            message="Role provided in the request does not exist",
        )


def _required(cluster, **values):
    for name, value in values.items():
        if not value:
            raise InvalidParameterException(
                clusterName=cluster.name, message=f"{name} is required and must not be empty"
            )


def _make(backend, cluster, namespace, service_account, role_arn, tags, owner_arn=None,
          disable_session_tags=False):
    association_id = _new_id()
    association = PodIdentityAssociation(
        cluster.name,
        namespace,
        service_account,
        role_arn,
        ASSOCIATION_ARN.format(
            partition=backend.partition,
            region=backend.region_name,
            account=backend.account_id,
            cluster=cluster.name,
            id=association_id,
        ),
        association_id,
        tags,
        owner_arn=owner_arn,
        disable_session_tags=disable_session_tags,
    )
    associations(cluster)[association_id] = association
    return association


# --- The Pod Identity API ----------------------------------------------------------------------


def create_pod_identity_association(self):
    """CreatePodIdentityAssociation: binds a namespace and service account of an existing
    cluster to an IAM role of the account, with tags, refusing a second association for the
    service account. The clientRequestToken makes a repeated request idempotent ("A unique,
    case-sensitive identifier that you provide to ensure the idempotency of the request"): the
    same token with the same request answers the association it made, while that exists."""
    backend = self.eks_backend
    cluster = _cluster(backend, self._get_param("name"))
    namespace = self._get_param("namespace")
    service_account = self._get_param("serviceAccount")
    role_arn = self._get_param("roleArn")
    tags = self._get_param("tags") or {}
    _required(cluster, namespace=namespace, serviceAccount=service_account, roleArn=role_arn)
    token = self._get_param("clientRequestToken")
    request = json.dumps([namespace, service_account, role_arn, tags], sort_keys=True)
    tokens = _state(cluster, "pod_identity_tokens")
    if token and token in tokens:
        earlier_request, earlier_id = tokens[token]
        if earlier_request == request and earlier_id in associations(cluster):
            return ActionResult({"association": associations(cluster)[earlier_id]})
    check_role(backend, cluster, role_arn)
    _refuse_second(cluster, namespace, service_account)
    association = _make(backend, cluster, namespace, service_account, role_arn, tags,
                        disable_session_tags=self._get_param("disableSessionTags"))
    if token:
        tokens[token] = (request, association.association_id)
    return ActionResult({"association": association})


def describe_pod_identity_association(self):
    """DescribePodIdentityAssociation: one association with its role, tags and owner."""
    cluster = _cluster(self.eks_backend, self._get_param("name"))
    return ActionResult(
        {"association": _association(cluster, self._get_param("associationId"))}
    )


def list_pod_identity_associations(self):
    """ListPodIdentityAssociations: summaries (no role, tags or times) of the cluster's
    associations, filtered by namespace and service account, paginated by maxResults (1 to 100,
    default 100: "This value can be between 1 and 100") and nextToken."""
    cluster = _cluster(self.eks_backend, self._get_param("name"))
    namespace = self._get_param("namespace")
    service_account = self._get_param("serviceAccount")
    size = self._get_int_param("maxResults", 100)
    if not 1 <= size <= 100:
        raise InvalidParameterException(
            clusterName=cluster.name, message="maxResults must be between 1 and 100"
        )
    matching = [
        association_id
        for association_id, a in associations(cluster).items()
        if (not namespace or a.namespace == namespace)
        and (not service_account or a.service_account == service_account)
    ]
    page, token = models.paginated_list(matching, size, self._get_param("nextToken"))
    return ActionResult({
        "associations": [associations(cluster)[i] for i in page],
        "nextToken": token,
    })


def update_pod_identity_association(self):
    """UpdatePodIdentityAssociation: points an association at another role of the account
    ("Only the IAM role can be changed; an association can't be moved between clusters,
    namespaces, or service accounts")."""
    backend = self.eks_backend
    cluster = _cluster(backend, self._get_param("name"))
    association = _association(cluster, self._get_param("associationId"))
    role_arn = self._get_param("roleArn")
    if role_arn:
        check_role(backend, cluster, role_arn)
        association.role_arn = role_arn
    disable = self._get_param("disableSessionTags")
    if disable is not None:
        association.disable_session_tags = bool(disable)
    association.modified_at = utcnow()
    return ActionResult({"association": association})


def delete_pod_identity_association(self):
    """DeletePodIdentityAssociation: removes the association (one an add-on owns too: "You
    also can directly update or delete the pod identity association if necessary") and answers
    it."""
    cluster = _cluster(self.eks_backend, self._get_param("name"))
    association_id = self._get_param("associationId")
    association = _association(cluster, association_id)
    del associations(cluster)[association_id]
    return ActionResult({"association": association})


# --- Add-ons -----------------------------------------------------------------------------------
# EKS user guide, "IAM roles for Amazon EKS add-ons": "Pod identity associations created using
# the add-on APIs are owned by the respective add-on. If you delete the add-on, the pod identity
# association is also deleted. You can prevent this cascading delete by using the `preserve`
# option ... Add-ons can't assume ownership of existing pod identity associations. You must
# delete the existing association and re-create it using an add-on create or update operation."
# "You can specify both an IRSA `serviceAccountRoleArn` and a pod identity association for an
# add-on." UpdateAddon (API reference): "If this value is left blank, no change. If an empty
# array is provided, existing associations owned by the add-on are deleted."; user guide: "when
# you specify pod identity associations while updating an add-on, all previous pod identity
# associations are overwritten".


def _owned_arns(addon):
    """DescribeAddon's `podIdentityAssociations`: the ARNs of the associations the add-on
    owns, sorted."""
    store = addon.__dict__.get("_pod_identity_store") or {}
    return sorted(a.association_arn for a in store.values() if a.owner_arn == addon.addon_arn)


eks_lifecycle.Addon.pod_identity_associations = property(_owned_arns)


def _check_addon_associations(backend, cluster, name, version, namespace, wanted, owner_arn):
    """Refuses, before anything changes, what EKS refuses in an add-on's associations: an
    add-on without AWS permissions, a service account the add-on does not use (both
    InvalidParameterException, terraform-aws-modules/terraform-aws-eks#3520: "Pod Identity
    feature is not supported for addon version: v1.18.2-eksbuild.2", "Service account
    amazon-cloudwatch in pod identity configuration is not supported for addon
    amazon-cloudwatch-observability"), a role that does not exist, and a service account whose
    association the add-on does not own (the wording of a second association; the user guide
    says add-ons cannot take existing associations over)."""
    supported = ADDON_SERVICE_ACCOUNTS.get(name)
    if supported is None:
        raise InvalidParameterException(
            clusterName=cluster.name,
            addonName=name,
            message=f"Pod Identity feature is not supported for addon version: {version}",
        )
    for association in wanted:
        service_account = association.get("serviceAccount")
        role_arn = association.get("roleArn")
        _required(cluster, serviceAccount=service_account, roleArn=role_arn)
        if service_account not in supported:
            raise InvalidParameterException(
                clusterName=cluster.name,
                addonName=name,
                message=f"Service account {service_account} in pod identity configuration is "
                f"not supported for addon {name}",
            )
        check_role(backend, cluster, role_arn)
        holder = _holder(cluster, namespace, service_account)
        if holder is not None and (owner_arn is None or holder.owner_arn != owner_arn):
            _refuse_second(cluster, namespace, service_account)


def _replace_addon_associations(backend, cluster, addon, wanted):
    """Makes the add-on's associations those `wanted`: one it owns for a wanted service
    account keeps its id and takes the role, the others go, the missing ones are made."""
    store = associations(cluster)
    addon.__dict__["_pod_identity_store"] = store
    namespace = addon.__dict__.get("_namespace", ADDON_NAMESPACE)
    roles = {a["serviceAccount"]: a["roleArn"] for a in wanted}
    for association_id, association in list(store.items()):
        if association.owner_arn != addon.addon_arn:
            continue
        if association.service_account in roles:
            if association.role_arn != roles[association.service_account]:
                association.role_arn = roles[association.service_account]
                association.modified_at = utcnow()
            del roles[association.service_account]
        else:
            del store[association_id]
    for service_account, role_arn in roles.items():
        _make(backend, cluster, namespace, service_account, role_arn, {},
              owner_arn=addon.addon_arn)


_create_addon = eks_lifecycle.create_addon


def create_addon(self):
    """CreateAddon with `podIdentityAssociations`: EKS makes each association, owned by the
    add-on (ownerArn = the add-on's ARN), in the add-on's namespace."""
    wanted = self._get_param("podIdentityAssociations")
    backend = self.eks_backend
    cluster = _cluster(backend, self._get_param("name"))
    name = self._get_param("addonName")
    namespace = (self._get_param("namespaceConfig") or {}).get("namespace") or ADDON_NAMESPACE
    if wanted and name not in _state(cluster, "addons"):
        version = _addon_version(cluster, name, self._get_param("addonVersion"))
        _check_addon_associations(backend, cluster, name, version, namespace, wanted, None)
    result = _create_addon(self)
    addon = _state(cluster, "addons")[name]
    addon.__dict__["_namespace"] = namespace
    _replace_addon_associations(backend, cluster, addon, wanted or [])
    return result


_update_addon = eks_lifecycle.update_addon


def update_addon(self):
    """UpdateAddon with `podIdentityAssociations`: the add-on's associations become those
    given (an empty list deletes them all); left out, they stay."""
    wanted = self._get_param("podIdentityAssociations")
    if wanted is None:
        return _update_addon(self)
    backend = self.eks_backend
    cluster = _cluster(backend, self._get_param("name"))
    name = self._get_param("addonName")
    addon = _addon(cluster, name)
    if wanted:
        namespace = addon.__dict__.get("_namespace", ADDON_NAMESPACE)
        _check_addon_associations(backend, cluster, name, addon.addon_version, namespace,
                                  wanted, addon.addon_arn)
    result = _update_addon(self)
    _replace_addon_associations(backend, cluster, addon, wanted)
    return result


_delete_addon = eks_lifecycle.delete_addon


def delete_addon(self):
    """DeleteAddon: the associations the add-on owns go with it, unless `preserve` is set."""
    cluster = _cluster(self.eks_backend, self._get_param("name"))
    addon = _addon(cluster, self._get_param("addonName"))
    result = _delete_addon(self)
    if str(self._get_param("preserve")).lower() != "true":
        store = associations(cluster)
        for association_id in [i for i, a in store.items() if a.owner_arn == addon.addon_arn]:
            del store[association_id]
    return result


# --- Routes ------------------------------------------------------------------------------------

for operation in [
    create_pod_identity_association,
    describe_pod_identity_association,
    list_pod_identity_associations,
    update_pod_identity_association,
    delete_pod_identity_association,
    create_addon,
    update_addon,
    delete_addon,
]:
    setattr(responses.EKSResponse, operation.__name__, operation)

_CLUSTER = "{0}/clusters/(?P<name>[^/]+)"
urls.url_paths.update({
    _CLUSTER + "/pod-identity-associations$": urls.response.dispatch,
    _CLUSTER + "/pod-identity-associations/(?P<associationId>[^/]+)$": urls.response.dispatch,
})
