package emulatortest

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func TestParseReady(t *testing.T) {
	for line, want := range map[string]string{
		"emulator listening on http://127.0.0.1:4566":     "http://127.0.0.1:4566",
		"emulator listening on http://127.0.0.1:4566\r\n": "http://127.0.0.1:4566",
		"emulator listening on 127.0.0.1:4566":            "",
		"some warning about emulator listening on":        "",
	} {
		got, ok := parseReady(line)
		if got != want || ok != (want != "") {
			t.Errorf("parseReady(%q) = %q, %v; want %q", line, got, ok, want)
		}
	}
}

func TestTailBufferKeepsLastLines(t *testing.T) {
	b := newTailBuffer(10)
	for _, l := range []string{"aaaa", "bbbb", "cccc"} {
		b.WriteLine(l)
	}
	if got := b.String(); got != "bbbb\ncccc" {
		t.Fatalf("tail = %q", got)
	}
}

// The emulator starts, answers through the real SDK with the test account,
// Reset clears its state, and Stop ends the process.
func TestStartConfigResetStop(t *testing.T) {
	e := Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := e.Config(t, "eu-west-1")

	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	if got := aws.ToString(id.Account); got != Account {
		t.Fatalf("account = %q, want %q", got, Account)
	}

	db := dynamodb.NewFromConfig(cfg)
	_, err = db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("reset-me"),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	})
	if err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	e.Reset(t)
	_, err = db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("reset-me")})
	var notFound *types.ResourceNotFoundException
	if !errors.As(err, &notFound) {
		t.Fatalf("after Reset, DescribeTable err = %v; want ResourceNotFoundException", err)
	}

	pid := e.cmd.Process.Pid
	e.Stop()
	e.Stop() // idempotent
	if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("process group %d still exists after Stop (kill 0: %v)", pid, err)
	}
}
