package lint

import (
	"fmt"
	"slices"
	"strconv"
)

// fargateMemory lists the memory sizes (MiB) Fargate allows for each CPU
// size, as AWS documents them for Linux tasks.
func fargateMemory(cpu int) []int {
	step := func(from, to, by int) []int {
		var out []int
		for m := from; m <= to; m += by {
			out = append(out, m)
		}
		return out
	}
	switch cpu {
	case 256:
		return []int{512, 1024, 2048}
	case 512:
		return step(1024, 4096, 1024)
	case 1024:
		return step(2048, 8192, 1024)
	case 2048:
		return step(4096, 16384, 1024)
	case 4096:
		return step(8192, 30720, 1024)
	case 8192:
		return step(16384, 61440, 4096)
	case 16384:
		return step(32768, 122880, 8192)
	}
	return nil
}

var fargateCPUs = []int{256, 512, 1024, 2048, 4096, 8192, 16384}

// describeSizes says "512, 1024 or 2048" for a short list and "2048 to 8192
// in steps of 1024" for a long one.
func describeSizes(ms []int) string {
	if len(ms) > 4 {
		return fmt.Sprintf("%d to %d in steps of %d", ms[0], ms[len(ms)-1], ms[1]-ms[0])
	}
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = strconv.Itoa(m)
	}
	return oneOf(s)
}

func ruleFargateSize() rule {
	return rule{
		RuleInfo: RuleInfo{
			ID: "GN201", Name: "fargate-size", Severity: Error,
			Title: "`compute.cpu` and `compute.memory` are a Fargate size",
			Doc: "Fargate runs only fixed CPU sizes, and each CPU size only a set of memory sizes. " +
				"A pair outside AWS's table fails when the task definition is registered, in the middle of a rollout.",
			Example: Example{
				YAML:    "compute:\n  cpu: 256\n  memory: 4096\n",
				Message: "memory 4096 MiB is not a Fargate size for cpu 256; use 512, 1024 or 2048",
			},
		},
		check: func(c *checker) {
			c.eachSpec(func(v view) {
				cpu, mem := v.Spec.Compute.CPU, v.Spec.Compute.Memory
				if !has(v.Pos, "compute.cpu") {
					return // missing: the loader reports it
				}
				allowed := fargateMemory(cpu)
				if allowed == nil {
					s := make([]string, len(fargateCPUs))
					for i, c := range fargateCPUs {
						s[i] = strconv.Itoa(c)
					}
					v.report(value(v.Pos, "compute.cpu"), "cpu %d is not a Fargate size; use %s", cpu, oneOf(s))
					return
				}
				if !has(v.Pos, "compute.memory") || slices.Contains(allowed, mem) {
					return
				}
				v.report(value(v.Pos, "compute.memory"), "memory %d MiB is not a Fargate size for cpu %d; use %s", mem, cpu, describeSizes(allowed))
			})
		},
	}
}
