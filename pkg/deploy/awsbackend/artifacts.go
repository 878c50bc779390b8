package awsbackend

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/gantryhq/gantry/pkg/cfn"
	"github.com/gantryhq/gantry/pkg/naming"
)

// templateURL uploads a template too large to pass inline (over
// cfn.MaxTemplateBody) to the account and region's artifacts bucket and
// returns the URL CloudFormation reads it from. The object is named by the
// template's hash, so the same template is uploaded once: a plan, the
// change set made ahead and the deploy's own share it.
func (r *region) templateURL(ctx context.Context, stack string, body []byte) (string, error) {
	if r.s3 == nil {
		return "", fmt.Errorf("the template of %s is %d bytes, over CloudFormation's %d-byte inline limit, and no S3 client is configured to upload it", stack, len(body), cfn.MaxTemplateBody)
	}
	sum := sha256.Sum256(body)
	bucket, key := naming.ArtifactsBucket(r.account, r.name), naming.TemplateKey(stack, hex.EncodeToString(sum[:]))
	url := naming.S3ObjectURL(bucket, r.name, key)
	_, err := r.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), ExpectedBucketOwner: aws.String(r.account)})
	if err == nil {
		return url, nil
	}
	_, err = r.s3.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body),
		ContentType: aws.String("application/json"), ExpectedBucketOwner: aws.String(r.account),
		ServerSideEncryption: s3types.ServerSideEncryptionAes256,
	})
	if noSuchBucket(err) {
		return "", fmt.Errorf("the template of %s is %d bytes, over CloudFormation's %d-byte inline limit, so it goes through the artifacts bucket %s, which does not exist in account %s, %s: run gantry bootstrap FILE (with the same --endpoint-url, --profile and --role-name) to make it",
			stack, len(body), cfn.MaxTemplateBody, bucket, r.account, r.name)
	}
	if err != nil {
		return "", fmt.Errorf("uploading the template of %s (%d bytes) to s3://%s/%s: %w", stack, len(body), bucket, key, err)
	}
	r.cfn.Logger.InfoContext(ctx, "template uploaded to the artifacts bucket", "stack", stack, "bytes", len(body), "bucket", bucket, "key", key)
	return url, nil
}

func noSuchBucket(err error) bool {
	var nb *s3types.NoSuchBucket
	var ae smithy.APIError
	return errors.As(err, &nb) || errors.As(err, &ae) && ae.ErrorCode() == "NoSuchBucket"
}
