package e2e

import (
	"os"
	"path/filepath"
	"sort"
)

// LoadScenarios returns every scenario the run enforces: the fixtures under
// testdata/scenarios (each a directory with universe.yaml and policies/), then
// one per environment of every example under the repository's examples/.
func LoadScenarios() ([]*Scenario, error) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "scenarios", "*"))
	if err != nil {
		return nil, err
	}
	sort.Strings(dirs)
	var out []*Scenario
	for _, d := range dirs {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			continue
		}
		sc, err := LoadFixture(d)
		if err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	ex, err := ExampleScenarios(filepath.Join("..", "..", "examples"))
	if err != nil {
		return nil, err
	}
	return append(out, ex...), nil
}
