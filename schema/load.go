package schema

import "io/fs"

// File is one input file: its path as shown to people (relative to the current
// directory, slash-separated) and its bytes.
type File struct {
	Path string
	Data []byte
	// Explicit is true when the user named the file itself rather than a
	// directory holding it: such a file must be a netdep file.
	Explicit bool
}

// ReadPaths reads the netdep files named by paths (files or directories,
// walked recursively) from the operating system's file system.
func ReadPaths(paths []string) ([]File, Problems) {
	panic("TODO")
}

// ReadFS is ReadPaths over any file system, e.g. a git revision's tree.
func ReadFS(fsys fs.FS, roots []string) ([]File, Problems) {
	panic("TODO")
}

// Parse decodes, validates and resolves files into a Spec. It returns every
// problem found (sorted); the Spec is nil when any problem is an error.
func Parse(files []File) (*Spec, Problems) {
	panic("TODO")
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
