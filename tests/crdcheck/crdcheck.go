package crdcheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
	apiextensionshelpers "k8s.io/apiextensions-apiserver/pkg/apihelpers"
	apiextensionsinternal "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apiextensions-apiserver/pkg/registry/customresource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
	sigsyaml "sigs.k8s.io/yaml"
)

// Groups are the API groups whose objects a tree walk checks: the plugins'
// (Cilium, Calico) and the network-policy-api's. Objects of other groups
// (networking.k8s.io/v1, kustomize.config.k8s.io) are not custom resources.
var Groups = []string{"cilium.io", "projectcalico.org", "policy.networking.k8s.io"}

// Validator judges custom resources as the API server does for the CRDs it
// was loaded with.
type Validator struct {
	kinds map[schema.GroupVersionKind]*served
	// crds names, per group and kind, the CRD file that defines it (for
	// the message when a version is not served).
	crds map[schema.GroupKind]string
}

// served is what the API server builds for one served version of a CRD
// (apiextensions-apiserver pkg/apiserver customresource_handler.go,
// getOrCreateServingInfoFor): the structural schema with its defaults, the
// OpenAPI schema validator, and the registry strategy whose Validate runs
// type meta, object meta, OpenAPI, embedded-resource, list-type and CEL
// validation.
type served struct {
	crdFile    string
	structural *structuralschema.Structural
	strategy   interface {
		Validate(ctx context.Context, obj runtime.Object) field.ErrorList
	}
	hasStatus bool
}

