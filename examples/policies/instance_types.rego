# Node groups use the instance families the platform team has approved.
package main

import rego.v1

allowed_families := {"c6i", "c7i", "m6a", "m6i", "m7i", "r6i", "r7i", "t3"}

deny_instance_type contains {"msg": msg, "resource": sprintf("nodegroup/%s", [group.name])} if {
	some group in input.spec.spec.nodeGroups
	some instance_type in group.instanceTypes
	family := split(instance_type, ".")[0]
	not family in allowed_families
	msg := sprintf(
		"node group %s: instance type %s is not approved (approved families: %s)",
		[group.name, instance_type, concat(", ", sort(allowed_families))],
	)
}
