package generator

import (
	"errors"

	"github.com/netdep/netdep/generator/gitrev"
)

// FromRevision runs the pipeline on the dependency files under paths as they
// are at revision rev of repo, and returns the revision rev resolved to.
// Problems in those files are reported as "rev:path:line:col", git's own
// notation, so that they are not mistaken for problems in the working tree.
func FromRevision(repo *gitrev.Repo, rev string, paths []string, opts ...Options) (*Output, *gitrev.Revision, error) {
	v, err := repo.Resolve(rev)
	if err != nil {
		return nil, nil, err
	}
	files, probs := repo.Files(v, paths)
	if len(probs.Errors()) > 0 {
		return nil, v, revisionProblems(rev, &ProblemsError{Problems: probs})
	}
	out, err := FromFiles(files, opts...)
	if err != nil {
		return nil, v, revisionProblems(rev, err)
	}
	out.Warnings = append(probs.Warnings(), out.Warnings...)
	out.Warnings.Sort()
	return out, v, nil
}

func revisionProblems(rev string, err error) error {
	var pe *ProblemsError
	if errors.As(err, &pe) {
		for i := range pe.Problems {
			pe.Problems[i].Pos.File = rev + ":" + pe.Problems[i].Pos.File
		}
	}
	return err
}
