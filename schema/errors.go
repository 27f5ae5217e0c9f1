package schema

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Problem is one mistake in the input, located in its file.
type Problem struct {
	Pos Pos
	// Field is the spec path of the offending value, e.g.
	// "services.cart.calls[1]"; "" for file-level problems.
	Field string
	// Message is lowercase, without trailing period, and says what was
	// expected and what was found.
	Message string
	// Warning problems are legal but risky; they fail only with --strict.
	Warning bool
	// Note marks a warning that is only information (an exception close to
	// its expiry): printed as "note:", it fails no run, --strict or not.
	Note bool
}

// String renders the problem as one line, every echoed value clipped (see
// clipValues): whoever built the Problem, a value of megabytes is never
// repeated whole.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.Pos.String())
	b.WriteString(": ")
	switch {
	case p.Note:
		b.WriteString("note: ")
	case p.Warning:
		b.WriteString("warning: ")
	}
	if p.Field != "" {
		b.WriteString(clipRunes(p.Field, 2*MaxEcho))
		b.WriteString(": ")
	}
	b.WriteString(clipValues(p.Message))
	return clipRunes(b.String(), maxLine)
}

// MaxEcho is how many characters of a value a message repeats; a longer
// value is cut there and marked with its length.
const MaxEcho = 80

// maxLine bounds one rendered problem, whatever its parts.
const maxLine = 1000

// clipValues shortens every quoted value ("..." in Go syntax, as %q writes
// it) in msg that is longer than MaxEcho characters to its first MaxEcho
// characters, followed by its length.
func clipValues(msg string) string {
	if len(msg) <= MaxEcho+2 {
		return msg
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(msg, '"')
		if i < 0 {
			break
		}
		j := quotedEnd(msg, i)
		if j < 0 {
			break
		}
		b.WriteString(msg[:i])
		lit := msg[i : j+1]
		if v, err := strconv.Unquote(lit); err == nil && utf8.RuneCountInString(v) > MaxEcho {
			b.WriteString(strconv.Quote(firstRunes(v, MaxEcho)))
			fmt.Fprintf(&b, "... (%d characters)", utf8.RuneCountInString(v))
		} else {
			b.WriteString(lit)
		}
		msg = msg[j+1:]
	}
	b.WriteString(msg)
	return b.String()
}

// quotedEnd is the index of the quote closing the one at i, -1 if none.
func quotedEnd(s string, i int) int {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j
		}
	}
	return -1
}

// clipRunes cuts s after n characters, saying how many there were.
func clipRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if c := utf8.RuneCountInString(s); c > n {
		return fmt.Sprintf("%s... (%d characters)", firstRunes(s, n), c)
	}
	return s
}

func firstRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

// Problems is every problem of a run, reported at once. It is an error when it
// holds at least one non-warning problem.
type Problems []Problem

// Sort orders problems by file, line, column, then text, so a run always
// reports them in the same order.
func (ps Problems) Sort() {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.Pos.File != b.Pos.File {
			return a.Pos.File < b.Pos.File
		}
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line < b.Pos.Line
		}
		if a.Pos.Column != b.Pos.Column {
			return a.Pos.Column < b.Pos.Column
		}
		return a.String() < b.String()
	})
}

// Errors returns the problems that are not warnings.
func (ps Problems) Errors() Problems {
	var out Problems
	for _, p := range ps {
		if !p.Warning {
			out = append(out, p)
		}
	}
	return out
}

// Warnings returns the problems that are warnings.
func (ps Problems) Warnings() Problems {
	var out Problems
	for _, p := range ps {
		if p.Warning {
			out = append(out, p)
		}
	}
	return out
}

// Error renders one problem per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// errorf builds a Problem; the helper keeps call sites short.
func errorf(pos Pos, field, format string, args ...any) Problem {
	return Problem{Pos: pos, Field: field, Message: clipValues(fmt.Sprintf(format, args...))}
}
