// Package templates holds the starter descriptors that `gantry init` writes.
// Each is a complete, lint-clean descriptor for a service named my-service;
// init replaces every "my-service" with the name the user gives.
package templates

import (
	"embed"
	"fmt"
	"slices"
	"strings"
)

//go:embed *.sd.yaml
var files embed.FS

// DefaultService is the service name the templates are written with.
const DefaultService = "my-service"

// Names lists the templates by name (the file name without .sd.yaml).
func Names() []string {
	entries, err := files.ReadDir(".")
	if err != nil {
		return nil // cannot happen: the directory is embedded
	}
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".sd.yaml"))
	}
	slices.Sort(out)
	return out
}

// Get returns the template called name as written, for service my-service.
func Get(name string) ([]byte, error) {
	b, err := files.ReadFile(name + ".sd.yaml")
	if err != nil {
		return nil, fmt.Errorf("no template %q: use one of %s", name, strings.Join(Names(), ", "))
	}
	return b, nil
}

// Render returns the template called name for the given service name.
func Render(name, service string) ([]byte, error) {
	b, err := Get(name)
	if err != nil {
		return nil, err
	}
	return []byte(strings.ReplaceAll(string(b), DefaultService, service)), nil
}
