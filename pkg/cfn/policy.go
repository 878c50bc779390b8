package cfn

import (
	"encoding/json"
	"slices"
)

// AllowAllStackPolicy lets every update through: the policy to set for a
// deliberate data-loss deploy, before restoring the protective one.
const AllowAllStackPolicy = `{"Statement":[{"Effect":"Allow","Action":"Update:*","Principal":"*","Resource":"*"}]}`

type policyStatement struct {
	Effect    string `json:"Effect"`
	Action    any    `json:"Action"`
	Principal string `json:"Principal"`
	Resource  any    `json:"Resource"`
}

// StackPolicyDenyingReplacement returns a stack policy that allows every
// update except replacing or deleting the given resources (stateful ones:
// databases, caches, buckets). The output is deterministic: the IDs are
// sorted and duplicates dropped.
func StackPolicyDenyingReplacement(logicalIDs []string) string {
	statements := []policyStatement{{Effect: "Allow", Action: "Update:*", Principal: "*", Resource: "*"}}
	ids := slices.Compact(slices.Sorted(slices.Values(logicalIDs)))
	if len(ids) > 0 {
		resources := make([]string, len(ids))
		for i, id := range ids {
			resources[i] = "LogicalResourceId/" + id
		}
		statements = append(statements, policyStatement{
			Effect:    "Deny",
			Action:    []string{"Update:Replace", "Update:Delete"},
			Principal: "*",
			Resource:  resources,
		})
	}
	b, err := json.Marshal(map[string]any{"Statement": statements})
	if err != nil {
		panic(err) // cannot happen: plain strings and slices
	}
	return string(b)
}
