# Deleting or replacing the EKS control plane needs an explicit yes from the pull request:
# the workflow passes the label `allow-cluster-delete` as
# `--policy-param allowClusterDelete=true`.
package main

import rego.v1

deny_control_plane_delete contains {"msg": msg, "resource": change.resource} if {
	some change in input.plan.changes
	change.resource == "cluster"
	change.kind in {"delete", "replace"}
	object.get(input.params, "allowClusterDelete", "false") != "true"
	msg := sprintf(
		"the plan would %s the EKS control plane of %s: label the pull request `allow-cluster-delete` (--policy-param allowClusterDelete=true) if that is meant",
		[change.kind, input.plan.cluster],
	)
}
