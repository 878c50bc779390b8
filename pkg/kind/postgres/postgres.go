// Package postgres is the postgres resource kind: an RDS PostgreSQL
// instance, encrypted and private, whose master password RDS keeps in
// Secrets Manager.
package postgres

import (
	"fmt"
	"regexp"
	"strconv"

	"github.com/awslabs/goformation/v7/cloudformation/iam"
	"github.com/awslabs/goformation/v7/cloudformation/policies"
	"github.com/awslabs/goformation/v7/cloudformation/rds"

	"github.com/gantryhq/gantry/pkg/kind"
	"github.com/gantryhq/gantry/pkg/naming"
)

// Kind is the postgres kind.
type Kind struct{}

// Name implements kind.Kind.
func (Kind) Name() string  { return "postgres" }
func (Kind) Title() string { return "Postgres" }
func (Kind) Summary() string {
	return "An RDS PostgreSQL instance: encrypted, private, master password in Secrets Manager."
}
func (Kind) New() kind.Settings { return &Settings{} }
func (Kind) Port() int          { return 5432 }
func (Kind) Stateful() []kind.Stateful {
	return []kind.Stateful{
		{Type: "AWS::RDS::DBInstance", Loses: "the database"},
		{Type: "AWS::RDS::DBCluster", Loses: "the database"},
	}
}
func (Kind) Rules() []kind.Rule { return []kind.Rule{ruleApprovalMultiAZ(), ruleApprovalBackups()} }
func (Kind) SettingsDoc() string {
	return "version is a major version such as \"16\", class a db.* instance class, storage 20 to 65536 GiB, backupDays 0 to 35."
}

// Settings is a postgres resource.
type Settings struct {
	Version    string `yaml:"version" pattern:"^[0-9]+(\\.[0-9]+)?$" doc:"Major engine version (default \"16\")."`
	Class      string `yaml:"class" pattern:"^db\\." doc:"Instance class (default db.t4g.micro)."`
	Storage    int    `yaml:"storage" min:"20" max:"65536" doc:"Allocated storage in GiB (default 20)."`
	MultiAZ    bool   `yaml:"multiAZ" doc:"Standby in a second availability zone."`
	BackupDays *int   `yaml:"backupDays" min:"0" max:"35" doc:"Automated backup retention in days (default 7)."`
}

// Database and master user names. Fixed names avoid every word an engine
// reserves; the outputs tell the app what they are.
const (
	database = "app"
	username = "app"
)

// Defaults implements kind.Settings.
func (s *Settings) Defaults(set func(string) bool) {
	if s.Version == "" {
		s.Version = "16"
	}
	if s.Class == "" {
		s.Class = "db.t4g.micro"
	}
	if !set("storage") {
		s.Storage = 20
	}
	if s.BackupDays == nil {
		days := 7
		s.BackupDays = &days
	}
}

// Outputs implements kind.Settings.
func (s *Settings) Outputs() []kind.Output {
	return []kind.Output{
		{Name: "host", ID: "Host"},
		{Name: "port", ID: "Port"},
		{Name: "database", ID: "Database"},
		{Name: "username", ID: "Username"},
		{Name: "password", ID: "SecretArn", Secret: true},
	}
}

// Names implements kind.Settings.
func (s *Settings) Names(n kind.NameInput) []naming.Derived {
	return []naming.Derived{{Kind: naming.KindDBInstance, Value: naming.DBInstance(n.Service, n.Stage, n.Resource), Pattern: "service-stage-resource", Resource: n.Resource}}
}

var (
	versionRe = regexp.MustCompile(`^[1-9][0-9]?$`)
	classRe   = regexp.MustCompile(`^db\.[a-z0-9]+\.[a-z0-9-]+$`)
)

// RDS limits for what a descriptor sets.
const (
	minStorage    = 20    // GiB, gp3
	maxStorage    = 65536 // GiB
	maxBackupDays = 35
)

// Check implements kind.Settings.
func (s *Settings) Check(c kind.Check) {
	if !versionRe.MatchString(s.Version) {
		c.Report("version", "`%s` %q must be a major version such as \"16\"; RDS picks the minor version", c.Path("version"), s.Version)
	}
	if !classRe.MatchString(s.Class) {
		c.Report("class", "`%s` %q is not an RDS instance class; use one such as db.t4g.micro or db.r6g.large", c.Path("class"), s.Class)
	}
	switch {
	case s.Storage < minStorage:
		c.Report("storage", "`%s` %d GiB is below the %d GiB RDS allows; use %d to %d", c.Path("storage"), s.Storage, minStorage, minStorage, maxStorage)
	case s.Storage > maxStorage:
		c.Report("storage", "`%s` %d GiB is above the %d GiB RDS allows; use %d to %d", c.Path("storage"), s.Storage, maxStorage, minStorage, maxStorage)
	}
	if b := s.BackupDays; b != nil && (*b < 0 || *b > maxBackupDays) {
		c.Report("backupDays", "`%s` %d is out of range; RDS keeps backups 0 to %d days", c.Path("backupDays"), *b, maxBackupDays)
	}
}

