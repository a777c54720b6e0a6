# Clusters run a Kubernetes version in EKS standard support: extended support costs more
# per cluster hour. Warns 60 days before standard support ends, denies after.
# Dates: the EKS User Guide, "Understand the Kubernetes version lifecycle on EKS" (release
# calendar); add each new version as EKS publishes it.
package main

import rego.v1

standard_support_ends := {
	"1.28": "2024-11-26",
	"1.29": "2025-03-23",
	"1.30": "2025-07-23",
	"1.31": "2025-11-26",
	"1.32": "2026-03-23",
	"1.33": "2026-07-29",
	"1.34": "2026-12-02",
	"1.35": "2027-03-27",
}

version := input.spec.spec.kubernetesVersion

ends_ns := time.parse_ns("2006-01-02", standard_support_ends[version])

now_ns := time.parse_rfc3339_ns(input.now)

deny_extended_support contains {"msg": msg, "resource": "cluster"} if {
	now_ns >= ends_ns
	msg := sprintf(
		"Kubernetes %s left EKS standard support on %s: upgrade spec.kubernetesVersion (extended support is billed extra)",
		[version, standard_support_ends[version]],
	)
}

warn_extended_support_soon contains {"msg": msg, "resource": "cluster"} if {
	now_ns < ends_ns
	now_ns >= ends_ns - ((60 * 24) * 3600) * 1000000000
	msg := sprintf(
		"Kubernetes %s leaves EKS standard support on %s: plan the upgrade",
		[version, standard_support_ends[version]],
	)
}

warn_unknown_version contains {"msg": msg, "resource": "cluster"} if {
	not standard_support_ends[version]
	msg := sprintf("Kubernetes %s is not in this policy's release calendar: add its dates", [version])
}
