package generator_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestStagesDoNotImportThePipeline: this package chains the stages below
// it, so no stage imports it back (a stage that did could never be called
// from the pipeline: an import cycle). Test files may: they run whole
// pipelines to get their inputs. The packages that may are named here,
// each with its reason.
func TestStagesDoNotImportThePipeline(t *testing.T) {
	const pipeline = "github.com/netdep/netdep/generator"
	allowed := map[string]string{
		// Above the pipeline, as the commands are.
		"scaffold": "runs the whole pipeline to check that what init writes loads",
		// Not yet fixed; remove the entry when it is.
		"importer": "returns generator.ProblemsError for bad flow files",
	}
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == filepath.Base(p) || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			if path, _ := strconv.Unquote(imp.Path.Value); path == pipeline {
				if _, ok := allowed[filepath.ToSlash(filepath.Dir(p))]; !ok {
					t.Errorf("%s imports %s, the pipeline that chains it", filepath.ToSlash(p), pipeline)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
