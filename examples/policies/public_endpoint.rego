# A production cluster's API endpoint is not open to the whole internet.
# Production: metadata.tags.environment is "production".
package main

import rego.v1

production if input.spec.metadata.tags.environment == "production"

open_to_all := {"0.0.0.0/0", "::/0"}

deny_public_endpoint contains {"msg": msg, "resource": "cluster"} if {
	production
	input.spec.spec.endpoint.publicAccess
	some cidr in input.spec.spec.endpoint.publicAccessCidrs
	cidr in open_to_all
	msg := sprintf(
		"cluster %s is production: its public API endpoint may not be open to %s (list your networks in spec.endpoint.publicAccessCidrs, or set spec.endpoint.publicAccess: false)",
		[input.spec.metadata.name, cidr],
	)
}
