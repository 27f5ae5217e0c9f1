package schema_test

import (
	"reflect"
	"sync"
	"testing"

	"github.com/netdep/netdep/schema"
	"github.com/netdep/netdep/tests/synth"
)

// TestParseCachedEqualsParse parses two overlapping file sets through one
// cache, at once and then again, and expects what Parse alone returns for
// each: a decoded file shared by two specs is not changed by resolving
// either, and its problems are each parse's own.
func TestParseCachedEqualsParse(t *testing.T) {
	a := synth.Org(synth.Options{Services: 300, Seed: 1, Plugins: true})
	other := synth.Org(synth.Options{Services: 300, Seed: 2, Plugins: true})
	byPath := map[string][]byte{}
	for _, f := range other {
		byPath[f.Path] = f.Data
	}
	// b shares every other file with a and takes the rest from another
	// organisation, so it has problems (calls to services it lacks) too.
	b := make([]schema.File, len(a))
	copy(b, a)
	for i := range b {
		if d, ok := byPath[b[i].Path]; ok && i%2 == 1 {
			b[i].Data = d
		}
	}
	want := [2]result{parse(a, nil), parse(b, nil)}
	if len(want[1].probs) == 0 {
		t.Fatal("the mixed file set has no problems: the test would not compare cached problems")
	}
	c := schema.NewDecodeCache()
	for round := 0; round < 2; round++ {
		var got [2]result
		var wg sync.WaitGroup
		for i, files := range [2][]schema.File{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i] = parse(files, c)
			}()
		}
		wg.Wait()
		for i := range got {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Errorf("round %d, file set %d: cached parse differs from Parse", round, i)
			}
		}
		// A caller may rewrite its problems (FromRevision prefixes their
		// files); the next parse must not see that.
		for i := range got[1].probs {
			got[1].probs[i].Pos.File = "rewritten:" + got[1].probs[i].Pos.File
		}
	}
}

type result struct {
	spec  *schema.Spec
	probs schema.Problems
}

func parse(files []schema.File, c *schema.DecodeCache) result {
	spec, probs := schema.ParseCached(files, c)
	return result{spec, probs}
}
