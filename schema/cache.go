package schema

import (
	"crypto/sha256"
	"slices"
	"sync"
)

// DecodeCache remembers what files decoded to, by path and content, so
// that two parses of overlapping file sets (the two revisions `diff --base`
// compares, which share all but the files a change touches) decode each
// file once. The decoded model is only read after decoding, so both specs
// may share it. Safe for concurrent use: a parse that meets a file another
// is decoding waits for that decode instead of repeating it.
type DecodeCache struct {
	mu      sync.Mutex
	entries map[decodeKey]*decodeEntry
}

type decodeKey struct {
	path     string
	explicit bool
	sum      [sha256.Size]byte
}

type decodeEntry struct {
	done  chan struct{}
	docs  fileDocs
	probs Problems
}

// NewDecodeCache returns an empty cache.
func NewDecodeCache() *DecodeCache {
	return &DecodeCache{entries: map[decodeKey]*decodeEntry{}}
}

// decode is decodeFile through the cache; a nil cache decodes.
func (c *DecodeCache) decode(f File, probs *Problems) fileDocs {
	if c == nil {
		return decodeFile(f, probs)
	}
	k := decodeKey{path: f.Path, explicit: f.Explicit, sum: sha256.Sum256(f.Data)}
	c.mu.Lock()
	e, ok := c.entries[k]
	if !ok {
		e = &decodeEntry{done: make(chan struct{})}
		c.entries[k] = e
	}
	c.mu.Unlock()
	if !ok {
		e.docs = decodeFile(f, &e.probs)
		close(e.done)
	} else {
		<-e.done
	}
	// Problems are values the caller may rewrite (a revision prefixes
	// their files): each parse gets its own.
	*probs = append(*probs, slices.Clone(e.probs)...)
	return e.docs
}
