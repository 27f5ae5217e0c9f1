// Package kustomize owns the generated output tree: how a policy.Set is laid
// out as a Kustomize base plus one overlay per environment (Build), how such a
// tree renders (Render, with krusty in memory, as `kustomize build` and Argo
// CD would), how it is compared with a tree on disk (Compare, the staleness
// gate of `netdep diff --out`), and how it replaces the previous tree on disk
// (Write).
//
// Write is the only code in netdep that deletes files, so it is deliberately
// narrow: it replaces a directory only when that directory carries the
// .netdep-tree marker and holds nothing but the files the marker lists, it
// swaps whole trees atomically so a reader or a crash never sees a mix of two
// runs, and it removes only files a marker says netdep wrote.
//
// The package does no printing and never exits; every failure is an error.
package kustomize
