package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// exampleDescriptors are what the generated descriptors are varied from.
var exampleDescriptors = []string{
	"examples/payments/payments.sd.yaml",
	"examples/catalog/catalog.sd.yaml",
	"examples/thumbs/thumbs.sd.yaml",
}

// regionPool is where generated stages deploy: commercial regions only, so
// a stage never mixes partitions.
var regionPool = []string{
	"us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1",
	"eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1",
	"ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "ap-south-1", "sa-east-1",
}

// fargateSizes are valid Fargate (cpu, memory) pairs.
var fargateSizes = [][2]int{{256, 512}, {512, 1024}, {1024, 2048}, {2048, 4096}, {4096, 8192}}

// generateDescriptors writes n descriptors into dir, each a variation of one
// of the examples (in turn): its own service name, team, image, routing,
// size, scaling, regions and waves, and a random subset of the example's
// resources (with the env and secrets that point at a dropped resource
// dropped too). The same seed writes the same files.
func generateDescriptors(dir string, n int, seed uint64) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	srcs := make([][]byte, len(exampleDescriptors))
	for i, f := range exampleDescriptors {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		srcs[i] = b
	}
	rnd := rand.New(rand.NewPCG(seed, 0x6a6e7472))
	files := make([]string, 0, n)
	for i := range n {
		src := srcs[i%len(srcs)]
		var doc map[string]any
		if err := yaml.Unmarshal(src, &doc); err != nil {
			return nil, fmt.Errorf("%s: %w", exampleDescriptors[i%len(srcs)], err)
		}
		vary(doc, i, rnd)
		out, err := marshalInOrder(doc, src)
		if err != nil {
			return nil, err
		}
		name := filepath.Join(dir, fmt.Sprintf("%s.sd.yaml", doc["service"]))
		if err := os.WriteFile(name, out, 0o644); err != nil {
			return nil, err
		}
		files = append(files, name)
	}
	return files, nil
}

// vary turns an example (decoded YAML) into the i-th generated descriptor.
func vary(doc map[string]any, i int, rnd *rand.Rand) {
	service := fmt.Sprintf("%s-%04d", doc["service"], i)
	doc["service"] = service
	doc["team"] = fmt.Sprintf("team-%02d", rnd.IntN(40))
	doc["description"] = fmt.Sprintf("Generated service %d for the lint benchmark", i)
	doc["image"] = fmt.Sprintf("111122223333.dkr.ecr.%s.amazonaws.com/%s", regionPool[rnd.IntN(len(regionPool))], service)

	compute := doc["compute"].(map[string]any)
	size := fargateSizes[rnd.IntN(len(fargateSizes))]
	compute["cpu"], compute["memory"] = size[0], size[1]
	if routing, ok := doc["routing"].(map[string]any); ok {
		if _, byHost := routing["host"]; byHost {
			routing["host"] = service + ".example.com"
		} else {
			routing["path"] = "/" + service + "/*"
		}
	}
	if scaling, ok := doc["scaling"].(map[string]any); ok {
		lo := 2 + rnd.IntN(3)
		scaling["min"], scaling["max"] = lo, lo+2+rnd.IntN(20)
	}

	dropResources(doc, rnd)
	for _, s := range doc["stages"].([]any) {
		varyRegions(s.(map[string]any), rnd)
	}
}

// dropResources removes each resource with probability 1/3, with every env
// value, secret, stage override and backlog scaling that refers to it.
func dropResources(doc map[string]any, rnd *rand.Rand) {
	resources, _ := doc["resources"].(map[string]any)
	for _, name := range sortedKeys(resources) {
		if rnd.IntN(3) != 0 {
			continue
		}
		delete(resources, name)
		if sc, ok := doc["scaling"].(map[string]any); ok {
			if q, ok := sc["queue"].(map[string]any); ok && q["resource"] == name {
				delete(sc, "queue") // a worker without its queue scales on CPU
			}
		}
		ref := "${resources." + name + "."
		for _, key := range []string{"env", "secrets"} {
			m, _ := doc[key].(map[string]any)
			for k, v := range m {
				if s, ok := v.(string); ok && strings.Contains(s, ref) {
					delete(m, k)
				}
			}
		}
		for _, s := range doc["stages"].([]any) {
			if o, ok := s.(map[string]any)["overrides"].(map[string]any); ok {
				if r, ok := o["resources"].(map[string]any); ok {
					delete(r, name)
					if len(r) == 0 {
						delete(o, "resources")
					}
				}
			}
		}
	}
	if len(resources) == 0 {
		delete(doc, "resources")
	}
}

// varyRegions gives a stage new regions: as many as it had, drawn without
// repetition, keeping its shape (one list, or waves).
func varyRegions(stage map[string]any, rnd *rand.Rand) {
	pool := slices.Clone(regionPool)
	rnd.Shuffle(len(pool), func(a, b int) { pool[a], pool[b] = pool[b], pool[a] })
	take := func(list []any) []any {
		out := make([]any, len(list))
		for i := range list {
			out[i], pool = pool[0], pool[1:]
		}
		return out
	}
	if rs, ok := stage["regions"].([]any); ok {
		stage["regions"] = take(rs)
	}
	if ws, ok := stage["waves"].([]any); ok {
		for _, w := range ws {
			wave := w.(map[string]any)
			wave["regions"] = take(wave["regions"].([]any))
		}
	}
}

// marshalInOrder writes doc with its top-level keys in the order the
// example has them (schemaVersion and service first, stages last), as a
// person would; nested keys come out sorted.
func marshalInOrder(doc map[string]any, example []byte) ([]byte, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(example, &root); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	top := root.Content[0].Content // key, value, key, value, ...
	for i := 0; i < len(top); i += 2 {
		key := top[i].Value
		if v, ok := doc[key]; ok {
			if err := enc.Encode(map[string]any{key: v}); err != nil {
				return nil, err
			}
		}
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	// The encoder separates documents with "---"; one document is wanted.
	return bytes.ReplaceAll(buf.Bytes(), []byte("---\n"), nil), nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
