package verify

import (
	"bytes"
	"encoding/json"
	"fmt"

	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/yaml"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/schema"
)

// Audit is how an environment's objects are enforced when some are not:
// an environment in mode: audit, or objects that include Calico's staged
// ones.
//
// In mode: audit the Report's verdict, missing and excess are the "would
// be" set's, what netdep proves: on calico the enforced objects with the
// staged ones applied as Calico does (stagedAction Set creates or replaces
// the object of the same kind, namespace and name); on cilium every object
// as written, since Cilium cannot stage a policy and its policy audit mode
// is agent configuration. Elsewhere the verdict is the enforced objects',
// and WouldBe says what the staged ones would make of it.
type Audit struct {
	// Plugin is the environment's plugin.
	Plugin string `json:"plugin"`
	// Mode is the environment's mode (audit, or enforce with staged
	// objects).
	Mode string `json:"mode"`
	// Staged counts the staged objects.
	Staged int `json:"staged"`
	// Enforced is what the cluster enforces of what netdep emits: "none"
	// (calico audit: every netdep object is staged), "agent" (cilium
	// audit: the agent's policy audit mode decides) or "enforced".
	Enforced string `json:"enforced"`
	// EnforcedVerdict is the check of the enforced objects on their own
	// ("exact", "differs", "partial") when a mode: audit environment has
	// enforced objects beside the staged ones, "" otherwise.
	EnforcedVerdict string `json:"enforcedVerdict,omitempty"`
	// WouldBe is the verdict of the would-be set outside mode: audit.
	WouldBe string `json:"wouldBe,omitempty"`
}

// Text is the audit part of verify's line for the environment, before its
// would-be verdict.
func (a *Audit) Text() string {
	switch a.Enforced {
	case "none":
		return fmt.Sprintf("audit: nothing netdep emits is enforced here (%d staged %s); would be:", a.Staged, plural(a.Staged, "object", "objects"))
	case "agent":
		return "audit: enforcement depends on the Cilium agent's policy audit mode (policy-audit-mode in the cilium-config ConfigMap, or per endpoint); would be:"
	}
	if a.Mode == string(schema.ModeAudit) {
		return fmt.Sprintf("audit: enforced objects beside %d staged ones are %s; would be:", a.Staged, a.EnforcedVerdict)
	}
	return ""
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// appendPlugins adds b's plugin objects to a's.
func appendPlugins(a, b eval.PluginObjects) eval.PluginObjects {
	a.Cilium = append(a.Cilium, b.Cilium...)
	a.Calico = append(a.Calico, b.Calico...)
	a.StagedPolicies = append(a.StagedPolicies, b.StagedPolicies...)
	a.StagedCalico = append(a.StagedCalico, b.StagedCalico...)
	a.NotEvaluated = append(a.NotEvaluated, b.NotEvaluated...)
	return a
}

// WouldBe is m with its staged objects applied as Calico applies them: a
// staged NetworkPolicy (stagedAction Set) creates or replaces the
// NetworkPolicy of its namespace and name, a StagedNetworkPolicy the
// Calico NetworkPolicy. The staged lists of the result are empty.
func (m *Manifests) WouldBe() *Manifests {
	out := *m
	out.Policies = applyStaged(m.Policies, m.StagedPolicies, func(p *networkingv1.NetworkPolicy) string { return p.Namespace + "/" + p.Name })
	staged := make([]*eval.CalicoNetworkPolicy, len(m.StagedCalico))
	for i, s := range m.StagedCalico {
		c := *s
		c.Kind, c.Spec.StagedAction = "NetworkPolicy", ""
		staged[i] = &c
	}
	out.Plugins.Calico = applyStaged(m.Plugins.Calico, staged, func(p *eval.CalicoNetworkPolicy) string { return p.Namespace + "/" + p.Name })
	out.StagedPolicies, out.StagedCalico = nil, nil
	return &out
}

func applyStaged[T any](enforced, staged []T, id func(T) string) []T {
	at := map[string]int{}
	out := append([]T(nil), enforced...)
	for i, p := range out {
		at[id(p)] = i
	}
	for _, s := range staged {
		if i, ok := at[id(s)]; ok {
			out[i] = s
			continue
		}
		at[id(s)] = len(out)
		out = append(out, s)
	}
	return out
}

// checkAudit is CheckManifests' check: the enforced objects, the would-be
// set, or both (Audit).
func checkAudit(spec *schema.Spec, env string, m *Manifests) (*Report, error) {
	e := spec.Environment(env)
	if e == nil {
		return nil, fmt.Errorf("unknown environment %q", env)
	}
	staged := len(m.StagedPolicies) + len(m.StagedCalico)
	check := func(m *Manifests) (*Report, error) {
		return CheckWith(spec, env, m.Policies, Options{Namespaces: m.Namespaces, ClusterPolicies: m.ClusterPolicies, Plugins: m.Plugins})
	}
	if !e.Audit() && staged == 0 {
		return check(m)
	}
	a := &Audit{Plugin: string(e.PluginOrDefault()), Mode: string(schema.ModeEnforce), Staged: staged, Enforced: "enforced"}
	if e.Mode != "" {
		a.Mode = string(e.Mode)
	}
	wouldBe, err := check(m.WouldBe())
	if err != nil {
		return nil, err
	}
	if !e.Audit() {
		r, err := check(m)
		if err != nil {
			return nil, err
		}
		a.WouldBe = wouldBe.Verdict
		r.Audit = a
		return r, nil
	}
	wouldBe.Audit = a
	switch enforced := len(m.Policies) + m.Plugins.Len(); {
	case e.PluginOrDefault() == schema.PluginCilium:
		a.Enforced = "agent"
	case enforced == 0:
		a.Enforced = "none"
	default:
		r, err := check(m)
		if err != nil {
			return nil, err
		}
		a.EnforcedVerdict = r.Verdict
	}
	return wouldBe, nil
}

// DecodeObjects reads objects the way LoadManifests reads files: each is
// written as YAML (its JSON fields) into one stream named name, which is
// decoded as a file would be. A Source over a generated set in memory
// gives it the set's plugin objects (whatever Go types generate uses), so
// they are read by the one reader, strictly, as on disk.
func DecodeObjects(name string, objs []any) (*Manifests, error) {
	var b bytes.Buffer
	for _, o := range objs {
		j, err := json.Marshal(o)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		y, err := yaml.JSONToYAML(j)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		b.WriteString("---\n")
		b.Write(y)
	}
	c := &collector{}
	if err := c.add(name, b.Bytes()); err != nil {
		return nil, err
	}
	return c.result()
}
