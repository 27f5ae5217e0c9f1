package schema

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// An exception is a calls or from entry opened on purpose for a while (an
// incident, a migration) with someone answerable for it:
//
//	calls:
//	  - to: payments/gateway:8443
//	    exception: {name: inc-4711, reason: replay failed payments, owner: sre@example.com, expires: 2026-12-31}
//
// It resolves and generates like any entry (its rules carry the Exception,
// and the policy generator gives them a policy of their own, annotated with
// it), and is shown apart in verify, diff and explain. Whether it has
// expired depends on the day, which the loader never reads: CheckExpiry
// takes it from the caller, so the tree stays byte-identical for the same
// input whatever the date.

// Exception is one sanctioned exception.
type Exception struct {
	// Name is a DNS-1123 label, unique among the run's exceptions; it
	// names the exception's policies.
	Name   string
	Reason string
	Owner  string
	// Expires is the last day the exception is meant to hold (UTC
	// midnight): it has expired from the day after.
	Expires time.Time
	// Source is the exception key of the entry; Field its spec path
	// ("services.cart.calls[2].exception").
	Source Pos
	Field  string
}

// ExpiresText is the expiry as written in files and annotations: 2026-12-31.
func (x *Exception) ExpiresText() string { return x.Expires.Format(time.DateOnly) }

// DefaultExceptionWarnDays is how many days before an exception expires the
// expiry check starts to say so, unless the project file sets
// exceptions.warnDays (or the command line --expiry-warning).
const DefaultExceptionWarnDays = 14

var exceptionKeys = []string{"name", "reason", "owner", "expires"}

type rawException struct {
	Field   string
	Pos     Pos // the exception key
	Name    strPos
	Reason  strPos
	Owner   strPos
	Expires strPos
	// Broken: a value did not decode (reported).
	Broken bool
}

// exception decodes an entry's exception mapping; k is its key.
func (d *decoder) exception(k, n *yaml.Node, field string) *rawException {
	x := &rawException{Field: field, Pos: d.pos(k)}
	pairs, ok := d.mapping(n, field, "an exception (a mapping with name, reason, owner and expires)", exceptionKeys)
	if !ok {
		return nil
	}
	has := map[string]bool{}
	for _, p := range pairs {
		f := field + "." + p.Key
		has[p.Key] = true
		var v strPos
		var ok bool
		switch p.Key {
		case "name":
			v, ok = d.str(p.V, f, "the exception's name (inc-4711)")
			x.Name = v
		case "reason":
			v, ok = d.str(p.V, f, "why the exception is needed")
			x.Reason = v
		case "owner":
			v, ok = d.str(p.V, f, "who answers for the exception (a team or an address)")
			x.Owner = v
		case "expires":
			v, ok = d.date(p.V, f)
			x.Expires = v
		}
		if !ok {
			x.Broken = true
		}
	}
	var missing []string
	for _, key := range exceptionKeys {
		if !has[key] {
			missing = append(missing, key)
		}
	}
	if len(missing) > 0 {
		d.errorf(k, field, "missing %s; an exception needs a name, a reason, an owner and an expiry date (expires: YYYY-MM-DD)", strings.Join(missing, ", "))
		x.Broken = true
	}
	return x
}

// date returns a YYYY-MM-DD scalar, which YAML reads as a timestamp when
// unquoted and as a string when quoted: either is the text as written.
func (d *decoder) date(n *yaml.Node, field string) (strPos, bool) {
	n = d.resolve(n)
	if n == nil {
		return strPos{}, false
	}
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!str" && n.Tag != "!!timestamp") {
		d.brokenf(n, field, "expected a date (YYYY-MM-DD), found %s", describe(n))
		return strPos{}, false
	}
	if _, err := ParseDate(n.Value); err != nil {
		d.errorf(n, field, "expected a date (YYYY-MM-DD), found %q", n.Value)
		return strPos{}, false
	}
	return strPos{S: n.Value, Pos: d.pos(n)}, true
}

// ParseDate reads a calendar day written YYYY-MM-DD, as UTC midnight.
func ParseDate(s string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || t.Format(time.DateOnly) != s {
		return time.Time{}, fmt.Errorf("expected a date YYYY-MM-DD, found %q", s)
	}
	return t, nil
}

