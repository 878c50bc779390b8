package render

import (
	"fmt"
	"strconv"

	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/ec2"
	"github.com/awslabs/goformation/v7/cloudformation/elasticache"
	"github.com/awslabs/goformation/v7/cloudformation/iam"
	"github.com/awslabs/goformation/v7/cloudformation/policies"
	"github.com/awslabs/goformation/v7/cloudformation/rds"
	"github.com/awslabs/goformation/v7/cloudformation/s3"
	"github.com/awslabs/goformation/v7/cloudformation/secretsmanager"

	"github.com/gantryhq/gantry/pkg/descriptor"
	"github.com/gantryhq/gantry/pkg/naming"
)

// Fixed logical IDs of the data stack.
const (
	idClientSG = "ClientSecurityGroup"
	idStoreSG  = "StoreSecurityGroup"
	// OutputClientSG is the data stack output holding the security group
	// that clients of the stores join.
	OutputClientSG = "ClientSecurityGroupId"
)

// Ports the stores listen on.
const (
	postgresPort = 5432
	redisPort    = 6379
)

// Postgres database and master user names. Fixed names avoid every word an
// engine reserves; the outputs tell the app what they are.
const (
	postgresDatabase = "app"
	postgresUsername = "app"
)

// OutputName is the data stack output behind ${resources.<name>.<output>}
// for a resource of type typ, or "" when the type has no such output. Secret
// outputs (password, auth) map to the ARN of the secret that holds them.
func OutputName(name, typ, output string) string {
	stem := logicalStem(name)
	var suffix string
	switch typ {
	case descriptor.TypePostgres:
		suffix = map[string]string{"host": "Host", "port": "Port", "database": "Database", "username": "Username", "password": "SecretArn"}[output]
	case descriptor.TypeRedis:
		suffix = map[string]string{"host": "Host", "port": "Port", "url": "Url", "auth": "SecretArn"}[output]
	case descriptor.TypeS3:
		suffix = map[string]string{"bucket": "BucketName", "arn": "BucketArn"}[output]
	}
	if suffix == "" || stem == "" {
		return ""
	}
	return stem + suffix
}

// secretKey is the JSON key, inside the secret, of a secret output.
func secretKey(output string) string { return output }

func (c *ctx) dataStack() (Stack, error) {
	name := naming.Stack(c.service(), c.stageName(), naming.Data)
	b := newStackBuilder(fmt.Sprintf("gantry data stack of %s in %s: the service's data stores and the outputs its app stack imports", c.service(), c.stageName()))
	f := b.fns
	tg := c.tags(f, false)

	if c.network() {
		b.param(paramVpc, platformParam(paramVpc))
		b.param(paramSubnets, platformParam(paramSubnets))
		b.resource(idClientSG, &ec2.SecurityGroup{
			GroupDescription: fmt.Sprintf("Clients of the %s %s data stores: the app tasks join it", c.service(), c.stageName()),
			VpcId:            ptr(f.ref(paramVpc)),
			Tags:             tg,
		})
		var ingress []ec2.SecurityGroup_Ingress
		for _, p := range []struct {
			typ  string
			port int
			what string
		}{{descriptor.TypePostgres, postgresPort, "Postgres"}, {descriptor.TypeRedis, redisPort, "Redis"}} {
			if c.has(p.typ) {
				ingress = append(ingress, ec2.SecurityGroup_Ingress{
					Description:           ptr(p.what + " from the service tasks"),
					IpProtocol:            "tcp",
					FromPort:              ptr(p.port),
					ToPort:                ptr(p.port),
					SourceSecurityGroupId: ptr(f.getAtt(idClientSG, "GroupId")),
				})
			}
		}
		b.resource(idStoreSG, &ec2.SecurityGroup{
			GroupDescription:     fmt.Sprintf("The %s %s data stores; reachable only from the client security group", c.service(), c.stageName()),
			VpcId:                ptr(f.ref(paramVpc)),
			SecurityGroupIngress: ingress,
			Tags:                 tg,
		})
		b.output(OutputClientSG, c.export(f.getAtt(idClientSG, "GroupId"), OutputClientSG, "Security group the app's tasks join to reach the stores"))
	}
	if c.ownsSecrets() {
		c.secretsKey(b)
	}
	if c.has(descriptor.TypePostgres) {
		c.monitoringRole(b)
	}

	for _, rn := range c.resources {
		r := c.spec.Resources[rn]
		switch {
		case r.Postgres != nil:
			c.postgres(b, rn, r.Postgres)
		case r.Redis != nil:
			c.redis(b, rn, r.Redis)
		case r.S3 != nil:
			c.bucket(b, rn, r.S3)
		}
	}
	return b.stack(name, naming.Data, nil)
}

