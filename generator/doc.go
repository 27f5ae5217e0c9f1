// Package generator is netdep's pipeline seen from the commands: dependency
// files in (from disk, or at a git revision), a validated spec, the policies
// per environment and the Kustomize tree out. Its sub-packages each own one
// stage (policy, kustomize, eval, gitrev, diff); this package only chains
// them so every command runs the same stages the same way, and none of them
// imports it back.
package generator
