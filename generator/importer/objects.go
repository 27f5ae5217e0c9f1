package importer

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/verify"
)

// Cluster is what the manifests say about a cluster: its NetworkPolicies,
// the workloads that run there, namespaces with their labels and Services.
type Cluster struct {
	Policies []*networkingv1.NetworkPolicy
	// ClusterPolicies are the ClusterNetworkPolicies of the manifests: they
	// are evaluated with Policies in their tiers (what the cluster
	// enforces), and not imported; they stay in the cluster as they are.
	ClusterPolicies []*v1beta1.ClusterNetworkPolicy
	Workloads       []*Workload
	Namespaces      []eval.Namespace
	Services        []*corev1.Service
	// Unread are custom resources that carry no pod template, as
	// "apiVersion Kind namespace/name": an operator may make pods from them
	// (a Prometheus, an Alertmanager) that only the policies describe.
	Unread []string
}

// Workload is a set of pods with the same labels: a Deployment, StatefulSet,
// DaemonSet, ReplicaSet, ReplicationController, Job, CronJob, a custom
// resource with a pod template, or a bare Pod.
type Workload struct {
	Namespace string
	Name      string
	Kind      string
	// Labels are the pod template's labels.
	Labels map[string]string
	// Selector is the controller's spec.selector.matchLabels (nil for a
	// bare Pod or a selector with matchExpressions): labels that are stable
	// across rollouts.
	Selector map[string]string
	Ports    []corev1.ContainerPort
	// Owned is true for a Pod with ownerReferences: another input usually
	// describes its controller.
	Owned bool
	// NamedBy is set for pods no workload of the inputs describes, which
	// the policies name by labels: the selectors that name them.
	NamedBy []Naming
}

// Naming is a selector of a policy that names pods no workload carries.
type Naming struct {
	// Ref is "policy ns/name field", e.g. "policy shop/api spec.podSelector".
	Ref    string
	Labels map[string]string
}

// ID is "namespace/name".
func (w *Workload) ID() string { return w.Namespace + "/" + w.Name }

// describe is how notes name the workload: "Deployment ns/name", or the
// labels of pods only the policies name.
func (w *Workload) describe() string {
	if len(w.NamedBy) > 0 {
		return "pods {" + labelKey(w.Labels) + "} of " + w.Namespace
	}
	return w.Kind + " " + w.ID()
}

// LoadCluster reads Kubernetes manifests: YAML files, directories of them
// (walked recursively, hidden directories skipped) and kustomization
// directories (built as `kustomize build` would), through verify's manifest
// reader, the one every command uses. Objects whose manifests name no
// namespace are in namespace, as `kubectl apply -n` would put them (""
// is eval.DefaultNamespace).
func LoadCluster(paths []string, namespace string) (*Cluster, error) {
	c, _, err := loadCluster(paths, namespace)
	return c, err
}

// LoadClusterManifests is LoadCluster, with the manifests as verify read
// them (their ClusterNetworkPolicies and the objects not evaluated), for
// readers that evaluate the cluster (netdep report) rather than import it.
func LoadClusterManifests(paths []string, namespace string) (*Cluster, *verify.Manifests, error) {
	return loadCluster(paths, namespace)
}

// loadCluster is LoadCluster, with the manifests as verify read them.
func loadCluster(paths []string, namespace string) (*Cluster, *verify.Manifests, error) {
	m, err := verify.LoadManifestsWith(paths, verify.LoadOptions{Documents: true})
	if err != nil {
		return nil, nil, err
	}
	c := &Cluster{Policies: m.Policies, ClusterPolicies: m.ClusterPolicies, Namespaces: m.Namespaces}
	for _, d := range m.Documents {
		var obj map[string]any
		if err := d.Node.Decode(&obj); err != nil {
			return nil, nil, fmt.Errorf("%s:%d:%d: %w", d.Source, d.Node.Line, d.Node.Column, err)
		}
		if err := c.addObject(obj); err != nil {
			return nil, nil, fmt.Errorf("%s:%d:%d: %w", d.Source, d.Node.Line, d.Node.Column, err)
		}
	}
	c.inNamespace(namespace)
	c.Workloads = dedupWorkloads(c.Workloads)
	sort.Strings(c.Unread)
	return c, m, nil
}

