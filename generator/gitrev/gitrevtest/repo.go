// Package gitrevtest makes real git repositories in tests, with go-git, so
// that code reading revisions is tested on the objects git itself writes.
// Like net/http/httptest, it is imported by tests only.
package gitrevtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Repo is a repository in a test's temporary directory, with main checked
// out. Every helper fails the test on error.
type Repo struct {
	Dir string
	Git *git.Repository
	t   testing.TB
	wt  *git.Worktree
	// clock makes commit hashes, which reports print, reproducible.
	clock time.Time
	// commits are the commits made so far, oldest first (see Scrub).
	commits []plumbing.Hash
}

// Scrub replaces the hashes of the repository's commits in s (in full,
// and abbreviated to 12 and 7 hex digits, as reports print them) by
// <commit N>, N counting from 1 for the first commit. Golden files of
// reports then stay put when the content committed in a test, and so every
// hash, changes.
func (r *Repo) Scrub(s string) string {
	for _, n := range []int{40, 12, 7} {
		for i, h := range r.commits {
			s = strings.ReplaceAll(s, h.String()[:n], fmt.Sprintf("<commit %d>", i+1))
		}
	}
	return s
}

// New initialises an empty repository.
func New(t testing.TB) *Repo {
	t.Helper()
	dir := t.TempDir()
	r, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{InitOptions: git.InitOptions{DefaultBranch: plumbing.Main}})
	if err != nil {
		t.Fatal(err)
	}
	wt, err := r.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	return &Repo{Dir: dir, Git: r, t: t, wt: wt, clock: time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)}
}

func (r *Repo) path(p string) string { return filepath.Join(r.Dir, filepath.FromSlash(p)) }

// Write creates or replaces the file at slash path p, and its directories.
func (r *Repo) Write(p, content string) {
	r.t.Helper()
	if err := os.MkdirAll(filepath.Dir(r.path(p)), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(r.path(p), []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// Remove deletes the file at p.
func (r *Repo) Remove(p string) {
	r.t.Helper()
	if err := os.Remove(r.path(p)); err != nil {
		r.t.Fatal(err)
	}
}

// Rename moves the file at from to to, creating to's directories.
func (r *Repo) Rename(from, to string) {
	r.t.Helper()
	if err := os.MkdirAll(filepath.Dir(r.path(to)), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.Rename(r.path(from), r.path(to)); err != nil {
		r.t.Fatal(err)
	}
}

// Symlink makes p a symbolic link to target, written as given.
func (r *Repo) Symlink(target, p string) {
	r.t.Helper()
	if err := os.Symlink(target, r.path(p)); err != nil {
		r.t.Fatal(err)
	}
}

// Commit stages everything (deletions too) and commits it, an hour after
// the previous commit.
func (r *Repo) Commit(msg string) plumbing.Hash {
	r.t.Helper()
	if err := r.wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		r.t.Fatal(err)
	}
	r.clock = r.clock.Add(time.Hour)
	sig := &object.Signature{Name: "Test", Email: "test@example.com", When: r.clock}
	h, err := r.wt.Commit(msg, &git.CommitOptions{Author: sig, Committer: sig})
	if err != nil {
		r.t.Fatal(err)
	}
	r.commits = append(r.commits, h)
	return h
}

// Tag tags HEAD.
func (r *Repo) Tag(name string) {
	r.t.Helper()
	head, err := r.Git.Head()
	if err != nil {
		r.t.Fatal(err)
	}
	if _, err := r.Git.CreateTag(name, head.Hash(), nil); err != nil {
		r.t.Fatal(err)
	}
}

// Branch creates a branch at HEAD and checks it out.
func (r *Repo) Branch(name string) {
	r.t.Helper()
	if err := r.wt.Checkout(&git.CheckoutOptions{Branch: plumbing.NewBranchReferenceName(name), Create: true}); err != nil {
		r.t.Fatal(err)
	}
}

// Blob stores content as a blob object and returns its hash.
func (r *Repo) Blob(content string) plumbing.Hash {
	r.t.Helper()
	obj := r.Git.Storer.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	w, err := obj.Writer()
	if err != nil {
		r.t.Fatal(err)
	}
	if _, err := w.Write([]byte(content)); err != nil {
		r.t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		r.t.Fatal(err)
	}
	h, err := r.Git.Storer.SetEncodedObject(obj)
	if err != nil {
		r.t.Fatal(err)
	}
	return h
}

// Tree stores a tree object with exactly these entries, in this order and
// unchecked: git itself refuses to write a tree holding "..", "." or a
// name twice, but a hostile repository can hold one all the same, and a
// reader has to say so rather than misread it.
func (r *Repo) Tree(entries ...object.TreeEntry) plumbing.Hash {
	r.t.Helper()
	obj := r.Git.Storer.NewEncodedObject()
	if err := (&object.Tree{Entries: entries}).Encode(obj); err != nil {
		r.t.Fatal(err)
	}
	h, err := r.Git.Storer.SetEncodedObject(obj)
	if err != nil {
		r.t.Fatal(err)
	}
	return h
}

// CommitTree commits tree (made with Tree) on the checked-out branch, on
// top of its last commit if it has one, without touching the working tree
// or the index.
func (r *Repo) CommitTree(msg string, tree plumbing.Hash) plumbing.Hash {
	r.t.Helper()
	head, err := r.Git.Reference(plumbing.HEAD, false)
	if err != nil {
		r.t.Fatal(err)
	}
	branch := head.Target()
	var parents []plumbing.Hash
	if ref, err := r.Git.Reference(branch, true); err == nil {
		parents = append(parents, ref.Hash())
	}
	r.clock = r.clock.Add(time.Hour)
	sig := object.Signature{Name: "Test", Email: "test@example.com", When: r.clock}
	c := &object.Commit{Author: sig, Committer: sig, Message: msg, TreeHash: tree, ParentHashes: parents}
	obj := r.Git.Storer.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		r.t.Fatal(err)
	}
	h, err := r.Git.Storer.SetEncodedObject(obj)
	if err != nil {
		r.t.Fatal(err)
	}
	if err := r.Git.Storer.SetReference(plumbing.NewHashReference(branch, h)); err != nil {
		r.t.Fatal(err)
	}
	r.commits = append(r.commits, h)
	return h
}
