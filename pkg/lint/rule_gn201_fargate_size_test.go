package lint

import (
	"fmt"
	"testing"
)

func TestGN201FargateSize(t *testing.T) {
	compute := func(cpu, mem int) string { return fmt.Sprintf("compute:\n  cpu: %d\n  memory: %d\n", cpu, mem) }
	runRuleCases(t, "GN201", []ruleCase{
		{name: "valid 256/512", yaml: compute(256, 512)},
		{name: "valid 512/4096", yaml: compute(512, 4096)},
		{name: "valid 4096/30720", yaml: compute(4096, 30720)},
		{name: "valid 8192/20480", yaml: compute(8192, 20480)},
		{name: "valid 16384/122880", yaml: compute(16384, 122880)},
		{name: "memory too big for 256", yaml: compute(256, 4096), want: []at{{3, 11}}, msg: "use 512, 1024 or 2048"},
		{name: "memory off step", yaml: compute(1024, 3000), want: []at{{3, 11}}, msg: "use 2048 to 8192 in steps of 1024"},
		{name: "8192 steps of 4096", yaml: compute(8192, 17408), want: []at{{3, 11}}, msg: "16384 to 61440 in steps of 4096"},
		{name: "16384 steps of 8192", yaml: compute(16384, 36864), want: []at{{3, 11}}, msg: "32768 to 122880 in steps of 8192"},
		{name: "cpu not a size", yaml: compute(300, 1024), want: []at{{2, 8}}, msg: "cpu 300 is not a Fargate size; use 256, 512, 1024, 2048, 4096, 8192 or 16384"},
		{
			name: "stage override makes a bad pair",
			yaml: compute(256, 512) + "stages:\n  - name: prod\n    account: \"111122223333\"\n    regions: [us-east-1]\n" +
				"    overrides:\n      compute: {cpu: 1024}\n",
			want: []at{{3, 11}}, msg: `(in stage "prod", with its overrides)`,
		},
		{
			name: "stage override fixes memory",
			yaml: compute(256, 512) + "stages:\n  - name: prod\n    account: \"111122223333\"\n    regions: [us-east-1]\n" +
				"    overrides:\n      compute: {cpu: 1024, memory: 2048}\n",
		},
	})
}
