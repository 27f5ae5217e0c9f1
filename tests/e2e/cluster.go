package e2e

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

const (
	nodeName  = "e2e-node"
	apiPort   = "6443"
	etcdURL   = "http://127.0.0.1:2379"
	apiServer = "https://127.0.0.1:" + apiPort
)

// Cluster is a real etcd and kube-apiserver on the node namespace's loopback:
// every object goes through API defaulting and validation, as in a cluster
// (a fake clientset skips both, and a policy without policyTypes or protocol
// then means something else than it does in a cluster).
type Cluster struct {
	Client     kubernetes.Interface
	Config     *rest.Config // for clients other than Client (dynamic, for CRDs)
	Kubeconfig string
	// Token is the e2e-admin bearer token (system:masters) and CAFile the
	// API server's self-signed serving certificate with its CA, for an agent
	// that reads in-cluster configuration rather than a kubeconfig.
	Token  string
	CAFile string
	// Dynamic serves kinds without typed clients (CRDs and their objects).
	Dynamic dynamic.Interface
	mapper  *restmapper.DeferredDiscoveryRESTMapper
	procs   []*Process
}

// StartCluster starts etcd and kube-apiserver inside node and waits until the
// API server is ready.
func StartCluster(ctx context.Context, node *NetNS, bins Binaries, dir string) (c *Cluster, err error) {
	c = &Cluster{}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()
	token, err := randomHex(16)
	if err != nil {
		return c, err
	}
	c.Token = token
	// kube-apiserver writes it at start: a certificate for the bind address
	// (127.0.0.1), then the CA that signed it.
	c.CAFile = filepath.Join(dir, "pki", "apiserver.crt")
	saKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return c, err
	}
	keyPath := filepath.Join(dir, "sa.key")
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(saKey)})
	if err := os.WriteFile(keyPath, keyPEM, 0o600); err != nil {
		return c, err
	}
	tokens := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(tokens, []byte(token+`,e2e-admin,e2e-admin,"system:masters"`+"\n"), 0o600); err != nil {
		return c, err
	}
	c.Kubeconfig = filepath.Join(dir, "kubeconfig")
	kubeconfig := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster: {server: %q, insecure-skip-tls-verify: true}
users:
- name: e2e-admin
  user: {token: %q}
contexts:
- name: e2e
  context: {cluster: e2e, user: e2e-admin}
