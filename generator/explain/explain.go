package explain

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/policy"
	"github.com/netdep/netdep/generator/verify"
	"github.com/netdep/netdep/generator/world"
	"github.com/netdep/netdep/schema"
)

// Query is SRC -> DST on each of Ports, resolved in one environment.
type Query struct {
	Src, Dst Endpoint
	Ports    []Port
}

// ArgError is a problem with SRC or DST (its port included) as written: the
// command line is wrong, or, when errors.Is(err, ErrNotInEnvironment), names
// a service this environment lacks.
type ArgError struct {
	Arg string // "SRC" or "DST"
	Err error
}

func (e *ArgError) Error() string { return e.Arg + " " + e.Err.Error() }
func (e *ArgError) Unwrap() error { return e.Err }

// Parse resolves SRC and DST[:PORT[/PROTO]] against env. Every error is an
// *ArgError.
func Parse(env *schema.Environment, src, dst string) (Query, error) {
	var q Query
	var err error
	if q.Src, err = ParseEndpoint(env, src); err != nil {
		return q, &ArgError{"SRC", err}
	}
	dstText, portText := SplitPort(dst)
	if q.Dst, err = ParseEndpoint(env, dstText); err != nil {
		return q, &ArgError{"DST", err}
	}
	if q.Ports, err = ParsePorts(q.Dst, portText); err != nil {
		return q, &ArgError{"DST", err}
	}
	return q, nil
}

// Options change the world a connection is evaluated over.
type Options struct {
	// Namespaces label the world's namespaces, as verify.Options does: the
	// Namespace objects given with hand-written policies.
	Namespaces []eval.Namespace
	// ClusterPolicies are evaluated with the policies, in their tiers.
	ClusterPolicies []*v1beta1.ClusterNetworkPolicy
	// Plugins are the network plugins' policies evaluated with them.
	Plugins eval.Plugins
}

// Answer is one checked connection.
type Answer struct {
	Src, Dst Endpoint
	Port     Port
	Verdict  eval.Verdict
	// Sources are the netdep.io/source annotations of the policies, where
	// they have one: the dependency file to edit.
	Sources map[eval.PolicyRef]string
	// Exceptions are the exceptions the policies' annotations name
	// (policy.ExceptionAnnotation), by policy: a flow they allow is
	// allowed by that exception, for as long as it holds.
	Exceptions map[eval.PolicyRef]Exception
	// Notes say what the plugins do beyond the L3/L4 verdict: a
	// CiliumNetworkPolicy rule allowing this connection that also limits
	// DNS lookups (toPorts.rules.dns, L7).
	Notes []string
}

// Exception is an exception as its policy's annotations record it.
type Exception struct {
	Name, Owner, Expires, Reason string
}

// Evaluate decides q in environment env of spec under policies, over the
// world verify checks (world.New) plus the pods SRC and DST name when
// the world lacks them, such as a pod with labels no service has.
func Evaluate(spec *schema.Spec, env string, policies []*networkingv1.NetworkPolicy, q Query, o Options) ([]Answer, error) {
	w := world.New(env, spec)
	w.LabelNamespaces(o.Namespaces)
	u := w.Universe
	for _, ep := range []Endpoint{q.Src, q.Dst} {
		if ep.Host != "" && !ep.IsAddr {
			// A host the world lacks is a host class of its own.
			u.Hosts = append(slices.Clip(u.Hosts), ep.Host)
			continue
		}
		if ep.IsAddr {
			continue
		}
		exists := slices.ContainsFunc(u.Pods, func(p eval.Pod) bool {
			return p.Namespace == ep.Namespace && p.Name == ep.PodName()
		})
		if !exists {
			u.Pods = append(slices.Clip(u.Pods), eval.Pod{Namespace: ep.Namespace, Name: ep.PodName(), Labels: ep.Labels})
		}
	}
	ev, err := eval.NewWithPlugins(u, policies, o.ClusterPolicies, o.Plugins)
	if err != nil {
		return nil, err
	}
	at := func(ep Endpoint) eval.Endpoint {
		if ep.Host != "" && !ep.IsAddr {
			h, _ := ev.HostFor(ep.Host)
			return h
		}
		if ep.IsAddr {
			return ev.ExternalFor(ep.Addr)
		}
		i, _ := ev.PodIndex(ep.Namespace, ep.PodName())
		return eval.PodEndpoint(i)
	}
	sources := map[eval.PolicyRef]string{}
	exceptions := map[eval.PolicyRef]Exception{}
	for _, p := range o.Plugins.Cilium {
		if src := p.Annotations[policy.SourceAnnotation]; src != "" {
			sources[eval.PolicyRef{Namespace: p.Namespace, Name: p.Name, Kind: eval.KindCilium}] = src
		}
	}
	for _, p := range o.Plugins.Calico {
		if src := p.Annotations[policy.SourceAnnotation]; src != "" {
			sources[eval.PolicyRef{Namespace: p.Namespace, Name: p.Name, Kind: eval.KindCalico}] = src
		}
	}
	for _, p := range ev.Policies() {
		ref := eval.PolicyRef{Namespace: p.Namespace, Name: p.Name}
		if src := p.Annotations[policy.SourceAnnotation]; src != "" {
			sources[ref] = src
		}
		if name := p.Annotations[policy.ExceptionAnnotation]; name != "" {
			exceptions[ref] = Exception{Name: name, Owner: p.Annotations[policy.ExceptionOwnerAnnotation],
				Expires: p.Annotations[policy.ExceptionExpiresAnnotation], Reason: p.Annotations[policy.ExceptionReasonAnnotation]}
		}
	}
	var out []Answer
	for _, p := range q.Ports {
		v := ev.Explain(eval.Query{Src: at(q.Src), Dst: at(q.Dst), Protocol: p.Protocol, Port: p.Port})
		out = append(out, Answer{q.Src, q.Dst, p, v, sources, exceptions, dnsNotes(o.Plugins, v.Egress.Allowing)})
	}
	return out, nil
}