func (c *ctx) export(value, output, desc string) cloudformation.Output {
	return cloudformation.Output{Value: value, Description: &desc, Export: &cloudformation.Export{Name: c.exportName(output)}}
}

// outputFor adds the output behind ${resources.rn.out}.
func (c *ctx) outputFor(b *stackBuilder, rn, typ, out, value, desc string) {
	id := OutputName(rn, typ, out)
	b.output(id, c.export(value, id, desc))
}

// deletionProtected reports whether a Postgres instance refuses deletion:
// when it is multi-AZ or its stage needs approval.
func (c *ctx) deletionProtected(p *descriptor.Postgres) bool {
	return p.MultiAZ || c.stage.Approval
}

func (c *ctx) postgres(b *stackBuilder, rn string, p *descriptor.Postgres) {
	f := b.fns
	stem := c.logical[rn]
	subnets, inst := stem+"SubnetGroup", stem+"Instance"
	b.resource(subnets, &rds.DBSubnetGroup{
		DBSubnetGroupDescription: fmt.Sprintf("Private subnets of %s %s Postgres %s", c.service(), c.stageName(), rn),
		SubnetIds:                []string{f.ref(paramSubnets)},
		Tags:                     c.tags(f, false),
	})
	backup := 7
	if p.BackupDays != nil {
		backup = *p.BackupDays
	}
	b.resource(inst, &rds.DBInstance{
		DBInstanceIdentifier:     ptr(naming.DBInstance(c.service(), c.stageName(), rn)),
		Engine:                   ptr("postgres"),
		EngineVersion:            ptr(p.Version),
		DBInstanceClass:          ptr(p.Class),
		AllocatedStorage:         ptr(strconv.Itoa(p.Storage)),
		StorageType:              ptr("gp3"),
		StorageEncrypted:         ptr(true),
		PubliclyAccessible:       ptr(false),
		DBSubnetGroupName:        ptr(f.ref(subnets)),
		VPCSecurityGroups:        []string{f.getAtt(idStoreSG, "GroupId")},
		DBName:                   ptr(postgresDatabase),
		MasterUsername:           ptr(postgresUsername),
		ManageMasterUserPassword: ptr(true),
		// Lets the app sign in with its task role instead of the password
		// once its code does; the password keeps working.
		EnableIAMDatabaseAuthentication: ptr(true),
		MonitoringInterval:              ptr(monitoringInterval),
		MonitoringRoleArn:               ptr(f.getAtt(idMonitoringRole, "Arn")),
		BackupRetentionPeriod:           ptr(backup),
		MultiAZ:                         ptr(p.MultiAZ),
		DeletionProtection:              ptr(c.deletionProtected(p)),
		CopyTagsToSnapshot:              ptr(true),
		AutoMinorVersionUpgrade:         ptr(true),
		Tags:                            c.tags(f, false),

		AWSCloudFormationDeletionPolicy:      policies.DeletionPolicy("Snapshot"),
		AWSCloudFormationUpdateReplacePolicy: policies.UpdateReplacePolicy("Snapshot"),
	})
	typ := descriptor.TypePostgres
	c.outputFor(b, rn, typ, "host", f.getAtt(inst, "Endpoint.Address"), "Postgres "+rn+" host name")
	c.outputFor(b, rn, typ, "port", f.getAtt(inst, "Endpoint.Port"), "Postgres "+rn+" port")
	c.outputFor(b, rn, typ, "database", postgresDatabase, "Postgres "+rn+" database name")
	c.outputFor(b, rn, typ, "username", postgresUsername, "Postgres "+rn+" master user name")
	c.outputFor(b, rn, typ, "password", f.getAtt(inst, "MasterUserSecret.SecretArn"),
		"ARN of the Secrets Manager secret RDS manages for the master user (JSON keys username and password)")
}

