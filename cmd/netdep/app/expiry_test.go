package app

import (
	"testing"
)

// TestExpiryDayPrecedence: --today wins over SOURCE_DATE_EPOCH, which wins
// over nothing; without either the day is unknown (never the clock).
func TestExpiryDayPrecedence(t *testing.T) {
	tests := []struct {
		name, today, epoch, want string
		wantErr                  bool
	}{
		{"neither", "", "", "", false},
		{"epoch only", "", "1798848000", "2027-01-02", false},
		{"flag wins", "2026-12-20", "1798848000", "2026-12-20", false},
		{"bad flag", "2026-12-32", "", "", true},
		{"bad epoch", "", "tomorrow", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &expiryFlags{today: tc.today, getenv: func(k string) string {
				if k == "SOURCE_DATE_EPOCH" {
					return tc.epoch
				}
				return ""
			}}
			day, err := f.day()
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			got := ""
			if !day.IsZero() {
				got = day.Format("2006-01-02")
			}
			if got != tc.want {
				t.Errorf("day = %q, want %q", got, tc.want)
			}
		})
	}
}