// Report is the answer in every environment asked about.
type Report struct {
	Environments []EnvironmentReport
	// NotEvaluated are the objects beside the policies that can change
	// connectivity but were not evaluated, every environment's: while any
	// exist, the answer holds for networking.k8s.io/v1 only.
	NotEvaluated []verify.ObjectRef
}

// EnvironmentReport is the answer in one environment.
type EnvironmentReport struct {
	// Environment is the environment's name, "" for the implicit one.
	Environment string
	// Skipped says why the environment was not answered: SRC or DST names a
	// service it lacks (an *ArgError matching ErrNotInEnvironment).
	Skipped error
	Answers []Answer
	// Audit, when not "", says the environment is in mode: audit and
	// what the answer is then: what netdep's objects would do, not what
	// the cluster enforces.
	Audit string
}

// auditNote is what an answer in an environment in mode: audit means.
func auditNote(e *schema.Environment) string {
	if !e.Audit() {
		return ""
	}
	if e.PluginOrDefault() == schema.PluginCilium {
		return "audit: what the policies do once the Cilium agent's policy audit mode is off"
	}
	return "audit: what the staged policies would do; nothing netdep emits is enforced"
}

// Allowed reports whether every connection answered is allowed.
func (r *Report) Allowed() bool {
	for _, e := range r.Environments {
		for _, a := range e.Answers {
			if !a.Verdict.Allowed {
				return false
			}
		}
	}
	return true
}

// Explain answers SRC -> DST[:PORT[/PROTO]] in each of envs of spec, under
// the policies policies holds for it (their Namespace objects label the
// world's namespaces, as verify's do). With several environments, one
// where SRC or DST names a service it lacks is skipped, unless all are.
// Errors about SRC and DST are *ArgError.
func Explain(spec *schema.Spec, envs []string, policies *verify.Source, src, dst string) (*Report, error) {
	r := &Report{}
	skipped := 0
	var firstSkip error
	for _, env := range envs {
		m, err := policies.Load(env)
		if err != nil {
			return nil, err
		}
		r.NotEvaluated = append(r.NotEvaluated, m.NotEvaluated...)
		e := spec.Environment(env)
		if e == nil {
			return nil, fmt.Errorf("unknown environment %q", env)
		}
		// In mode: audit the answer is what netdep's objects would do
		// (verify's would-be set): staged ones applied.
		if e.Audit() {
			m = m.WouldBe()
		}
		ps, o := m.Policies, Options{Namespaces: m.Namespaces, ClusterPolicies: m.ClusterPolicies, Plugins: m.Plugins}
		q, err := Parse(e, src, dst)
		if len(envs) > 1 && errors.Is(err, ErrNotInEnvironment) {
			// Answered in the environments where both ends exist.
			r.Environments = append(r.Environments, EnvironmentReport{Environment: env, Skipped: err})
			if skipped++; firstSkip == nil {
				firstSkip = err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		answers, err := Evaluate(spec, env, ps, q, o)
		if err != nil {
			return nil, err
		}
		r.Environments = append(r.Environments, EnvironmentReport{Environment: env, Answers: answers, Audit: auditNote(e)})
	}
	if skipped == len(envs) && firstSkip != nil {
		return nil, firstSkip
	}
	return r, nil
}

// dnsNotes names the DNS rules (L7, Cilium's DNS proxy) of the
// CiliumNetworkPolicy egress rules that allow a connection: they limit
// which names the pod may look up, not the L3/L4 verdict.
func dnsNotes(pl eval.Plugins, allowing []eval.RuleRef) []string {
	var out []string
	for _, r := range allowing {
		if r.Kind != eval.KindCilium {
			continue
		}
		for _, p := range pl.Cilium {
			if p.Namespace != r.Namespace || p.Name != r.Name || p.Spec == nil || r.Rule >= len(p.Spec.Egress) {
				continue
			}
			var names []string
			for _, tp := range p.Spec.Egress[r.Rule].ToPorts {
				if tp.Rules == nil {
					continue
				}
				for _, f := range tp.Rules.DNS {
					names = append(names, f.MatchName+f.MatchPattern)
				}
			}
			if len(names) > 0 {
				out = append(out, fmt.Sprintf("%s egress[%d] also limits DNS lookups to %s (toPorts.rules.dns, L7 through Cilium's DNS proxy; it changes no L3/L4 verdict)",
					r.PolicyRef, r.Rule, strings.Join(names, ", ")))
			}
		}
	}
	return out
}
