// Package synth writes synthetic organisations as dependency files: the input
// of property tests (small random specs that use every feature of the schema)
// and of benchmarks (100 to 10,000 services with realistic fan-out).
//
// Output depends only on Options: the same seed gives the same bytes.
package synth

import (
	"fmt"
	"maps"
	"math/rand"
	"sort"

	"gopkg.in/yaml.v3"

	"github.com/netdep/netdep/schema"
)

// Options shapes an organisation.
type Options struct {
	// Services is the number of services across all managed namespaces.
	Services int
	// PerNamespace is the average number of services per namespace
	// (default 20).
	PerNamespace int
	// Environments declared by the project file; nil means dev, staging and
	// prod. Set NoProject to write no project file (one implicit
	// environment).
	Environments []string
	NoProject    bool
	Seed         int64
	// Plugins gives each environment a random plugin (kubernetes, cilium,
	// calico), mode and log setting the plugin can express, and some
	// services host calls (names and wildcards, some any-port), their
	// addresses pinned wherever the plugin cannot allow a name (and in
	// some cilium environments too). It draws from a random source of its
	// own, so the rest of the organisation is the one without it.
	Plugins bool
}

// hostPool are the hosts Plugins calls, literal and wildcard, overlapping.
var hostPool = []string{"api.stripe.com", "*.googleapis.com", "storage.googleapis.com", "hooks.slack.com", "*.slack.com", "example.org"}

// hostPins are the addresses Plugins pins for each of hostPool (some
// shared, some inside the synthetic 203.0.113.0/24 block).
var hostPins = map[string][]string{
	"api.stripe.com":         {"203.0.113.10/32"},
	"*.googleapis.com":       {"198.51.100.0/28", "2001:db8:1::/64"},
	"storage.googleapis.com": {"198.51.100.16/28"},
	"hooks.slack.com":        {"192.0.2.10/32"},
	"*.slack.com":            {"192.0.2.0/28"},
	"example.org":            {"203.0.113.10/32"},
}

type svc struct {
	ns, name string
	ports    []port
	envs     []string
	calls    []any
	from     []any
	labels   map[string]string
	// edge marks a service reachable from the internet on purpose.
	edge bool
}

type port struct {
	name  string
	value string
}

