"""Strict EC2: client tokens, NAT gateway states, and the dependency errors AWS answers while
something still uses a resource, so that ekspec's tokens and retries meet what AWS does.

Rules (each does nothing unless `strict.ENABLED`):
- ClientToken of CreateNatGateway (at most 64 ASCII characters) and CreateLaunchTemplate /
  CreateLaunchTemplateVersion (at most 128): remembered per account and region for the
  server's life; the same token with other parameters is IdempotentParameterMismatch, with the
  same parameters it answers the earlier resource, even one deleted since.
- DeleteNatGateway: `deleting` for `strict.SECONDS`, then `deleted`, and only then are its
  Elastic IP disassociated and its network interface removed. A NAT gateway's interface is
  `in-use` (AWS manages it), not `available`.
- ReleaseAddress of an associated Elastic IP: InvalidIPAddress.InUse.
- DeleteNetworkInterface of an interface in use: InvalidNetworkInterface.InUse.
- DeleteSubnet with network interfaces in it, DeleteVpc with security groups other than the
  default one or an attached internet gateway: DependencyViolation.
- DeleteSecurityGroup of a group another group's rule names, or a network interface uses:
  DependencyViolation.
- TerminateInstances: `shutting-down` for `strict.SECONDS`, then `terminated`; the network
  interfaces made at launch keep their subnet until then, and go with the instance.

Test hooks:
- `nat-gateway-failed` {"id": "nat-..."}: the NAT gateway goes to `failed` (AWS's FailureCode
  and FailureMessage), releasing its interface and address as AWS does.
- `hold-address` {"allocationId": "eipalloc-...", "seconds": 3}: the address stays associated
  with an interface for that long (AWS keeps a NAT gateway's address mapped a while after the
  gateway reports `deleted`).
"""

import copy
import hashlib

from moto.core.responses import ActionResult
from moto.ec2.exceptions import DependencyViolationError, EC2ClientError, InvalidParameterValue
from moto.ec2.models import (
    elastic_ip_addresses,
    elastic_network_interfaces,
    instances,
    security_groups,
    subnets,
    vpcs,
)
from moto.ec2.models.nat_gateways import NatGateway, NatGatewayBackend
from moto.ec2.responses.launch_templates import LaunchTemplates
from moto.ec2.responses.nat_gateways import NatGateways
from moto.ec2.utils import random_private_ip

import strict

# --- Client tokens -------------------------------------------------------------------------

# (account, region, action, token) -> (fingerprint of the other parameters, earlier answer).
_TOKENS = {}

# Source: CreateNatGateway, "ClientToken ... Constraint: Maximum 64 ASCII characters."
# CreateLaunchTemplate and CreateLaunchTemplateVersion: "Constraint: Maximum 128 ASCII
# characters." (EC2 API reference, request parameters).
TOKEN_LIMITS = {
    "CreateNatGateway": 64,
    "CreateLaunchTemplate": 128,
    "CreateLaunchTemplateVersion": 128,
}


class IdempotentParameterMismatch(EC2ClientError):
    """Source: "Ensuring idempotency in Amazon EC2 API requests": "If you retry a request with
    the same client token, but change one or more of the API parameters, the
    IdempotentParameterMismatch error is returned." Message as EC2 words it (quoted in
    ubicloud/ubicloud#5898)."""

    def __init__(self):
        super().__init__(
            "IdempotentParameterMismatch",
            "Arguments on this idempotent request are inconsistent with arguments used in "
            "previous request(s).",
        )


def _fingerprint(response):
    items = sorted(
        (key, tuple(value) if isinstance(value, list) else value)
        for key, value in response.querystring.items()
        if key not in ("ClientToken", "Action", "Version")
    )
    return hashlib.sha256(repr(items).encode()).hexdigest()