// inNamespace puts every object that names no namespace into ns.
func (c *Cluster) inNamespace(ns string) {
	if ns == "" {
		ns = eval.DefaultNamespace
	}
	c.Policies = verify.InNamespace(c.Policies, ns)
	for _, w := range c.Workloads {
		if w.Namespace == "" {
			w.Namespace = ns
		}
	}
	for _, s := range c.Services {
		if s.Namespace == "" {
			s.Namespace = ns
		}
	}
}

func (c *Cluster) addObject(obj map[string]any) error {
	kind, _ := obj["kind"].(string)
	apiVersion, _ := obj["apiVersion"].(string)
	if items, ok := obj["items"].([]any); ok && strings.HasSuffix(kind, "List") {
		for _, it := range items {
			if m, ok := it.(map[string]any); ok {
				if err := c.addObject(m); err != nil {
					return err
				}
			}
		}
		return nil
	}
	decode := func(into any) error {
		b, err := json.Marshal(obj)
		if err != nil {
			return err
		}
		return json.Unmarshal(b, into)
	}
	switch kind {
	case "Namespace", "NetworkPolicy":
		return nil // verify's reader read them
	case "Service":
		var s corev1.Service
		if err := decode(&s); err != nil {
			return fmt.Errorf("Service: %w", err)
		}
		c.Services = append(c.Services, &s)
		return nil
	case "Pod":
		var o corev1.Pod
		if err := decode(&o); err != nil {
			return fmt.Errorf("Pod: %w", err)
		}
		c.addWorkload(kind, o.ObjectMeta, corev1.PodTemplateSpec{ObjectMeta: o.ObjectMeta, Spec: o.Spec}, nil)
		return nil
	}
	// Every kind that carries a pod template makes pods: the workload kinds
	// of apps/v1, batch/v1 and core v1 (a ReplicationController's selector
	// is a plain map), and custom resources shaped like them (an Argo
	// Rollout, an OpenKruise CloneSet).
	var o podTemplateOwner
	err := decode(&o)
	tmpl := o.template()
	if err != nil || tmpl == nil {
		if workloadKinds[kind] {
			if err == nil {
				err = fmt.Errorf("no pod template with containers")
			}
			return fmt.Errorf("%s %s: %w", kind, o.Metadata.Name, err)
		}
		if isCustomResource(apiVersion) {
			c.Unread = append(c.Unread, fmt.Sprintf("%s %s %s", apiVersion, kind, objectID(o.Metadata)))
		}
		return nil
	}
	c.addWorkload(kind, o.Metadata, *tmpl, o.selector())
	return nil
}

// workloadKinds are the built-in kinds that always carry a pod template.
var workloadKinds = map[string]bool{
	"Deployment": true, "StatefulSet": true, "DaemonSet": true, "ReplicaSet": true,
	"ReplicationController": true, "Job": true, "CronJob": true,
}

// podTemplateOwner is the shape every pod-making kind shares.
type podTemplateOwner struct {
	Metadata metav1.ObjectMeta `json:"metadata"`
	Spec     struct {
		Selector    json.RawMessage         `json:"selector"`
		Template    *corev1.PodTemplateSpec `json:"template"`
		JobTemplate *struct {
			Spec struct {
				Template *corev1.PodTemplateSpec `json:"template"`
			} `json:"spec"`
		} `json:"jobTemplate"`
	} `json:"spec"`
}

func (o *podTemplateOwner) template() *corev1.PodTemplateSpec {
	t := o.Spec.Template
	if o.Spec.JobTemplate != nil {
		t = o.Spec.JobTemplate.Spec.Template
	}
	if t == nil || len(t.Spec.Containers) == 0 {
		return nil
	}
	return t
}

// selector is the controller's matchLabels: a LabelSelector's, or a
// ReplicationController's plain map; nil with matchExpressions or none.
func (o *podTemplateOwner) selector() map[string]string {
	if len(o.Spec.Selector) == 0 {
		return nil
	}
	var ls metav1.LabelSelector
	if err := json.Unmarshal(o.Spec.Selector, &ls); err == nil && (len(ls.MatchLabels) > 0 || len(ls.MatchExpressions) > 0) {
		if len(ls.MatchExpressions) > 0 {
			return nil
		}
		return ls.MatchLabels
	}
	var m map[string]string
	if err := json.Unmarshal(o.Spec.Selector, &m); err == nil && len(m) > 0 {
		return m
	}
	return nil
}

