package naming

// Release is the stack of a service's release tasks (jobs with
// beforeDeploy): <service>-<stage>-release, deployed after the data stack
// and before the app stack.
const Release StackKind = "release"

// JobFamily is the task definition family of a job: <service>-<stage>-<job>.
func JobFamily(service, stage, job string) string {
	return service + "-" + stage + "-" + job
}

// JobAlarm is the alarm on a scheduled job's failed runs, watched during
// bake: <service>-<stage>-<job>-failed.
func JobAlarm(service, stage, job string) string {
	return service + "-" + stage + "-" + job + "-failed"
}

// ReleaseLogGroup is the log group of the release tasks:
// /gantry/<service>/<stage>/release (the service's own log group is in
// the app stack, which a release task runs before).
func ReleaseLogGroup(service, stage string) string {
	return LogGroup(service, stage) + "/release"
}
