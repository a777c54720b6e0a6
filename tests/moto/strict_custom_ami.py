"""Custom AMIs in EKS managed node groups, as AWS runs them (strict mode, see strict.py), and
the public SSM parameters that name EKS's AMIs (always: AWS publishes them in every region).

- SSM: `/aws/service/eks/optimized-ami/<k8s>/amazon-linux-2023/<x86_64|arm64>/standard/
  recommended/image_id` and `/aws/service/bottlerocket/aws-k8s-<k8s>/<x86_64|arm64>/latest/
  image_id` answer GetParameter with an AMI id (moto 5.2.1 has only the Amazon Linux and ECS
  ones). The hook `POST /moto-api/ekspec/ami-parameter` `{name, value}` publishes a new AMI
  under such a name, as AWS does with each release.
- CreateNodegroup with a launch template whose version names an AMI (`ImageId`):
  - an `amiType` other than CUSTOM is refused;
  - a `version` or `releaseVersion` is refused;
  - the group reports `amiType` CUSTOM and `releaseVersion` the AMI id;
  - EKS adds no bootstrap: a node whose user data does not carry this cluster's name,
    endpoint and certificate authority never joins, and the group ends CREATE_FAILED with
    NodeCreationFailure.
- UpdateNodegroupVersion of a CUSTOM group: `version`/`releaseVersion` are refused, so is an
  update without a launch template, and a launch template version without an AMI (and the
  reverse for a group on EKS's AMIs).

Sources:
- EKS User Guide, Customize managed nodes with launch templates, "Limits and conditions when
  specifying an AMI ID": "You must create a new node group to switch between specifying an AMI
  ID in a launch template and not specifying an AMI ID"; "The following fields can't be set in
  the API if you specify an AMI ID: amiType, releaseVersion, version"; "When specifying an AMI,
  Amazon EKS doesn't merge any user data. Rather, you're responsible for supplying the required
  bootstrap commands for nodes to join the cluster. If your nodes fail to join the cluster, the
  Amazon EKS CreateNodegroup and UpdateNodegroupVersion actions also fail."
  https://docs.aws.amazon.com/eks/latest/userguide/launch-templates.html
- API reference, Nodegroup: amiType "If the node group was deployed using a launch template
  with a custom AMI, then this is CUSTOM"; releaseVersion "this is the AMI ID that was
  specified in the launch template". https://docs.aws.amazon.com/eks/latest/APIReference/API_Nodegroup.html
- The refusals' wording on real accounts (all InvalidParameterException, HTTP 400):
  "You cannot specify an AMI Type other than CUSTOM, when specifying an image id in your launch
  template." (rancher/terraform-provider-rancher2#927, pulumi/pulumi-eks#1463);
  "You cannot specify a kubernetes version to use when specifying an image id to use within the
  launch template." (terraform-aws-modules/terraform-aws-eks#3459);
  "You cannot specify the field kubernetesVersion when using custom AMIs." (eksctl-io/eksctl#5999,
  #5748); "Launch template details can't be null for Custom ami type node group"
  (kubernetes-sigs/cluster-api-provider-aws#4327). The wording of the refusal of a switch
  between a custom AMI and EKS's in an update is not published; the rule is the User Guide's.
- NodeCreationFailure "Instances failed to join the kubernetes cluster": the health issue EKS
  reports for nodes that never register (EKS User Guide, Troubleshooting, "Nodes fail to join
  cluster"; API reference, Issue `code`).
- SSM parameter names: EKS User Guide, "Retrieve recommended Amazon Linux AMI IDs" and
  "Retrieve recommended Bottlerocket AMI IDs".
"""

import hashlib
import re

from moto.core.utils import utcnow
from moto.eks import models, responses
from moto.eks.exceptions import InvalidParameterException
from moto.ssm import models as ssm_models

import strict
# strict_nodegroups patches CreateNodegroup first, so that the rules here wrap its timeline.
import strict_nodegroups

CUSTOM = "CUSTOM"

EKS_AMI_PARAMETER = re.compile(
    r"^/aws/service/(eks/optimized-ami/1\.(2[89]|3[0-5])/amazon-linux-2023/(x86_64|arm64)/"
    r"(standard|nvidia|neuron)/recommended/image_id"
    r"|bottlerocket/aws-k8s-1\.(2[89]|3[0-5])(-nvidia)?/(x86_64|arm64)/latest/image_id)$"
)


def _ami_of(name):
    """A stable AMI id per parameter name: the same name answers the same AMI until the hook
    publishes a new one."""
    return "ami-" + hashlib.sha256(name.encode()).hexdigest()[:17]


_check_loading_status = ssm_models.ParameterDict._check_loading_status


def _check_loading_status_with_eks(self, key):
    _check_loading_status(self, key)
    key = str(key or "")
    if EKS_AMI_PARAMETER.match(key) and not dict.get(self, key):
        _publish(self, key, _ami_of(key))


