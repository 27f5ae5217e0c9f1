package schema

import (
	"fmt"
	"sort"
	"strings"
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
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.Pos.String())
	b.WriteString(": ")
	if p.Warning {
		b.WriteString("warning: ")
	}
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
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
	return Problem{Pos: pos, Field: field, Message: fmt.Sprintf(format, args...)}
}
