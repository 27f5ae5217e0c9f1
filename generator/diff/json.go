package diff

import (
	"encoding/json"
	"io"
	"strings"
)

// JSONVersion identifies the JSON schema (docs/diff-json.md). Fields may be
// added within a version; none is renamed, removed or given another meaning.
const JSONVersion = "netdep.io/diff/v1"

// The JSON documents are their own types, not the report's, so that a
// refactoring of the report cannot change the documented schema unnoticed.
type (
	jsonReport struct {
		APIVersion   string    `json:"apiVersion"`
		Kind         string    `json:"kind"`
		Base         jsonSide  `json:"base"`
		Head         jsonSide  `json:"head"`
		Changed      bool      `json:"changed"`
		Environments []jsonEnv `json:"environments"`
		// StaleTree is present only when the head's committed tree is stale.
		StaleTree *jsonStale `json:"staleTree,omitempty"`
		// Risk counts the distinct added flows per risk class, every
		// class present.
		Risk []jsonRisk `json:"risk"`
		// Sensitive are the sensitive namespaces (project file and
		// --sensitive), when any.
		Sensitive []string `json:"sensitive,omitempty"`
		// Warnings are present only when there are any.
		Warnings []string `json:"warnings,omitempty"`
	}
	jsonRisk struct {
		Class string `json:"class"`
		Flows int    `json:"flows"`
	}
	jsonSide struct {
		Ref    string `json:"ref"`
		Commit string `json:"commit"`
		Tree   string `json:"tree,omitempty"`
	}
	jsonStale struct {
		Dir     string     `json:"dir"`
		Message string     `json:"message"`
		Files   []jsonFile `json:"files"`
	}
	jsonEnv struct {
		Name    string `json:"name"`
		Changed bool   `json:"changed"`
		// SameAs names the first environment whose changes are identical,
		// when there is one.
		SameAs string `json:"sameAs,omitempty"`
		// Audit says which sides are in mode: audit: their flows are
		// what would be enforced (EnvReport.Audit).
		Audit    *jsonAudit   `json:"audit,omitempty"`
		Summary  jsonSummary  `json:"summary"`
		Flows    jsonFlows    `json:"flows"`
		Policies []jsonObject `json:"policies"`
	}
	jsonAudit struct {
		Base bool `json:"base"`
		Head bool `json:"head"`
		// Note is the environment's mode for people: "audit: would be".
		Note string `json:"note"`
	}
	jsonSummary struct {
		FlowsAdded      int `json:"flowsAdded"`
		FlowsRemoved    int `json:"flowsRemoved"`
		PoliciesAdded   int `json:"policiesAdded"`
		PoliciesRemoved int `json:"policiesRemoved"`
		PoliciesChanged int `json:"policiesChanged"`
		// FlowsChanged counts the connections whose ports changed on both
		// sides (also counted in flowsAdded or flowsRemoved).
		FlowsChanged int `json:"flowsChanged"`
		// Present only when not zero.
		OneSidedAdded   int `json:"oneSidedAdded,omitempty"`
		OneSidedRemoved int `json:"oneSidedRemoved,omitempty"`
	}
	jsonFlows struct {
		Added   []jsonFlow `json:"added"`
		Removed []jsonFlow `json:"removed"`
		// OneSided is present only when one direction changed on its own.
		OneSided *jsonOneSided `json:"oneSided,omitempty"`
	}
	jsonOneSided struct {
		Added   []jsonFlow `json:"added"`
		Removed []jsonFlow `json:"removed"`
	}
	jsonFlow struct {
		From      jsonEndpoint `json:"from"`
		To        jsonEndpoint `json:"to"`
		Ports     []jsonPort   `json:"ports"`
		Direction string       `json:"direction,omitempty"`
		// Before and After are the connection's ports on each side,
		// present when it exists on both (a change of its ports).
		Before []jsonPort `json:"before,omitempty"`
		After  []jsonPort `json:"after,omitempty"`
		// Sources are the dependency-file lines causing the flow; Origin
		// says why there are none ("dns", "isolation", "tree",
		// "unknown").
		Sources []string `json:"sources"`
		Origin  string   `json:"origin,omitempty"`
		Risks   []string `json:"risks,omitempty"`
		// Exception is the exception that opens the flow, when one does.
		Exception *FlowException `json:"exception,omitempty"`
	}
	jsonEndpoint struct {
		Kind      string            `json:"kind"`
		Name      string            `json:"name"`
		Namespace string            `json:"namespace,omitempty"`
		Service   string            `json:"service,omitempty"`
		Labels    map[string]string `json:"labels,omitempty"`
		CIDR      string            `json:"cidr,omitempty"`
		Except    []string          `json:"except,omitempty"`
	}
	jsonPort struct {
		Protocol string `json:"protocol"`
		Port     int32  `json:"port"`
		EndPort  int32  `json:"endPort,omitempty"`
	}
	jsonObject struct {
		Action    string `json:"action"`
		Kind      string `json:"kind"`
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
		Source    string `json:"source"`
		Diff      string `json:"diff"`
	}
	jsonTree struct {
		APIVersion string     `json:"apiVersion"`
		Kind       string     `json:"kind"`
		Dir        string     `json:"dir"`
		Changed    bool       `json:"changed"`
		Files      []jsonFile `json:"files"`
	}
	jsonFile struct {
		Action string `json:"action"`
		Path   string `json:"path"`
		Diff   string `json:"diff,omitempty"`
	}
)