// Enhanced monitoring of the instances: OS metrics every minute, through a
// role the stack's instances share.
const (
	idMonitoringRole   = "DatabaseMonitoringRole"
	monitoringInterval = 60
)

// Render implements kind.Settings.
func (s *Settings) Render(d kind.Data) {
	self := d.Self()
	rn, stem := self.Name, self.Stem
	subnets, inst := stem+"SubnetGroup", stem+"Instance"
	d.Once(idMonitoringRole, func() {
		d.Add(idMonitoringRole, &iam.Role{
			Description:              kind.Ptr(fmt.Sprintf("Lets RDS enhanced monitoring publish the OS metrics of the %s %s databases", d.Service(), d.Stage())),
			AssumeRolePolicyDocument: kind.ServiceTrust(d, "monitoring.rds.amazonaws.com"),
			ManagedPolicyArns:        []string{d.Join("", "arn:", d.Partition(), ":iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole")},
			Tags:                     d.Tags(),
		})
	})
	d.Add(subnets, &rds.DBSubnetGroup{
		DBSubnetGroupDescription: fmt.Sprintf("Private subnets of %s %s Postgres %s", d.Service(), d.Stage(), rn),
		SubnetIds:                []string{d.Subnets()},
		Tags:                     d.Tags(),
	})
	backup := 7
	if s.BackupDays != nil {
		backup = *s.BackupDays
	}
	d.Add(inst, &rds.DBInstance{
		DBInstanceIdentifier:     kind.Ptr(naming.DBInstance(d.Service(), d.Stage(), rn)),
		Engine:                   kind.Ptr("postgres"),
		EngineVersion:            kind.Ptr(s.Version),
		DBInstanceClass:          kind.Ptr(s.Class),
		AllocatedStorage:         kind.Ptr(strconv.Itoa(s.Storage)),
		StorageType:              kind.Ptr("gp3"),
		StorageEncrypted:         kind.Ptr(true),
		PubliclyAccessible:       kind.Ptr(false),
		DBSubnetGroupName:        kind.Ptr(d.Ref(subnets)),
		VPCSecurityGroups:        []string{d.StoreSecurityGroup()},
		DBName:                   kind.Ptr(database),
		MasterUsername:           kind.Ptr(username),
		ManageMasterUserPassword: kind.Ptr(true),
		// Lets the app sign in with its task role instead of the password
		// once its code does; the password keeps working.
		EnableIAMDatabaseAuthentication: kind.Ptr(true),
		MonitoringInterval:              kind.Ptr(monitoringInterval),
		MonitoringRoleArn:               kind.Ptr(d.GetAtt(idMonitoringRole, "Arn")),
		BackupRetentionPeriod:           kind.Ptr(backup),
		MultiAZ:                         kind.Ptr(s.MultiAZ),
		// Deletion protection when multi-AZ or the stage needs approval.
		DeletionProtection:      kind.Ptr(s.MultiAZ || d.Approval()),
		CopyTagsToSnapshot:      kind.Ptr(true),
		AutoMinorVersionUpgrade: kind.Ptr(true),
		Tags:                    d.Tags(),

		AWSCloudFormationDeletionPolicy:      policies.DeletionPolicy("Snapshot"),
		AWSCloudFormationUpdateReplacePolicy: policies.UpdateReplacePolicy("Snapshot"),
	})
	d.Output("host", d.GetAtt(inst, "Endpoint.Address"), "Postgres "+rn+" host name")
	d.Output("port", d.GetAtt(inst, "Endpoint.Port"), "Postgres "+rn+" port")
	d.Output("database", database, "Postgres "+rn+" database name")
	d.Output("username", username, "Postgres "+rn+" master user name")
	d.Output("password", d.GetAtt(inst, "MasterUserSecret.SecretArn"),
		"ARN of the Secrets Manager secret RDS manages for the master user (JSON keys username and password)")
}

// Grants implements kind.Settings: the app reaches Postgres over the
// network with the password, not through IAM.
func (s *Settings) Grants(kind.App) []kind.Statement { return nil }
