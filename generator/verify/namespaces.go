package verify

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/netdep/netdep/generator/eval"
)

// decodeNamespaces returns the v1 Namespaces of a multi-document YAML
// stream, Lists expanded, in stream order. It runs after eval has accepted
// the stream's policies, so the YAML itself is sound; other kinds are
// skipped, and a Namespace is read leniently (only its name and labels
// matter here) since a manifest may carry fields newer than this build
// knows.
func decodeNamespaces(ds eval.Documents) ([]eval.Namespace, error) {
	var out []eval.Namespace
	for i, root := range ds.Roots {
		if root == nil {
			continue
		}
		if err := namespaceObject(root, "", "", &out); err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
	}
	return out, nil
}

// namespaceObject reads one object (or List) at n; defAPIVersion and
// defKind apply to List items that omit them, as in eval.Decode. What does
// not decode is left alone: eval.Decode has reported it, or it is another
// kind's business.
func namespaceObject(n *yaml.Node, defAPIVersion, defKind string, out *[]eval.Namespace) error {
	var head struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
	}
	if err := n.Decode(&head); err != nil {
		return nil
	}
	if head.APIVersion == "" {
		head.APIVersion = defAPIVersion
	}
	if head.Kind == "" {
		head.Kind = defKind
	}
	if head.Kind == "List" || strings.HasSuffix(head.Kind, "List") {
		var list struct {
			Items []yaml.Node `yaml:"items"`
		}
		if err := n.Decode(&list); err != nil {
			return nil
		}
		itemKind := ""
		if head.Kind != "List" {
			itemKind = strings.TrimSuffix(head.Kind, "List")
		}
		for i := range list.Items {
			if err := namespaceObject(&list.Items[i], head.APIVersion, itemKind, out); err != nil {
				return err
			}
		}
		return nil
	}
	if head.Kind != "Namespace" || head.APIVersion != "v1" {
		return nil
	}
	var ns struct {
		Metadata struct {
			Name   string            `yaml:"name"`
			Labels map[string]string `yaml:"labels"`
		} `yaml:"metadata"`
	}
	if err := n.Decode(&ns); err != nil {
		return fmt.Errorf("Namespace: %w", err)
	}
	if ns.Metadata.Name == "" {
		return fmt.Errorf("%d:%d: Namespace: metadata.name: expected a name, found none", n.Line, n.Column)
	}
	*out = append(*out, eval.Namespace{Name: ns.Metadata.Name, Labels: ns.Metadata.Labels})
	return nil
}

// showLabels writes labels as {k=v,...}, sorted, for messages.
func showLabels(m map[string]string) string {
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return "{" + strings.Join(parts, ",") + "}"
}
