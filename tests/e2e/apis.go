package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	sigsyaml "sigs.k8s.io/yaml"
)

// API is a policy API beyond networking.k8s.io/v1 NetworkPolicy. A scenario
// lists the ones its objects use; an agent kind lists the ones it enforces.
type API string

const (
	AdminNetworkPolicy         API = "policy.networking.k8s.io/v1alpha1 AdminNetworkPolicy"
	BaselineAdminNetworkPolicy API = "policy.networking.k8s.io/v1alpha1 BaselineAdminNetworkPolicy"
)

// apiKinds maps each API to the kind of its objects and the file of its
// CustomResourceDefinition in sigs.k8s.io/network-policy-api's
// config/crd/experimental (the channel with every field the agent reads).
var apiKinds = map[API]struct {
	GVK     schema.GroupVersionKind
	CRDFile string
}{
	AdminNetworkPolicy: {
		schema.GroupVersionKind{Group: "policy.networking.k8s.io", Version: "v1alpha1", Kind: "AdminNetworkPolicy"},
		"policy.networking.k8s.io_adminnetworkpolicies.yaml",
	},
	BaselineAdminNetworkPolicy: {
		schema.GroupVersionKind{Group: "policy.networking.k8s.io", Version: "v1alpha1", Kind: "BaselineAdminNetworkPolicy"},
		"policy.networking.k8s.io_baselineadminnetworkpolicies.yaml",
	},
}

// apiOf returns the API an object's kind belongs to.
func apiOf(gvk schema.GroupVersionKind) (API, bool) {
	for api, k := range apiKinds {
		if k.GVK == gvk {
			return api, true
		}
	}
	return "", false
}

// APIsOf lists, sorted, the APIs that objs use.
func APIsOf(objs []*unstructured.Unstructured) []API {
	var out []API
	for _, o := range objs {
		if api, ok := apiOf(o.GroupVersionKind()); ok && !slices.Contains(out, api) {
			out = append(out, api)
		}
	}
	slices.Sort(out)
	return out
}

// LoadCRDs reads the CustomResourceDefinitions of apis from dir (the
// experimental CRDs of the network-policy-api module the agent was built
// with, Binaries.NetworkPolicyAPICRDs).
func LoadCRDs(dir string, apis []API) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	for _, api := range apis {
		k, ok := apiKinds[api]
		if !ok {
			return nil, fmt.Errorf("no CRD known for %s", api)
		}
		if dir == "" {
			return nil, fmt.Errorf("%s: no directory of network-policy-api CRDs", api)
		}
		f := filepath.Join(dir, k.CRDFile)
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var crd unstructured.Unstructured
		if err := sigsyaml.Unmarshal(b, &crd.Object); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		if crd.GetKind() != "CustomResourceDefinition" {
			return nil, fmt.Errorf("%s: %s, want a CustomResourceDefinition", f, crd.GetKind())
		}
		out = append(out, &crd)
	}
	return out, nil
}
