# Spot capacity only for node groups labelled for batch work (workload: batch), which
# tolerate the two-minute interruption notice.
package main

import rego.v1

deny_spot_outside_batch contains {"msg": msg, "resource": sprintf("nodegroup/%s", [group.name])} if {
	some group in input.spec.spec.nodeGroups
	group.capacityType == "spot"
	object.get(group, ["labels", "workload"], "") != "batch"
	msg := sprintf(
		"node group %s uses spot capacity but is not labelled `workload: batch`",
		[group.name],
	)
}