// Load reads every CustomResourceDefinition (apiextensions.k8s.io/v1) in
// the .yaml files under each dir; other documents are ignored. A CRD whose
// served schema is not structural is an error, as the API server refuses
// to serve it.
func Load(dirs ...string) (*Validator, error) {
	v := &Validator{kinds: map[schema.GroupVersionKind]*served{}, crds: map[schema.GroupKind]string{}}
	var errs []error
	for _, dir := range dirs {
		files, err := yamlFiles(dir)
		if err != nil {
			return nil, err
		}
		for _, file := range files {
			if err := v.loadFile(file); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(v.kinds) == 0 {
		return nil, fmt.Errorf("no CustomResourceDefinition in %s", strings.Join(dirs, ", "))
	}
	return v, nil
}

func (v *Validator) loadFile(file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	docs, err := splitDocuments(data)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	for _, d := range docs {
		if d.apiVersion() != "apiextensions.k8s.io/v1" || d.kind() != "CustomResourceDefinition" {
			continue
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := sigsyaml.UnmarshalStrict(d.json, crd); err != nil {
			return fmt.Errorf("%s:%d: CustomResourceDefinition: %w", file, d.node.Line, err)
		}
		if err := v.add(file, crd); err != nil {
			return fmt.Errorf("%s:%d: CustomResourceDefinition %s: %w", file, d.node.Line, crd.Name, err)
		}
	}
	return nil
}

func (v *Validator) add(file string, crd *apiextensionsv1.CustomResourceDefinition) error {
	gk := schema.GroupKind{Group: crd.Spec.Group, Kind: crd.Spec.Names.Kind}
	if prev, ok := v.crds[gk]; ok {
		return fmt.Errorf("%s is defined twice (also in %s)", gk, prev)
	}
	v.crds[gk] = file
	if crd.Spec.PreserveUnknownFields {
		return fmt.Errorf("spec.preserveUnknownFields: true is not served by apiextensions.k8s.io/v1")
	}
	for _, ver := range crd.Spec.Versions {
		if !ver.Served {
			continue
		}
		gvk := schema.GroupVersionKind{Group: crd.Spec.Group, Version: ver.Name, Kind: crd.Spec.Names.Kind}
		val, err := apiextensionshelpers.GetSchemaForVersion(crd, ver.Name)
		if err != nil {
			return err
		}
		if val == nil || val.OpenAPIV3Schema == nil {
			return fmt.Errorf("version %s has no schema", ver.Name)
		}
		internal := &apiextensionsinternal.CustomResourceValidation{}
		if err := apiextensionsv1.Convert_v1_CustomResourceValidation_To_apiextensions_CustomResourceValidation(val, internal, nil); err != nil {
			return fmt.Errorf("version %s: %w", ver.Name, err)
		}
		s, err := structuralschema.NewStructural(internal.OpenAPIV3Schema)
		if err != nil {
			return fmt.Errorf("version %s: schema is not structural: %w", ver.Name, err)
		}
		if errs := structuralschema.ValidateStructural(field.NewPath("spec", "versions").Key(ver.Name).Child("schema", "openAPIV3Schema"), s); len(errs) > 0 {
			return fmt.Errorf("version %s: schema is not structural: %w", ver.Name, errs.ToAggregate())
		}
		s = s.DeepCopy()
		if err := structuraldefaulting.PruneDefaults(s); err != nil {
			return fmt.Errorf("version %s: %w", ver.Name, err)
		}
		validator, _, err := apiservervalidation.NewSchemaValidator(internal.OpenAPIV3Schema)
		if err != nil {
			return fmt.Errorf("version %s: %w", ver.Name, err)
		}
		var statusValidator apiservervalidation.SchemaValidator
		var status *apiextensionsinternal.CustomResourceSubresourceStatus
		subresources, err := apiextensionshelpers.GetSubresourcesForVersion(crd, ver.Name)
		if err != nil {
			return err
		}
		if subresources != nil && subresources.Status != nil {
			status = &apiextensionsinternal.CustomResourceSubresourceStatus{}
			if st, ok := internal.OpenAPIV3Schema.Properties["status"]; ok {
				if statusValidator, _, err = apiservervalidation.NewSchemaValidator(&st); err != nil {
					return fmt.Errorf("version %s: status: %w", ver.Name, err)
				}
			}
		}
		// The scale subresource only adds checks of spec.replicas-like
		// paths; none of the policy CRDs has one.
		strategy := customresource.NewStrategy(nil, crd.Spec.Scope == apiextensionsv1.NamespaceScoped, gvk,
			validator, statusValidator, s, status, nil, ver.SelectableFields)
		v.kinds[gvk] = &served{crdFile: file, structural: s, strategy: strategy, hasStatus: status != nil}
	}
	return nil
}

// Kinds lists the served group/version/kinds, sorted.
func (v *Validator) Kinds() []string {
	var out []string
	for gvk := range v.kinds {
		out = append(out, gvk.GroupVersion().String()+" "+gvk.Kind)
	}
	sort.Strings(out)
	return out
}

// Validate judges one object as a create request with strict field
// validation (kubectl apply's default): unknown fields are errors, not
// silently pruned. obj is the object decoded from JSON (numbers as int64 or
// float64, as the API server decodes them); it is not modified.
func (v *Validator) Validate(obj map[string]interface{}) field.ErrorList {
	u := &unstructured.Unstructured{Object: obj}
	gvk := u.GroupVersionKind()
	s, ok := v.kinds[gvk]
	if !ok {
		msg := fmt.Sprintf("no served CRD version for %s %s", gvk.GroupVersion(), gvk.Kind)
		if file, ok := v.crds[gvk.GroupKind()]; ok {
			msg += fmt.Sprintf(" (%s serves other versions)", file)
		}
		return field.ErrorList{field.Invalid(field.NewPath("apiVersion"), u.GetAPIVersion(), msg)}
	}
	u = u.DeepCopy()
	var errs field.ErrorList

	// Decoding (customresource_handler.go unstructuredSchemaCoercer.apply
	// with returnUnknownFieldPaths, what fieldValidation=Strict sets):
	// unknown fields of metadata, pruned fields, embedded object metadata.
	_, _, metaUnknown, err := schemaobjectmeta.GetObjectMetaWithOptions(u.Object, schemaobjectmeta.ObjectMetaOptions{ReturnUnknownFieldPaths: true})
	if err != nil {
		return append(errs, field.Invalid(field.NewPath("metadata"), nil, err.Error()))
	}
	var unknown []string
	for _, p := range metaUnknown {
		unknown = append(unknown, p)
	}
	unknown = append(unknown, structuralpruning.PruneWithOptions(u.Object, s.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})...)
	structuraldefaulting.PruneNonNullableNullsWithoutDefaults(u.Object, s.structural)
	ferr, coerceUnknown := schemaobjectmeta.CoerceWithOptions(nil, u.Object, s.structural, false, schemaobjectmeta.CoerceOptions{ReturnUnknownFieldPaths: true})
	if ferr != nil {
		errs = append(errs, ferr)
	}
	unknown = append(unknown, coerceUnknown...)
	sort.Strings(unknown)
	for _, p := range unknown {
		errs = append(errs, &field.Error{Type: field.ErrorTypeNotSupported, Field: p, BadValue: nil,
			Detail: "unknown field (rejected under strict field validation, silently dropped otherwise)"})
	}
	// The API server stops at a strict decoding error; we go on with the
	// pruned object, as it does under fieldValidation=Warn, so that every
	// problem of the object is reported at once.
	// Defaulting happens on decode, before admission and validation.
	structuraldefaulting.Default(u.Object, s.structural)
	// PrepareForCreate drops status when the status subresource is on.
	if s.hasStatus {
		delete(u.Object, "status")
	}
	return append(errs, s.strategy.Validate(context.Background(), u)...)
}

// Problem is one finding in a file: position of the offending node (the
// deepest node of the field path that exists in the file), the object and
// the field path as the API server names it.
type Problem struct {
	File         string
	Line, Column int
	Object       string
	Field        string
	Message      string
}

func (p Problem) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d:%d: %s", p.File, p.Line, p.Column, p.Object)
	if p.Field != "" {
		fmt.Fprintf(&b, ": %s", p.Field)
	}
	fmt.Fprintf(&b, ": %s", p.Message)
	return b.String()
}

// Checked names an object that was validated.
type Checked struct {
	File   string
	Object string
}

// Report is the result of checking files: every object checked, every
// problem, both sorted by file and position.
type Report struct {
	Checked  []Checked
	Problems []Problem
}

// Checks reports whether the group of apiVersion is one of Groups.
func Checks(apiVersion string) bool {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return false
	}
	for _, g := range Groups {
		if gv.Group == g {
			return true
		}
	}
	return false
}

