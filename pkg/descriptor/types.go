// Package descriptor loads and validates gantry service descriptors
// (<service>.sd.yaml). It keeps the source position of every value so that
// each problem can be reported as file:line:column. It makes no network calls.
package descriptor

import (
	"time"

	"gopkg.in/yaml.v3"
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
}

// Routing tells the platform load balancer which requests belong to the service.
type Routing struct {
	Path string `yaml:"path" doc:"Path pattern, for example /payments/*."`
	Host string `yaml:"host" doc:"Host header, for example payments.example.com."`
}

// Resource types.
const (
	TypePostgres = "postgres"
	TypeRedis    = "redis"
	TypeS3       = "s3"
)

// Resource is one data store. Exactly one of Postgres, Redis and S3 is set,
// matching Type; its keys sit beside `type` in the YAML.
type Resource struct {
	Type     string    `yaml:"type" required:"true"`
	Postgres *Postgres `yaml:"-"`
	Redis    *Redis    `yaml:"-"`
	S3       *S3       `yaml:"-"`
}

// Postgres is an RDS PostgreSQL instance.
type Postgres struct {
	Version    string `yaml:"version" doc:"Major engine version (default \"16\")."`
	Class      string `yaml:"class" doc:"Instance class (default db.t4g.micro)."`
	Storage    int    `yaml:"storage" doc:"Allocated storage in GiB (default 20)."`
	MultiAZ    bool   `yaml:"multiAZ" doc:"Standby in a second availability zone."`
	BackupDays *int   `yaml:"backupDays" doc:"Automated backup retention in days (default 7)."`
}

// Redis is an ElastiCache Redis replication group.
type Redis struct {
	Class    string `yaml:"class" doc:"Node type (default cache.t4g.micro)."`
	Replicas int    `yaml:"replicas" doc:"Read replicas beside the primary (default 0)."`
}

// S3 is an S3 bucket.
type S3 struct {
	Versioning *bool `yaml:"versioning" doc:"Keep object versions (default true)."`
	ExpireDays int   `yaml:"expireDays" doc:"Delete objects after this many days; 0 keeps them forever."`
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

// Duration is a Go duration string such as 90s, 10m or 1h30m.
type Duration struct {
	time.Duration
	// Set is true when the key was present in the descriptor.
	Set bool
}

// Span is a 1-based region of a source file. EndColumn is exclusive.
type Span struct {
	Line, Column, EndLine, EndColumn int
}

// Positions maps a value's path to its span. Paths use dots for keys and
// [i] for list items: "compute.memory", "stages[2].waves[0].regions[1]",
// "env.LOG_LEVEL", "resources.db.class". The key of a mapping entry is
// stored under the path with a "#key" suffix.
type Positions map[string]Span