// Org returns the files of a synthetic organisation: a project file (unless
// NoProject), one file per managed namespace and one for the platform
// namespaces netdep does not manage.
func Org(o Options) []schema.File {
	r := rand.New(rand.NewSource(o.Seed))
	per := o.PerNamespace
	if per <= 0 {
		per = 20
	}
	envs := o.Environments
	if envs == nil && !o.NoProject {
		envs = []string{"dev", "staging", "prod"}
	}
	if o.NoProject {
		envs = nil
	}
	nNS := max(1, (o.Services+per-1)/per)
	nsNames := make([]string, nNS)
	ingressOnly := map[string]bool{}
	for i := range nsNames {
		nsNames[i] = fmt.Sprintf("team-%03d", i)
		ingressOnly[nsNames[i]] = r.Intn(10) == 0
	}
	svcs := make([]*svc, o.Services)
	for i := range svcs {
		s := &svc{ns: nsNames[r.Intn(nNS)], name: fmt.Sprintf("svc-%05d", i)}
		if i < nNS {
			s.ns = nsNames[i] // every namespace gets at least one service
		}
		used := map[int]bool{}
		for j, n := 0, 1+r.Intn(3); j < n; j++ {
			num := 1024 + r.Intn(30000)
			for used[num] {
				num++
			}
			used[num] = true
			v := fmt.Sprint(num)
			switch r.Intn(12) {
			case 0:
				v += "/UDP"
			case 1:
				v = fmt.Sprintf("%d-%d/TCP", num, num+r.Intn(20)+1)
				for k := num; k <= num+21; k++ {
					used[k] = true
				}
			}
			s.ports = append(s.ports, port{name: []string{"http", "grpc", "metrics"}[j], value: v})
		}
		if r.Intn(4) == 0 {
			s.labels = map[string]string{"app": s.name, "tier": []string{"web", "api", "data"}[r.Intn(3)]}
		}
		if len(envs) > 1 {
			switch r.Intn(30) {
			case 0:
				s.envs = envs[:1]
			case 1:
				s.envs = envs[len(envs)-1:]
			}
		}
		svcs[i] = s
	}
	// A few hubs take a large share of the calls, as shared services do.
	hubs := max(1, o.Services/50)
	pick := func() *svc {
		if r.Intn(3) == 0 {
			return svcs[r.Intn(hubs)]
		}
		return svcs[r.Intn(len(svcs))]
	}
	for _, s := range svcs {
		seen := map[*svc]bool{s: true}
		for j, n := 0, 2+r.Intn(7); j < n && len(svcs) > 1; j++ {
			t := pick()
			if r.Intn(10) < 7 {
				// Most calls stay in the team's namespace.
				for k := 0; k < 4 && t.ns != s.ns; k++ {
					t = pick()
				}
			}
			if seen[t] {
				continue
			}
			seen[t] = true
			if !overlap(s.envs, t.envs, envs) {
				continue
			}
			ref := t.name
			if t.ns != s.ns {
				ref = t.ns + "/" + t.name
			}
			switch r.Intn(4) {
			case 0: // every port
			case 1:
				ref += ":" + t.ports[r.Intn(len(t.ports))].name
			default:
				ref += ":" + t.ports[0].name
			}
			if r.Intn(5) == 0 {
				// The callee lists the caller instead.
				from := s.name
				if s.ns != t.ns {
					from = s.ns + "/" + s.name
				}
				t.from = append(t.from, from)
				continue
			}
			if s.envs == nil && t.envs == nil && len(envs) > 1 && r.Intn(15) == 0 {
				t := map[string]any{"to": ref, "environments": []string{envs[r.Intn(len(envs))]}}
				s.calls = append(s.calls, t)
				continue
			}
			s.calls = append(s.calls, ref)
		}
		switch r.Intn(25) {
		case 0:
			if len(envs) > 0 {
				s.calls = append(s.calls, map[string]any{"cidr": "corp-vpn", "ports": []any{22}})
			}
		case 1:
			s.calls = append(s.calls, map[string]any{"cidr": "203.0.113.0/24", "except": []string{"203.0.113.8/29"}, "ports": []any{443, "8443/UDP"}})
		case 2:
			s.calls = append(s.calls, map[string]any{"namespace": "monitoring", "selector": map[string]string{"app": "pushgateway"}, "ports": []any{9091}})
		case 3:
			s.calls = append(s.calls, map[string]any{"namespace": "monitoring", "ports": "any"})
		}
		switch r.Intn(20) {
		case 0:
			s.from = append(s.from, "edge/gateway:"+s.ports[0].name)
		case 1:
			s.from = append(s.from, map[string]any{"cidr": "0.0.0.0/0", "ports": []string{s.ports[0].name}})
			s.edge = true
		case 2:
			s.from = append(s.from, map[string]any{"namespace": "monitoring", "selector": map[string]string{"app": "prometheus"}})
		}
	}

	var files []schema.File
	if len(envs) > 0 {
		envMap := map[string]any{}
		for _, e := range envs {
			envMap[e] = map[string]any{}
		}
		envMap[envs[len(envs)-1]] = map[string]any{"cidrs": map[string]any{"corp-vpn": []string{"10.9.0.0/16"}}}
		if o.Plugins {
			addPlugins(rand.New(rand.NewSource(o.Seed+1)), svcs, envs, envMap)
		}
		files = append(files, file("netdep.yaml", map[string]any{
			"netdep":       "v1",
			"cluster":      map[string]any{"cidrs": map[string]any{"corp-vpn": []string{"10.8.0.0/16"}}},
			"environments": envMap,
		}))
	}
	files = append(files, file("platform.yaml",
		map[string]any{"netdep": "v1", "namespace": "edge", "managed": false,
			"services": map[string]any{"gateway": map[string]any{"selector": map[string]string{"app.kubernetes.io/name": "gateway"}}}},
		map[string]any{"netdep": "v1", "namespace": "monitoring", "managed": false,
			"services": map[string]any{"prometheus": map[string]any{}}},
	))
	byNS := map[string][]*svc{}
	for _, s := range svcs {
		byNS[s.ns] = append(byNS[s.ns], s)
	}
	for _, ns := range nsNames {
		doc := map[string]any{"netdep": "v1", "namespace": ns}
		if ingressOnly[ns] {
			doc["isolate"] = []string{"ingress"}
		}
		services := map[string]any{}
		for _, s := range byNS[ns] {
			m := map[string]any{}
			ports := map[string]any{}
			for _, p := range s.ports {
				ports[p.name] = p.value
			}
			m["ports"] = ports
			if s.labels != nil {
				m["selector"] = s.labels
			}
			if s.edge {
				m["edge"] = true
			}
			if s.envs != nil {
				m["environments"] = s.envs
			}
			if len(s.calls) > 0 {
				m["calls"] = s.calls
			}
			if len(s.from) > 0 {
				m["from"] = s.from
			}
			services[s.name] = m
		}
		doc["services"] = services
		files = append(files, file(ns+".yaml", doc))
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files
}

// addPlugins is Options.Plugins: settings per environment, host calls on
// some services, and the pins they need.
func addPlugins(r *rand.Rand, svcs []*svc, envs []string, envMap map[string]any) {
	called := map[string]bool{}
	for _, s := range svcs {
		if r.Intn(4) != 0 {
			continue
		}
		for j, n := 0, 1+r.Intn(2); j < n; j++ {
			h := hostPool[r.Intn(len(hostPool))]
			called[h] = true
			var ports any = []any{443}
			switch r.Intn(4) {
			case 0:
				ports = "any"
			case 1:
				ports = []any{"8000-8100/TCP", "53/UDP"}
			}
			s.calls = append(s.calls, map[string]any{"host": h, "ports": ports})
		}
	}
	for _, e := range envs {
		m := envMap[e].(map[string]any)
		plugin := []string{"kubernetes", "cilium", "calico"}[r.Intn(3)]
		m["plugin"] = plugin
		if plugin != "kubernetes" {
			if r.Intn(2) == 0 {
				m["mode"] = "audit"
			}
			if r.Intn(2) == 0 {
				m["log"] = "denied"
			}
		}
		pins := map[string]any{}
		for _, h := range hostPool {
			if called[h] && (plugin != "cilium" || r.Intn(4) == 0) {
				pins[h] = hostPins[h]
			}
		}
		if len(pins) > 0 {
			m["hosts"] = pins
		}
	}
}

// overlap reports whether two services share an environment.
func overlap(a, b, all []string) bool {
	if a == nil || b == nil {
		return true
	}
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}

// file writes docs as people (and netdep init and import) write them:
// netdep: v1 first, the other keys after it. yaml.Marshal sorts keys, which
// would put namespace first, and a file that does not open with netdep:
// costs the directory walk a YAML parse to tell what it is.
func file(path string, docs ...map[string]any) schema.File {
	var data []byte
	for i, d := range docs {
		rest := maps.Clone(d)
		delete(rest, "netdep")
		b, err := yaml.Marshal(rest)
		if err != nil {
			panic(err) // only maps of strings, numbers and lists: cannot fail
		}
		if i > 0 {
			data = append(data, "---\n"...)
		}
		data = append(data, "netdep: "+d["netdep"].(string)+"\n"...)
		data = append(data, b...)
	}
	return schema.File{Path: "org/" + path, Data: data}
}
