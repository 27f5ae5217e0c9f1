//go:build race

package eval_test

// raceEnabled shrinks the random property tests under -race, which makes
// them about ten times slower; the plain run keeps the full counts.
const raceEnabled = true
