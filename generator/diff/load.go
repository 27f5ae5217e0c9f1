package diff

import (
	"errors"

	"github.com/netdep/netdep/generator"
	"github.com/netdep/netdep/generator/gitrev"
)

// FromRevision runs the pipeline on the dependency files under paths as they
// are at revision rev of repo. Problems in those files are reported as
// "rev:path:line:col", git's own notation, so that they are not mistaken for
// problems in the working tree.
func FromRevision(repo *gitrev.Repo, rev string, paths []string) (*generator.Output, Side, error) {
	v, err := repo.Resolve(rev)
	if err != nil {
		return nil, Side{}, err
	}
	side := Side{Ref: rev, Commit: v.Hash}
	files, probs := repo.Files(v, paths)
	if len(probs.Errors()) > 0 {
		return nil, side, revisionProblems(rev, &generator.ProblemsError{Problems: probs})
	}
	out, err := generator.FromFiles(files)
	if err != nil {
		return nil, side, revisionProblems(rev, err)
	}
	out.Warnings = append(probs.Warnings(), out.Warnings...)
	out.Warnings.Sort()
	return out, side, nil
}

func revisionProblems(rev string, err error) error {
	var pe *generator.ProblemsError
	if errors.As(err, &pe) {
		for i := range pe.Problems {
			pe.Problems[i].Pos.File = rev + ":" + pe.Problems[i].Pos.File
		}
	}
	return err
}
