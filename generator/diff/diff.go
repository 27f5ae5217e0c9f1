package diff

import (
	"fmt"
	"slices"

	"github.com/netdep/netdep/generator"
)

// Side names one end of a comparison for people: the revision as the user
// wrote it and, for a git revision, the commit it resolved to.
type Side struct {
	// Ref is the revision ("origin/main", "HEAD~2") or "working tree".
	Ref string
	// Commit is the full commit hash, "" for the working tree.
	Commit string
}

// WorkingTree is the head side when no --head is given.
var WorkingTree = Side{Ref: "working tree"}

// Report is what going from Base to Head changes, per environment.
type Report struct {
	Base, Head Side
	// Environments are every environment of either side, sorted; a single
	// entry named "" when neither side declares environments.
	Environments []EnvReport
}

// EnvReport is the change in one environment.
type EnvReport struct {
	// Name is the environment, "" for the implicit one of a project
	// without environments.
	Name string
	// FlowsAdded are connections the head allows and the base did not
	// (on those ports), FlowsRemoved the reverse; sorted by source, then
	// destination.
	FlowsAdded, FlowsRemoved []Flow
	// Objects are the policies added, removed or changed in this
	// environment's rendering (base plus overlay), sorted by namespace and
	// name.
	Objects []ObjectChange
}

// Changed reports whether anything differs in this environment.
func (e *EnvReport) Changed() bool {
	return len(e.FlowsAdded) > 0 || len(e.FlowsRemoved) > 0 || len(e.Objects) > 0
}

// Count returns how many objects changed in the given way.
func (e *EnvReport) Count(a Action) int {
	n := 0
	for _, o := range e.Objects {
		if o.Action == a {
			n++
		}
	}
	return n
}

// Changed reports whether anything differs in any environment.
func (r *Report) Changed() bool {
	for i := range r.Environments {
		if r.Environments[i].Changed() {
			return true
		}
	}
	return false
}

// EnvDisplay is how an environment is named to people: the implicit one of
// a project without environments has no name of its own.
func EnvDisplay(name string) string {
	if name == "" {
		return "(no environments)"
	}
	return name
}

// Compare reports what going from base to head changes. Both are complete
// runs of the pipeline (from the working tree or from a git revision).
func Compare(base, head *generator.Output, baseSide, headSide Side) (*Report, error) {
	r := &Report{Base: baseSide, Head: headSide}
	m := marshaller{}
	for _, env := range environments(base, head) {
		er := EnvReport{Name: env}
		var err error
		er.FlowsAdded, er.FlowsRemoved, err = flowChanges(base, head, env)
		if err != nil {
			return nil, fmt.Errorf("environment %s: %w", EnvDisplay(env), err)
		}
		er.Objects, err = objectChanges(base.Set.Render(env), head.Set.Render(env), m)
		if err != nil {
			return nil, fmt.Errorf("environment %s: %w", EnvDisplay(env), err)
		}
		r.Environments = append(r.Environments, er)
	}
	return r, nil
}

// environments is the union of both sides' environments. A side that lacks
// one renders its base there, which is what it would deploy to a cluster it
// has no overlay for.
func environments(base, head *generator.Output) []string {
	envs := append(slices.Clone(base.Set.Environments), head.Set.Environments...)
	slices.Sort(envs)
	envs = slices.Compact(envs)
	if len(envs) == 0 {
		return []string{""}
	}
	return envs
}
