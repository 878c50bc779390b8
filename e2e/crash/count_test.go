package crash_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gantryhq/gantry/pkg/render"
)

// stackVersion is one stack of one region, at one version ("" for a data
// stack, which carries no version). Stack names hold the stage, and each
// stage has an account of its own, so (region, stack) names an
// (account/region, stack).
type stackVersion struct{ Region, Stack, Version string }

// executes sits in front of the proxy and counts, per stack and version,
// the CloudFormation calls that change a stack: ExecuteChangeSet (tied to
// its stack and version through the CreateChangeSet answer that named the
// change set), CreateStack and UpdateStack. Only calls the emulator took
// (a 2xx answer) count: a refused call changed nothing. Every request is
// passed on detached from its client, so that one sent just before a kill
// still completes, as it would on AWS.
type executes struct {
	next http.Handler

	mu      sync.Mutex
	sets    map[string]stackVersion // change set ARN -> its stack and version
	counts  map[stackVersion]int
	unknown []string                   // executed change sets no CreateChangeSet named
	last    map[stackVersion]time.Time // when each stack's last operation was taken (Version "")
	open    int                        // requests not answered yet
}

func newExecutes(next http.Handler) *executes {
	return &executes{next: next, sets: map[string]stackVersion{}, counts: map[stackVersion]int{}, last: map[stackVersion]time.Time{}}
}

// stackCalls are the CloudFormation actions executes looks at.
var stackCalls = []string{"CreateChangeSet", "ExecuteChangeSet", "CreateStack", "UpdateStack"}

func (e *executes) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	// A call that reached AWS runs to its end even when its caller dies
	// (a killed gantry closes its connections): so it is here, and the
	// count sees every call the emulator took.
	r = r.WithContext(context.WithoutCancel(r.Context()))
	e.mu.Lock()
	e.open++
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		e.open--
		e.mu.Unlock()
	}()
	form, _ := url.ParseQuery(string(body))
	action := form.Get("Action")
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") || !slices.Contains(stackCalls, action) {
		e.next.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	e.next.ServeHTTP(rec, r)
	maps.Copy(w.Header(), rec.Header())
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
	if rec.Code/100 != 2 {
		return
	}
	region := signingRegion(r)
	sv := stackVersion{Region: region, Stack: stackName(form.Get("StackName")), Version: tagValue(form, render.TagVersion)}
	e.mu.Lock()
	defer e.mu.Unlock()
	switch action {
	case "CreateChangeSet":
		var out struct {
			ID string `xml:"CreateChangeSetResult>Id"`
		}
		if xml.Unmarshal(rec.Body.Bytes(), &out) == nil && out.ID != "" {
			e.sets[out.ID] = sv
		}
	case "ExecuteChangeSet":
		id := form.Get("ChangeSetName")
		known, ok := e.sets[id]
		if !ok {
			e.unknown = append(e.unknown, region+" "+id)
			return
		}
		e.counts[known]++
		e.last[stackVersion{Region: known.Region, Stack: known.Stack}] = time.Now()
	default: // CreateStack, UpdateStack
		e.counts[sv]++
		e.last[stackVersion{Region: sv.Region, Stack: sv.Stack}] = time.Now()
	}
}

// settle waits until every request has been answered: after a kill, the
// calls the dead gantry had sent still run to their end.
func (e *executes) settle(timeout time.Duration) bool {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		e.mu.Lock()
		open := e.open
		e.mu.Unlock()
		if open == 0 {
			return true
		}
	}
	return false
}

// busyAt lists the stacks with an operation running at t: taken within d
// before t (the proxy makes every operation last d), or answered after t
// (sent before it). since is how long before t the latest operation was
// taken (negative when it was answered after t; 0 when there was none).
func (e *executes) busyAt(t time.Time, d time.Duration) (busy []string, since time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	first := true
	for sv, at := range e.last {
		if first || t.Sub(at) < since {
			since, first = t.Sub(at), false
		}
		if t.Sub(at) < d {
			busy = append(busy, sv.Region+" "+sv.Stack)
		}
	}
	slices.Sort(busy)
	return busy, since
}

// snapshot returns the counts so far.
func (e *executes) snapshot() (map[stackVersion]int, []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return maps.Clone(e.counts), append([]string(nil), e.unknown...)
}

// tagValue is the value of tag key in a query-protocol Tags.member.N list.
func tagValue(form url.Values, key string) string {
	for k, v := range form {
		if strings.HasPrefix(k, "Tags.member.") && strings.HasSuffix(k, ".Key") && len(v) == 1 && v[0] == key {
			return form.Get(strings.TrimSuffix(k, ".Key") + ".Value")
		}
	}
	return ""
}

// stackName is the name in a stack name or stack ID
// (arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/UUID).
func stackName(nameOrID string) string {
	if _, rest, ok := strings.Cut(nameOrID, ":stack/"); ok {
		name, _, _ := strings.Cut(rest, "/")
		return name
	}
	return nameOrID
}

// signingRegion is the region of a SigV4 request's credential scope
// (Credential=KEY/DATE/REGION/SERVICE/aws4_request).
func signingRegion(r *http.Request) string {
	_, rest, ok := strings.Cut(r.Header.Get("Authorization"), "Credential=")
	if !ok {
		return ""
	}
	cred, _, _ := strings.Cut(rest, ",")
	if parts := strings.Split(strings.TrimSpace(cred), "/"); len(parts) == 5 {
		return parts[2]
	}
	return ""
}
