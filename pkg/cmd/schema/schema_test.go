package schema

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
	"github.com/gantryhq/gantry/pkg/schema"
)

func TestSchemaPrintsGeneratedSchema(t *testing.T) {
	f, out, _ := cmdutil.TestFactory("dev")
	code, err := cmdutil.Execute(context.Background(), NewCmd(f), nil)
	if code != 0 || err != nil {
		t.Fatalf("exit %d, err %v", code, err)
	}
	want, err := schema.Generate()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Error("stdout differs from schema.Generate()")
	}
	var doc map[string]any
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("stdout is not JSON: %v", err)
	}
	if doc["$id"] != "https://gantry.dev/schema/v1.json" {
		t.Errorf("$id = %v", doc["$id"])
	}
}