def _idempotent(action, create, replay):
    """Wraps a response method: `create(self)` makes the resource and returns
    `(answer, remembered)`; `replay(self, remembered)` answers a repeated request."""

    def handler(self):
        token = self._get_param("ClientToken")
        if not strict.ENABLED or not token:
            return create(self)[0]
        limit = TOKEN_LIMITS[action]
        if len(token) > limit or not token.isascii():
            # Source: the limit above; AWS answers a bad parameter value with
            # InvalidParameterValue (exact wording not documented).
            raise InvalidParameterValue(
                f"Value ({token}) for parameter clientToken is invalid. "
                f"Parameter length must not exceed {limit} ASCII characters."
            )
        key = (self.current_account, self.region, action, token)
        fingerprint = _fingerprint(self)
        with strict.LOCK:
            earlier = _TOKENS.get(key)
            if earlier is not None:
                if earlier[0] != fingerprint:
                    raise IdempotentParameterMismatch()
                # Source: "If you retry a request that completed successfully using the same
                # client token and the same parameters, the retry succeeds without performing
                # any further actions" — the earlier resource, whatever became of it.
                return replay(self, earlier[1])
            answer, remembered = create(self)
            _TOKENS[key] = (fingerprint, remembered)
            return answer

    return handler


_create_nat_gateway = NatGateways.create_nat_gateway


def _nat_create(self):
    answer = _create_nat_gateway(self)
    gateway = answer.result["NatGateway"]
    if strict.ENABLED:
        # Source: a NAT gateway's interface is requester-managed and in use while it lives
        # (VPC user guide, "NAT gateway basics").
        gateway._eni.status = "in-use"
    return answer, gateway.id


def _nat_replay(self, gateway_id):
    gateway = self.ec2_backend.nat_gateways[gateway_id]
    return ActionResult({"NatGateway": gateway, "ClientToken": self._get_param("ClientToken")})


NatGateways.create_nat_gateway = _idempotent("CreateNatGateway", _nat_create, _nat_replay)

_create_launch_template = LaunchTemplates.create_launch_template


def _template_create(self):
    answer = _create_launch_template(self)
    return answer, answer.result


def _template_replay(_self, result):
    return ActionResult(result)


LaunchTemplates.create_launch_template = _idempotent(
    "CreateLaunchTemplate", _template_create, _template_replay
)

_create_launch_template_version = LaunchTemplates.create_launch_template_version


def _version_create(self):
    answer = _create_launch_template_version(self)
    return answer, answer.result


LaunchTemplates.create_launch_template_version = _idempotent(
    "CreateLaunchTemplateVersion", _version_create, _template_replay
)

# --- NAT gateway states --------------------------------------------------------------------

strict.timed_status(NatGateway, "state")


def _release_nat(backend, gateway):
    """What AWS does once a NAT gateway is gone or failed: its address is disassociated and
    its interface removed."""
    eni = getattr(gateway, "_eni", None)
    if eni is None:
        return
    for address in list(backend.addresses):
        if address.eni is eni:
            backend.disassociate_address(address=address.public_ip)
    backend.enis.pop(eni.id, None)
    gateway._eni = None


_delete_nat_gateway = NatGatewayBackend.delete_nat_gateway


def delete_nat_gateway(self, nat_gateway_id):
    """Source: DeleteNatGateway, "Deletes the specified NAT gateway. Deleting a public NAT
    gateway disassociates its Elastic IP address, but does not release the address"; the
    gateway reports `deleting` until it is `deleted` (NatGateway.State)."""
    if not strict.ENABLED:
        return _delete_nat_gateway(self, nat_gateway_id)
    gateway = self.nat_gateways.get(nat_gateway_id)
    if gateway is None:
        return _delete_nat_gateway(self, nat_gateway_id)
    with strict.LOCK:
        if gateway.state in ("deleting", "deleted"):
            return gateway
        if gateway.state == "failed":
            gateway.state = "deleted"
            return gateway
        strict.transition(gateway, "deleting", "deleted")
        strict.later(strict.SECONDS, _release_nat, self, gateway)
    return gateway


NatGatewayBackend.delete_nat_gateway = delete_nat_gateway