current-context: e2e
`, apiServer, token)
	if err := os.WriteFile(c.Kubeconfig, []byte(kubeconfig), 0o600); err != nil {
		return c, err
	}

	etcd, err := Start("etcd", dir, node.Command(bins.Etcd,
		"--name=e2e",
		"--data-dir="+filepath.Join(dir, "etcd"),
		"--listen-client-urls="+etcdURL,
		"--advertise-client-urls="+etcdURL,
		"--listen-peer-urls=http://127.0.0.1:2380",
		"--initial-advertise-peer-urls=http://127.0.0.1:2380",
		"--initial-cluster=e2e=http://127.0.0.1:2380",
		"--log-level=warn",
	))
	if err != nil {
		return c, err
	}
	c.procs = append(c.procs, etcd)

	apiserver, err := Start("kube-apiserver", dir, node.Command(bins.KubeAPIServer,
		"--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1",
		"--secure-port="+apiPort,
		// The node namespace has no default route, from which the API server
		// would otherwise pick the address it advertises.
		"--advertise-address="+nodeIP.String(),
		"--cert-dir="+filepath.Join(dir, "pki"),
		"--token-auth-file="+tokens,
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file="+keyPath,
		"--service-account-signing-key-file="+keyPath,
		"--service-cluster-ip-range=10.96.0.0/24",
		// No controller manager creates service account tokens.
		"--disable-admission-plugins=ServiceAccount",
		"--enable-priority-and-fairness=false",
		"--profiling=false",
		"--v=1",
	))
	if err != nil {
		return c, err
	}
	c.procs = append(c.procs, apiserver)

	cfg := &rest.Config{
		Host:            apiServer,
		BearerToken:     token,
		TLSClientConfig: rest.TLSClientConfig{Insecure: true},
		Dial:            node.DialContext,
		QPS:             200,
		Burst:           400,
		Timeout:         30 * time.Second,
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return c, err
	}
	c.Client, c.Config = cs, cfg
	if c.Dynamic, err = dynamic.NewForConfig(cfg); err != nil {
		return c, err
	}
	c.mapper = restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(cs.Discovery()))
	deadline := time.Now().Add(120 * time.Second)
	for {
		for _, p := range c.procs {
			if done, perr := p.Exited(); done {
				return c, fmt.Errorf("%s exited: %v\n%s", p.Name, perr, p.Tail(30))
			}
		}
		rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(rctx)
		cancel()
		if err == nil && string(body) == "ok" {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return c, fmt.Errorf("kube-apiserver not ready: %v\n%s", err, apiserver.Tail(30))
		}
		time.Sleep(250 * time.Millisecond)
	}
	// The default namespaces appear shortly after /readyz.
	return c, nil
}

// Stop stops the processes in reverse order of start.
func (c *Cluster) Stop() {
	for i := len(c.procs) - 1; i >= 0; i-- {
		c.procs[i].Stop()
	}
	c.procs = nil
}

// Processes returns the daemons, for their logs.
func (c *Cluster) Processes() []*Process { return c.procs }

// Populate creates the universe's namespaces, the node with its InternalIP,
// and a Running pod per endpoint on that node. Without kubelet or scheduler,
// the test writes spec.nodeName itself and then the status through the status
// subresource, as a kubelet would.
func (c *Cluster) Populate(ctx context.Context, u *Universe) error {
	for _, ns := range u.Namespaces {
		obj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns.Name}}
		if _, err := c.Client.CoreV1().Namespaces().Create(ctx, obj, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create namespace %s: %w", ns.Name, err)
		}
	}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: nodeName, Labels: map[string]string{"kubernetes.io/hostname": nodeName}},
		Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: nodeIP.String()},
			{Type: corev1.NodeHostName, Address: nodeName},
		}},
	}
	created, err := c.Client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("create node: %w", err)
	}
	created.Status = node.Status
	created.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
	if _, err := c.Client.CoreV1().Nodes().UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("node status: %w", err)
	}
	for _, e := range u.Pods {
		ports := containerPorts(e.Ports)
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: e.Namespace, Name: e.Name, Labels: e.Labels},
			Spec: corev1.PodSpec{
				NodeName:   nodeName,
				Containers: []corev1.Container{{Name: "app", Image: "e2e.invalid/listener:0", Ports: ports}},
			},
		}
		p, err := c.Client.CoreV1().Pods(e.Namespace).Create(ctx, pod, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("create pod %s: %w", e.ID(), err)
		}
		now := metav1.Now()
		p.Status = corev1.PodStatus{
			Phase:     corev1.PodRunning,
			HostIP:    nodeIP.String(),
			HostIPs:   []corev1.HostIP{{IP: nodeIP.String()}},
			PodIP:     e.IP.String(),
			PodIPs:    []corev1.PodIP{{IP: e.IP.String()}},
			StartTime: &now,
			Conditions: []corev1.PodCondition{
				{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
			},
		}
		if _, err := c.Client.CoreV1().Pods(e.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("pod status %s: %w", e.ID(), err)
		}
	}
	return nil
}

// Apply creates the policies through the API server, so each is defaulted
// and validated exactly as a GitOps sync would have it.
func (c *Cluster) Apply(ctx context.Context, pols []*networkingv1.NetworkPolicy) error {
	for _, np := range pols {
		np = np.DeepCopy()
		np.ResourceVersion = ""
		if _, err := c.Client.NetworkingV1().NetworkPolicies(np.Namespace).Create(ctx, np, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create NetworkPolicy %s/%s: %w", np.Namespace, np.Name, err)
		}
	}
	return nil
}

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// InstallCRDs creates the CustomResourceDefinitions and waits until each is
// Established, so that its objects can be created and an agent's informer
// for them can list.
func (c *Cluster) InstallCRDs(ctx context.Context, crds []*unstructured.Unstructured) error {
	for _, crd := range crds {
		if _, err := c.Dynamic.Resource(crdGVR).Create(ctx, crd, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create CustomResourceDefinition %s: %w", crd.GetName(), err)
		}
	}
	for _, crd := range crds {
		deadline := time.Now().Add(60 * time.Second)
		for {
			got, err := c.Dynamic.Resource(crdGVR).Get(ctx, crd.GetName(), metav1.GetOptions{})
			if err == nil && crdEstablished(got) {
				break
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				return fmt.Errorf("CustomResourceDefinition %s not established (last error: %v)", crd.GetName(), err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	c.mapper.Reset()
	return nil
}

func crdEstablished(crd *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, ci := range conds {
		if m, ok := ci.(map[string]any); ok && m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}

// ApplyObjects creates objects of kinds without a typed client (the
// v1alpha1 admin policies), with strict field validation so that a field
// the API does not know is an error rather than silently pruned.
func (c *Cluster) ApplyObjects(ctx context.Context, objs []*unstructured.Unstructured) error {
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		var m *meta.RESTMapping
		var err error
		// Discovery can lag an Established CRD by a moment.
		for deadline := time.Now().Add(30 * time.Second); ; {
			if m, err = c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version); err == nil {
				break
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				return fmt.Errorf("%s %s: %w", gvk.Kind, o.GetName(), err)
			}
			c.mapper.Reset()
			time.Sleep(200 * time.Millisecond)
		}
		var ri dynamic.ResourceInterface = c.Dynamic.Resource(m.Resource)
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			ri = c.Dynamic.Resource(m.Resource).Namespace(o.GetNamespace())
		}
		obj := o.DeepCopy()
		obj.SetResourceVersion("")
		if _, err := ri.Create(ctx, obj, metav1.CreateOptions{FieldValidation: "Strict"}); err != nil {
			return fmt.Errorf("create %s %s: %w", gvk.Kind, o.GetName(), err)
		}
	}
	return nil
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
