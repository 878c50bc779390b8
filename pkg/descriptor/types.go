// Package descriptor loads and validates gantry service descriptors
// (<service>.sd.yaml). It keeps the source position of every value so that
// each problem can be reported as file:line:column. It makes no network calls.
package descriptor

import (
	"gopkg.in/yaml.v3"

	"github.com/gantryhq/gantry/pkg/kind"
	"github.com/gantryhq/gantry/pkg/naming"
)

// Descriptor is one service descriptor as written, with defaults applied.
// Field tags name the YAML keys; `required` marks keys that must be present.
type Descriptor struct {
	SchemaVersion int    `yaml:"schemaVersion" required:"true" doc:"Descriptor format version; always 1."`
	Service       string `yaml:"service" required:"true" doc:"Service name: lowercase letters, digits and hyphens, 3-30 characters."`
	Team          string `yaml:"team" required:"true" doc:"Owning team, used in tags."`
	Description   string `yaml:"description" doc:"One line on what the service does."`
	Spec          `yaml:",inline"`
	Stages        []Stage `yaml:"stages" required:"true" doc:"Deployment stages, deployed in this order."`
	Rollout       Rollout `yaml:"rollout" doc:"How the rollout is gated and watched."`

	// File is the path the descriptor was read from.
	File string `yaml:"-"`
	// Source is the file's content, kept for snippets in findings.
	Source []byte `yaml:"-"`
	// Pos maps value paths (see Positions) to their spans in Source.
	Pos Positions `yaml:"-"`
}

// Spec is the part of a descriptor that a stage's overrides may change.
type Spec struct {
	Image     string               `yaml:"image" required:"true" doc:"Container image repository, without a tag; the tag is the deployed version."`
	Compute   Compute              `yaml:"compute" required:"true" doc:"Fargate task size and container settings."`
	Scaling   Scaling              `yaml:"scaling" doc:"Task count and CPU target tracking."`
	Routing   *Routing             `yaml:"routing" doc:"How the platform load balancer reaches the service (web services only)."`
	Env       map[string]string    `yaml:"env" doc:"Plain environment variables; values may hold placeholders."`
	Secrets   map[string]string    `yaml:"secrets" doc:"Secret environment variables: ssm:/path, secretsmanager:NAME[#key] or a secret resource output."`
	Resources map[string]*Resource `yaml:"resources" doc:"Data stores owned by the service, by name."`
	Sidecars  map[string]*Sidecar  `yaml:"sidecars" doc:"Extra containers in the service's task, by name; their cpu and memory come out of compute's."`
	Jobs      map[string]*Job      `yaml:"jobs" doc:"Tasks of the service's image run on a schedule, or once per region before the app stack changes (beforeDeploy), by name."`
	Patches   []Patch              `yaml:"patches" doc:"RFC 6902 JSON Patch operations on the rendered stacks, applied in order after rendering; a stage's overrides add theirs after the top level's."`
}

// Compute sizes the Fargate task.
type Compute struct {
	CPU         int      `yaml:"cpu" required:"true" doc:"Fargate CPU units: 256, 512, 1024, 2048, 4096, 8192 or 16384."`
	Memory      int      `yaml:"memory" required:"true" doc:"Memory in MiB; must form a valid Fargate pair with cpu."`
	Port        *int     `yaml:"port" doc:"Container port; omit for a worker (no load balancer, no routing)."`
	Healthcheck string   `yaml:"healthcheck" doc:"HTTP path the load balancer checks; defaults to /."`
	Command     []string `yaml:"command" doc:"Overrides the image's command."`
}

// Scaling sets the service's task count.
type Scaling struct {
	Min       int `yaml:"min" doc:"Minimum tasks (default 2)."`
	Max       int `yaml:"max" doc:"Maximum tasks (default 4, at least min)."`
	CPUTarget int `yaml:"cpuTarget" doc:"Target average CPU percent for scaling (default 60)."`
	// Queue scales a worker on a queue's backlog instead of CPU.
	Queue *QueueScaling `yaml:"queue" doc:"Scale a worker (no port) on a queue's backlog per running task instead of CPU."`
}

// QueueScaling scales a worker on the backlog of one of its queues.
type QueueScaling struct {
	Resource        string `yaml:"resource" required:"true" doc:"An sqs resource of this service."`
	MessagesPerTask int    `yaml:"messagesPerTask" doc:"Visible messages each running task should carry (default 100)."`
}

// Routing tells the platform load balancer which requests belong to the service.
type Routing struct {
	Path string `yaml:"path" doc:"Path pattern, for example /payments/*."`
	Host string `yaml:"host" doc:"Host header, for example payments.example.com."`
}