@strict.control("nat-gateway-failed")
def _nat_gateway_failed(body):
    """Source: NatGateway.FailureCode/FailureMessage (EC2 API reference): a NAT gateway that
    could not be created is `failed`, e.g. "Gateway.NotAttached"."""
    from moto.ec2.models import ec2_backends

    gateway_id = body["id"]
    for regions in ec2_backends.values():
        for backend in regions.values():
            gateway = backend.nat_gateways.get(gateway_id)
            if gateway is not None:
                _release_nat(backend, gateway)
                gateway.state = "failed"
                gateway.failure_code = body.get("failureCode", "InternalError")
                gateway.failure_message = body.get(
                    "failureMessage",
                    "Network interface created and used internally by this NAT gateway is "
                    "in an invalid state. Please try again.",
                )
                return {"id": gateway_id, "state": "failed"}
    raise KeyError(gateway_id)


@strict.control("hold-address")
def _hold_address(body):
    """Keeps an Elastic IP associated with a fresh interface for `seconds` (AWS keeps a deleted
    NAT gateway's address mapped for a while; anchor: eformat/sno-for-100#5, "the EIP can't be
    released until it is totally gone")."""
    from moto.ec2.models import ec2_backends

    allocation_id = body["allocationId"]
    seconds = float(body.get("seconds", 3))
    for regions in ec2_backends.values():
        for backend in regions.values():
            found = [a for a in backend.addresses if a.allocation_id == allocation_id]
            if not found:
                continue
            address = found[0]
            subnet = next(iter(backend.describe_subnets()), None)
            eni = backend.create_network_interface(subnet, random_private_ip())
            eni.status = "in-use"
            if address.association_id:
                backend.disassociate_address(address=address.public_ip)
            backend.associate_address(eni=eni, allocation_id=allocation_id)

            def release(backend=backend, address=address, eni=eni):
                if address.eni is eni:
                    backend.disassociate_address(address=address.public_ip)
                backend.enis.pop(eni.id, None)

            strict.later(seconds, release)
            return {"allocationId": allocation_id, "interface": eni.id}
    raise KeyError(allocation_id)


# --- Dependencies ---------------------------------------------------------------------------

_release_address = elastic_ip_addresses.ElasticAddressBackend.release_address


def release_address(self, address=None, allocation_id=None):
    """Source: anchors scylladb/scylla-cluster-tests#2299 and genevieve/leftovers#16:
    "InvalidIPAddress.InUse: Address 63.34.195.214 is in use." while it is associated."""
    if strict.ENABLED:
        found = [
            a
            for a in self.addresses
            if (address and a.public_ip == address)
            or (allocation_id and a.allocation_id == allocation_id)
        ]
        if found and found[0].association_id:
            raise EC2ClientError(
                "InvalidIPAddress.InUse", f"Address {found[0].public_ip} is in use."
            )
    return _release_address(self, address=address, allocation_id=allocation_id)


elastic_ip_addresses.ElasticAddressBackend.release_address = release_address

_delete_network_interface = elastic_network_interfaces.NetworkInterfaceBackend.delete_network_interface


def delete_network_interface(self, eni_id):
    """Source: DeleteNetworkInterface, "You must detach the network interface before you can
    delete it"; EC2 error code InvalidNetworkInterface.InUse ("The specified network interface
    is in use", EC2 API reference, Error codes)."""
    if strict.ENABLED:
        eni = self.enis.get(eni_id)
        if eni is not None and eni.status == "in-use":
            raise EC2ClientError(
                "InvalidNetworkInterface.InUse",
                f"Interface: [{eni_id}] in use.",
            )
    return _delete_network_interface(self, eni_id)


elastic_network_interfaces.NetworkInterfaceBackend.delete_network_interface = (
    delete_network_interface
)

_delete_subnet = subnets.SubnetBackend.delete_subnet


def delete_subnet(self, subnet_id):
    """Source: DeleteSubnet, "You must terminate all running instances in the subnet before
    you can delete the subnet"; EC2 answers DependencyViolation "The subnet '<id>' has
    dependencies and cannot be deleted." while any network interface is in it."""
    if strict.ENABLED:
        with strict.LOCK:
            if any(
                getattr(eni.subnet, "id", None) == subnet_id for eni in self.enis.values()
            ):
                raise DependencyViolationError(
                    f"The subnet '{subnet_id}' has dependencies and cannot be deleted."
                )
    return _delete_subnet(self, subnet_id)