def _publish(parameters, name, value):
    """Adds `value` as the newest version of the parameter `name`."""
    versions = dict.setdefault(parameters, name, [])
    versions.append(ssm_models.Parameter(
        account_id=parameters.account_id,
        name=name,
        value=value,
        parameter_type="String",
        description=None,
        allowed_pattern=None,
        keyid=None,
        last_modified_date=utcnow(),
        version=len(versions) + 1,
        data_type="aws:ec2:image",
    ))


ssm_models.ParameterDict._check_loading_status = _check_loading_status_with_eks


@strict.control("ami-parameter")
def _control_publish(body):
    """Publishes `value` as the newest AMI under the public parameter `name` in every region
    (AWS's release of a new EKS AMI)."""
    changed = 0
    for account in ssm_models.ssm_backends.values():
        for backend in account.values():
            parameters = backend._parameters
            parameters._check_loading_status(body["name"])
            _publish(parameters, body["name"], body["value"])
            changed += 1
    return {"changed": changed}


def _template_version(account_id, region, template):
    """The launch template version a request names (`{id|name, version}`), or None."""
    if not template:
        return None
    from moto.ec2.models import ec2_backends

    ec2 = ec2_backends[account_id][region]
    try:
        if template.get("id"):
            found = ec2.describe_launch_templates(template_ids=[template["id"]])[0]
        else:
            found = ec2.describe_launch_templates(template_names=[template["name"]])[0]
        return found.get_version(template.get("version") or "$Default")
    except Exception:  # noqa: BLE001  moto's own errors answer a missing template
        return None


def _user_data(version):
    data = version.user_data
    if data is None:
        return ""
    try:
        return data.decode()
    except Exception:  # noqa: BLE001  not text: no bootstrap either
        return ""


def _joins(cluster, version):
    """Whether nodes launched from `version` would join `cluster`: their user data names the
    cluster, its endpoint and its certificate authority (nodeadm's NodeConfig or
    Bottlerocket's settings; EKS adds neither for a custom AMI)."""
    text = _user_data(version)
    return all(
        value in text
        for value in (cluster.name, cluster.endpoint, cluster.certificate_authority["data"])
    )


def _invalid(message, cluster, group):
    return InvalidParameterException(
        message=message, clusterName=cluster, nodegroupName=group, addonName=None
    )


_create_nodegroup = models.EKSBackend.create_nodegroup


def create_nodegroup(self, *args, **kwargs):
    if not strict.ENABLED:
        return _create_nodegroup(self, *args, **kwargs)
    cluster_name = kwargs.get("cluster_name")
    group_name = kwargs.get("nodegroup_name")
    version = _template_version(self.account_id, self.region_name, kwargs.get("launch_template"))
    custom = version is not None and bool(version.image_id)
    if custom:
        ami_type = kwargs.get("ami_type")
        if ami_type and ami_type != CUSTOM:
            raise _invalid(
                "You cannot specify an AMI Type other than CUSTOM, when specifying an image id "
                "in your launch template.", cluster_name, group_name)
        if kwargs.get("version") or kwargs.get("release_version"):
            raise _invalid(
                "You cannot specify a kubernetes version to use when specifying an image id to "
                "use within the launch template.", cluster_name, group_name)
    group = _create_nodegroup(self, *args, **kwargs)
    if custom:
        group.ami_type = CUSTOM
        group.release_version = version.image_id
        cluster = self.clusters[cluster_name]
        if not _joins(cluster, version):
            strict.transition(group, "CREATING", "CREATE_FAILED")
            strict_nodegroups._set_health(group, [{
                "code": "NodeCreationFailure",
                "message": "Instances failed to join the kubernetes cluster",
                "resourceIds": [f"i-{hashlib.sha256(group_name.encode()).hexdigest()[:17]}"],
            }])
    return group


models.EKSBackend.create_nodegroup = create_nodegroup

_update_nodegroup_version = responses.EKSResponse.update_nodegroup_version


def update_nodegroup_version(self):
    if not strict.ENABLED:
        return _update_nodegroup_version(self)
    cluster_name = self._get_param("name")
    group_name = self._get_param("nodegroupName")
    group = strict_nodegroups._nodegroup(self.eks_backend, cluster_name, group_name)
    template = self._get_param("launchTemplate")
    version = _template_version(self.current_account, self.region, template)
    custom_now = group.ami_type == CUSTOM
    if custom_now:
        if self._get_param("version") or self._get_param("releaseVersion"):
            raise _invalid("You cannot specify the field kubernetesVersion when using custom AMIs.",
                           cluster_name, group_name)
        if not template:
            raise _invalid("Launch template details can't be null for Custom ami type node group",
                           cluster_name, group_name)
    if version is not None and bool(version.image_id) != custom_now:
        raise _invalid(
            "You must create a new node group to switch between specifying an AMI ID in a launch "
            "template and not specifying an AMI ID.", cluster_name, group_name)
    return _update_nodegroup_version(self)


responses.EKSResponse.update_nodegroup_version = update_nodegroup_version
