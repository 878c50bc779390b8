// Package s3 is the s3 resource kind: an S3 bucket, encrypted, with all
// public access blocked and TLS required.
package s3

import (
	"github.com/awslabs/goformation/v7/cloudformation/policies"
	"github.com/awslabs/goformation/v7/cloudformation/s3"

	"github.com/gantryhq/gantry/pkg/kind"
	"github.com/gantryhq/gantry/pkg/naming"
)

// Kind is the s3 kind.
type Kind struct{}

// Name implements kind.Kind.
func (Kind) Name() string       { return "s3" }
func (Kind) Title() string      { return "S3" }
func (Kind) Summary() string    { return "An S3 bucket: encrypted, all public access blocked, TLS only." }
func (Kind) New() kind.Settings { return &Settings{} }
func (Kind) Port() int          { return 0 }
func (Kind) Stateful() []kind.Stateful {
	return []kind.Stateful{{Type: "AWS::S3::Bucket", Loses: "every object in the bucket"}}
}
func (Kind) Rules() []kind.Rule  { return nil }
func (Kind) SettingsDoc() string { return "expireDays 0 or more." }

// Settings is an s3 resource.
type Settings struct {
	Versioning *bool `yaml:"versioning" doc:"Keep object versions (default true)."`
	ExpireDays int   `yaml:"expireDays" min:"0" doc:"Delete objects after this many days; 0 keeps them forever."`
}

// Defaults implements kind.Settings.
func (s *Settings) Defaults(func(string) bool) {
	if s.Versioning == nil {
		on := true
		s.Versioning = &on
	}
}

// Outputs implements kind.Settings.
func (s *Settings) Outputs() []kind.Output {
	return []kind.Output{{Name: "bucket", ID: "BucketName"}, {Name: "arn", ID: "BucketArn"}}
}

// Names implements kind.Settings: the account and region make a bucket
// name globally unique, so there is one a region.
func (s *Settings) Names(n kind.NameInput) []naming.Derived {
	var out []naming.Derived
	for _, region := range n.Regions {
		out = append(out, naming.Derived{Kind: naming.KindBucket, Value: naming.Bucket(n.Service, n.Stage, n.Resource, n.Account, region), Pattern: "service-stage-resource-account-region", Resource: n.Resource})
	}
	return out
}

// Check implements kind.Settings.
func (s *Settings) Check(c kind.Check) {
	if s.ExpireDays < 0 {
		c.Report("expireDays", "`%s` %d is negative; use 0 to keep objects forever, or a number of days", c.Path("expireDays"), s.ExpireDays)
	}
}

// Render implements kind.Settings.
func (s *Settings) Render(d kind.Data) {
	self := d.Self()
	rn := self.Name
	bucket := self.Stem + "Bucket"
	versioned := s.Versioning == nil || *s.Versioning
	status := "Suspended"
	if versioned {
		status = "Enabled"
	}
	d.Add(bucket, &s3.Bucket{
		BucketName: kind.Ptr(naming.Bucket(d.Service(), d.Stage(), rn, d.AccountID(), d.RegionName())),
		BucketEncryption: &s3.Bucket_BucketEncryption{ServerSideEncryptionConfiguration: []s3.Bucket_ServerSideEncryptionRule{{
			ServerSideEncryptionByDefault: &s3.Bucket_ServerSideEncryptionByDefault{SSEAlgorithm: "AES256"},
		}}},
		VersioningConfiguration: &s3.Bucket_VersioningConfiguration{Status: status},
		PublicAccessBlockConfiguration: &s3.Bucket_PublicAccessBlockConfiguration{
			BlockPublicAcls:       kind.Ptr(true),
			BlockPublicPolicy:     kind.Ptr(true),
			IgnorePublicAcls:      kind.Ptr(true),
			RestrictPublicBuckets: kind.Ptr(true),
		},
		OwnershipControls:      &s3.Bucket_OwnershipControls{Rules: []s3.Bucket_OwnershipControlsRule{{ObjectOwnership: kind.Ptr("BucketOwnerEnforced")}}},
		LifecycleConfiguration: &s3.Bucket_LifecycleConfiguration{Rules: s.lifecycle(versioned)},
		Tags:                   d.Tags(),

		// S3 has no snapshots: keep the bucket.
		AWSCloudFormationDeletionPolicy:      policies.DeletionPolicy("Retain"),
		AWSCloudFormationUpdateReplacePolicy: policies.UpdateReplacePolicy("Retain"),
	})
	arn := d.GetAtt(bucket, "Arn")
	d.Add(self.Stem+"BucketPolicy", &s3.BucketPolicy{
		Bucket: d.Ref(bucket),
		PolicyDocument: map[string]any{
			"Version":   "2012-10-17",
			"Statement": []any{kind.DenyInsecureTransport("s3:*", arn, d.Join("", arn, "/*"))},
		},
	})
	d.Output("bucket", d.Ref(bucket), "S3 "+rn+" bucket name")
	d.Output("arn", arn, "S3 "+rn+" bucket ARN")
}

func (s *Settings) lifecycle(versioned bool) []s3.Bucket_Rule {
	rules := []s3.Bucket_Rule{{
		Id:                             kind.Ptr("abort-incomplete-multipart-uploads"),
		Status:                         "Enabled",
		AbortIncompleteMultipartUpload: &s3.Bucket_AbortIncompleteMultipartUpload{DaysAfterInitiation: 7},
	}}
	if s.ExpireDays > 0 {
		rule := s3.Bucket_Rule{
			Id:               kind.Ptr("expire-objects"),
			Status:           "Enabled",
			ExpirationInDays: kind.Ptr(s.ExpireDays),
		}
		if versioned {
			// Expiry of a versioned object leaves a noncurrent version;
			// expire those too, or nothing is ever deleted.
			rule.NoncurrentVersionExpiration = &s3.Bucket_NoncurrentVersionExpiration{NoncurrentDays: s.ExpireDays}
		}
		rules = append(rules, rule)
	}
	return rules
}

// Grants implements kind.Settings: listing the bucket, and its objects at
// the resource's access level.
func (s *Settings) Grants(a kind.App) []kind.Statement {
	const policy = "service-buckets"
	arn := a.Import("arn")
	objects := a.Join("", arn, "/*")
	list := kind.Statement{Policy: policy, Sid: "ListBuckets", Actions: []string{"s3:GetBucketLocation", "s3:ListBucket"}, Resources: []string{arn}}
	if a.Access() == kind.AccessRead {
		return []kind.Statement{list, {Policy: policy, Sid: "ReadObjects", Actions: []string{"s3:GetObject"}, Resources: []string{objects}}}
	}
	return []kind.Statement{list, {Policy: policy, Sid: "UseObjects", Actions: []string{"s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:PutObject"}, Resources: []string{objects}}}
}
