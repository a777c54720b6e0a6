//! Self-managed `nodeGroups` as EKS managed node groups: the fields both kinds share are read
//! as a managed node group's; instance types and spot come from `instancesDistribution`.

use serde_json::Value;

use super::model::{InstancesDistribution, ManagedNodeGroup, Other};
use super::unsupported::{SELF_MANAGED_ONLY, Section};
use super::{Converter, ImportError, field_path};
use crate::spec::{ClusterSpec, FieldPath, NodeGroupSpec};

/// What `instancesDistribution` says about capacity.
enum Capacity {
    /// No distribution, or only on-demand.
    OnDemand,
    /// Only spot (no on-demand base, 0% on-demand above it).
    Spot,
    /// Both: a managed node group is one or the other.
    Mixed { base: u32, percentage: u32 },
}

impl Converter<'_> {
    /// Converts every self-managed node group into a managed one after the managed ones, so
    /// that a name already taken by a managed node group is known.
    pub(super) fn self_managed_node_groups(
        &mut self,
        groups: &[Value],
        spec: &mut ClusterSpec,
    ) -> Result<(), ImportError> {
        let path = FieldPath::root().key("nodeGroups");
        for (i, value) in groups.iter().enumerate() {
            let group_path = path.index(i);
            let Value::Object(fields) = value else {
                self.lost(
                    &group_path,
                    "not a mapping, so not a node group (eksctl rejects it too)",
                );
                continue;
            };
            if let Some(family) = fields
                .get("amiFamily")
                .and_then(Value::as_str)
                .filter(|family| family.starts_with("Windows"))
            {
                let name = fields
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                self.lost(
                    &group_path,
                    format!("self-managed node group `{name}` runs {family}, and ekspec's node groups run Linux or Bottlerocket only: it is not carried over, as its Windows pods would not run on Linux nodes"),
                );
                continue;
            }
            let converted = self.self_managed_node_group(fields, &group_path, spec)?;
            self.node_group_origin(&converted.name, &group_path);
            spec.node_groups.push(converted);
        }
        Ok(())
    }

    fn self_managed_node_group(
        &mut self,
        fields: &Other,
        path: &FieldPath,
        spec: &ClusterSpec,
    ) -> Result<NodeGroupSpec, ImportError> {
        let mut shared = fields.clone();
        let mut only = Other::new();
        for key in SELF_MANAGED_ONLY {
            if let Some(value) = shared.remove(*key) {
                only.insert((*key).to_owned(), value);
            }
        }
        if only.get("containerRuntime").and_then(Value::as_str) == Some("containerd") {
            only.remove("containerRuntime");
            self.assumed(
                &path.key("containerRuntime"),
                "the EKS-optimized AMIs run containerd, as asked",
            );
        }
        let distribution = shared.remove("instancesDistribution");
        let mut group: ManagedNodeGroup = serde_path_to_error::deserialize(Value::Object(shared))
            .map_err(|error| {
            let field = path.join(&field_path(error.path()));
            ImportError::new(
                self.tree.locate(&field).0,
                format!("{field}: {}", error.inner()),
            )
        })?;
        let capacity = match distribution {
            Some(value) => {
                let distribution_path = path.key("instancesDistribution");
                let distribution: InstancesDistribution = serde_path_to_error::deserialize(value)
                    .map_err(|error| {
                    let field = distribution_path.join(&field_path(error.path()));
                    ImportError::new(
                        self.tree.locate(&field).0,
                        format!("{field}: {}", error.inner()),
                    )
                })?;
                self.instances_distribution(&distribution, &mut group, &distribution_path)
            }
            None => Capacity::OnDemand,
        };
        if matches!(capacity, Capacity::Spot) {
            group.spot = Some(true);
        }
        let name = self.required(&group.name, &path.key("name"))?;
        let mut converted = self.node_group(&group, path)?;
        self.others(path, &only, Section::NodeGroup);
        converted.name = self.free_node_group_name(&name, spec, path);
        let capacity = match capacity {
            Capacity::Spot => "spot, from instancesDistribution",
            Capacity::OnDemand => "on-demand",
            Capacity::Mixed { .. } => {
                "on-demand only, as the on-demand and spot mix of instancesDistribution cannot be expressed"
            }
        };
        let scaling = converted.scaling();
        self.assumed(
            path,
            format!(
                "self-managed node group `{name}` becomes a managed node group: EKS launches, drains and updates its nodes ({}, {capacity}, {} to {} nodes); the fields below that do not map are not carried over",
                converted.instance_types.join(", "),
                scaling.min,
                scaling.max,
            ),
        );
        Ok(converted)
    }

    /// Reads the instance types and the capacity of `instancesDistribution` into `group`.
    fn instances_distribution(
        &mut self,
        distribution: &InstancesDistribution,
        group: &mut ManagedNodeGroup,
        path: &FieldPath,
    ) -> Capacity {
        if let Some(types) = distribution
            .instance_types
            .clone()
            .filter(|t| !t.is_empty())
        {
            // `instanceType: mixed` is eksctl's placeholder next to a distribution.
            if group.instance_type.as_deref() == Some("mixed") {
                group.instance_type = None;
            }
            group.instance_types = Some(types);
        }
        let base = distribution.on_demand_base_capacity.unwrap_or(0);
        let percentage = distribution
            .on_demand_percentage_above_base_capacity
            .unwrap_or(100);
        let capacity = match (base, percentage) {
            (0, 0) => Capacity::Spot,
            (0, 100) => Capacity::OnDemand,
            (base, percentage) => Capacity::Mixed { base, percentage },
        };
        if let Capacity::Mixed { base, percentage } = capacity {
            self.lost(
                path,
                format!("mixed on-demand and spot capacity ({base} on-demand instances, then {percentage}% on-demand) cannot be expressed: a managed node group is all on-demand or all spot, and this one is written as on-demand: split it into an ON_DEMAND and a SPOT node group for the mix"),
            );
        }
        let mut unmapped = distribution.other.clone();
        if let Some(price) = distribution.max_price {
            unmapped.insert("maxPrice".to_owned(), Value::from(price));
        }
        if let Some(pools) = distribution.spot_instance_pools {
            unmapped.insert("spotInstancePools".to_owned(), Value::from(pools));
        }
        if let Some(strategy) = &distribution.spot_allocation_strategy {
            unmapped.insert(
                "spotAllocationStrategy".to_owned(),
                Value::from(strategy.clone()),
            );
        }
        match distribution.capacity_rebalance {
            Some(true) if matches!(capacity, Capacity::Spot) => self.assumed(
                &path.key("capacityRebalance"),
                "EKS managed node groups always use Capacity Rebalancing for spot capacity",
            ),
            Some(true) | None => {}
            Some(false) => {
                unmapped.insert("capacityRebalance".to_owned(), Value::Bool(false));
            }
        }
        self.others(path, &unmapped, Section::InstancesDistribution);
        capacity
    }

    /// `name`, or a name no node group of `spec` has (`NAME-unmanaged`, then numbered).
    fn free_node_group_name(&mut self, name: &str, spec: &ClusterSpec, path: &FieldPath) -> String {
        let taken = |candidate: &str| spec.node_groups.iter().any(|g| g.name == candidate);
        if !taken(name) {
            return name.to_owned();
        }
        let free = (1..)
            .map(|n| match n {
                1 => format!("{name}-unmanaged"),
                n => format!("{name}-unmanaged-{n}"),
            })
            .find(|candidate| !taken(candidate))
            .unwrap_or_default();
        self.assumed(
            &path.key("name"),
            format!("a node group `{name}` is already in spec.nodeGroups (from managedNodeGroups or an earlier entry): this one is written as `{free}`"),
        );
        free
    }
}
