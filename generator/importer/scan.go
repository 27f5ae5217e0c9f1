package importer

import (
	"fmt"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/world"
)

// scan lists what the import changes in a rule that the check cannot see,
// since verify's world has only the pods and namespaces of the imported
// files: selectors rewritten to what they match today (matchExpressions,
// namespaceSelectors on labels), peers that match nothing, named ports of
// pods whose containers are unknown.
func (im *policyImporter) scan() {
	for _, p := range im.pols {
		ref := policyRef(p)
		sel := p.Spec.PodSelector
		selected := im.matchPods([]string{p.Namespace}, &sel)
		switch {
		case len(selected) == 0:
			im.approximations[fmt.Sprintf("%s selects no imported workload (spec.podSelector %s); its rules apply to pods netdep has no service for, which it isolates with their namespace", ref, showSelector(&sel))] = true
		case len(sel.MatchExpressions) > 0:
			im.approximations[fmt.Sprintf("%s spec.podSelector uses matchExpressions; imported as the services it selects now (%s), pods that match it later are not covered", ref, strings.Join(selected, ", "))] = true
		}
		eachPeer(p, func(field string, peer networkingv1.NetworkPolicyPeer) { im.scanPeer(p, field, peer) })
		im.scanNamedPorts(p)
	}
}

func (im *policyImporter) scanPeer(p *networkingv1.NetworkPolicy, field string, peer networkingv1.NetworkPolicyPeer) {
	if peer.IPBlock != nil {
		return
	}
	ref := policyRef(p)
	nss := []string{p.Namespace}
	if s := peer.NamespaceSelector; s != nil {
		nsSel, err := metav1.LabelSelectorAsSelector(s)
		if err != nil {
			return
		}
		nss = im.peerNamespaces(p.Namespace, s)
		switch {
		case nsSel.Matches(labels.Set{eval.NamespaceNameLabel: world.OutsideNamespace}):
			im.approximations[fmt.Sprintf("%s %s.namespaceSelector %s matches namespaces not in the inputs too; imported as the namespaces of the inputs (%s)", ref, field, showSelector(s), strings.Join(nss, ", "))] = true
		case len(nss) == 0:
			im.approximations[fmt.Sprintf("%s %s.namespaceSelector %s matches no namespace in the inputs; nothing imported for it (add the Namespace manifests with their labels)", ref, field, showSelector(s))] = true
			return
		case namedNamespace(s) == "":
			im.approximations[fmt.Sprintf("%s %s.namespaceSelector %s imported as the namespaces it matches now (%s); netdep names namespaces, so a namespace labelled so later is not covered", ref, field, showSelector(s), strings.Join(nss, ", "))] = true
		}
	}
	if peer.PodSelector == nil {
		return
	}
	got := im.matchPods(nss, peer.PodSelector)
	podSel, _ := metav1.LabelSelectorAsSelector(peer.PodSelector)
	switch {
	case len(got) == 0 && !podSel.Matches(labels.Set{}):
		im.approximations[fmt.Sprintf("%s %s.podSelector %s matches no pod in the inputs; nothing imported for it", ref, field, showSelector(peer.PodSelector))] = true
	case len(peer.PodSelector.MatchExpressions) > 0 && len(got) > 0:
		im.approximations[fmt.Sprintf("%s %s.podSelector uses matchExpressions; imported as the pods it matches now (%s)", ref, field, strings.Join(got, ", "))] = true
	}
}

// scanNamedPorts lists the named ports of p that apply to pods whose
// containers the inputs do not describe: a named port resolves on the
// destination pod, so on those pods the rule admits nothing, in the
// cluster's pods it does.
func (im *policyImporter) scanNamedPorts(p *networkingv1.NetworkPolicy) {
	unknown := func(pods []int, name string) []string {
		var out []string
		for _, i := range pods {
			s := im.byPod[i]
			if s != nil && len(s.w.NamedBy) == 0 || im.u.Pods[i].Labels == nil {
				continue // a workload's containers say, or a pod of no one
			}
			has := false
			for _, cp := range im.u.Pods[i].Ports {
				if cp.Name == name {
					has = true
				}
			}
			if !has {
				out = append(out, im.podName[i])
			}
		}
		return out
	}
	report := func(field string, ports []networkingv1.NetworkPolicyPort, pods []int) {
		for k, port := range ports {
			if port.Port == nil || port.Port.StrVal == "" {
				continue
			}
			if got := unknown(pods, port.Port.StrVal); len(got) > 0 {
				im.approximations[fmt.Sprintf("%s %s.ports[%d] names port %q, which the inputs declare for no container of %s; nothing imported for it there (declare the port by hand)", policyRef(p), field, k, port.Port.StrVal, strings.Join(got, ", "))] = true
			}
		}
	}
	sel := p.Spec.PodSelector
	selected := im.podsMatching([]string{p.Namespace}, &sel)
	for i, r := range p.Spec.Ingress {
		report(fmt.Sprintf("ingress[%d]", i), r.Ports, selected)
	}
	for i, r := range p.Spec.Egress {
		var dst []int
		for _, peer := range r.To {
			if peer.IPBlock == nil {
				dst = append(dst, im.podsMatching(im.peerNamespaces(p.Namespace, peer.NamespaceSelector), orEvery(peer.PodSelector))...)
			}
		}
		if len(r.To) == 0 {
			dst = im.podsMatching(im.namespaces, &metav1.LabelSelector{})
		}
		report(fmt.Sprintf("egress[%d]", i), r.Ports, dst)
	}
}

func orEvery(s *metav1.LabelSelector) *metav1.LabelSelector {
	if s == nil {
		return &metav1.LabelSelector{}
	}
	return s
}

// podsMatching are the universe pods with labels in namespaces ns that s
// selects.
func (im *policyImporter) podsMatching(ns []string, s *metav1.LabelSelector) []int {
	sel, err := metav1.LabelSelectorAsSelector(s)
	if err != nil {
		return nil
	}
	var out []int
	for i, pod := range im.u.Pods {
		for _, n := range ns {
			if pod.Namespace == n && pod.Labels != nil && sel.Matches(labels.Set(pod.Labels)) {
				out = append(out, i)
			}
		}
	}
	return out
}

func (im *policyImporter) matchPods(ns []string, s *metav1.LabelSelector) []string {
	var out []string
	for _, i := range im.podsMatching(ns, s) {
		out = append(out, im.podName[i])
	}
	return out
}

// showSelector writes a label selector as it reads in a manifest, on one
// line: {k: v}, {k In [a, b]}, {} for every pod.
func showSelector(s *metav1.LabelSelector) string {
	var parts []string
	for _, k := range sortedKeys(s.MatchLabels) {
		parts = append(parts, k+": "+s.MatchLabels[k])
	}
	for _, e := range s.MatchExpressions {
		if len(e.Values) > 0 {
			parts = append(parts, fmt.Sprintf("%s %s [%s]", e.Key, e.Operator, strings.Join(e.Values, ", ")))
		} else {
			parts = append(parts, fmt.Sprintf("%s %s", e.Key, e.Operator))
		}
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