// exception resolves an entry's exception; nil and reported when it is
// not valid.
func (r *resolver) exception(e *rawEntry) (*Exception, bool) {
	x := e.Exception
	if x == nil {
		return nil, true
	}
	if x.Broken {
		return nil, false
	}
	ok := true
	if msg := checkLabel("exception name", x.Name.S); msg != "" {
		r.errorf(x.Name.Pos, x.Field+".name", "%s", msg)
		ok = false
	}
	for _, v := range []struct {
		s     strPos
		field string
	}{{x.Reason, "reason"}, {x.Owner, "owner"}} {
		if strings.TrimSpace(v.s.S) == "" {
			r.errorf(v.s.Pos, x.Field+"."+v.field, "expected a non-empty %s, found %q", v.field, v.s.S)
			ok = false
		}
	}
	if !ok {
		return nil, false
	}
	day, _ := ParseDate(x.Expires.S) // checked when decoding
	return &Exception{Name: x.Name.S, Reason: x.Reason.S, Owner: x.Owner.S, Expires: day, Source: x.Pos, Field: x.Field}, true
}

// checkExceptions reports two entries with one exception name (the name
// is the exception's identity in policy names, reports and explanations)
// and returns the run's exceptions sorted by name.
func (r *resolver) checkExceptions() []*Exception {
	first := map[string]*Exception{}
	var out []*Exception
	for _, it := range r.intents {
		x := it.exception
		if x == nil {
			continue
		}
		if f, dup := first[x.Name]; dup {
			r.errorf(x.Source, x.Field, "duplicate exception %q (first at %s); expected each exception name once", x.Name, f.Source)
			continue
		}
		first[x.Name] = x
		out = append(out, x)
	}
	sortExceptions(out)
	return out
}

func sortExceptions(xs []*Exception) {
	for i := 1; i < len(xs); i++ {
		for j := i; j > 0 && xs[j].Name < xs[j-1].Name; j-- {
			xs[j], xs[j-1] = xs[j-1], xs[j]
		}
	}
}

// Expiry is how CheckExpiry judges exceptions.
type Expiry struct {
	// Today is the day to judge by (UTC). The zero time means the caller
	// has no date: nothing is checked.
	Today time.Time
	// WarnDays is how many days ahead an exception's expiry is noted; a
	// negative value takes the spec's (the project file's, else
	// DefaultExceptionWarnDays).
	WarnDays int
}

// CheckExpiry judges every exception of spec by e.Today: an expired one is
// a warning (so --strict fails on it) naming the exception and its owner,
// one expiring within WarnDays days a note, which never fails a run.
func CheckExpiry(spec *Spec, e Expiry) Problems {
	if e.Today.IsZero() {
		return nil
	}
	days := e.WarnDays
	if days < 0 {
		days = spec.WarnDays()
	}
	today := e.Today.UTC().Truncate(24 * time.Hour)
	var out Problems
	for _, x := range spec.Exceptions {
		left := int(x.Expires.Sub(today).Hours() / 24)
		switch {
		case left < 0:
			p := errorf(x.Source, x.Field, "exception %s expired on %s (%s ago; owner %s); remove the entry, or review it and move expires", x.Name, x.ExpiresText(), dayCount(-left), x.Owner)
			p.Warning = true
			out = append(out, p)
		case left <= days:
			when := "in " + dayCount(left)
			if left == 0 {
				when = "today"
			}
			p := errorf(x.Source, x.Field, "exception %s expires on %s, %s (owner %s)", x.Name, x.ExpiresText(), when, x.Owner)
			p.Warning, p.Note = true, true
			out = append(out, p)
		}
	}
	out.Sort()
	return out
}

func dayCount(n int) string {
	if n == 1 {
		return "1 day"
	}
	return strconv.Itoa(n) + " days"
}

// exceptionSettings decodes the project file's exceptions: {warnDays: N}.
func (d *decoder) exceptionSettings(n *yaml.Node, field string) *int {
	pairs, _ := d.mapping(n, field, "a mapping with warnDays", []string{"warnDays"})
	var out *int
	for _, p := range pairs {
		f := field + "." + p.Key
		v, ok := d.scalar(p.V, f, "a number of days (14)")
		if !ok {
			continue
		}
		days, err := strconv.Atoi(v.S)
		if err != nil || days < 0 || days > 3660 {
			d.errorf(p.V, f, "expected a number of days from 0 to 3660, found %q", v.S)
			continue
		}
		out = &days
	}
	return out
}
