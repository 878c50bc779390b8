package descriptor

import (
	"time"

	"gopkg.in/yaml.v3"
)

// Sidecar is an extra container in the service's task: a log router, an
// OpenTelemetry collector, a proxy. Its cpu and memory come out of the
// task's size (compute.cpu and compute.memory), which stays the same.
type Sidecar struct {
	Image     string            `yaml:"image" required:"true" doc:"Container image with a tag or digest (a sidecar does not follow the service's version)."`
	CPU       int               `yaml:"cpu" required:"true" doc:"CPU units reserved for the sidecar, out of compute.cpu."`
	Memory    int               `yaml:"memory" required:"true" doc:"Memory in MiB reserved for the sidecar, out of compute.memory."`
	Port      *int              `yaml:"port" doc:"Container port (TCP) the sidecar listens on, if any."`
	Essential *bool             `yaml:"essential" doc:"The task stops when this container stops (default true)."`
	Command   []string          `yaml:"command" doc:"Overrides the image's command."`
	Env       map[string]string `yaml:"env" doc:"Plain environment variables; values may hold placeholders, as the service's."`
	Secrets   map[string]string `yaml:"secrets" doc:"Secret environment variables, as the service's."`
}

// Job is a task of the service's image at the deployed version, with the
// service's env and secrets and its own command: run on a schedule by
// EventBridge Scheduler, or (beforeDeploy) once in each region before the
// app stack changes.
type Job struct {
	Schedule     string   `yaml:"schedule" doc:"EventBridge Scheduler expression: cron(minutes hours day-of-month month day-of-week year) or rate(N unit)."`
	Timezone     string   `yaml:"timezone" doc:"IANA time zone of a cron schedule, such as Europe/Berlin (default UTC)."`
	Command      []string `yaml:"command" required:"true" doc:"The command the task runs."`
	CPU          int      `yaml:"cpu" doc:"Fargate CPU units (default compute.cpu)."`
	Memory       int      `yaml:"memory" doc:"Memory in MiB, a Fargate pair with cpu (default compute.memory)."`
	Timeout      Duration `yaml:"timeout" doc:"How long a run may take (default 1h); a release task or gantry run stops it then."`
	Retries      int      `yaml:"retries" doc:"How many times the scheduler retries a run it could not start (default 0, at most 5)."`
	BeforeDeploy bool     `yaml:"beforeDeploy" doc:"Run once in each region after the data stack and before the app stack changes; the rollout goes on only if it exits 0. Takes no schedule."`
}

// Patch is one RFC 6902 JSON Patch operation on a rendered stack: the way
// out for what the descriptor cannot say.
type Patch struct {
	Stack string     `yaml:"stack" required:"true" doc:"The stack patched: app or data."`
	Op    string     `yaml:"op" required:"true" doc:"add, remove, replace, move, copy or test."`
	Path  string     `yaml:"path" required:"true" doc:"JSON Pointer (RFC 6901) into the template, such as /Resources/Service/Properties/EnableExecuteCommand."`
	From  string     `yaml:"from" doc:"JSON Pointer of the value a move or copy takes."`
	Value *yaml.Node `yaml:"value" doc:"The value an add, replace or test uses: any JSON value, written as YAML."`
}

// Patch operations and the stacks they apply to.
var (
	PatchOps    = []string{"add", "remove", "replace", "move", "copy", "test"}
	PatchStacks = []string{"app", "data"}
)

// Defaults and limits of jobs.
const (
	DefaultJobTimeout = time.Hour
	MaxJobTimeout     = 24 * time.Hour
	MaxJobRetries     = 5
	// MaxPatches bounds a spec's patches (top level and a stage's together);
	// each is applied to a parsed template.
	MaxPatches = 100
)

// IsEssential reports whether the sidecar is essential (default true).
func (s *Sidecar) IsEssential() bool { return s.Essential == nil || *s.Essential }

// JobTimeout is the job's timeout, defaulted.
func (j *Job) JobTimeout() time.Duration {
	if j.Timeout.Set && j.Timeout.Duration > 0 {
		return j.Timeout.Duration
	}
	return DefaultJobTimeout
}

// escapeDefaults fills what jobs left out: the service's task size.
func escapeDefaults(s *Spec) {
	for _, j := range s.Jobs {
		if j == nil {
			continue
		}
		if j.CPU == 0 {
			j.CPU = s.Compute.CPU
		}
		if j.Memory == 0 {
			j.Memory = s.Compute.Memory
		}
	}
}
