"""What moto 5.2.1 gets wrong of IPv6 networks and clusters, filled in as AWS documents it
(always on: these are answers' shapes, not rules; the rules are in strict_ipv6.py).

- DescribeSubnets nests a subnet's IPv6 block state inside itself (`{"State": "{'State':
  'associated'}"}`); AWS answers `Ipv6CidrBlockState.State = associated`.
- DescribeEgressOnlyInternetGateways ignores its Filters ("The Filters-argument is not yet
  supported"); the EC2 API reference lists `egress-only-internet-gateway-id`, `tag:<key>` and
  `tag-key`.
- EKS: DescribeCluster's kubernetesNetworkConfig is what the request sent, or moto's default
  without an IP family; AWS always reports `ipFamily`, and for an IPv6 cluster the
  `serviceIpv6Cidr` it picked from the unique local range (KubernetesNetworkConfigResponse:
  "Kubernetes assigns services IPv6 addresses from the unique local address range
  (fc00::/7)"). UpdateClusterConfig replaces the whole config in moto; AWS changes only what
  the request names.
"""

import ipaddress

from moto.core.responses import ActionResult
from moto.eks import models
from moto.ec2.models import subnets
from moto.ec2.responses.egress_only_internet_gateways import EgressOnlyInternetGateway
from moto.moto_api._internal import mock_random as random


def _subnet_ipv6_associations(self):
    return [
        {
            "ipv6CidrBlock": association["ipv6CidrBlock"],
            "associationId": association["associationId"],
            "ipv6CidrBlockState": {"State": association["ipv6CidrBlockState"]["State"]},
        }
        for association in self.ipv6_cidr_block_associations.values()
        if association["ipv6CidrBlockState"]["State"] == "associated"
    ]


subnets.Subnet.ipv6_cidr_block_association_set = property(_subnet_ipv6_associations)


def _matches(gateway, name, values):
    tags = {t["key"]: t["value"] for t in gateway.get_tags()}
    if name == "egress-only-internet-gateway-id":
        return gateway.id in values
    if name == "tag-key":
        return any(key in tags for key in values)
    if name.startswith("tag:"):
        return tags.get(name[len("tag:"):]) in values
    return True


_describe = EgressOnlyInternetGateway.describe_egress_only_internet_gateways


def describe_egress_only_internet_gateways(self):
    answer = _describe(self)
    filters = self._filters_from_querystring()
    if filters:
        gateways = answer.result["EgressOnlyInternetGateways"]
        answer.result["EgressOnlyInternetGateways"] = [
            g for g in gateways if all(_matches(g, n, v) for n, v in filters.items())
        ]
    return answer


EgressOnlyInternetGateway.describe_egress_only_internet_gateways = (
    describe_egress_only_internet_gateways
)


def network_config_response(request):
    """The kubernetesNetworkConfig AWS reports for a cluster created with `request`."""
    request = dict(request or {})
    family = request.get("ipFamily") or "ipv4"
    if family == "ipv6":
        # A /108 of fd00::/8, as EKS picks one per cluster.
        prefix = random.getrandbits(40)
        cidr = ipaddress.IPv6Network(((0xFD << 120) | (prefix << 80), 108))
        return {"serviceIpv6Cidr": str(cidr), "ipFamily": "ipv6"}
    return {
        "serviceIpv4Cidr": request.get("serviceIpv4Cidr") or "172.20.0.0/16",
        "ipFamily": family,
        **{k: v for k, v in request.items() if k not in ("serviceIpv4Cidr", "ipFamily")},
    }


_cluster_init = models.Cluster.__init__


def cluster_init(self, *args, **kwargs):
    _cluster_init(self, *args, **kwargs)
    requested = kwargs.get("kubernetes_network_config")
    self.kubernetes_network_config = network_config_response(requested)


models.Cluster.__init__ = cluster_init

_update_cluster_config = models.EKSBackend.update_cluster_config


def update_cluster_config(self, name, resources_vpc_config, *args, **kwargs):
    cluster = self.clusters.get(name)
    change = kwargs.get("kubernetes_network_config")
    if cluster is not None and change:
        kwargs["kubernetes_network_config"] = {**cluster.kubernetes_network_config, **change}
    return _update_cluster_config(self, name, resources_vpc_config, *args, **kwargs)


models.EKSBackend.update_cluster_config = update_cluster_config
