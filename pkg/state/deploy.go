package state

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// MaxItemBytes is DynamoDB's item size limit.
const MaxItemBytes = 400 * 1024

// Deployment is what was deployed to one (stage, region): the exact
// templates and parameters, so that a rollback can redeploy them byte for
// byte.
type Deployment struct {
	Service, Stage, Region string
	Version                string
	// Hash is the region's template hash (the app stack's gantry:hash tag).
	Hash       string
	RolloutID  string
	DeployedAt time.Time
	// BakedAt is when the deployment's bake finished (zero: it did not, or
	// it was never baked: a rerun bakes it).
	BakedAt time.Time
	// Stacks in deployment order (data, then app).
	Stacks []DeployedStack
}

// DeployedStack is one stack of a Deployment.
type DeployedStack struct {
	Name string
	// Kind is "data" or "app".
	Kind       string
	Template   []byte
	Parameters map[string]string
	Tags       map[string]string
}

func deployPK(service, stage, region string) string {
	return "deploy#" + service + "#" + stage + "#" + region
}

// SaveDeployment records d. DeployedAt defaults to now. Templates are
// stored gzip-compressed with their SHA-256, checked when read back. A
// deployment too big for one DynamoDB item is refused.
func (s *Store) SaveDeployment(ctx context.Context, d Deployment) error {
	if err := checkKeyParts(d.Service, d.Stage, d.Region, d.Version); err != nil {
		return fmt.Errorf("saving deployment: %w", err)
	}
	if d.DeployedAt.IsZero() {
		d.DeployedAt = s.now()
	}
	stacks := make([]types.AttributeValue, 0, len(d.Stacks))
	for _, st := range d.Stacks {
		z, err := gzipBytes(st.Template)
		if err != nil {
			return fmt.Errorf("saving deployment %s of %s/%s/%s: compressing the template of %s: %w", d.Version, d.Service, d.Stage, d.Region, st.Name, err)
		}
		sum := sha256.Sum256(st.Template)
		stacks = append(stacks, &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"name":           str(st.Name),
			"kind":           str(st.Kind),
			"template":       &types.AttributeValueMemberB{Value: z},
			"templateSha256": str(hex.EncodeToString(sum[:])),
			"parameters":     strMap(st.Parameters),
			"tags":           strMap(st.Tags),
		}})
	}
	item := map[string]types.AttributeValue{
		"pk":         str(deployPK(d.Service, d.Stage, d.Region)),
		"sk":         str(formatTime(d.DeployedAt) + "#" + d.Version),
		"version":    str(d.Version),
		"hash":       str(d.Hash),
		"rolloutId":  str(d.RolloutID),
		"deployedAt": str(formatTime(d.DeployedAt)),
		"stacks":     &types.AttributeValueMemberL{Value: stacks},
	}
	if !d.BakedAt.IsZero() {
		item["bakedAt"] = str(formatTime(d.BakedAt))
	}
	if n := itemSize(item); n > MaxItemBytes {
		return fmt.Errorf("saving deployment %s of %s/%s/%s: it is %d bytes with templates compressed; a DynamoDB item holds at most %d",
			d.Version, d.Service, d.Stage, d.Region, n, MaxItemBytes)
	}
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item})
	if err != nil {
		return fmt.Errorf("saving deployment %s of %s/%s/%s: %w", d.Version, d.Service, d.Stage, d.Region, err)
	}
	return nil
}

// MarkBaked records that the bake of the deployment of version made at
// deployedAt finished at bakedAt. The record must exist.
func (s *Store) MarkBaked(ctx context.Context, service, stage, region, version string, deployedAt, bakedAt time.Time) error {
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table),
		Key: map[string]types.AttributeValue{
			"pk": str(deployPK(service, stage, region)),
			"sk": str(formatTime(deployedAt) + "#" + version),
		},
		UpdateExpression:          aws.String("SET bakedAt = :t"),
		ConditionExpression:       aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": str(formatTime(bakedAt))},
	})
	if err != nil {
		return fmt.Errorf("recording the bake of %s in %s/%s/%s: %w", version, service, stage, region, err)
	}
	return nil
}

