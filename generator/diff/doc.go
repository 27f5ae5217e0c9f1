// Package diff owns `netdep diff`: what a change to the dependency files does.
//
// Two questions, two entry points:
//
//   - Stale: is the tree committed on disk what generate would write now?
//     A file-level comparison with a unified diff of every modified file
//     (the CI staleness gate).
//   - Compare: what does going from one side (the base revision) to another
//     (the head), each generated from its dependency files or read from its
//     committed tree, change, per environment? Flows added and removed,
//     computed from the meaning of the two policy sets (both evaluated over
//     one probe world, package world, built from both specs; see flows.go),
//     and the policy objects added, removed and changed, as unified diffs of
//     their YAML.
//
// Reports are plain values; text.go, markdown.go and json.go each write one
// output format. The package never prints to the terminal, never exits and
// knows nothing of the command line; the evaluator is used only through
// flows.go.
package diff