// WriteJSON writes r as one JSON document (kind Diff), indented, every list
// present even when empty.
func WriteJSON(w io.Writer, r *Report) error {
	doc := jsonReport{
		APIVersion:   JSONVersion,
		Kind:         "Diff",
		Base:         jsonSide{r.Base.Ref, r.Base.Commit, r.Base.Tree},
		Head:         jsonSide{r.Head.Ref, r.Head.Commit, r.Head.Tree},
		Changed:      r.Changed(),
		Environments: []jsonEnv{},
		Sensitive:    r.Sensitive,
		Warnings:     r.Warnings,
	}
	for _, c := range r.RiskCounts() {
		doc.Risk = append(doc.Risk, jsonRisk{string(c.Risk), c.Flows})
	}
	sameAs := map[string]string{}
	for _, g := range r.groups() {
		for _, n := range g.Names[1:] {
			sameAs[n] = g.Names[0]
		}
	}
	for i := range r.Environments {
		e := &r.Environments[i]
		changed, _, _ := flowLines(e)
		je := jsonEnv{
			Name:    e.Name,
			Changed: e.Changed(),
			Summary: jsonSummary{len(e.FlowsAdded), len(e.FlowsRemoved), e.Count(Added), e.Count(Removed), e.Count(Changed), len(changed), len(e.OneSidedAdded), len(e.OneSidedRemoved)},
			Flows:   jsonFlows{Added: jsonFlowList(e.FlowsAdded), Removed: jsonFlowList(e.FlowsRemoved)},
		}
		if a := e.Audit; a != nil {
			je.Audit = &jsonAudit{Base: a.Base, Head: a.Head, Note: strings.Trim(a.Suffix(), " ()")}
		}
		if len(e.OneSidedAdded)+len(e.OneSidedRemoved) > 0 {
			je.Flows.OneSided = &jsonOneSided{Added: jsonFlowList(e.OneSidedAdded), Removed: jsonFlowList(e.OneSidedRemoved)}
		}
		je.Policies = []jsonObject{}
		for _, o := range e.Objects {
			je.Policies = append(je.Policies, jsonObject{string(o.Action), o.Kind, o.Namespace, o.Name, o.Source, o.Diff})
		}
		if e.Changed() {
			je.SameAs = sameAs[e.Name]
		}
		doc.Environments = append(doc.Environments, je)
	}
	if r.HeadStale() {
		st := &jsonStale{Dir: r.Stale.Dir, Message: r.StaleText(), Files: []jsonFile{}}
		for _, f := range r.Stale.Files {
			// The changes themselves are in policies[]: no diff here.
			st.Files = append(st.Files, jsonFile{Action: string(f.Action), Path: f.Path})
		}
		doc.StaleTree = st
	}
	return encode(w, doc)
}

func jsonFlowList(fs []Flow) []jsonFlow {
	out := make([]jsonFlow, 0, len(fs))
	for _, f := range fs {
		jf := jsonFlow{From: jsonEndpointOf(f.From), To: jsonEndpointOf(f.To), Ports: jsonPorts(f.Ports), Direction: string(f.Direction),
			Sources: []string{}, Origin: f.Origin, Exception: f.Exception}
		if changedConnection(f) {
			jf.Before, jf.After = jsonPorts(f.Before), jsonPorts(f.After)
		}
		for _, p := range f.Sources {
			jf.Sources = append(jf.Sources, p.String())
		}
		for _, k := range f.Risks {
			jf.Risks = append(jf.Risks, string(k))
		}
		out = append(out, jf)
	}
	return out
}

func jsonPorts(ps []Port) []jsonPort {
	out := make([]jsonPort, 0, len(ps))
	for _, p := range ps {
		out = append(out, jsonPort{p.Protocol, p.Port, p.EndPort})
	}
	return out
}

func jsonEndpointOf(e Endpoint) jsonEndpoint {
	return jsonEndpoint{
		Kind:      string(e.Kind),
		Name:      e.String(),
		Namespace: e.Namespace,
		Service:   e.Service,
		Labels:    e.Labels,
		CIDR:      e.CIDR,
		Except:    e.Except,
	}
}

// WriteTreeJSON writes the staleness report as one JSON document (kind
// TreeDiff).
func WriteTreeJSON(w io.Writer, r *TreeReport) error {
	doc := jsonTree{APIVersion: JSONVersion, Kind: "TreeDiff", Dir: r.Dir, Changed: r.Changed(), Files: []jsonFile{}}
	for _, f := range r.Files {
		doc.Files = append(doc.Files, jsonFile{string(f.Action), f.Path, f.Diff})
	}
	return encode(w, doc)
}

func encode(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// Diffs and labels are shown as written: "<" and "&" need no escaping
	// outside HTML.
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
