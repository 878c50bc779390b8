package lint

import "github.com/gantryhq/gantry/pkg/kind"

// ruleQueueScaling: backlog scaling is for workers, on a queue of their own.
func ruleQueueScaling() rule {
	return rule{
		RuleInfo: RuleInfo{
			ID: "GN207", Name: "queue-scaling", Severity: Error,
			Title: "`scaling.queue` names an sqs resource of a worker",
			Doc: "A worker (no port) may scale on the backlog of one of its queues: `scaling.queue.resource` names an " +
				"sqs resource of the service, and `messagesPerTask` is at least 1. A web service scales on CPU; its " +
				"load balancer, not a queue, brings its work.",
			Example: Example{
				YAML:    "resources:\n  files:\n    type: s3\nscaling:\n  queue: {resource: files}\n",
				Message: "`scaling.queue.resource` \"files\" is of type s3, not a queue; name an sqs resource of this service",
			},
		},
		check: func(c *checker) {
			c.eachSpec(func(v view) {
				q := v.Spec.Scaling.Queue
				if q == nil {
					return
				}
				if v.Spec.Compute.Port != nil {
					v.report(locate(v.Pos, "scaling.queue"), "`scaling.queue` is set on a web service (compute.port is set); a web service scales on CPU: remove `scaling.queue`, or the port for a worker")
				}
				if q.MessagesPerTask < 1 {
					v.report(value(v.Pos, "scaling.queue.messagesPerTask"), "`scaling.queue.messagesPerTask` %d is below 1; say how many visible messages each task should carry", q.MessagesPerTask)
				}
				if q.Resource == "" {
					return
				}
				r := v.Spec.Resources[q.Resource]
				switch {
				case r == nil:
					v.report(value(v.Pos, "scaling.queue.resource"), "`scaling.queue.resource` %q is not a resource of this service; name one of its sqs resources", q.Resource)
				case r.Settings == nil:
				default:
					if _, ok := r.Settings.(kind.Queue); !ok {
						v.report(value(v.Pos, "scaling.queue.resource"), "`scaling.queue.resource` %q is of type %s, not a queue; name an sqs resource of this service", q.Resource, r.Type)
					}
				}
			})
		},
	}
}
