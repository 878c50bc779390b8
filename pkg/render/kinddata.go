package render

import (
	"fmt"

	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/tags"

	"github.com/gantryhq/gantry/pkg/kind"
)

// kindFns is fns as kinds see them (kind.Fn).
type kindFns struct{ f fns }

func (k kindFns) Ref(id string) string                    { return k.f.ref(id) }
func (k kindFns) GetAtt(id, attr string) string           { return k.f.getAtt(id, attr) }
func (k kindFns) Join(sep string, parts ...string) string { return k.f.join(sep, parts...) }
func (k kindFns) Partition() string                       { return k.f.partition() }
func (k kindFns) Region() string                          { return k.f.region() }
func (k kindFns) Account() string                         { return k.f.account() }
func (k kindFns) Arn(service string, rest ...string) string {
	return k.f.arn(service, rest...)
}

// The data stack's keys, each added when a kind first asks for it. The
// secrets key encrypts the secrets the stack creates (Redis AUTH tokens;
// RDS keeps the Postgres master secret itself); the data key the stores
// that encrypt with a customer managed key (tables, queues, topics).
const (
	idSecretsKey = "SecretsKey"
	idDataKey    = "DataKey"
	// OutputSecretsKey and OutputDataKey are the data stack outputs holding
	// the keys' ARNs, which the app's roles may use.
	OutputSecretsKey = "SecretsKeyArn"
	OutputDataKey    = "DataKeyArn"
)

// dataStack is the data stack being built, as a kind's Render sees it
// (kind.Data), for one resource at a time.
type dataStack struct {
	kindFns
	c       *ctx
	b       *stackBuilder
	self    kind.Resource
	once    map[string]bool
	inbound map[string][]kind.Inbound
	// secretsKey, dataKey: asked for; dataKeyPolicy: the kinds' statements.
	secretsKey, dataKey bool
	dataKeyPolicy       []map[string]any
}

func (d *dataStack) Service() string    { return d.c.service() }
func (d *dataStack) Stage() string      { return d.c.stageName() }
func (d *dataStack) AccountID() string  { return d.c.t.Account }
func (d *dataStack) RegionName() string { return d.c.t.Region }
func (d *dataStack) Approval() bool     { return d.c.stage.Approval }
func (d *dataStack) Self() kind.Resource {
	return d.self
}

func (d *dataStack) Peer(name string) (kind.Resource, bool) {
	r := d.c.spec.Resources[name]
	if r == nil || r.Settings == nil {
		return kind.Resource{}, false
	}
	return r.View(name), true
}

func (d *dataStack) Add(id string, r cloudformation.Resource) { d.b.resource(id, r) }

func (d *dataStack) Once(id string, add func()) {
	if !d.once[id] {
		d.once[id] = true
		add()
	}
}

func (d *dataStack) Output(output, value, desc string) {
	r := d.c.spec.Resources[d.self.Name]
	id := OutputName(d.self.Name, r, output)
	if id == "" {
		d.b.fail(fmt.Errorf("resource %q: its kind renders output %q, which it does not list", d.self.Name, output))
		return
	}
	d.b.output(id, d.c.export(value, id, desc))
}

func (d *dataStack) Tags() []tags.Tag           { return d.c.tags(d.f, false) }
func (d *dataStack) Subnets() string            { return d.f.ref(paramSubnets) }
func (d *dataStack) StoreSecurityGroup() string { return d.f.getAtt(idStoreSG, "GroupId") }
func (d *dataStack) Inbound() []kind.Inbound    { return d.inbound[d.self.Name] }

func (d *dataStack) Fail(format string, args ...any) {
	d.b.fail(fmt.Errorf("resource %q: %s", d.self.Name, fmt.Sprintf(format, args...)))
}

func (d *dataStack) SecretsKey() string {
	d.secretsKey = true
	return d.f.getAtt(idSecretsKey, "Arn")
}

func (d *dataStack) DataKey() string {
	d.dataKey = true
	return d.f.getAtt(idDataKey, "Arn")
}

func (d *dataStack) AllowDataKey(statement map[string]any) {
	d.dataKeyPolicy = append(d.dataKeyPolicy, statement)
}

// keys adds the keys the kinds asked for, with their exported ARNs. They
// are kept when the stack goes, as what they encrypt may be: a deleted key
// would leave it unreadable.
func (d *dataStack) keys() {
	c, b := d.c, d.b
	if d.secretsKey {
		c.kmsKey(b, idSecretsKey, fmt.Sprintf("Encrypts the secrets of the %s %s data stores", c.service(), c.stageName()), false, true)
		b.output(OutputSecretsKey, c.export(d.f.getAtt(idSecretsKey, "Arn"), OutputSecretsKey, "KMS key of the data stack's secrets"))
	}
	if d.dataKey {
		c.kmsKey(b, idDataKey, fmt.Sprintf("Encrypts the tables, queues and topics of %s %s at rest", c.service(), c.stageName()), false, true, d.dataKeyPolicy...)
		b.output(OutputDataKey, c.export(d.f.getAtt(idDataKey, "Arn"), OutputDataKey, "KMS key the data stores encrypt with"))
	}
}
