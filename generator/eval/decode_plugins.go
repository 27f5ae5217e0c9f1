package eval

import (
	"strings"

	"gopkg.in/yaml.v3"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// PluginObjects are the network plugins' policies of a stream
// (Documents.Plugins).
type PluginObjects struct {
	// Plugins are the enforced ones: CiliumNetworkPolicy (cilium.io/v2)
	// and Calico NetworkPolicy (projectcalico.org/v3), every one within
	// what the evaluator evaluates.
	Plugins
	// Staged are Calico's staged objects (projectcalico.org/v3), which
	// Calico evaluates without enforcing them: StagedKubernetesNetworkPolicy
	// as the NetworkPolicy it stages (same metadata and spec), and
	// StagedNetworkPolicy as the Calico NetworkPolicy it stages (Kind
	// StagedNetworkPolicy), both of stagedAction Set.
	StagedPolicies []*networkingv1.NetworkPolicy
	StagedCalico   []*CalicoNetworkPolicy
	// NotEvaluated are the objects of these kinds that use a field outside
	// what the evaluator evaluates, with the first such field.
	NotEvaluated []PluginNotEvaluated
}

// PluginNotEvaluated is one object of a plugin kind that is valid but not
// evaluated, and why.
type PluginNotEvaluated struct {
	Document, Line, Column int
	APIVersion, Kind       string
	Namespace, Name        string
	// Field is the field path (spec.egress[0].toEntities), Reason what it
	// is ("an entity peer is not evaluated").
	Field, Reason string
}

// Staged counts the staged objects.
func (p *PluginObjects) Staged() int { return len(p.StagedPolicies) + len(p.StagedCalico) }

// Plugins decodes the plugin policies of the documents, as Policies
// decodes NetworkPolicies: strictly (every field of the kind's CRD is
// known, any other is an error at its line and column), Lists expanded,
// what the CRD or API would refuse an error at its field. An object that
// is valid but uses what the evaluator does not evaluate is not an error:
// it is listed in NotEvaluated with the field. Other kinds are skipped,
// and so are other versions of these groups' kinds (their objects are
// listed as not evaluated by verify's reader).
func (ds Documents) Plugins() (PluginObjects, error) {
	var out PluginObjects
	_, err := decodeAll(ds, func(d *decoder, n *yaml.Node, apiVersion, kind string, _ *[]struct{}) {
		d.plugin(n, apiVersion, kind, &out)
	})
	if err != nil {
		return PluginObjects{}, err
	}
	return out, nil
}

func (d *decoder) plugin(n *yaml.Node, apiVersion, kind string, out *PluginObjects) {
	switch {
	case apiVersion == CiliumAPI && kind == "CiliumNetworkPolicy":
		p := &CiliumNetworkPolicy{}
		if !d.strict(n, apiVersion, kind, p) {
			return
		}
		if p.Namespace == "" {
			p.Namespace = DefaultNamespace
		}
		if d.fieldErrors(n, ValidateCilium(p), "ciliumnetworkpolicy "+p.Namespace+"/"+p.Name) {
			return
		}
		if d.skipped(n, apiVersion, kind, p.Namespace, p.Name, CiliumNotEvaluated(p), out) {
			return
		}
		out.Cilium = append(out.Cilium, p)
	case apiVersion == CalicoAPI && (kind == "NetworkPolicy" || kind == "StagedNetworkPolicy"):
		p := &CalicoNetworkPolicy{}
		if !d.strict(n, apiVersion, kind, p) {
			return
		}
		if p.Namespace == "" {
			p.Namespace = DefaultNamespace
		}
		if d.fieldErrors(n, ValidateCalico(p), strings.ToLower(kind)+".projectcalico.org "+p.Namespace+"/"+p.Name) {
			return
		}
		if d.skipped(n, apiVersion, kind, p.Namespace, p.Name, CalicoNotEvaluated(p), out) {
			return
		}
		if kind == "StagedNetworkPolicy" {
			out.StagedCalico = append(out.StagedCalico, p)
		} else {
			out.Calico = append(out.Calico, p)
		}
	case apiVersion == CalicoAPI && kind == "StagedKubernetesNetworkPolicy":
		s := &StagedKubernetesNetworkPolicy{}
		if !d.strict(n, apiVersion, kind, s) {
			return
		}
		np := &networkingv1.NetworkPolicy{ObjectMeta: s.ObjectMeta, Spec: s.Spec.NetworkPolicySpec}
		np.APIVersion, np.Kind = networkingV1, "NetworkPolicy"
		if np.Namespace == "" {
			np.Namespace = DefaultNamespace
		}
		what := "stagedkubernetesnetworkpolicy " + np.Namespace + "/" + np.Name
		var errs field.ErrorList
		switch a := s.Spec.StagedAction; a {
		case "", "Set":
		case "Delete", "Learn", "Ignore":
			if d.skipped(n, apiVersion, kind, np.Namespace, np.Name, field.ErrorList{notEvaluated(field.NewPath("spec", "stagedAction"), "a staged action other than Set")}, out) {
				return
			}
		default:
			errs = append(errs, field.NotSupported(field.NewPath("spec", "stagedAction"), a, []string{"Set", "Delete", "Learn", "Ignore"}))
		}
		errs = append(errs, Validate(Default(np))...)
		if d.fieldErrors(n, errs, what) {
			return
		}
		out.StagedPolicies = append(out.StagedPolicies, np)
	}
}

// skipped records an object with fields not evaluated; it reports whether
// there were any.
func (d *decoder) skipped(n *yaml.Node, apiVersion, kind, ns, name string, errs field.ErrorList, out *PluginObjects) bool {
	if len(errs) == 0 {
		return false
	}
	fe := errs[0]
	at := nodeAt(n, fe.Field)
	out.NotEvaluated = append(out.NotEvaluated, PluginNotEvaluated{Document: d.doc, Line: at.Line, Column: at.Column,
		APIVersion: apiVersion, Kind: kind, Namespace: ns, Name: name, Field: fe.Field, Reason: fe.Detail})
	return true
}
