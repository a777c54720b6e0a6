# Every cluster names its owner and who pays: metadata.tags (ekspec puts them on every
# resource it makes).
package main

import rego.v1

required_tags := {"team", "cost-center"}

deny_required_tags contains {"msg": msg, "resource": "cluster"} if {
	some tag in required_tags
	not input.spec.metadata.tags[tag]
	msg := sprintf("metadata.tags.%s is required: every cluster names its %s", [tag, tag])
}
