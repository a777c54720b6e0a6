"""Strict IPv6: the rules AWS enforces on dual-stack VPCs and IPv6 clusters that moto 5.2.1
skips, so that ekspec's order of calls meets what AWS does.

Rules (each does nothing unless `strict.ENABLED`):
- An Amazon-provided IPv6 block (CreateVpc or AssociateVpcCidrBlock with
  AmazonProvidedIpv6CidrBlock) is `associating` for `strict.SECONDS`, then `associated`.
- A subnet's IPv6 block (CreateSubnet Ipv6CidrBlock, AssociateSubnetCidrBlock) is a /64 of an
  IPv6 block the VPC has (associated): InvalidParameterValue otherwise.
- ModifySubnetAttribute AssignIpv6AddressOnCreation=true on a subnet without an IPv6 block:
  InvalidParameterValue.
- CreateRoute to an IPv6 destination through a NAT gateway: InvalidParameterValue; to an IPv6
  destination the table already routes: RouteAlreadyExists (moto overwrites it).
- CreateEgressOnlyInternetGateway remembers its ClientToken as the other EC2 creates do.
- DeleteVpc while an egress-only internet gateway is attached: DependencyViolation.
- EKS CreateCluster with ipFamily ipv6 and a subnet without an IPv6 block, or with an IP family
  EKS does not know: InvalidParameterException. UpdateClusterConfig cannot change the IP
  family: InvalidParameterException.
"""

import ipaddress

import strict
import strict_ec2
from moto.core.responses import ActionResult
from moto.ec2.exceptions import DependencyViolationError, EC2ClientError
from moto.ec2.models import ec2_backends, route_tables, subnets, vpcs
from moto.ec2.responses.egress_only_internet_gateways import EgressOnlyInternetGateway
from moto.eks import models
from moto.eks.exceptions import InvalidParameterException

# --- The VPC's IPv6 block -------------------------------------------------------------------

_associate_vpc_cidr_block = vpcs.VPC.associate_vpc_cidr_block


def _associated(association):
    association["cidr_block_state"]["state"] = "associated"


def associate_vpc_cidr_block(self, cidr_block, amazon_provided_ipv6_cidr_block=False, *args, **kwargs):
    """Source: EC2 API reference, VpcCidrBlockState: "The state of the CIDR block. Valid
    Values: associating | associated | disassociating | disassociated | failing | failed";
    AssociateVpcCidrBlock answers the block `associating` (moto stores it `associated` at
    once). terraform-provider-aws waits for `associated` before using the block
    (aws_vpc_ipv6_cidr_block_association)."""
    association = _associate_vpc_cidr_block(
        self, cidr_block, amazon_provided_ipv6_cidr_block, *args, **kwargs
    )
    if strict.ENABLED and amazon_provided_ipv6_cidr_block:
        association["cidr_block_state"]["state"] = "associating"
        seconds = _ASSOCIATING["seconds"] or strict.SECONDS
        strict.later(seconds, _associated, association)
    return association


_ASSOCIATING = {"seconds": None}


@strict.control("vpc-ipv6-associating")
def _vpc_ipv6_associating(body):
    """Test hook: the Amazon-provided IPv6 blocks associated from now on stay `associating`
    for `seconds` (AWS gives no bound on it), so a test can act while one is."""
    _ASSOCIATING["seconds"] = float(body["seconds"])


vpcs.VPC.associate_vpc_cidr_block = associate_vpc_cidr_block


def _vpc_ipv6_blocks(vpc):
    """The IPv6 blocks that are the VPC's (associated)."""
    return [
        ipaddress.ip_network(a["cidr_block"])
        for a in vpc.get_cidr_block_association_set(ipv6=True)
        if a["cidr_block_state"]["state"] == "associated"
    ]


def _check_subnet_block(backend, vpc_id, block):
    """Source: anchor hashicorp/terraform-provider-aws#28775, AWS answering a subnet IPv6
    block that is not a /64 with "InvalidParameterValue: invalid value for parameter
    ipv6-cidr-block: 2600:1f16:c6:ff10::/60"; VPC user guide, "IPv6 VPC CIDR blocks": a
    subnet's IPv6 block is a /64 of the VPC's block (the same answer is given for one outside
    it)."""
    try:
        network = ipaddress.IPv6Network(block)
    except ValueError:
        network = None
    vpc = backend.get_vpc(vpc_id)
    inside = network is not None and any(network.subnet_of(b) for b in _vpc_ipv6_blocks(vpc))
    if network is None or network.prefixlen != 64 or not inside:
        raise EC2ClientError(
            "InvalidParameterValue", f"invalid value for parameter ipv6-cidr-block: {block}"
        )