// CheckFile validates every document of data whose apiVersion is in Groups;
// name is the file name used in the report.
func (v *Validator) CheckFile(name string, data []byte, r *Report) {
	docs, err := splitDocuments(data)
	if err != nil {
		// A file that is not YAML is a problem only where it could be
		// meant as one of our objects (test inputs hold broken YAML on
		// purpose).
		if !mentionsGroup(data) {
			return
		}
		r.Problems = append(r.Problems, Problem{File: name, Line: 1, Column: 1, Object: "file", Message: err.Error()})
		return
	}
	for _, d := range docs {
		if !Checks(d.apiVersion()) {
			continue
		}
		u := &unstructured.Unstructured{Object: d.object}
		obj := u.GetKind() + " " + u.GetName()
		if ns := u.GetNamespace(); ns != "" {
			obj = u.GetKind() + " " + ns + "/" + u.GetName()
		}
		r.Checked = append(r.Checked, Checked{File: name, Object: obj})
		for _, e := range v.Validate(d.object) {
			if e.Field == "<nil>" {
				e.Field = ""
			}
			// A oneOf/anyOf failure names its field in the message only.
			if m := quotedPath.FindStringSubmatch(e.Detail); e.Field == "" && m != nil {
				e.Field = m[1]
				e.Detail = strings.TrimPrefix(e.Detail, m[0])
			}
			line, col := position(d.node, e.Field)
			msg := e.ErrorBody()
			r.Problems = append(r.Problems, Problem{File: name, Line: line, Column: col, Object: obj, Field: e.Field, Message: msg})
		}
	}
}