// Enhanced monitoring of the Postgres instances: OS metrics every minute.
const (
	idMonitoringRole   = "DatabaseMonitoringRole"
	monitoringInterval = 60
)

// monitoringRole adds the role RDS enhanced monitoring publishes OS metrics
// with, shared by the stack's Postgres instances.
func (c *ctx) monitoringRole(b *stackBuilder) {
	f := b.fns
	b.resource(idMonitoringRole, &iam.Role{
		Description:              ptr(fmt.Sprintf("Lets RDS enhanced monitoring publish the OS metrics of the %s %s databases", c.service(), c.stageName())),
		AssumeRolePolicyDocument: serviceTrust(f, "monitoring.rds.amazonaws.com"),
		ManagedPolicyArns:        []string{f.join("", "arn:", f.partition(), ":iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole")},
		Tags:                     c.tags(f, false),
	})
}

func (c *ctx) redis(b *stackBuilder, rn string, r *descriptor.Redis) {
	f := b.fns
	stem := c.logical[rn]
	subnets, secret, group := stem+"SubnetGroup", stem+"AuthSecret", stem+"ReplicationGroup"
	b.resource(subnets, &elasticache.SubnetGroup{
		Description: fmt.Sprintf("Private subnets of %s %s Redis %s", c.service(), c.stageName(), rn),
		SubnetIds:   []string{f.ref(paramSubnets)},
		Tags:        c.tags(f, false),
	})
	b.resource(secret, &secretsmanager.Secret{
		Description: ptr(fmt.Sprintf("AUTH token of %s %s Redis %s (JSON key auth)", c.service(), c.stageName(), rn)),
		GenerateSecretString: &secretsmanager.Secret_GenerateSecretString{
			SecretStringTemplate: ptr("{}"),
			GenerateStringKey:    ptr(secretKey("auth")),
			PasswordLength:       ptr(64),
			// ElastiCache accepts only some punctuation in a token; none is
			// simplest.
			ExcludePunctuation: ptr(true),
		},
		KmsKeyId: ptr(f.getAtt(idSecretsKey, "Arn")),
		Tags:     c.tags(f, false),

		AWSCloudFormationDeletionPolicy:      policies.DeletionPolicy("Retain"),
		AWSCloudFormationUpdateReplacePolicy: policies.UpdateReplacePolicy("Retain"),
	})
	replicated := r.Replicas > 0
	b.resource(group, &elasticache.ReplicationGroup{
		ReplicationGroupId:          ptr(naming.ReplicationGroup(c.service(), c.stageName(), rn)),
		ReplicationGroupDescription: fmt.Sprintf("%s %s Redis %s", c.service(), c.stageName(), rn),
		Engine:                      ptr("redis"),
		CacheNodeType:               ptr(r.Class),
		NumCacheClusters:            ptr(1 + r.Replicas),
		AutomaticFailoverEnabled:    ptr(replicated),
		MultiAZEnabled:              ptr(replicated),
		Port:                        ptr(redisPort),
		CacheSubnetGroupName:        ptr(f.ref(subnets)),
		SecurityGroupIds:            []string{f.getAtt(idStoreSG, "GroupId")},
		AtRestEncryptionEnabled:     ptr(true),
		TransitEncryptionEnabled:    ptr(true),
		// A dynamic reference: CloudFormation reads the token at deploy, so
		// it never appears in the template or its events.
		AuthToken:               ptr(f.join("", "{{resolve:secretsmanager:", f.ref(secret), ":SecretString:"+secretKey("auth")+"}}")),
		AutoMinorVersionUpgrade: ptr(true),
		Tags:                    c.tags(f, false),

		AWSCloudFormationDeletionPolicy:      policies.DeletionPolicy("Snapshot"),
		AWSCloudFormationUpdateReplacePolicy: policies.UpdateReplacePolicy("Snapshot"),
	})
	typ := descriptor.TypeRedis
	host, port := f.getAtt(group, "PrimaryEndPoint.Address"), f.getAtt(group, "PrimaryEndPoint.Port")
	c.outputFor(b, rn, typ, "host", host, "Redis "+rn+" primary endpoint host name")
	c.outputFor(b, rn, typ, "port", port, "Redis "+rn+" port")
	c.outputFor(b, rn, typ, "url", f.join("", "rediss://", host, ":", port), "Redis "+rn+" URL (TLS; the AUTH token is separate)")
	c.outputFor(b, rn, typ, "auth", f.ref(secret), "ARN of the Secrets Manager secret holding the AUTH token (JSON key auth)")
}

