"""Strict mode: the node group settings EKS and EC2 validate that moto 5.2.1 takes as given.

Rules (each does nothing unless `strict.ENABLED`):
- CreateNodegroup / UpdateNodegroupConfig `nodeRepairConfig`: a count and a percentage of the
  same pair together, a count below 1 or a percentage outside 1-100 is InvalidParameterException
  (HTTP 400).
- CreateNodegroup / UpdateNodegroupConfig `updateConfig`: `maxUnavailable` and
  `maxUnavailablePercentage` together, neither of them, a value out of range, or an
  `updateStrategy` other than DEFAULT / MINIMAL is InvalidParameterException (HTTP 400).
- CreateLaunchTemplate / CreateLaunchTemplateVersion `CapacityReservationSpecification`: a
  preference other than `capacity-reservations-only` beside a `CapacityReservationTarget`, or a
  target naming both a reservation and a resource group, is InvalidParameterCombination
  (HTTP 400).

Sources:
- EKS API reference, NodeRepairConfig: maxUnhealthyNodeThresholdCount / maxParallelNodesRepairedCount
  "Valid Range: Minimum value of 1"; the percentages "Minimum value of 1. Maximum value of 100";
  each of a pair "When using this, you cannot also set <the other> at the same time."
  https://docs.aws.amazon.com/eks/latest/APIReference/API_NodeRepairConfig.html
- EKS API reference, NodegroupUpdateConfig: maxUnavailable "Minimum value of 1" ("The maximum
  number is 100"), maxUnavailablePercentage "Minimum value of 1. Maximum value of 100", each
  "This value or <the other> is required to have a value"; updateStrategy "DEFAULT | MINIMAL".
  https://docs.aws.amazon.com/eks/latest/APIReference/API_NodegroupUpdateConfig.html
- EKS answers a parameter it refuses with InvalidParameterException, HTTP 400 ("The specified
  parameter is invalid", API reference, CreateNodegroup errors); the message wording of these
  refusals is not documented, so the messages here name the fields.
- EC2 API reference, CapacityReservationSpecification: "You can only specify
  CapacityReservationPreference and CapacityReservationTarget if the CapacityReservationPreference
  is capacity-reservations-only." LaunchTemplateCapacityReservationSpecificationRequest: "You can
  specify only one option at a time." EC2's code for parameters that do not go together is
  InvalidParameterCombination ("Indicates an incorrect combination of parameters, or a missing
  parameter", EC2 API reference, Common client error codes); the message wording is not
  documented.
"""

from moto.ec2.exceptions import EC2ClientError
from moto.ec2.responses.launch_templates import LaunchTemplates
from moto.eks import responses
from moto.eks.exceptions import InvalidParameterException

import strict

REPAIR_PAIRS = (
    ("maxUnhealthyNodeThresholdCount", "maxUnhealthyNodeThresholdPercentage"),
    ("maxParallelNodesRepairedCount", "maxParallelNodesRepairedPercentage"),
)
STRATEGIES = ("DEFAULT", "MINIMAL")


def _invalid(message, cluster, nodegroup):
    return InvalidParameterException(
        clusterName=cluster, nodegroupName=nodegroup, addonName=None, message=message
    )


def _repair_problem(config):
    for count, percentage in REPAIR_PAIRS:
        if config.get(count) is not None and config.get(percentage) is not None:
            return f"You cannot specify both {count} and {percentage} in nodeRepairConfig"
        if config.get(count) is not None and config[count] < 1:
            return f"{count} must be at least 1"
        if config.get(percentage) is not None and not 1 <= config[percentage] <= 100:
            return f"{percentage} must be between 1 and 100"
    return None


def _update_config_problem(config):
    count, percentage = config.get("maxUnavailable"), config.get("maxUnavailablePercentage")
    if count is not None and percentage is not None:
        return "You cannot specify both maxUnavailable and maxUnavailablePercentage"
    if count is None and percentage is None:
        return "updateConfig requires maxUnavailable or maxUnavailablePercentage"
    if count is not None and not 1 <= count <= 100:
        return "maxUnavailable must be between 1 and 100"
    if percentage is not None and not 1 <= percentage <= 100:
        return "maxUnavailablePercentage must be between 1 and 100"
    strategy = config.get("updateStrategy")
    if strategy is not None and strategy not in STRATEGIES:
        return f"updateStrategy must be one of {', '.join(STRATEGIES)}, not {strategy}"
    return None


def _checked(original):
    def handler(self):
        if strict.ENABLED:
            repair = self._get_param("nodeRepairConfig")
            update = self._get_param("updateConfig")
            problem = (_repair_problem(repair) if repair else None) or (
                _update_config_problem(update) if update else None
            )
            if problem:
                raise _invalid(problem, self._get_param("name"), self._get_param("nodegroupName"))
        return original(self)

    return handler


responses.EKSResponse.create_nodegroup = _checked(responses.EKSResponse.create_nodegroup)
responses.EKSResponse.update_nodegroup_config = _checked(
    responses.EKSResponse.update_nodegroup_config
)


class InvalidParameterCombination(EC2ClientError):
    def __init__(self, message):
        super().__init__("InvalidParameterCombination", message)


def _reservation_problem(data):
    spec = (data or {}).get("CapacityReservationSpecification") or {}
    target = spec.get("CapacityReservationTarget") or {}
    preference = spec.get("CapacityReservationPreference")
    if target.get("CapacityReservationId") and target.get("CapacityReservationResourceGroupArn"):
        return (
            "Specify either CapacityReservationId or CapacityReservationResourceGroupArn in "
            "CapacityReservationTarget, not both"
        )
    if target and preference and preference != "capacity-reservations-only":
        return (
            f"CapacityReservationPreference {preference} cannot be combined with "
            "CapacityReservationTarget; only capacity-reservations-only can"
        )
    return None


def _template_checked(original):
    def handler(self):
        if strict.ENABLED:
            problem = _reservation_problem(self._get_param("LaunchTemplateData", {}))
            if problem:
                raise InvalidParameterCombination(problem)
        return original(self)

    return handler


LaunchTemplates.create_launch_template = _template_checked(LaunchTemplates.create_launch_template)
LaunchTemplates.create_launch_template_version = _template_checked(
    LaunchTemplates.create_launch_template_version
)
