package platform

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/gantryhq/gantry/pkg/naming"
)

// ArtifactsNoncurrentDays is how long the artifacts bucket keeps an object
// version once a newer one replaced it. Templates are recorded in the state
// table too; the bucket only hands them to CloudFormation.
const ArtifactsNoncurrentDays = 30

// S3API is the part of the S3 client EnsureArtifactsBucket uses.
type S3API interface {
	HeadBucket(context.Context, *s3.HeadBucketInput, ...func(*s3.Options)) (*s3.HeadBucketOutput, error)
	CreateBucket(context.Context, *s3.CreateBucketInput, ...func(*s3.Options)) (*s3.CreateBucketOutput, error)
	PutBucketEncryption(context.Context, *s3.PutBucketEncryptionInput, ...func(*s3.Options)) (*s3.PutBucketEncryptionOutput, error)
	PutBucketVersioning(context.Context, *s3.PutBucketVersioningInput, ...func(*s3.Options)) (*s3.PutBucketVersioningOutput, error)
	PutPublicAccessBlock(context.Context, *s3.PutPublicAccessBlockInput, ...func(*s3.Options)) (*s3.PutPublicAccessBlockOutput, error)
	PutBucketLifecycleConfiguration(context.Context, *s3.PutBucketLifecycleConfigurationInput, ...func(*s3.Options)) (*s3.PutBucketLifecycleConfigurationOutput, error)
	PutBucketTagging(context.Context, *s3.PutBucketTaggingInput, ...func(*s3.Options)) (*s3.PutBucketTaggingOutput, error)
}

// EnsureArtifactsBucket finds or creates the artifacts bucket of an account
// and region (naming.ArtifactsBucket), where deploy uploads templates over
// CloudFormation's 51,200-byte inline limit. It (re)applies the bucket's
// settings either way, so a bucket made by an older gantry, or changed by
// hand, gets them back: SSE-S3 encryption, versioning, all four public
// access blocks, bucket-owner-enforced ownership, and lifecycle rules that expire old
// versions after ArtifactsNoncurrentDays and abort stale uploads.
func EnsureArtifactsBucket(ctx context.Context, api S3API, account, region string) (Resource, error) {
	name := naming.ArtifactsBucket(account, region)
	res := Resource{Kind: "bucket", ID: name, Status: Found}
	_, err := api.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(name), ExpectedBucketOwner: aws.String(account)})
	switch {
	case isNotFound(err):
		in := &s3.CreateBucketInput{Bucket: aws.String(name), ObjectOwnership: s3types.ObjectOwnershipBucketOwnerEnforced}
		if region != "us-east-1" {
			// us-east-1 refuses its own name as a location constraint.
			in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}
		}
		if _, err := api.CreateBucket(ctx, in); err != nil {
			return res, fmt.Errorf("creating artifacts bucket %s: %w", name, err)
		}
		res.Status = Created
	case err != nil:
		return res, fmt.Errorf("looking for artifacts bucket %s (it must belong to account %s): %w", name, account, err)
	}
	for _, s := range artifactsSettings(name) {
		if err := s.put(ctx, api); err != nil {
			return res, fmt.Errorf("artifacts bucket %s: setting %s: %w", name, s.what, err)
		}
	}
	return res, nil
}

// isNotFound recognises HeadBucket's answer for a bucket that is not there
// (a 404 without a body, so without an error code of its own).
func isNotFound(err error) bool {
	if err == nil {
		return false
	}
	var nf *s3types.NotFound
	var nb *s3types.NoSuchBucket
	if errors.As(err, &nf) || errors.As(err, &nb) {
		return true
	}
	var re interface{ HTTPStatusCode() int }
	var ae smithy.APIError
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound || errors.As(err, &ae) && ae.ErrorCode() == "NotFound"
}

type bucketSetting struct {
	what string
	put  func(context.Context, S3API) error
}

func artifactsSettings(name string) []bucketSetting {
	b := aws.String(name)
	return []bucketSetting{
		{"encryption", func(ctx context.Context, api S3API) error {
			_, err := api.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: b, ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{
				Rules: []s3types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256}}},
			}})
			return err
		}},
		{"versioning", func(ctx context.Context, api S3API) error {
			_, err := api.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: b, VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}})
			return err
		}},
		{"public access block", func(ctx context.Context, api S3API) error {
			_, err := api.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: b, PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
				BlockPublicAcls: aws.Bool(true), BlockPublicPolicy: aws.Bool(true), IgnorePublicAcls: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true),
			}})
			return err
		}},
		{"lifecycle", func(ctx context.Context, api S3API) error {
			_, err := api.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: b, LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{
				Rules: []s3types.LifecycleRule{{
					ID:                             aws.String("expire-old-versions"),
					Status:                         s3types.ExpirationStatusEnabled,
					Filter:                         &s3types.LifecycleRuleFilter{Prefix: aws.String("")},
					NoncurrentVersionExpiration:    &s3types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(ArtifactsNoncurrentDays)},
					AbortIncompleteMultipartUpload: &s3types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(7)},
				}},
			}})
			return err
		}},
		{"tags", func(ctx context.Context, api S3API) error {
			_, err := api.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: b, Tagging: &s3types.Tagging{
				TagSet: []s3types.Tag{{Key: aws.String("gantry:purpose"), Value: aws.String("artifacts")}},
			}})
			return err
		}},
	}
}
