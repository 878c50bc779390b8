package descriptor

import (
	"maps"
	"slices"

	"github.com/gantryhq/gantry/pkg/kind"
	"github.com/gantryhq/gantry/pkg/naming"
)

// DerivedNames lists the explicit AWS names the stacks of one stage set,
// for spec (the stage's effective spec): the stage's own (naming.StageNames)
// then each resource's, by resource name. Render checks them in this order
// and stops at the first bad one; lint reports them all.
func DerivedNames(service, stage string, spec *Spec, account string, regions []string) []naming.Derived {
	out := naming.StageNames(service, stage, spec.Compute.Port != nil, len(spec.Resources) > 0)
	for _, name := range slices.Sorted(maps.Keys(spec.Resources)) {
		r := spec.Resources[name]
		if r == nil || r.Settings == nil {
			continue
		}
		out = append(out, r.Settings.Names(kind.NameInput{Service: service, Stage: stage, Resource: name, Account: account, Regions: regions})...)
	}
	return out
}