// Resource is one data store. Its kind's keys sit beside `type` in the
// YAML and decode into Settings.
type Resource struct {
	Type string `yaml:"type" required:"true" doc:"The kind of data store."`
	// Access is the task role's level on the resource: read or write.
	Access string `yaml:"access" doc:"What the service's task role may do with it: read or write (default write)."`
	// Kind is what Type names; Settings its keys as written, with defaults.
	Kind     kind.Kind     `yaml:"-"`
	Settings kind.Settings `yaml:"-"`
}

// View is the resource as its kind's code sees it.
func (r *Resource) View(name string) kind.Resource {
	return kind.Resource{Name: name, Kind: r.Kind, Settings: r.Settings, Stem: naming.LogicalStem(name), Access: r.Access}
}

// Outputs lists the names ${resources.NAME.OUTPUT} may use for r; none
// when its type is unknown.
func (r *Resource) Outputs() []string {
	if r == nil || r.Settings == nil {
		return nil
	}
	var out []string
	for _, o := range r.Settings.Outputs() {
		out = append(out, o.Name)
	}
	return out
}

// Output finds one of r's outputs by name.
func (r *Resource) Output(name string) (kind.Output, bool) {
	if r == nil || r.Settings == nil {
		return kind.Output{}, false
	}
	for _, o := range r.Settings.Outputs() {
		if o.Name == name {
			return o, true
		}
	}
	return kind.Output{}, false
}

// IsSecretOutput reports whether an output of r holds a secret: such
// outputs may appear only under `secrets:`.
func (r *Resource) IsSecretOutput(name string) bool {
	o, ok := r.Output(name)
	return ok && o.Secret
}

// Stage is one step of the rollout: an account and its waves of regions.
type Stage struct {
	Name     string   `yaml:"name" required:"true" doc:"Stage name, for example dev, staging or prod."`
	Account  string   `yaml:"account" required:"true" doc:"12-digit AWS account ID."`
	Regions  []string `yaml:"regions" doc:"Shorthand for a single wave of these regions."`
	Waves    []Wave   `yaml:"waves" doc:"Ordered waves of regions; use either regions or waves."`
	Bake     Duration `yaml:"bake" doc:"Bake time after each wave unless the wave sets its own."`
	Approval bool     `yaml:"approval" doc:"The stage starts only with --approve STAGE or an interactive yes."`
	// Overrides is deep-merged over the top-level Spec for this stage (lists
	// replace). It is kept as YAML; Effective holds the merged result.
	Overrides *yaml.Node `yaml:"overrides" doc:"Top-level fields deep-merged for this stage; lists replace."`

	// Effective is the top-level Spec with this stage's overrides merged.
	Effective *Spec `yaml:"-"`
	// EffectivePos holds the positions of Effective's values, under the same
	// paths as the top level (overridden values point into the overrides).
	EffectivePos Positions `yaml:"-"`
	// Shorthand is true when the stage used `regions:` instead of `waves:`;
	// Waves then holds that single wave.
	Shorthand bool `yaml:"-"`
}

// Wave is a set of regions deployed in parallel.
type Wave struct {
	Regions     []string `yaml:"regions" required:"true" doc:"Regions deployed in parallel."`
	Bake        Duration `yaml:"bake" doc:"Time to watch alarms after the wave; defaults to the stage's bake."`
	MaxParallel int      `yaml:"maxParallel" doc:"At most this many regions at once (default: all)."`
}

// Rollout names the flags and alarms that steer a rollout.
type Rollout struct {
	Gate   string   `yaml:"gate" doc:"Boolean flag: may this region go ahead now?"`
	Halt   string   `yaml:"halt" doc:"Boolean flag: stop the whole rollout now."`
	Alarms []string `yaml:"alarms" doc:"Extra CloudWatch alarm names watched during bake."`
	Canary *Canary  `yaml:"canary" doc:"Moves a web service's traffic to the new version in steps inside each region, baking every step."`
}

// Duration is a Go duration string such as 90s, 10m or 1h30m. Kinds
// use it too, so it is theirs.
type Duration = kind.Duration

// Span is a 1-based region of a source file. EndColumn is exclusive.
type Span struct {
	Line, Column, EndLine, EndColumn int
}

// Positions maps a value's path to its span. Paths use dots for keys and
// [i] for list items: "compute.memory", "stages[2].waves[0].regions[1]",
// "env.LOG_LEVEL", "resources.db.class". The key of a mapping entry is
// stored under the path with a "#key" suffix.
type Positions map[string]Span
