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
	return ParseCached(files, nil)
}

// ParseCached is Parse decoding files through cache (nil: no cache), so
// that parses of file sets that share files decode each once.
func ParseCached(files []File, cache *DecodeCache) (*Spec, Problems) {
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
			decoded[i] = cache.decode(f, &fileProbs[i])
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
	var resolved Problems
	spec := resolve(deps, projects, &resolved)
	probs = append(probs, withoutCascades(resolved, sorted, decoded)...)
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

// withoutCascades drops what validation says about a value the decoder
// already reported as unreadable: `isolate: ingress` is one mistake (a
// string where a list belongs), not also "isolate is an empty list". This
// is the one place that keeps a broken value from being reported twice.
// A problem repeats a broken field when it is about that field, about a
// value inside it, or about the list it is an item of (the list is "empty"
// because its only item did not decode), in the same document. (A selector
// whose labels all fail to decode is taken as not written: see labels.)
func withoutCascades(probs Problems, files []File, decoded []fileDocs) Problems {
	byFile := map[string]*fileDocs{}
	for i := range files {
		if len(decoded[i].broken) > 0 {
			byFile[files[i].Path] = &decoded[i]
		}
	}
	if len(byFile) == 0 {
		return probs
	}
	var out Problems
	for _, p := range probs {
		if fd := byFile[p.Pos.File]; fd == nil || p.Field == "" || !fd.repeats(p) {
			out = append(out, p)
		}
	}
	return out
}

// repeats reports whether p is about a field of its document that did not
// decode.
func (fd *fileDocs) repeats(p Problem) bool {
	doc := sort.Search(len(fd.docLines), func(i int) bool { return fd.docLines[i] > p.Pos.Line }) - 1
	for _, b := range fd.broken {
		if b.doc == doc && cascades(p.Field, b.field) {
			return true
		}
	}
	return false
}

// cascades reports whether a problem at field follows from the broken
// value at broken.
func cascades(field, broken string) bool {
	inside := func(a, b string) bool { return strings.HasPrefix(a, b+".") || strings.HasPrefix(a, b+"[") }
	if field == broken || inside(field, broken) {
		return true
	}
	// An item of a list: the list is "empty" only because its item did
	// not decode.
	rest, ok := strings.CutPrefix(broken, field+"[")
	if !ok {
		return false
	}
	n, ok := strings.CutSuffix(rest, "]")
	return ok && n != "" && strings.Trim(n, "0123456789") == ""
}
