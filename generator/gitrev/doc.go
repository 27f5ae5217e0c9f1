// Package gitrev reads netdep's dependency files as they were at a git
// revision, for `netdep diff --base REF`. It is the only package that
// imports go-git.
//
// It never shells out to git, never checks anything out and never touches
// the working tree or the index: a revision's tree is read from the object
// store and exposed as an fs.FS, so schema.ReadFS applies exactly the
// discovery rules the working tree gets (markers, hidden directories,
// symlinks that stay inside the tree). Paths are shown as the working-tree
// load shows them (relative to the current directory), so the source
// annotations of two revisions compare equal when the files did not move.
package gitrev
