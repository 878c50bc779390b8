// Package redis is the redis resource kind: an ElastiCache Redis
// replication group, encrypted at rest and in transit, whose AUTH token
// gantry generates into Secrets Manager.
package redis

import (
	"fmt"
	"regexp"

	"github.com/awslabs/goformation/v7/cloudformation/elasticache"
	"github.com/awslabs/goformation/v7/cloudformation/policies"
	"github.com/awslabs/goformation/v7/cloudformation/secretsmanager"

	"github.com/gantryhq/gantry/pkg/kind"
	"github.com/gantryhq/gantry/pkg/naming"
)

// Kind is the redis kind.
type Kind struct{}

// Name implements kind.Kind.
func (Kind) Name() string  { return "redis" }
func (Kind) Title() string { return "Redis" }
func (Kind) Summary() string {
	return "An ElastiCache Redis replication group: encrypted at rest and in transit, auth token in Secrets Manager."
}
func (Kind) New() kind.Settings { return &Settings{} }
func (Kind) Port() int          { return 6379 }
func (Kind) Stateful() []kind.Stateful {
	return []kind.Stateful{
		{Type: "AWS::ElastiCache::ReplicationGroup", Loses: "the cached data"},
		{Type: "AWS::SecretsManager::Secret", Loses: "the secret (clients lose their token)"},
	}
}
func (Kind) Rules() []kind.Rule { return nil }
func (Kind) SettingsDoc() string {
	return "class a cache.* node type, replicas 0 to 5."
}

// Settings is a redis resource.
type Settings struct {
	Class    string `yaml:"class" pattern:"^cache\\." doc:"Node type (default cache.t4g.micro)."`
	Replicas int    `yaml:"replicas" min:"0" max:"5" doc:"Read replicas beside the primary (default 0)."`
}

// Defaults implements kind.Settings.
func (s *Settings) Defaults(func(string) bool) {
	if s.Class == "" {
		s.Class = "cache.t4g.micro"
	}
}

// Outputs implements kind.Settings.
func (s *Settings) Outputs() []kind.Output {
	return []kind.Output{
		{Name: "host", ID: "Host"},
		{Name: "port", ID: "Port"},
		{Name: "url", ID: "Url"},
		{Name: "auth", ID: "SecretArn", Secret: true, OwnKey: true},
	}
}

// Names implements kind.Settings.
func (s *Settings) Names(n kind.NameInput) []naming.Derived {
	return []naming.Derived{{Kind: naming.KindReplicationGroup, Value: naming.ReplicationGroup(n.Service, n.Stage, n.Resource), Pattern: "service-stage-resource", Resource: n.Resource}}
}

var classRe = regexp.MustCompile(`^cache\.[a-z0-9]+\.[a-z0-9-]+$`)

const maxReplicas = 5

// Check implements kind.Settings.
func (s *Settings) Check(c kind.Check) {
	if !classRe.MatchString(s.Class) {
		c.Report("class", "`%s` %q is not an ElastiCache node type; use one such as cache.t4g.micro or cache.r7g.large", c.Path("class"), s.Class)
	}
	if n := s.Replicas; n < 0 || n > maxReplicas {
		c.Report("replicas", "`%s` %d is out of range; a replication group has 0 to %d replicas", c.Path("replicas"), n, maxReplicas)
	}
}

// authKey is the JSON key of the token inside its secret.
const authKey = "auth"

// Render implements kind.Settings.
func (s *Settings) Render(d kind.Data) {
	self := d.Self()
	rn, stem := self.Name, self.Stem
	subnets, secret, group := stem+"SubnetGroup", stem+"AuthSecret", stem+"ReplicationGroup"
	d.Add(subnets, &elasticache.SubnetGroup{
		Description: fmt.Sprintf("Private subnets of %s %s Redis %s", d.Service(), d.Stage(), rn),
		SubnetIds:   []string{d.Subnets()},
		Tags:        d.Tags(),
	})
	d.Add(secret, &secretsmanager.Secret{
		Description: kind.Ptr(fmt.Sprintf("AUTH token of %s %s Redis %s (JSON key auth)", d.Service(), d.Stage(), rn)),
		GenerateSecretString: &secretsmanager.Secret_GenerateSecretString{
			SecretStringTemplate: kind.Ptr("{}"),
			GenerateStringKey:    kind.Ptr(authKey),
			PasswordLength:       kind.Ptr(64),
			// ElastiCache accepts only some punctuation in a token; none is
			// simplest.
			ExcludePunctuation: kind.Ptr(true),
		},
		KmsKeyId: kind.Ptr(d.SecretsKey()),
		Tags:     d.Tags(),

		AWSCloudFormationDeletionPolicy:      policies.DeletionPolicy("Retain"),
		AWSCloudFormationUpdateReplacePolicy: policies.UpdateReplacePolicy("Retain"),
	})
	replicated := s.Replicas > 0
	d.Add(group, &elasticache.ReplicationGroup{
		ReplicationGroupId:          kind.Ptr(naming.ReplicationGroup(d.Service(), d.Stage(), rn)),
		ReplicationGroupDescription: fmt.Sprintf("%s %s Redis %s", d.Service(), d.Stage(), rn),
		Engine:                      kind.Ptr("redis"),
		CacheNodeType:               kind.Ptr(s.Class),
		NumCacheClusters:            kind.Ptr(1 + s.Replicas),
		AutomaticFailoverEnabled:    kind.Ptr(replicated),
		MultiAZEnabled:              kind.Ptr(replicated),
		Port:                        kind.Ptr(Kind{}.Port()),
		CacheSubnetGroupName:        kind.Ptr(d.Ref(subnets)),
		SecurityGroupIds:            []string{d.StoreSecurityGroup()},
		AtRestEncryptionEnabled:     kind.Ptr(true),
		TransitEncryptionEnabled:    kind.Ptr(true),
		// A dynamic reference: CloudFormation reads the token at deploy, so
		// it never appears in the template or its events.
		AuthToken:               kind.Ptr(d.Join("", "{{resolve:secretsmanager:", d.Ref(secret), ":SecretString:"+authKey+"}}")),
		AutoMinorVersionUpgrade: kind.Ptr(true),
		Tags:                    d.Tags(),

		AWSCloudFormationDeletionPolicy:      policies.DeletionPolicy("Snapshot"),
		AWSCloudFormationUpdateReplacePolicy: policies.UpdateReplacePolicy("Snapshot"),
	})
	host, port := d.GetAtt(group, "PrimaryEndPoint.Address"), d.GetAtt(group, "PrimaryEndPoint.Port")
	d.Output("host", host, "Redis "+rn+" primary endpoint host name")
	d.Output("port", port, "Redis "+rn+" port")
	d.Output("url", d.Join("", "rediss://", host, ":", port), "Redis "+rn+" URL (TLS; the AUTH token is separate)")
	d.Output("auth", d.Ref(secret), "ARN of the Secrets Manager secret holding the AUTH token (JSON key auth)")
}

// Grants implements kind.Settings: the app reaches Redis over the network
// with the token, not through IAM.
func (s *Settings) Grants(kind.App) []kind.Statement { return nil }
