package awsbackend

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gantryhq/gantry/pkg/cfn"
	"github.com/gantryhq/gantry/pkg/deploy"
	"github.com/gantryhq/gantry/pkg/naming"
	"github.com/gantryhq/gantry/pkg/rollout"
)

// cleanupTimeout bounds deleting what a preview made, which runs even after
// the caller's context has ended (Ctrl-C).
const cleanupTimeout = 2 * time.Minute

// Preview makes a's change set exactly as Apply would (makeChangeSet),
// reads it and deletes it (deploy.Region).
func (r *region) Preview(ctx context.Context, a deploy.StackApply) (deploy.StackPreview, error) {
	p := deploy.StackPreview{Name: a.Name, Changes: []deploy.Change{}}
	tmpl, err := parseTemplate(a.Template)
	if err != nil {
		return p, fmt.Errorf("reading the template of %s: %w", a.Name, err)
	}
	current, err := r.describe(ctx, a.Name)
	if err != nil {
		return p, err
	}
	if note, ok, err := r.unpreviewable(ctx, a, current); err != nil || ok {
		if err != nil {
			return p, err
		}
		return fromTemplate(p, tmpl, current, note), nil
	}
	if strings.HasSuffix(current.Status, "_IN_PROGRESS") && current.Status != "REVIEW_IN_PROGRESS" {
		return p, fmt.Errorf("the stack is busy (%s), a rollout may be in flight; plan again when it ends", current.Status)
	}
	if _, ok := tmpl.Parameters[priorityParam]; ok && (!current.Exists || current.Parameters[priorityParam] == "") {
		p.Notes = append(p.Notes, priorityParam+": allocated at deploy")
	}
	cs, _, err := r.makeChangeSet(ctx, a, tmpl, current, "gantry plan: a preview, deleted after reading")
	if cerr := r.cleanup(ctx, a.Name, cs, current.Exists); cerr != nil {
		err = errors.Join(err, cerr)
	}
	if err != nil {
		return p, err
	}
	p = previewOf(p, cs)
	p.ExportsInUse, err = r.exportsInUse(ctx, current, a.Template)
	return p, err
}

// exportsInUse are the exports of current that tmpl no longer declares
// while another stack imports them (ListImports): the update would fail.
func (r *region) exportsInUse(ctx context.Context, current *cfn.Stack, tmpl []byte) ([]deploy.ExportInUse, error) {
	keep := deploy.TemplateExports(tmpl, current.Name)
	var out []deploy.ExportInUse
	for _, name := range slices.Sorted(maps.Values(current.Exports)) {
		if keep[name] {
			continue
		}
		importers, err := r.cfn.Importers(ctx, name)
		if err != nil {
			return out, err
		}
		if len(importers) > 0 {
			out = append(out, deploy.ExportInUse{Export: name, ImportedBy: importers})
		}
	}
	return out, nil
}

// unpreviewable says why a's change set cannot be made now, if so: a stack
// left ROLLBACK_COMPLETE by a failed create (deploy deletes and recreates
// it), or an app stack whose data stack does not exist yet (its change set
// needs the data stack's exports).
func (r *region) unpreviewable(ctx context.Context, a deploy.StackApply, current *cfn.Stack) (string, bool, error) {
	if current.Status == "ROLLBACK_COMPLETE" {
		return "the stack is ROLLBACK_COMPLETE after a failed create: deploy deletes it and creates it again", true, nil
	}
	// A stack that imports nothing (the app stack of a service without
	// resources) does not wait for a data stack.
	if a.Kind == naming.Data || r.data == "" || !bytes.Contains(a.Template, []byte(`"Fn::ImportValue"`)) {
		return "", false, nil
	}
	data, err := r.cfn.Describe(ctx, r.data)
	if err != nil {
		return "", false, fmt.Errorf("describing %s: %w", r.data, err)
	}
	if usable(data) {
		return "", false, nil
	}
	if current.Exists && current.Status != "REVIEW_IN_PROGRESS" {
		return "the data stack does not exist yet and this stack's change set needs its exports: its changes are known once the data stack is created", true, nil
	}
	return "the data stack does not exist yet, so this stack's change set (which needs its exports) cannot be made: its resources are listed from the template", true, nil
}

// usable reports whether a stack exists in a state whose exports others
// may import.
func usable(s *cfn.Stack) bool {
	return s.Exists && s.Status != "REVIEW_IN_PROGRESS" && s.Status != "ROLLBACK_COMPLETE"
}

// fromTemplate previews a stack whose change set cannot be made: an
// update whose changes are not known yet, or a create of every resource
// in its template.
func fromTemplate(p deploy.StackPreview, tmpl *template, current *cfn.Stack, note string) deploy.StackPreview {
	p.Notes = []string{note}
	if usable(current) {
		p.Action = rollout.ActionUpdate
		return p
	}
	p.Action = rollout.ActionCreate
	if _, ok := tmpl.Parameters[priorityParam]; ok {
		p.Notes = append(p.Notes, priorityParam+": allocated at deploy")
	}
	for _, id := range slices.Sorted(maps.Keys(tmpl.Resources)) {
		p.Changes = append(p.Changes, deploy.Change{Action: "Add", LogicalID: id, Type: tmpl.Resources[id].Type, Causes: []string{}})
	}
	return p
}

// previewOf reads a change set: its action and its changes, data loss
// first.
func previewOf(p deploy.StackPreview, cs *cfn.ChangeSet) deploy.StackPreview {
	switch {
	case cs.Empty:
		p.Action = rollout.ActionUnchanged
	case cs.Type == "CREATE":
		p.Action = rollout.ActionCreate
	default:
		p.Action = rollout.ActionUpdate
	}
	for _, ch := range cs.Changes {
		causes := ch.Causes
		if causes == nil {
			causes = []string{}
		}
		p.Changes = append(p.Changes, deploy.Change{
			Action: ch.Action, LogicalID: ch.LogicalID, Type: ch.ResourceType,
			Replacement: ch.Replacement, Causes: causes, DataLoss: losesData(ch),
		})
	}
	slices.SortStableFunc(p.Changes, func(a, b deploy.Change) int {
		if a.DataLoss != b.DataLoss {
			if a.DataLoss {
				return -1
			}
			return 1
		}
		return strings.Compare(a.LogicalID, b.LogicalID)
	})
	if p.Action == rollout.ActionUpdate && len(p.Changes) == 0 {
		p.Notes = append(p.Notes, "no resource changes: only the stack's tags or parameters change")
	}
	return p
}

// cleanup deletes the preview's change set and, when the stack did not
// exist before, the REVIEW_IN_PROGRESS stack CloudFormation made for it.
// It runs even when ctx has ended, and never deletes a stack in any other
// state.
func (r *region) cleanup(ctx context.Context, name string, cs *cfn.ChangeSet, existed bool) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	var errs []error
	if cs != nil && !cs.Empty {
		if err := r.cfn.DeleteChangeSet(ctx, cs); err != nil {
			errs = append(errs, err)
		}
	}
	if existed {
		return errors.Join(errs...)
	}
	st, err := r.cfn.Describe(ctx, name)
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf("checking that the plan left no stack %s: %w", name, err))
	case st.Exists && st.Status == "REVIEW_IN_PROGRESS":
		if err := r.cfn.Delete(ctx, name); err != nil {
			errs = append(errs, fmt.Errorf("deleting the empty stack %s the plan's change set made (delete it by hand: aws cloudformation delete-stack --stack-name %s): %w", name, name, err))
		}
	}
	return errors.Join(errs...)
}
