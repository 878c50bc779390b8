// Package kinds lists the resource kinds gantry knows. Adding a kind is its
// package under pkg/kind/ and its line here.
package kinds

import (
	"github.com/gantryhq/gantry/pkg/kind"
	"github.com/gantryhq/gantry/pkg/kind/dynamodb"
	"github.com/gantryhq/gantry/pkg/kind/postgres"
	"github.com/gantryhq/gantry/pkg/kind/redis"
	"github.com/gantryhq/gantry/pkg/kind/s3"
	"github.com/gantryhq/gantry/pkg/kind/sns"
	"github.com/gantryhq/gantry/pkg/kind/sqs"
)

// All lists every kind, in the order the docs, the schema and the data
// stack's store security group list them.
func All() []kind.Kind {
	return []kind.Kind{
		postgres.Kind{},
		redis.Kind{},
		s3.Kind{},
		dynamodb.Kind{},
		sqs.Kind{},
		sns.Kind{},
	}
}

// Lookup finds a kind by its descriptor `type`.
func Lookup(name string) (kind.Kind, bool) {
	for _, k := range All() {
		if k.Name() == name {
			return k, true
		}
	}
	return nil, false
}

// Names lists the kinds' `type` values, in order.
func Names() []string {
	var out []string
	for _, k := range All() {
		out = append(out, k.Name())
	}
	return out
}

// Stateful lists every kind's CloudFormation types that hold data.
func Stateful() []kind.Stateful {
	var out []kind.Stateful
	for _, k := range All() {
		out = append(out, k.Stateful()...)
	}
	return out
}
