package render

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/awslabs/goformation/v7/cloudformation/ecs"

	"github.com/gantryhq/gantry/pkg/descriptor"
)

// minAppMemory is the least memory ECS gives a container (MiB).
const minAppMemory = 6

// secretARNs are what the execution role must read for the task's
// containers' secrets.
type secretARNs struct{ ssm, sm, kms []string }

func (a *secretARNs) add(ref secretRef) {
	for _, x := range []struct {
		list *[]string
		arn  string
	}{{&a.ssm, ref.ssmARN}, {&a.sm, ref.smARN}, {&a.kms, ref.kmsARN}} {
		if x.arn != "" && !slices.Contains(*x.list, x.arn) {
			*x.list = append(*x.list, x.arn)
		}
	}
}

// policy is the execution role's inline policy reading exactly these
// secrets, or nil when there are none.
func (a secretARNs) policy(f fns) map[string]any {
	var stmts []any
	if len(a.ssm) > 0 {
		stmts = append(stmts, map[string]any{"Sid": "ReadParameters", "Effect": "Allow", "Action": []string{"ssm:GetParameters"}, "Resource": a.ssm})
	}
	if len(a.sm) > 0 {
		stmts = append(stmts, map[string]any{"Sid": "ReadSecrets", "Effect": "Allow", "Action": []string{"secretsmanager:GetSecretValue"}, "Resource": a.sm})
	}
	if len(a.kms) > 0 {
		stmts = append(stmts, map[string]any{
			"Sid": "DecryptSecrets", "Effect": "Allow", "Action": []string{"kms:Decrypt"}, "Resource": a.kms,
			// Only as Secrets Manager hands a secret over.
			"Condition": map[string]any{"StringEquals": map[string]any{"kms:ViaService": f.join("", "secretsmanager.", f.region(), ".amazonaws.com")}},
		})
	}
	if stmts == nil {
		return nil
	}
	return map[string]any{"Version": "2012-10-17", "Statement": stmts}
}

// envAndSecrets fills a container's environment and secrets (sorted by
// name) from env and secrets at prefix ("" for the service's,
// "sidecars.NAME." for a sidecar's), adding what the secrets need to arns.
func (c *ctx) envAndSecrets(f fns, ct *ecs.TaskDefinition_ContainerDefinition, env, secrets map[string]string, prefix string, arns *secretARNs) error {
	for _, k := range slices.Sorted(maps.Keys(env)) {
		v, err := c.value(f, env[k], prefix+"env."+k)
		if err != nil {
			return err
		}
		ct.Environment = append(ct.Environment, ecs.TaskDefinition_KeyValuePair{Name: ptr(k), Value: ptr(v)})
	}
	for _, k := range slices.Sorted(maps.Keys(secrets)) {
		if _, clash := env[k]; clash {
			return fmt.Errorf("%ssecrets.%s: %s is also under env; a variable is either plain or secret", prefix, k, k)
		}
		ref, err := c.secret(f, secrets[k], prefix+"secrets."+k)
		if err != nil {
			return err
		}
		ct.Secrets = append(ct.Secrets, ecs.TaskDefinition_Secret{Name: k, ValueFrom: ref.valueFrom})
		arns.add(ref)
	}
	return nil
}

// logConfig sends a container's output to the service's log group; the
// stream is <prefix>/<container>/<task id>.
func (c *ctx) logConfig(f fns, logGroup string) *ecs.TaskDefinition_LogConfiguration {
	return &ecs.TaskDefinition_LogConfiguration{
		LogDriver: "awslogs",
		Options: map[string]string{
			"awslogs-group":         logGroup,
			"awslogs-region":        f.region(),
			"awslogs-stream-prefix": c.service(),
		},
	}
}

// sidecars builds the sidecar containers, sorted by name, and gives the app
// container what the sidecars leave of the task's size.
func (c *ctx) sidecars(f fns, app *ecs.TaskDefinition_ContainerDefinition, arns *secretARNs) ([]ecs.TaskDefinition_ContainerDefinition, error) {
	if len(c.spec.Sidecars) == 0 {
		return nil, nil
	}
	var out []ecs.TaskDefinition_ContainerDefinition
	cpu, mem := c.spec.Compute.CPU, c.spec.Compute.Memory
	for _, name := range slices.Sorted(maps.Keys(c.spec.Sidecars)) {
		sc := c.spec.Sidecars[name]
		ct, err := c.sidecar(f, name, sc, arns)
		if err != nil {
			return nil, err
		}
		cpu, mem = cpu-sc.CPU, mem-sc.Memory
		out = append(out, ct)
	}
	if cpu <= 0 || mem < minAppMemory {
		return nil, fmt.Errorf("the sidecars take %d CPU units and %d MiB of the task's %d and %d, leaving the app container nothing: lower theirs or raise compute", c.spec.Compute.CPU-cpu, c.spec.Compute.Memory-mem, c.spec.Compute.CPU, c.spec.Compute.Memory)
	}
	app.Cpu, app.Memory = ptr(cpu), ptr(mem)
	return out, nil
}

func (c *ctx) sidecar(f fns, name string, sc *descriptor.Sidecar, arns *secretARNs) (ecs.TaskDefinition_ContainerDefinition, error) {
	p := "sidecars." + name + "."
	var zero ecs.TaskDefinition_ContainerDefinition
	if name == c.service() {
		return zero, fmt.Errorf("sidecars.%s: the app container is named %s already; rename the sidecar", name, name)
	}
	image, err := c.value(f, sc.Image, p+"image")
	if err != nil {
		return zero, err
	}
	ct := ecs.TaskDefinition_ContainerDefinition{
		Name:             name,
		Image:            image,
		Essential:        ptr(sc.IsEssential()),
		Cpu:              ptr(sc.CPU),
		Memory:           ptr(sc.Memory),
		LogConfiguration: c.logConfig(f, f.ref(idLogGroup)),
	}
	if sc.Port != nil {
		ct.PortMappings = []ecs.TaskDefinition_PortMapping{{ContainerPort: sc.Port, Protocol: ptr("tcp")}}
	}
	for i, arg := range sc.Command {
		v, err := c.value(f, arg, p+"command["+strconv.Itoa(i)+"]")
		if err != nil {
			return zero, err
		}
		ct.Command = append(ct.Command, v)
	}
	return ct, c.envAndSecrets(f, &ct, sc.Env, sc.Secrets, p, arns)
}
