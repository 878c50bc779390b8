package lint

import (
	"maps"
	"regexp"
	"slices"
)

var (
	pgVersionRe  = regexp.MustCompile(`^[1-9][0-9]?$`)
	dbClassRe    = regexp.MustCompile(`^db\.[a-z0-9]+\.[a-z0-9-]+$`)
	cacheClassRe = regexp.MustCompile(`^cache\.[a-z0-9]+\.[a-z0-9-]+$`)
)

// RDS and ElastiCache limits for what a descriptor sets.
const (
	minStorage    = 20    // GiB, gp3
	maxStorage    = 65536 // GiB
	maxBackupDays = 35
	maxReplicas   = 5
)

func ruleResourceSettings() rule {
	return rule{
		RuleInfo: RuleInfo{
			ID: "GN503", Name: "resource-settings", Severity: Error,
			Title: "resource settings are what RDS, ElastiCache and S3 accept",
			Doc: "Postgres: version is a major version such as \"16\", class a db.* instance class, storage 20 to " +
				"65536 GiB, backupDays 0 to 35. Redis: class a cache.* node type, replicas 0 to 5. S3: expireDays 0 or more.",
			Example: Example{
				YAML:    "resources:\n  db:\n    type: postgres\n    storage: 5\n",
				Message: "`resources.db.storage` 5 GiB is below the 20 GiB RDS allows; use 20 to 65536",
			},
		},
		check: func(c *checker) {
			c.eachSpec(func(v view) {
				for _, name := range slices.Sorted(maps.Keys(v.Spec.Resources)) {
					r := v.Spec.Resources[name]
					if r == nil {
						continue
					}
					p := "resources." + name
					at := func(k string) string { return p + "." + k }
					switch {
					case r.Postgres != nil:
						pg := r.Postgres
						if !pgVersionRe.MatchString(pg.Version) {
							v.report(value(v.Pos, at("version")), "`%s` %q must be a major version such as \"16\"; RDS picks the minor version", at("version"), pg.Version)
						}
						if !dbClassRe.MatchString(pg.Class) {
							v.report(value(v.Pos, at("class")), "`%s` %q is not an RDS instance class; use one such as db.t4g.micro or db.r6g.large", at("class"), pg.Class)
						}
						switch {
						case pg.Storage < minStorage:
							v.report(value(v.Pos, at("storage")), "`%s` %d GiB is below the %d GiB RDS allows; use %d to %d", at("storage"), pg.Storage, minStorage, minStorage, maxStorage)
						case pg.Storage > maxStorage:
							v.report(value(v.Pos, at("storage")), "`%s` %d GiB is above the %d GiB RDS allows; use %d to %d", at("storage"), pg.Storage, maxStorage, minStorage, maxStorage)
						}
						if b := pg.BackupDays; b != nil && (*b < 0 || *b > maxBackupDays) {
							v.report(value(v.Pos, at("backupDays")), "`%s` %d is out of range; RDS keeps backups 0 to %d days", at("backupDays"), *b, maxBackupDays)
						}
					case r.Redis != nil:
						if !cacheClassRe.MatchString(r.Redis.Class) {
							v.report(value(v.Pos, at("class")), "`%s` %q is not an ElastiCache node type; use one such as cache.t4g.micro or cache.r7g.large", at("class"), r.Redis.Class)
						}
						if n := r.Redis.Replicas; n < 0 || n > maxReplicas {
							v.report(value(v.Pos, at("replicas")), "`%s` %d is out of range; a replication group has 0 to %d replicas", at("replicas"), n, maxReplicas)
						}
					case r.S3 != nil:
						if r.S3.ExpireDays < 0 {
							v.report(value(v.Pos, at("expireDays")), "`%s` %d is negative; use 0 to keep objects forever, or a number of days", at("expireDays"), r.S3.ExpireDays)
						}
					}
				}
			})
		},
	}
}
