package deploy

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"

	"github.com/gantryhq/gantry/pkg/render"
)

// Hash is the template hash of a region's stacks: hex SHA-256 over, for
// each stack in order, its name, "\n", its JSON template bytes, "\n", and
// its parameters as sorted "k=v\n" lines. The app stack's gantry:hash tag
// holds the hash of both stacks; the data stack's, the hash of itself.
func Hash(stacks []render.Stack) (string, error) {
	ds, err := Encode(stacks)
	if err != nil {
		return "", err
	}
	return HashDeployed(ds), nil
}

// HashDeployed is Hash over already encoded stacks.
func HashDeployed(stacks []DeployedStack) string {
	h := sha256.New()
	for _, s := range stacks {
		h.Write([]byte(s.Name))
		h.Write([]byte("\n"))
		h.Write(s.Template)
		h.Write([]byte("\n"))
		for _, k := range slices.Sorted(maps.Keys(s.Parameters)) {
			fmt.Fprintf(h, "%s=%s\n", k, s.Parameters[k])
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Encode gives the stacks' JSON template bytes and a copy of their
// parameters, the form that is hashed, deployed and recorded.
func Encode(stacks []render.Stack) ([]DeployedStack, error) {
	out := make([]DeployedStack, 0, len(stacks))
	for _, s := range stacks {
		b, err := s.Encode("json")
		if err != nil {
			return nil, fmt.Errorf("encoding stack %s: %w", s.Name, err)
		}
		params := maps.Clone(s.Parameters)
		if params == nil {
			params = map[string]string{}
		}
		out = append(out, DeployedStack{Name: s.Name, Kind: s.Kind, Template: b, Parameters: params})
	}
	return out, nil
}
