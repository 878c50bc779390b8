package lint

import (
	"iter"
	"maps"
	"slices"
)

// sidecarNames lists a spec's sidecars in file order.
func sidecarNames(v view) []string { return inFileOrder(v, "sidecars.", maps.Keys(v.Spec.Sidecars)) }

// jobNames lists a spec's jobs in file order.
func jobNames(v view) []string { return inFileOrder(v, "jobs.", maps.Keys(v.Spec.Jobs)) }

// inFileOrder sorts the names of a mapping at prefix by their line, so
// that a finding about two of them points at the later one.
func inFileOrder(v view, prefix string, keys iter.Seq[string]) []string {
	names := slices.Sorted(keys)
	slices.SortStableFunc(names, func(a, b string) int {
		return locate(v.Pos, prefix+a).Line - locate(v.Pos, prefix+b).Line
	})
	return names
}

func ruleSidecarSize() rule {
	return rule{
		RuleInfo: RuleInfo{
			ID: "GN601", Name: "sidecar-size", Severity: Error,
			Title: "sidecars leave the app container CPU and memory",
			Doc: "`compute.cpu` and `compute.memory` stay the task's size; each sidecar's cpu and memory are taken out " +
				"of it and the app container gets the rest. Sidecars that take all the CPU, or leave the app less " +
				"than the 6 MiB ECS gives a container, leave the app nothing to run on.",
			Example: Example{
				YAML:    "sidecars:\n  otel:\n    image: public.ecr.aws/aws-observability/aws-otel-collector:v0.43.1\n    cpu: 256\n    memory: 256\n",
				Message: "the sidecars reserve 256 of compute.cpu 256 CPU units, leaving the app container none; lower theirs or raise compute.cpu",
			},
		},
		check: func(c *checker) {
			c.eachSpec(func(v view) {
				cpu, mem := 0, 0
				for _, n := range sidecarNames(v) {
					sc := v.Spec.Sidecars[n]
					if sc == nil {
						continue
					}
					cpu, mem = cpu+sc.CPU, mem+sc.Memory
					p := "sidecars." + n
					switch {
					case has(v.Pos, "compute.cpu") && cpu >= v.Spec.Compute.CPU && has(v.Pos, p+".cpu"):
						v.report(value(v.Pos, p+".cpu"), "the sidecars reserve %d of compute.cpu %d CPU units, leaving the app container none; lower theirs or raise compute.cpu", cpu, v.Spec.Compute.CPU)
						return
					case has(v.Pos, "compute.memory") && v.Spec.Compute.Memory-mem < 6 && has(v.Pos, p+".memory"):
						v.report(value(v.Pos, p+".memory"), "the sidecars reserve %d of compute.memory %d MiB, leaving the app container %d (ECS gives a container at least 6); lower theirs or raise compute.memory", mem, v.Spec.Compute.Memory, max(0, v.Spec.Compute.Memory-mem))
						return
					}
				}
			})
		},
	}
}