_create_subnet = subnets.SubnetBackend.create_subnet


def create_subnet(self, vpc_id, cidr_block, ipv6_cidr_block=None, *args, **kwargs):
    if strict.ENABLED and ipv6_cidr_block:
        _check_subnet_block(self, vpc_id, ipv6_cidr_block)
    return _create_subnet(self, vpc_id, cidr_block, ipv6_cidr_block, *args, **kwargs)


subnets.SubnetBackend.create_subnet = create_subnet

_associate_subnet_cidr_block = subnets.SubnetBackend.associate_subnet_cidr_block


def associate_subnet_cidr_block(self, subnet_id, ipv6_cidr_block):
    if strict.ENABLED:
        subnet = self.get_subnet(subnet_id)
        _check_subnet_block(self, subnet.vpc_id, ipv6_cidr_block)
    return _associate_subnet_cidr_block(self, subnet_id, ipv6_cidr_block)


subnets.SubnetBackend.associate_subnet_cidr_block = associate_subnet_cidr_block

_modify_subnet_attribute = subnets.SubnetBackend.modify_subnet_attribute


def modify_subnet_attribute(self, subnet_id, attr_name, attr_value):
    """Source: anchor terraform-aws-modules/terraform-aws-vpc#735: "InvalidParameterValue:
    Invalid value 'true' for assign-ipv6-address-on-creation. Cannot set
    assign-ipv6-address-on-creation to true unless the subnet (subnet-123) has an IPv6 CIDR
    block associated with it." """
    if (
        strict.ENABLED
        and attr_name == "assign_ipv6_address_on_creation"
        and str(attr_value).lower() == "true"
        and not self.get_subnet(subnet_id).ipv6_cidr_block_association_set
    ):
        raise EC2ClientError(
            "InvalidParameterValue",
            "Invalid value 'true' for assign-ipv6-address-on-creation. Cannot set "
            "assign-ipv6-address-on-creation to true unless the subnet "
            f"({subnet_id}) has an IPv6 CIDR block associated with it.",
        )
    return _modify_subnet_attribute(self, subnet_id, attr_name, attr_value)


subnets.SubnetBackend.modify_subnet_attribute = modify_subnet_attribute

# --- Routes ---------------------------------------------------------------------------------

_create_route = route_tables.RouteBackend.create_route


def create_route(self, route_table_id, destination_cidr_block, destination_ipv6_cidr_block=None, *args, **kwargs):
    """Sources: anchor eksctl-io/eksctl#4603, "An interface that is part of a NAT gateway
    cannot be the next hop for an IPv6 destination CIDR block or IPv6 prefix list. (Service:
    AmazonEC2; Status Code: 400; Error Code: InvalidParameterValue"; CreateRoute answers an
    existing destination with RouteAlreadyExists, "The route identified by <destination>
    already exists" (moto's own RouteAlreadyExistsError wording, which it raises for IPv4
    only)."""
    if strict.ENABLED and destination_ipv6_cidr_block:
        if kwargs.get("nat_gateway_id"):
            raise EC2ClientError(
                "InvalidParameterValue",
                "An interface that is part of a NAT gateway cannot be the next hop for an IPv6 "
                "destination CIDR block or IPv6 prefix list.",
            )
        table = self.get_route_table(route_table_id)
        if any(
            r.destination_ipv6_cidr_block == destination_ipv6_cidr_block
            for r in table.routes
        ):
            raise EC2ClientError(
                "RouteAlreadyExists",
                f"The route identified by {destination_ipv6_cidr_block} already exists",
            )
    return _create_route(
        self, route_table_id, destination_cidr_block, destination_ipv6_cidr_block, *args, **kwargs
    )


route_tables.RouteBackend.create_route = create_route

# --- Egress-only internet gateways ----------------------------------------------------------

