package schema

import (
	"testing"
	"time"
)

const exceptionDeps = `netdep: v1
namespace: shop
services:
  cart:
    calls:
      - to: catalog:http
        exception: {name: inc-1, reason: incident, owner: sre, expires: 2026-12-31}
      - to: catalog:http
        exception: {name: inc-2, reason: "migration", owner: web, expires: "2027-01-20"}
      - catalog:http
  catalog:
    ports: {http: 8080}
`

func TestExceptionsResolve(t *testing.T) {
	spec, probs := Parse([]File{{Path: "deps.yaml", Data: []byte(exceptionDeps), Explicit: true}})
	if len(probs.Errors()) > 0 {
		t.Fatal(probs.Error())
	}
	if len(spec.Exceptions) != 2 || spec.Exceptions[0].Name != "inc-1" || spec.Exceptions[1].Name != "inc-2" {
		t.Fatalf("exceptions = %v, want inc-1 and inc-2 sorted", spec.Exceptions)
	}
	if got := spec.Exceptions[1].ExpiresText(); got != "2027-01-20" {
		t.Errorf("quoted expiry = %s", got)
	}
	if spec.WarnDays() != DefaultExceptionWarnDays {
		t.Errorf("warn days = %d without a project file", spec.WarnDays())
	}
	// The plain call and the two exceptions are three rules on each side:
	// an exception is not a duplicate of an ordinary entry.
	byException := map[string]int{}
	for _, r := range spec.Environments[0].Rules {
		name := ""
		if r.Exception != nil {
			name = r.Exception.Name
		}
		byException[name]++
	}
	for _, name := range []string{"", "inc-1", "inc-2"} {
		if byException[name] != 2 {
			t.Errorf("rules of %q = %d, want 2 (egress and ingress)", name, byException[name])
		}
	}
}

func TestCheckExpiry(t *testing.T) {
	spec, probs := Parse([]File{{Path: "deps.yaml", Data: []byte(exceptionDeps), Explicit: true}})
	if len(probs.Errors()) > 0 {
		t.Fatal(probs.Error())
	}
	day := func(s string) time.Time {
		d, err := ParseDate(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	tests := []struct {
		name  string
		today string
		warn  int
		want  string
	}{
		{"no date", "", -1, ""},
		{"far ahead", "2026-06-01", -1, ""},
		{"within the default 14 days", "2026-12-20",
			-1, "deps.yaml:7:9: note: services.cart.calls[0].exception: exception inc-1 expires on 2026-12-31, in 11 days (owner sre)"},
		{"a shorter window", "2026-12-20", 10, ""},
		{"the last day", "2026-12-31", 0,
			"deps.yaml:7:9: note: services.cart.calls[0].exception: exception inc-1 expires on 2026-12-31, today (owner sre)"},
		{"expired and expiring", "2027-01-07", -1,
			"deps.yaml:7:9: warning: services.cart.calls[0].exception: exception inc-1 expired on 2026-12-31 (7 days ago; owner sre); remove the entry, or review it and move expires\n" +
				"deps.yaml:9:9: note: services.cart.calls[1].exception: exception inc-2 expires on 2027-01-20, in 13 days (owner web)"},
		{"one day after", "2027-01-01", 0,
			"deps.yaml:7:9: warning: services.cart.calls[0].exception: exception inc-1 expired on 2026-12-31 (1 day ago; owner sre); remove the entry, or review it and move expires"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var today time.Time
			if tc.today != "" {
				// A time of day after midnight judges the same day.
				today = day(tc.today).Add(23 * time.Hour)
			}
			got := CheckExpiry(spec, Expiry{Today: today, WarnDays: tc.warn})
			if got.Error() != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got.Error(), tc.want)
			}
			for _, p := range got {
				if !p.Warning {
					t.Errorf("%s: an expiry problem is never an error before --strict", p)
				}
				if p.Note != !stringsContains(p.Message, "expired") {
					t.Errorf("%s: only what has not expired is a note", p)
				}
			}
		})
	}
}

func stringsContains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
