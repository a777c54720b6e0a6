"""Strict mode: EKS managed node groups on Capacity Blocks for ML (`capacityType
CAPACITY_BLOCK`), which moto 5.2.1 creates like any other group.

Rules (each does nothing unless `strict.ENABLED`):
- CreateNodegroup with `capacityType` CAPACITY_BLOCK needs a launch template whose version has
  `InstanceMarketOptions.MarketType` `capacity-block`, a `CapacityReservationTarget` with a
  `CapacityReservationId` and an `InstanceType`; and a launch template with market type
  `capacity-block` needs `capacityType` CAPACITY_BLOCK. Otherwise InvalidParameterException
  (HTTP 400).
- CreateNodegroup with a CAPACITY_BLOCK group's subnets in more than one zone is
  InvalidParameterException (HTTP 400): a Capacity Block is in one zone.
- CreateNodegroup naming `instanceTypes` when the launch template names an `InstanceType` is
  InvalidRequestException (HTTP 400), for every capacity type.

Sources:
- EKS User Guide, "Create a managed node group with Capacity Blocks for ML": "Managed node
  groups with Capacity Blocks can only be created with custom launch templates"; the
  LaunchTemplateData must include "InstanceMarketOptions with MarketType set to
  "capacity-block"", "CapacityReservationSpecification: CapacityReservationTarget with
  CapacityReservationId set to the Capacity Block" and "InstanceType set to an instance type
  that supports Capacity Blocks"; "Set the capacity-type to "CAPACITY_BLOCK". If the capacity
  type isn't set to "CAPACITY_BLOCK" or any of the other above required launch template values
  are missing, then the create request will be rejected."; "When specifying subnets in the
  create request, make sure to only specify the subnet in the same Availability Zone as the
  capacity reservation." https://docs.aws.amazon.com/eks/latest/userguide/capacity-blocks-mng.html
  EKS's wording of these refusals is not published: the messages here name what is missing,
  and the code is the one EKS gives a parameter it refuses (InvalidParameterException, "The
  specified parameter is invalid", API reference, CreateNodegroup errors).
- "InvalidRequestException: Cannot specify instance types in launch template and API Request"
  (CreateNodegroup's answer on a real account, terraform-aws-modules/terraform-aws-eks#1386);
  CloudFormation's AWS::EKS::Nodegroup InstanceTypes: "If however, you specify an instance type
  in your launch template and specify any instanceTypes, the node group deployment will fail."
"""

from moto.eks import models
from moto.eks.exceptions import InvalidParameterException, InvalidRequestException

import strict
# strict_nodegroups patches CreateNodegroup first; these checks run before its timeline.
import strict_nodegroups  # noqa: F401
from strict_custom_ami import _template_version

CAPACITY_BLOCK = "CAPACITY_BLOCK"
MARKET = "capacity-block"


def _invalid(message, cluster, group):
    return InvalidParameterException(
        message=message, clusterName=cluster, nodegroupName=group, addonName=None
    )


def _missing(data):
    """What a Capacity Block's launch template version lacks, by field name."""
    missing = []
    if (data.get("InstanceMarketOptions") or {}).get("MarketType") != MARKET:
        missing.append("InstanceMarketOptions.MarketType capacity-block")
    target = (data.get("CapacityReservationSpecification") or {}).get(
        "CapacityReservationTarget"
    ) or {}
    if not target.get("CapacityReservationId"):
        missing.append("CapacityReservationSpecification.CapacityReservationTarget."
                       "CapacityReservationId")
    if not data.get("InstanceType"):
        missing.append("InstanceType")
    return missing


def _zones(account_id, region, subnets):
    from moto.ec2.models import ec2_backends

    ec2 = ec2_backends[account_id][region]
    zones = set()
    for subnet in subnets or []:
        try:
            zones.add(ec2.get_subnet(subnet).availability_zone)
        except Exception:  # noqa: BLE001  moto's own answer covers an unknown subnet
            pass
    return zones


def _check(backend, kwargs):
    cluster, group = kwargs.get("cluster_name"), kwargs.get("nodegroup_name")
    capacity_type = kwargs.get("capacity_type")
    template = kwargs.get("launch_template")
    version = _template_version(backend.account_id, backend.region_name, template)
    data = version.data if version is not None else {}
    market = (data.get("InstanceMarketOptions") or {}).get("MarketType")
    if capacity_type == CAPACITY_BLOCK:
        if version is None:
            raise _invalid("Managed node groups with capacity type CAPACITY_BLOCK can only be "
                           "created with a launch template", cluster, group)
        missing = _missing(data)
        if missing:
            raise _invalid("The launch template of a CAPACITY_BLOCK node group must set "
                           + ", ".join(missing), cluster, group)
        zones = _zones(backend.account_id, backend.region_name, kwargs.get("subnets"))
        if len(zones) > 1:
            raise _invalid("The subnets of a CAPACITY_BLOCK node group must be in the "
                           "Availability Zone of the capacity reservation; they are in "
                           + ", ".join(sorted(zones)), cluster, group)
    elif market == MARKET:
        raise _invalid("A launch template with MarketType capacity-block needs capacity type "
                       f"CAPACITY_BLOCK, not {capacity_type or 'ON_DEMAND'}", cluster, group)
    if data.get("InstanceType") and kwargs.get("instance_types"):
        raise InvalidRequestException(
            message="Cannot specify instance types in launch template and API Request",
            clusterName=cluster, nodegroupName=group, addonName=None,
        )


_create_nodegroup = models.EKSBackend.create_nodegroup


def create_nodegroup(self, *args, **kwargs):
    if strict.ENABLED:
        _check(self, kwargs)
    return _create_nodegroup(self, *args, **kwargs)


models.EKSBackend.create_nodegroup = create_nodegroup
