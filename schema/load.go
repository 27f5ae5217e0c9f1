package schema

import (
	"runtime"
	"slices"
	"sort"
	"strings"

	"golang.org/x/sync/errgroup"
)

// File is one input file: its path as shown to people (relative to the current
// directory, slash-separated) and its bytes.
type File struct {
	Path string
	Data []byte
	// Explicit is true when the user named the file itself rather than a
	// directory holding it: such a file must be a netdep file.
	Explicit bool
}

// Parse decodes, validates and resolves files into a Spec. It returns every
// problem found (sorted); the Spec is nil when any problem is an error.
//
// Files are taken in path order whatever order they come in, so the result
// (and which of two conflicting places a message calls "first") does not
// depend on how the caller listed them.
func Parse(files []File) (*Spec, Problems) {
	var probs Problems
	sorted := append([]File(nil), files...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Path < sorted[j].Path })
	sorted = slices.CompactFunc(sorted, func(a, b File) bool { return a.Path == b.Path }) // the same file named twice
	// Files decode independently, and decoding is most of loading: spread
	// it over the cores, then take the results in path order.
	decoded := make([]fileDocs, len(sorted))
	fileProbs := make([]Problems, len(sorted))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, f := range sorted {
		g.Go(func() error {
			decoded[i] = decodeFile(f, &fileProbs[i])
			return nil
		})
	}
	_ = g.Wait() // the goroutines return no error
	var deps []*rawDep
	var projects []*rawProject
	unreadable := false
	for i, fd := range decoded {
		deps = append(deps, fd.deps...)
		projects = append(projects, fd.projects...)
		for _, p := range fileProbs[i] {
			if strings.HasPrefix(p.Message, "invalid yaml") {
				unreadable = true
			}
		}
		probs = append(probs, fileProbs[i]...)
	}
	if unreadable {
		// A file that is not YAML may declare the namespaces and services
		// every other file refers to: resolving without it would bury its
		// one syntax error under a reference error at every call into it.
		// References are checked once every file reads.
		probs.Sort()
		return nil, probs.Errors()
	}
	spec := resolve(deps, projects, &probs)
	probs.Sort()
	if errs := probs.Errors(); len(errs) > 0 {
		// Warnings about a spec that does not load are noise (an invalid
		// namespace name is not also an empty namespace): they come back
		// once the errors are fixed.
		return nil, errs
	}
	return spec, probs
}

// Load is ReadPaths followed by Parse.
func Load(paths []string) (*Spec, Problems) {
	files, probs := ReadPaths(paths)
	if len(probs.Errors()) > 0 {
		return nil, probs
	}
	spec, more := Parse(files)
	probs = append(probs, more...)
	probs.Sort()
	return spec, probs
}
