// Package cyclonus holds differential tests of netdep's NetworkPolicy
// evaluator (generator/eval) against an upstream one,
// github.com/mattfenwick/cyclonus pkg/matcher, and the benchmark command
// that compares their cost (cmd/evalbench, run by tests/scripts/bench-eval.sh).
//
// It is a separate module so that netdep's own go.mod never depends on
// cyclonus. cyclonus v0.5.6 asks for k8s.io v0.30; its pkg/kube imports
// client-go, which is pinned here to v0.37.2 to match k8s.io/api and
// apimachinery v0.37.2 of the product module. That is the only pin. The
// product's requirements are part of this module's graph through the
// replace directive: after the product go.mod changes, run `go mod tidy`
// here too.
//
// Where cyclonus deviates from the API server's semantics, the tests
// rewrite each policy into an equivalent one that cyclonus reads as the API
// server does (see forCyclonus), and TestCyclonusDeviations shows each
// deviation on a minimal case:
//
//   - NotIn: cyclonus requires the key to be present; the API server (and
//     labels.Requirement) matches objects without the key. Rewritten as the
//     union {key NotIn values} ∪ {key DoesNotExist}: extra policies for a
//     policy's podSelector, extra peers for a peer's selectors.
//   - matchLabels with an empty value ({key: ""}): cyclonus also matches
//     objects without the key. Rewritten by adding {key Exists}.
//   - Connections between two addresses outside the cluster: cyclonus says
//     allowed; netdep does not model them. Not probed.
//   - Policies must be defaulted before cyclonus sees them: it panics on an
//     empty policyTypes. The tests give it eval.Default's output.
package cyclonus
