package cmdutil

import "github.com/spf13/pflag"

// AddDataLossFlag defines --allow-data-loss[=RESOURCE,...]: alone it allows
// every replacement or deletion of a stateful resource, with a value only
// those resources (descriptor names such as db, or logical IDs such as
// DbInstance). deploy.ParseDataLossConsent reads the value.
func AddDataLossFlag(fs *pflag.FlagSet, v *string) {
	fs.StringVar(v, "allow-data-loss", "", "allow replacing or deleting databases, caches, buckets: all, or only --allow-data-loss=RESOURCE[,RESOURCE]")
	fs.Lookup("allow-data-loss").NoOptDefVal = "*"
}