var quotedPath = regexp.MustCompile(`^"([^"]+)" `)

func mentionsGroup(data []byte) bool {
	for _, g := range Groups {
		if bytes.Contains(data, []byte(g+"/")) {
			return true
		}
	}
	return false
}

// CheckTree validates every .yaml file under root (sorted walk); files are
// named relative to base in the report.
func (v *Validator) CheckTree(base, root string, r *Report) error {
	files, err := yamlFiles(root)
	if err != nil {
		return err
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		name, err := filepath.Rel(base, f)
		if err != nil {
			name = f
		}
		v.CheckFile(filepath.ToSlash(name), data, r)
	}
	return nil
}

// Sort orders the report by file, line, column, then message.
func (r *Report) Sort() {
	sort.SliceStable(r.Checked, func(i, j int) bool {
		if r.Checked[i].File != r.Checked[j].File {
			return r.Checked[i].File < r.Checked[j].File
		}
		return r.Checked[i].Object < r.Checked[j].Object
	})
	sort.SliceStable(r.Problems, func(i, j int) bool {
		a, b := r.Problems[i], r.Problems[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		return a.String() < b.String()
	})
}

func yamlFiles(root string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	return files, err
}

// document is one YAML document: its node (for positions), its JSON (as
// kubectl sends it) and the object decoded from that JSON.
type document struct {
	node   *yaml.Node
	json   []byte
	object map[string]interface{}
}

func (d document) apiVersion() string { s, _ := d.object["apiVersion"].(string); return s }
func (d document) kind() string       { s, _ := d.object["kind"].(string); return s }

// splitDocuments decodes every non-empty document of data. Each document is
// re-encoded from its node and converted to JSON by sigs.k8s.io/yaml as
// kubectl does (duplicate keys are an error, as under strict validation),
// then decoded with the API server's JSON decoder (integers as int64).
func splitDocuments(data []byte) ([]document, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []document
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(n.Content) == 0 || (n.Content[0].Kind == yaml.ScalarNode && n.Content[0].Tag == "!!null") {
			continue
		}
		raw, err := yaml.Marshal(&n)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		js, err := sigsyaml.YAMLToJSONStrict(raw)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		var obj map[string]interface{}
		if err := utiljson.Unmarshal(js, &obj); err != nil {
			return nil, fmt.Errorf("line %d: document is not an object: %w", n.Line, err)
		}
		docs = append(docs, document{node: n.Content[0], json: js, object: obj})
	}
	return docs, nil
}

// position finds the node a field path names (field.Path syntax:
// a.b[0][key]; pruning's unknown-field paths use the same, keys joined
// with dots) and returns its line and column; where the path goes beyond
// the file (a missing field), the deepest existing node's.
func position(n *yaml.Node, path string) (int, int) {
	best := n
	var walk func(n *yaml.Node, rest string)
	walk = func(n *yaml.Node, rest string) {
		best = n
		rest = strings.TrimPrefix(rest, ".")
		if rest == "" {
			return
		}
		switch n.Kind {
		case yaml.MappingNode:
			bracket := strings.HasPrefix(rest, "[")
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i].Value
				var after string
				if bracket {
					if !strings.HasPrefix(rest, "["+k+"]") {
						continue
					}
					after = rest[len(k)+2:]
				} else {
					if !strings.HasPrefix(rest, k) {
						continue
					}
					after = rest[len(k):]
					if after != "" && after[0] != '.' && after[0] != '[' {
						continue
					}
				}
				if after == "" {
					// A named field: point at its key.
					best = n.Content[i]
					return
				}
				walk(n.Content[i+1], after)
				return
			}
		case yaml.SequenceNode:
			var i int
			var after string
			if _, err := fmt.Sscanf(rest, "[%d]", &i); err != nil {
				return
			}
			after = rest[strings.Index(rest, "]")+1:]
			if i < 0 || i >= len(n.Content) {
				return
			}
			walk(n.Content[i], after)
		}
	}
	walk(n, path)
	return best.Line, best.Column
}