// LatestDeployment returns the newest deployment to (stage, region), nil
// if there is none.
func (s *Store) LatestDeployment(ctx context.Context, service, stage, region string) (*Deployment, error) {
	return s.findDeployment(ctx, service, stage, region, "latest", func(*Deployment) bool { return true })
}

// PreviousDeployment returns the newest deployment to (stage, region) whose
// version is not notVersion — what to restore when notVersion fails — or
// nil if there is none.
func (s *Store) PreviousDeployment(ctx context.Context, service, stage, region, notVersion string) (*Deployment, error) {
	return s.findDeployment(ctx, service, stage, region, "the version before "+notVersion,
		func(d *Deployment) bool { return d.Version != notVersion })
}

// GetDeployment returns the newest deployment of version to (stage,
// region), nil if that version was never deployed there.
func (s *Store) GetDeployment(ctx context.Context, service, stage, region, version string) (*Deployment, error) {
	return s.findDeployment(ctx, service, stage, region, "version "+version,
		func(d *Deployment) bool { return d.Version == version })
}

// findDeployment walks the deployments newest first and returns the first
// that match accepts.
func (s *Store) findDeployment(ctx context.Context, service, stage, region, what string, match func(*Deployment) bool) (*Deployment, error) {
	var found *Deployment
	var decodeErr error
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(deployPK(service, stage, region))},
		ScanIndexForward:          aws.Bool(false),
		ConsistentRead:            aws.Bool(true),
		Limit:                     aws.Int32(10),
	}
	err := s.queryAll(ctx, in, func(item map[string]types.AttributeValue) bool {
		d, err := decodeDeployment(service, stage, region, item)
		if err != nil {
			decodeErr = err
			return false
		}
		if match(d) {
			found = d
			return false
		}
		return true
	})
	if err == nil {
		err = decodeErr
	}
	if err != nil {
		return nil, fmt.Errorf("reading deployment (%s) of %s/%s/%s: %w", what, service, stage, region, err)
	}
	return found, nil
}

func decodeDeployment(service, stage, region string, item map[string]types.AttributeValue) (*Deployment, error) {
	d := &Deployment{
		Service:    service,
		Stage:      stage,
		Region:     region,
		Version:    getS(item, "version"),
		Hash:       getS(item, "hash"),
		RolloutID:  getS(item, "rolloutId"),
		DeployedAt: parseTime(getS(item, "deployedAt")),
	}
	if at := getS(item, "bakedAt"); at != "" {
		d.BakedAt = parseTime(at)
	}
	list, _ := item["stacks"].(*types.AttributeValueMemberL)
	if list == nil {
		return d, nil
	}
	for _, v := range list.Value {
		m, ok := v.(*types.AttributeValueMemberM)
		if !ok {
			return nil, fmt.Errorf("version %s: a stack entry is not a map", d.Version)
		}
		name := getS(m.Value, "name")
		tmpl, err := gunzipBytes(getB(m.Value, "template"))
		if err != nil {
			return nil, fmt.Errorf("version %s: template of stack %s: %w", d.Version, name, err)
		}
		sum := sha256.Sum256(tmpl)
		if want := getS(m.Value, "templateSha256"); hex.EncodeToString(sum[:]) != want {
			return nil, fmt.Errorf("version %s: template of stack %s does not match its stored SHA-256", d.Version, name)
		}
		d.Stacks = append(d.Stacks, DeployedStack{
			Name:       name,
			Kind:       getS(m.Value, "kind"),
			Template:   tmpl,
			Parameters: getStrMap(m.Value, "parameters"),
			Tags:       getStrMap(m.Value, "tags"),
		})
	}
	return d, nil
}

func gzipBytes(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	w, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(b); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func gunzipBytes(b []byte) ([]byte, error) {
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// itemSize estimates an item's size as DynamoDB counts it: names plus
// values, with 3 bytes of overhead per list or map and 1 per element.
func itemSize(item map[string]types.AttributeValue) int {
	n := 0
	for k, v := range item {
		n += len(k) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return len(v.Value)/2 + 2
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberM:
		n := 3
		for k, x := range v.Value {
			n += len(k) + valueSize(x) + 1
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, x := range v.Value {
			n += valueSize(x) + 1
		}
		return n
	}
	return 0
}