# Source: "Ensuring idempotency in Amazon EC2 API requests": "A client token is a unique,
# case-sensitive string of up to 64 ASCII characters."
strict_ec2.TOKEN_LIMITS["CreateEgressOnlyInternetGateway"] = 64

_create_eigw = EgressOnlyInternetGateway.create_egress_only_internet_gateway


def _eigw_create(self):
    answer = _create_eigw(self)
    return answer, answer.result["EgressOnlyInternetGateway"].id


def _eigw_replay(self, gateway_id):
    gateways = self.ec2_backend.describe_egress_only_internet_gateways([gateway_id])
    return ActionResult(
        {
            "EgressOnlyInternetGateway": gateways[0] if gateways else None,
            "ClientToken": self._get_param("ClientToken"),
        }
    )


EgressOnlyInternetGateway.create_egress_only_internet_gateway = strict_ec2._idempotent(
    "CreateEgressOnlyInternetGateway", _eigw_create, _eigw_replay
)

_delete_vpc = vpcs.VPCBackend.delete_vpc


def delete_vpc(self, vpc_id):
    """Source: DeleteVpc, "You must detach or delete all gateways and resources that are
    associated with the VPC before you can delete it"; DependencyViolation "The vpc '<id>' has
    dependencies and cannot be deleted." (moto does not check egress-only gateways)."""
    if strict.ENABLED and any(
        g.vpc_id == vpc_id for g in self.egress_only_internet_gateways.values()
    ):
        raise DependencyViolationError(
            f"The vpc '{vpc_id}' has dependencies and cannot be deleted."
        )
    return _delete_vpc(self, vpc_id)


vpcs.VPCBackend.delete_vpc = delete_vpc

# --- EKS ------------------------------------------------------------------------------------

IP_FAMILIES = ("ipv4", "ipv6")

_create_cluster = models.EKSBackend.create_cluster


def create_cluster(self, name, role_arn, resources_vpc_config, **kwargs):
    """Source: EKS API reference, KubernetesNetworkConfigRequest.ipFamily: "If you specify
    ipv6, the VPC and subnets that you specify for cluster creation must have both IPv4 and
    IPv6 CIDR blocks assigned to them"; IpFamily's valid values are `ipv4 | ipv6`. EKS answers
    a bad parameter with InvalidParameterException, HTTP 400 (CreateCluster, Errors); the
    message wording here is ekspec's, AWS does not document it."""
    if strict.ENABLED:
        family = (kwargs.get("kubernetes_network_config") or {}).get("ipFamily")
        if family is not None and family not in IP_FAMILIES:
            raise InvalidParameterException(
                clusterName=name,
                message=f"Unsupported ipFamily {family}: valid values are ipv4 and ipv6",
            )
        if family == "ipv6":
            ec2 = ec2_backends[self.account_id][self.region_name]
            for subnet_id in (resources_vpc_config or {}).get("subnetIds") or []:
                subnet = ec2.get_subnet(subnet_id)
                if not subnet.ipv6_cidr_block_association_set:
                    raise InvalidParameterException(
                        clusterName=name,
                        message=f"Subnet {subnet_id} has no IPv6 CIDR block: an ipv6 "
                        "cluster's subnets must have both IPv4 and IPv6 CIDR blocks",
                    )
    return _create_cluster(self, name, role_arn, resources_vpc_config, **kwargs)


models.EKSBackend.create_cluster = create_cluster

_update_cluster_config = models.EKSBackend.update_cluster_config


def update_cluster_config(self, name, resources_vpc_config, *args, **kwargs):
    """Source: KubernetesNetworkConfigRequest.ipFamily: "You can only specify an IP family
    when you create a cluster and can't change this value once the cluster is created." """
    cluster = self.clusters.get(name)
    family = (kwargs.get("kubernetes_network_config") or {}).get("ipFamily")
    if (
        strict.ENABLED
        and cluster is not None
        and family is not None
        and family != cluster.kubernetes_network_config.get("ipFamily")
    ):
        raise InvalidParameterException(
            clusterName=name,
            message="The IP family of a cluster cannot be changed after it is created",
        )
    return _update_cluster_config(self, name, resources_vpc_config, *args, **kwargs)


models.EKSBackend.update_cluster_config = update_cluster_config
