package explain

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/verify"
	"github.com/netdep/netdep/generator/world"
	"github.com/netdep/netdep/schema"
)

// Endpoint is SRC or DST as written, resolved against an environment: pods
// (a namespace and labels, Service set when they are a declared service's)
// or, when IsAddr, an address outside the cluster.
type Endpoint struct {
	// Text is how answers show the endpoint: as written, but ns/svc for a
	// service written by its bare name.
	Text      string
	Namespace string
	// Labels are the pods' labels: the service's selector for a service,
	// nil for ns/*.
	Labels  map[string]string
	Service *schema.Service
	Addr    netip.Addr
	IsAddr  bool
	// Host is set for an external service named by DNS ("api.stripe.com",
	// "*.googleapis.com"): a host class of its own, or, where the
	// environment pins its addresses, its first pinned address (IsAddr
	// too; Text says "host NAME (CIDR, ...)").
	Host string
}

// isHostName reports whether s reads as a DNS name (at least two labels,
// an optional leftmost "*"), not as a service name or an address.
func isHostName(s string) bool {
	labels := strings.Split(strings.TrimPrefix(s, "*."), ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || strings.ContainsAny(l, "/{}*=") {
			return false
		}
	}
	return true
}

func (e Endpoint) String() string { return e.Text }

// PodName is how the world names the pod standing for e: the service's
// name, "(unlabelled)", or "(pods k=v,...)" with the labels sorted.
func (e Endpoint) PodName() string {
	switch {
	case e.Service != nil:
		return e.Service.Name
	case len(e.Labels) == 0:
		return world.UnlabelledPodName
	}
	return world.PeerPodName(e.Labels)
}

// ErrNotInEnvironment is matched (errors.Is) by an endpoint that names a
// service the environment does not have: with several environments, the
// others can still be answered.
var ErrNotInEnvironment = errors.New("service not in this environment")

type notInEnv struct{ error }

func (notInEnv) Is(target error) bool { return target == ErrNotInEnvironment }

// ParseEndpoint reads "ns/svc", "svc" (a service name unique across
// namespaces), "ns/*" (an unlabelled pod; "ns/(unlabelled)" as reports
// write it), "ns/{k=v,...}" (a pod with exactly these labels, the service
// whose selector they are when there is one) or an address ("10.1.2.3",
// "2001:db8::1", "[2001:db8::1]"). s carries no port: see SplitPort.
func ParseEndpoint(env *schema.Environment, s string) (Endpoint, error) {
	e := Endpoint{Text: s}
	if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		e.Addr, e.IsAddr = a.Unmap(), true
		return e, nil
	}
	ns, name, ok := strings.Cut(s, "/")
	if h := strings.TrimPrefix(s, "host:"); !ok && isHostName(h) {
		e.Host = eval.NormalizeHost(h)
		e.Text = verify.HostName(e.Host)
		if cidrs := env.Pinned(e.Host); len(cidrs) > 0 {
			// Pinned addresses always win: plain ipBlock rules.
			p := netip.MustParsePrefix(cidrs[0])
			e.Addr, e.IsAddr = p.Addr(), true
			e.Text += " (" + strings.Join(cidrs, ", ") + ")"
		}
		return e, nil
	}
	if !ok {
		var found []*schema.Service
		for _, svc := range env.Services {
			if svc.Name == s {
				found = append(found, svc)
			}
		}
		switch len(found) {
		case 1:
			e.Namespace, e.Service, e.Labels = found[0].Namespace, found[0], found[0].Selector
			e.Text = found[0].ID()
			return e, nil
		case 0:
			return e, notInEnv{fmt.Errorf("%q: expected ns/svc, ns/*, ns/{labels} or an address; no service %q %s%s", s, s, inEnv(env), suggestService(env, "", s))}
		}
		ids := make([]string, len(found))
		for i, f := range found {
			ids[i] = f.ID()
		}
		return e, fmt.Errorf("%q: service name in several namespaces; write one of %s", s, strings.Join(ids, ", "))
	}
	e.Namespace = ns
	switch {
	case name == "*" || name == world.UnlabelledPodName:
		return e, nil
	case strings.HasPrefix(name, "{") && strings.HasSuffix(name, "}"):
		e.Labels = map[string]string{}
		for _, kv := range strings.Split(strings.Trim(name, "{}"), ",") {
			if kv = strings.TrimSpace(kv); kv == "" {
				continue
			}
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return e, fmt.Errorf("%q: expected labels as {key=value,...}, found %q", s, kv)
			}
			e.Labels[k] = v
		}
		// Labels that are exactly a service's selector are that service.
		for _, svc := range env.Services {
			if svc.Namespace == ns && maps.Equal(svc.Selector, e.Labels) {
				e.Service = svc
			}
		}
		return e, nil
	}
	for _, svc := range env.Services {
		if svc.Namespace == ns && svc.Name == name {
			e.Service, e.Labels = svc, svc.Selector
			return e, nil
		}
	}
	return e, notInEnv{fmt.Errorf("%q: no service %q in namespace %q %s%s", s, name, ns, inEnv(env), suggestService(env, ns, name))}
}

// suggestService is a did-you-mean for a service that env does not have,
// as the argument was written: the nearest ns/svc (a typo in the service
// or in the namespace), or for a bare name (ns "") the nearest name.
func suggestService(env *schema.Environment, ns, name string) string {
	var names []string
	for _, svc := range env.Services {
		if ns == "" {
			names = append(names, svc.Name)
		} else {
			names = append(names, svc.ID())
		}
	}
	slices.Sort(names)
	if ns == "" {
		return schema.DidYouMean(name, names)
	}
	return schema.DidYouMean(ns+"/"+name, names)
}
func inEnv(env *schema.Environment) string {
	if env.Name == "" {
		return "is declared"
	}
	return "exists in environment " + env.Name
}

// SplitPort cuts ":PORT[/PROTO]" off DST, minding IPv6 addresses: an
// address with a port is written [2001:db8::1]:443, and a bare IPv6 address
// has no port.
func SplitPort(s string) (endpoint, port string) {
	if strings.HasPrefix(s, "[") {
		if i := strings.Index(s, "]"); i >= 0 {
			rest := s[i+1:]
			return s[:i+1], strings.TrimPrefix(rest, ":")
		}
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return s, ""
	}
	if i := strings.LastIndex(s, ":"); i >= 0 && !strings.Contains(s[i:], "}") {
		return s[:i], s[i+1:]
	}
	return s, ""
}
