package kustomize

import (
	"fmt"
	"path"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/netdep/netdep/generator/policy"
)

// File name suffixes of the plugin objects, in the namespace's directory
// beside its NetworkPolicies (<namespace>/<name><suffix>). A NetworkPolicy's
// file is <name>.yaml with a name of one label (a service, a namespace-wide
// policy), two (<service>.<env>) or three with "exception" in the middle,
// so none of these reads as one: a CiliumNetworkPolicy is <service>.hosts
// (+ .cnp), and the Calico policy netdep-log-denied is not a service name
// netdep generates next to an environment named calico (schema reserves it).
const (
	CiliumSuffix       = ".cnp.yaml"
	CalicoSuffix       = ".calico.yaml"
	StagedSuffix       = ".staged.yaml"
	StagedCalicoSuffix = ".calico.staged.yaml"
)

// Comments an environment's kustomizations carry in audit mode: the tree
// says what is and is not enforced where a reviewer reads it.
var (
	ciliumAuditComment = []string{
		"# mode: audit on cilium: Cilium cannot stage a policy. These objects are",
		"# enforced unless the Cilium agent runs in policy audit mode",
		"# (policy-audit-mode: \"true\" in the cilium-config ConfigMap, or per endpoint),",
		"# which then logs what they would deny instead. See docs/plugins.md.",
	}
	calicoAuditComment = []string{
		"# mode: audit on calico: every policy here is staged (StagedKubernetesNetworkPolicy,",
		"# StagedNetworkPolicy): Calico reports what it would deny and enforces none of",
		"# them. This overlay is standalone (it does not include the base). See docs/plugins.md.",
	}
)

// auditComment is the comment of env's kustomizations, nil for none.
func auditComment(po *policy.PluginObjects) []string {
	switch {
	case po.Staged():
		return calicoAuditComment
	case po != nil && po.Audit:
		return ciliumAuditComment
	}
	return nil
}

// pluginFileName checks a plugin object's name and namespace and returns
// its path relative to the environment's directory.
func pluginFileName(kind string, m *metav1.ObjectMeta, suffix string) (string, error) {
	if errs := validation.IsDNS1123Label(m.Namespace); len(errs) > 0 {
		return "", fmt.Errorf("%s %s/%s: namespace: %s", kind, m.Namespace, m.Name, strings.Join(errs, "; "))
	}
	if errs := validation.IsDNS1123Subdomain(m.Name); len(errs) > 0 {
		return "", fmt.Errorf("%s %s/%s: name: %s", kind, m.Namespace, m.Name, strings.Join(errs, "; "))
	}
	return m.Namespace + "/" + m.Name + suffix, nil
}

// emitObject marshals one plugin object into dir and lists it in byNS.
func emitObject(kind string, m *metav1.ObjectMeta, obj any, suffix, dir string, byNS map[string][]string, add func(string, []byte, string) error) error {
	name, err := pluginFileName(kind, m, suffix)
	if err != nil {
		return err
	}
	b, err := marshalObject(obj)
	if err != nil {
		return fmt.Errorf("%s %s/%s: %w", kind, m.Namespace, m.Name, err)
	}
	if err := add(dir+"/"+name, b, kind+" "+m.Namespace+"/"+m.Name); err != nil {
		return err
	}
	byNS[m.Namespace] = append(byNS[m.Namespace], path.Base(name))
	return nil
}

// emitPlugin writes an enforced environment's plugin objects into dir.
func emitPlugin(po *policy.PluginObjects, dir string, byNS map[string][]string, add func(string, []byte, string) error) error {
	if po == nil {
		return nil
	}
	for _, p := range po.Cilium {
		if p == nil {
			return fmt.Errorf("nil ciliumnetworkpolicy")
		}
		if err := emitObject("ciliumnetworkpolicy", &p.ObjectMeta, p, CiliumSuffix, dir, byNS, add); err != nil {
			return err
		}
	}
	for _, p := range po.Calico {
		if p == nil {
			return fmt.Errorf("nil calico networkpolicy")
		}
		if err := emitObject("calico networkpolicy", &p.ObjectMeta, p, CalicoSuffix, dir, byNS, add); err != nil {
			return err
		}
	}
	sortFiles(byNS)
	return nil
}

// emitStaged writes a staged environment's objects (set.RenderStaged) into
// dir: the environment's whole content, base included.
func emitStaged(set *policy.Set, env, dir string, add func(string, []byte, string) error) (map[string][]string, error) {
	if n := len(set.RenderCluster(env)); n > 0 {
		return nil, fmt.Errorf("mode audit on calico: %d clusternetworkpolicies, which Calico cannot stage", n)
	}
	if po := set.PluginObjects(env); len(po.Cilium) > 0 {
		return nil, fmt.Errorf("mode audit on calico: ciliumnetworkpolicies in a calico environment")
	}
	knps, cnps := set.RenderStaged(env)
	byNS := map[string][]string{}
	for _, p := range knps {
		if p.Name == "kustomization" {
			return nil, fmt.Errorf("policy %s/%s: the name kustomization is reserved for kustomization.yaml", p.Namespace, p.Name)
		}
		if err := emitObject("stagedkubernetesnetworkpolicy", &p.ObjectMeta, p, StagedSuffix, dir, byNS, add); err != nil {
			return nil, err
		}
	}
	for _, p := range cnps {
		if err := emitObject("stagednetworkpolicy", &p.ObjectMeta, p, StagedCalicoSuffix, dir, byNS, add); err != nil {
			return nil, err
		}
	}
	sortFiles(byNS)
	return byNS, nil
}