// isCustomResource: an API group that is not one of Kubernetes' own
// (those have no dot, or end in .k8s.io).
func isCustomResource(apiVersion string) bool {
	group, _, ok := strings.Cut(apiVersion, "/")
	return ok && strings.Contains(group, ".") && !strings.HasSuffix(group, ".k8s.io")
}

func objectID(m metav1.ObjectMeta) string {
	if m.Namespace == "" {
		return m.Name
	}
	return m.Namespace + "/" + m.Name
}

func (c *Cluster) addWorkload(kind string, meta metav1.ObjectMeta, tmpl corev1.PodTemplateSpec, sel map[string]string) {
	w := &Workload{Namespace: meta.Namespace, Name: meta.Name, Kind: kind, Labels: stableLabels(tmpl.Labels),
		Owned: kind == "Pod" && len(meta.OwnerReferences) > 0, Selector: sel}
	if kind == "Pod" && w.Owned {
		w.Name = ownerName(meta)
	}
	for _, ct := range tmpl.Spec.Containers {
		for _, p := range ct.Ports {
			if p.Protocol == "" {
				p.Protocol = corev1.ProtocolTCP
			}
			w.Ports = append(w.Ports, corev1.ContainerPort{Name: p.Name, ContainerPort: p.ContainerPort, Protocol: p.Protocol})
		}
	}
	if len(w.Labels) == 0 {
		return // nothing can select it, nothing can name it
	}
	c.Workloads = append(c.Workloads, w)
}

// volatileLabels change with every rollout or differ between replicas: a
// selector must not depend on them.
var volatileLabels = map[string]bool{
	"pod-template-hash":                        true,
	"controller-revision-hash":                 true,
	"pod-template-generation":                  true,
	"statefulset.kubernetes.io/pod-name":       true,
	"apps.kubernetes.io/pod-index":             true,
	"batch.kubernetes.io/controller-uid":       true,
	"controller-uid":                           true,
	"batch.kubernetes.io/job-name":             true,
	"job-name":                                 true,
	"batch.kubernetes.io/job-completion-index": true,
}

func stableLabels(l map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range l {
		if !volatileLabels[k] {
			out[k] = v
		}
	}
	return out
}

// ownerName is the workload a controlled pod belongs to: its owner's name,
// without the ReplicaSet's pod-template-hash suffix.
func ownerName(meta metav1.ObjectMeta) string {
	o := meta.OwnerReferences[0]
	name := o.Name
	if o.Kind == "ReplicaSet" {
		if h := meta.Labels["pod-template-hash"]; h != "" {
			name = strings.TrimSuffix(name, "-"+h)
		}
	}
	return name
}

// dedupWorkloads merges workloads with the same namespace and labels (a
// Deployment and a dump of its pods): they are the same pods to a policy.
// Controllers win over pods.
func dedupWorkloads(ws []*Workload) []*Workload {
	sort.SliceStable(ws, func(i, j int) bool {
		a, b := ws[i], ws[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		if (a.Kind == "Pod") != (b.Kind == "Pod") {
			return b.Kind == "Pod"
		}
		return a.Name < b.Name
	})
	seen := map[string]*Workload{}
	var out []*Workload
	for _, w := range ws {
		key := w.Namespace + "|" + labelKey(w.Labels)
		if first := seen[key]; first != nil {
			first.Ports = mergePorts(first.Ports, w.Ports)
			continue
		}
		seen[key] = w
		out = append(out, w)
	}
	return out
}

func mergePorts(a, b []corev1.ContainerPort) []corev1.ContainerPort {
	out := append([]corev1.ContainerPort(nil), a...)
	for _, p := range b {
		dup := false
		for _, q := range out {
			if q.ContainerPort == p.ContainerPort && q.Protocol == p.Protocol {
				dup = true
			}
		}
		if !dup {
			out = append(out, p)
		}
	}
	return out
}

func labelKey(m map[string]string) string {
	parts := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, ",")
}
