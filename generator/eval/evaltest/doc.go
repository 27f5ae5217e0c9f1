// Package evaltest builds inputs for testing and benchmarking package eval:
// seeded random universes and policies that cover NetworkPolicy's corner
// cases (Random), and organisations shaped like netdep's own output (Org).
// Like net/http/httptest, it is imported by tests only, including the
// differential tests in the separate tests/cyclonus module.
package evaltest
