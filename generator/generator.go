package generator

import (
	"fmt"

	"github.com/netdep/netdep/generator/kustomize"
	"github.com/netdep/netdep/generator/policy"
	"github.com/netdep/netdep/schema"
)

// Output is everything one run of the pipeline produces.
type Output struct {
	Spec *schema.Spec
	Set  *policy.Set
	Tree kustomize.Tree
	// Warnings are legal-but-risky findings; the caller decides whether they
	// fail the run (--strict).
	Warnings schema.Problems
}

// ProblemsError is returned when the input has errors: every problem of the
// run, sorted, so the caller can print them all at once.
type ProblemsError struct {
	Problems schema.Problems
}

func (e *ProblemsError) Error() string { return e.Problems.Error() }

// FromPaths runs the pipeline on the dependency files found under paths.
func FromPaths(paths []string) (*Output, error) {
	files, probs := schema.ReadPaths(paths)
	if errs := probs.Errors(); len(errs) > 0 {
		probs.Sort()
		return nil, &ProblemsError{Problems: probs}
	}
	out, err := FromFiles(files)
	if out != nil {
		out.Warnings = append(probs.Warnings(), out.Warnings...)
		out.Warnings.Sort()
	}
	if pe, ok := err.(*ProblemsError); ok {
		pe.Problems = append(probs, pe.Problems...)
		pe.Problems.Sort()
	}
	return out, err
}

// FromFiles runs the pipeline on files already read (from disk or from a git
// revision).
func FromFiles(files []schema.File) (*Output, error) {
	spec, probs := schema.Parse(files)
	if len(probs.Errors()) > 0 {
		probs.Sort()
		return nil, &ProblemsError{Problems: probs}
	}
	set, err := policy.Generate(spec)
	if err != nil {
		return nil, fmt.Errorf("generating policies: %w", err)
	}
	tree, err := kustomize.Build(set)
	if err != nil {
		return nil, fmt.Errorf("laying out the tree: %w", err)
	}
	return &Output{Spec: spec, Set: set, Tree: tree, Warnings: probs.Warnings()}, nil
}
