package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/netdep/netdep/generator/eval"
)

// Cluster is what the manifests say about a cluster: its NetworkPolicies,
// the workloads that run there, namespaces with their labels and Services.
type Cluster struct {
	Policies   []*networkingv1.NetworkPolicy
	Workloads  []*Workload
	Namespaces []eval.Namespace
	Services   []*corev1.Service
}

// Workload is a set of pods with the same labels: a Deployment, StatefulSet,
// DaemonSet, ReplicaSet, Job, CronJob or bare Pod.
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
}

// ID is "namespace/name".
func (w *Workload) ID() string { return w.Namespace + "/" + w.Name }

// LoadCluster reads Kubernetes manifests: YAML files, directories of them
// (walked recursively, hidden directories skipped) and kustomization
// directories (built with krusty, as `kustomize build` would).
func LoadCluster(paths []string) (*Cluster, error) {
	c := &Cluster{}
	for _, p := range paths {
		streams, err := readStreams(p)
		if err != nil {
			return nil, err
		}
		for _, s := range streams {
			if err := c.add(s.name, s.data); err != nil {
				return nil, err
			}
		}
	}
	c.Workloads = dedupWorkloads(c.Workloads)
	sort.Slice(c.Namespaces, func(i, j int) bool { return c.Namespaces[i].Name < c.Namespaces[j].Name })
	return c, nil
}

type stream struct {
	name string
	data []byte
}

func readStreams(p string) ([]stream, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		b, err := os.ReadFile(p)
		return []stream{{p, b}}, err
	}
	for _, n := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		if _, err := os.Stat(filepath.Join(p, n)); err == nil {
			b, err := kustomizeBuild(p)
			return []stream{{p, b}}, err
		}
	}
	var out []stream
	err = filepath.WalkDir(p, func(f string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && f != p && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if !d.IsDir() && (strings.HasSuffix(f, ".yaml") || strings.HasSuffix(f, ".yml")) {
			b, err := os.ReadFile(f)
			if err != nil {
				return err
			}
			out = append(out, stream{f, b})
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, err
}

func kustomizeBuild(dir string) ([]byte, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	opts := krusty.MakeDefaultOptions()
	opts.Reorder = krusty.ReorderOptionUnspecified
	m, err := krusty.MakeKustomizer(opts).Run(filesys.MakeFsOnDisk(), abs)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	return m.AsYaml()
}

// add decodes one multi-document stream. NetworkPolicies are decoded
// strictly (eval.Decode); other objects leniently, since a manifest may
// carry fields newer than this build knows.
func (c *Cluster) add(name string, data []byte) error {
	ps, err := eval.Decode(data)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	c.Policies = append(c.Policies, ps...)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for doc := 1; ; doc++ {
		var obj map[string]any
		err := dec.Decode(&obj)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: document %d: %w", name, doc, err)
		}
		if err := c.addObject(obj); err != nil {
			return fmt.Errorf("%s: document %d: %w", name, doc, err)
		}
	}
}

func (c *Cluster) addObject(obj map[string]any) error {
	kind, _ := obj["kind"].(string)
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
	var meta metav1.ObjectMeta
	var tmpl corev1.PodTemplateSpec
	var sel *metav1.LabelSelector
	switch kind {
	case "Namespace":
		var ns corev1.Namespace
		if err := decode(&ns); err != nil {
			return fmt.Errorf("Namespace: %w", err)
		}
		c.Namespaces = append(c.Namespaces, eval.Namespace{Name: ns.Name, Labels: ns.Labels})
		return nil
	case "Service":
		var s corev1.Service
		if err := decode(&s); err != nil {
			return fmt.Errorf("Service: %w", err)
		}
		c.Services = append(c.Services, &s)
		return nil
	case "Deployment":
		var o appsv1.Deployment
		if err := decode(&o); err != nil {
			return fmt.Errorf("Deployment: %w", err)
		}
		meta, tmpl, sel = o.ObjectMeta, o.Spec.Template, o.Spec.Selector
	case "StatefulSet":
		var o appsv1.StatefulSet
		if err := decode(&o); err != nil {
			return fmt.Errorf("StatefulSet: %w", err)
		}
		meta, tmpl, sel = o.ObjectMeta, o.Spec.Template, o.Spec.Selector
	case "DaemonSet":
		var o appsv1.DaemonSet
		if err := decode(&o); err != nil {
			return fmt.Errorf("DaemonSet: %w", err)
		}
		meta, tmpl, sel = o.ObjectMeta, o.Spec.Template, o.Spec.Selector
	case "ReplicaSet":
		var o appsv1.ReplicaSet
		if err := decode(&o); err != nil {
			return fmt.Errorf("ReplicaSet: %w", err)
		}
		meta, tmpl, sel = o.ObjectMeta, o.Spec.Template, o.Spec.Selector
	case "Job":
		var o batchv1.Job
		if err := decode(&o); err != nil {
			return fmt.Errorf("Job: %w", err)
		}
		meta, tmpl = o.ObjectMeta, o.Spec.Template
	case "CronJob":
		var o batchv1.CronJob
		if err := decode(&o); err != nil {
			return fmt.Errorf("CronJob: %w", err)
		}
		meta, tmpl = o.ObjectMeta, o.Spec.JobTemplate.Spec.Template
	case "Pod":
		var o corev1.Pod
		if err := decode(&o); err != nil {
			return fmt.Errorf("Pod: %w", err)
		}
		meta = o.ObjectMeta
		tmpl = corev1.PodTemplateSpec{ObjectMeta: o.ObjectMeta, Spec: o.Spec}
	default:
		return nil
	}
	w := &Workload{Namespace: meta.Namespace, Name: meta.Name, Kind: kind, Labels: stableLabels(tmpl.Labels),
		Owned: kind == "Pod" && len(meta.OwnerReferences) > 0}
	if w.Namespace == "" {
		w.Namespace = eval.DefaultNamespace
	}
	if kind == "Pod" && w.Owned {
		w.Name = ownerName(meta)
	}
	if sel != nil && len(sel.MatchExpressions) == 0 && len(sel.MatchLabels) > 0 {
		w.Selector = sel.MatchLabels
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
		return nil // nothing can select it, nothing can name it
	}
	c.Workloads = append(c.Workloads, w)
	return nil
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
