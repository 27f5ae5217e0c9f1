package app

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// TestInitPrompt answers init's questions as a person at a terminal would:
// an empty answer keeps the default, flags given are not asked about.
func TestInitPrompt(t *testing.T) {
	for _, tc := range []struct {
		name    string
		flags   []string
		answers string
		want    initOptions
		asked   int
	}{
		{"defaults", nil, "\n\n\n\n", initOptions{namespace: "shop", services: []string{"app"}, port: 8080, environments: []string{"dev", "prod"}}, 4},
		{"answers", nil, "payments\napi, worker\n9090\n-\n", initOptions{namespace: "payments", services: []string{"api", "worker"}, port: 9090}, 4},
		{"flags skip questions", []string{"--namespace", "ops", "--port", "80"}, "web\nqa\n", initOptions{namespace: "ops", services: []string{"web"}, port: 80, environments: []string{"qa"}}, 2},
		{"end of input keeps defaults", nil, "", initOptions{namespace: "shop", services: []string{"app"}, port: 8080, environments: []string{"dev", "prod"}}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			streams := Streams{In: strings.NewReader(tc.answers), Out: &out, Err: &out}
			cmd := NewInitCommand(streams)
			if err := cmd.ParseFlags(tc.flags); err != nil {
				t.Fatal(err)
			}
			o := &initOptions{port: 8080, environments: []string{"dev", "prod"}}
			// The command keeps its options to itself; prompt sees the
			// flags through cmd, the values through o.
			if v, _ := cmd.Flags().GetString("namespace"); v != "" {
				o.namespace = v
			}
			o.port, _ = cmd.Flags().GetInt("port")
			if err := o.prompt(cmd, "/work/shop", false, streams); err != nil {
				t.Fatal(err)
			}
			got := *o
			if got.namespace != tc.want.namespace || got.port != tc.want.port ||
				!slices.Equal(got.services, tc.want.services) || !slices.Equal(got.environments, tc.want.environments) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			if n := strings.Count(out.String(), "]: "); n != tc.asked {
				t.Errorf("asked %d questions, want %d:\n%s", n, tc.asked, out.String())
			}
		})
	}
}