func (c *ctx) bucket(b *stackBuilder, rn string, s *descriptor.S3) {
	f := b.fns
	stem := c.logical[rn]
	bucket := stem + "Bucket"
	versioned := s.Versioning == nil || *s.Versioning
	status := "Suspended"
	if versioned {
		status = "Enabled"
	}
	rules := []s3.Bucket_Rule{{
		Id:                             ptr("abort-incomplete-multipart-uploads"),
		Status:                         "Enabled",
		AbortIncompleteMultipartUpload: &s3.Bucket_AbortIncompleteMultipartUpload{DaysAfterInitiation: 7},
	}}
	if s.ExpireDays > 0 {
		rule := s3.Bucket_Rule{
			Id:               ptr("expire-objects"),
			Status:           "Enabled",
			ExpirationInDays: ptr(s.ExpireDays),
		}
		if versioned {
			// Expiry of a versioned object leaves a noncurrent version;
			// expire those too, or nothing is ever deleted.
			rule.NoncurrentVersionExpiration = &s3.Bucket_NoncurrentVersionExpiration{NoncurrentDays: s.ExpireDays}
		}
		rules = append(rules, rule)
	}
	b.resource(bucket, &s3.Bucket{
		BucketName: ptr(naming.Bucket(c.service(), c.stageName(), rn, c.t.Account, c.t.Region)),
		BucketEncryption: &s3.Bucket_BucketEncryption{ServerSideEncryptionConfiguration: []s3.Bucket_ServerSideEncryptionRule{{
			ServerSideEncryptionByDefault: &s3.Bucket_ServerSideEncryptionByDefault{SSEAlgorithm: "AES256"},
		}}},
		VersioningConfiguration: &s3.Bucket_VersioningConfiguration{Status: status},
		PublicAccessBlockConfiguration: &s3.Bucket_PublicAccessBlockConfiguration{
			BlockPublicAcls:       ptr(true),
			BlockPublicPolicy:     ptr(true),
			IgnorePublicAcls:      ptr(true),
			RestrictPublicBuckets: ptr(true),
		},
		OwnershipControls:      &s3.Bucket_OwnershipControls{Rules: []s3.Bucket_OwnershipControlsRule{{ObjectOwnership: ptr("BucketOwnerEnforced")}}},
		LifecycleConfiguration: &s3.Bucket_LifecycleConfiguration{Rules: rules},
		Tags:                   c.tags(f, false),

		// S3 has no snapshots: keep the bucket.
		AWSCloudFormationDeletionPolicy:      policies.DeletionPolicy("Retain"),
		AWSCloudFormationUpdateReplacePolicy: policies.UpdateReplacePolicy("Retain"),
	})
	arn := f.getAtt(bucket, "Arn")
	b.resource(stem+"BucketPolicy", &s3.BucketPolicy{
		Bucket: f.ref(bucket),
		PolicyDocument: map[string]any{
			"Version": "2012-10-17",
			"Statement": []any{map[string]any{
				"Sid":       "DenyInsecureTransport",
				"Effect":    "Deny",
				"Principal": "*",
				"Action":    "s3:*",
				"Resource":  []string{arn, f.join("", arn, "/*")},
				"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
			}},
		},
	})
	typ := descriptor.TypeS3
	c.outputFor(b, rn, typ, "bucket", f.ref(bucket), "S3 "+rn+" bucket name")
	c.outputFor(b, rn, typ, "arn", arn, "S3 "+rn+" bucket ARN")
}