subnets.SubnetBackend.delete_subnet = delete_subnet

_delete_vpc = vpcs.VPCBackend.delete_vpc


def delete_vpc(self, vpc_id):
    """Source: DeleteVpc, "You must detach or delete all gateways and resources that are
    associated with the VPC before you can delete it ... delete all security groups associated
    with the VPC (except the default one)"; DependencyViolation "The vpc '<id>' has
    dependencies and cannot be deleted." (moto checks only subnets and route tables)."""
    if strict.ENABLED:
        groups = self.groups.get(vpc_id, {})
        extra = [g for g in groups.values() if g.name != "default"]
        gateways = [
            g
            for g in self.internet_gateways.values()
            if g.vpc is not None and g.vpc.id == vpc_id
        ]
        if extra or gateways:
            raise DependencyViolationError(
                f"The vpc '{vpc_id}' has dependencies and cannot be deleted."
            )
    return _delete_vpc(self, vpc_id)


vpcs.VPCBackend.delete_vpc = delete_vpc

_delete_security_group = security_groups.SecurityGroupBackend.delete_security_group


def delete_security_group(self, name=None, group_id=None):
    """Source: DeleteSecurityGroup, "If you attempt to delete a security group that is
    associated with an instance or network interface, is referenced by another security group
    in the same VPC, or has a VPC association, the operation fails with DependencyViolation."
    (moto deletes it anyway, leaving rules that name a group that is gone)."""
    if strict.ENABLED and group_id:
        for groups in self.groups.values():
            for group in groups.values():
                if group.id == group_id:
                    continue
                for rule in [*group.ingress_rules, *group.egress_rules]:
                    if (rule.source_group or {}).get("GroupId") == group_id:
                        raise DependencyViolationError(
                            f"resource {group_id} has a dependent object"
                        )
        for eni in self.enis.values():
            if any(getattr(g, "id", g) == group_id for g in eni.group_set):
                raise DependencyViolationError(f"resource {group_id} has a dependent object")
    return _delete_security_group(self, name=name, group_id=group_id)


security_groups.SecurityGroupBackend.delete_security_group = delete_security_group


# --- Instances ------------------------------------------------------------------------------

_prep_nics = instances.Instance.prep_nics


def prep_nics(self, nic_spec, *args, **kwargs):
    """Source: RunInstances, InstanceNetworkInterfaceSpecification.DeleteOnTermination: "If you
    are creating a network interface when launching an instance, the default is true" (moto
    5.2.1 keeps the interfaces it makes at launch after the instance terminates, so they block
    their subnet for ever)."""
    explicit = {
        int(n.get("DeviceIndex", 0))
        for n in (nic_spec or [])
        if n.get("NetworkInterfaceId") or "DeleteOnTermination" in n
    }
    result = _prep_nics(self, nic_spec, *args, **kwargs)
    if strict.ENABLED:
        for index, eni in self.nics.items():
            if index not in explicit:
                eni.delete_on_termination = True
    return result


instances.Instance.prep_nics = prep_nics

_terminate = instances.Instance.terminate


def terminate(self):
    """Source: EC2 User Guide, "Instance state changes": a terminated instance is first
    `shutting-down` (code 32), then `terminated` (code 48); its network interfaces are removed
    with it (those deleted on termination), so its subnet stays in use until then."""
    if not strict.ENABLED or self._state.name in ("shutting-down", "terminated"):
        return _terminate(self) if not strict.ENABLED else copy.copy(self._state)
    previous = copy.copy(self._state)
    self._state.name = "shutting-down"
    self._state.code = 32
    strict.later(strict.SECONDS, _terminated, self)
    return previous


def _terminated(instance):
    # AWS detaches the interfaces itself; the in-use rule above is for callers.
    for eni in instance.nics.values():
        eni.status = "available"
    _terminate(instance)


instances.Instance.terminate = terminate
