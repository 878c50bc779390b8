package lint

import (
	"maps"
	"slices"
)

// Partitions an account lives in; a stage's regions must share one.
const (
	partitionAWS  = "aws"
	partitionCN   = "aws-cn"
	partitionGov  = "aws-us-gov"
	partitionEUSC = "aws-eusc"
)

// regionPartition maps every AWS region gantry knows to its partition. It is
// read-only; extend it when AWS opens a region.
var regionPartition = map[string]string{
	"af-south-1":     partitionAWS,
	"ap-east-1":      partitionAWS,
	"ap-east-2":      partitionAWS,
	"ap-northeast-1": partitionAWS,
	"ap-northeast-2": partitionAWS,
	"ap-northeast-3": partitionAWS,
	"ap-south-1":     partitionAWS,
	"ap-south-2":     partitionAWS,
	"ap-southeast-1": partitionAWS,
	"ap-southeast-2": partitionAWS,
	"ap-southeast-3": partitionAWS,
	"ap-southeast-4": partitionAWS,
	"ap-southeast-5": partitionAWS,
	"ap-southeast-6": partitionAWS,
	"ap-southeast-7": partitionAWS,
	"ca-central-1":   partitionAWS,
	"ca-west-1":      partitionAWS,
	"eu-central-1":   partitionAWS,
	"eu-central-2":   partitionAWS,
	"eu-north-1":     partitionAWS,
	"eu-south-1":     partitionAWS,
	"eu-south-2":     partitionAWS,
	"eu-west-1":      partitionAWS,
	"eu-west-2":      partitionAWS,
	"eu-west-3":      partitionAWS,
	"il-central-1":   partitionAWS,
	"me-central-1":   partitionAWS,
	"me-south-1":     partitionAWS,
	"mx-central-1":   partitionAWS,
	"sa-east-1":      partitionAWS,
	"us-east-1":      partitionAWS,
	"us-east-2":      partitionAWS,
	"us-west-1":      partitionAWS,
	"us-west-2":      partitionAWS,
	"cn-north-1":     partitionCN,
	"cn-northwest-1": partitionCN,
	"us-gov-east-1":  partitionGov,
	"us-gov-west-1":  partitionGov,
	"eusc-de-east-1": partitionEUSC,
}

// regionNames lists the known regions, sorted.
func regionNames() []string {
	return slices.Sorted(maps.Keys(regionPartition))
}
