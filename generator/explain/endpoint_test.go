package explain

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"

	"github.com/netdep/netdep/schema"
)

// testEnv has a service name used in two namespaces (web), one unique
// (cart) with every kind of port, one with a custom selector (db), a
// service on one port in two protocols (dns) and one with no ports.
func testEnv() *schema.Environment {
	return &schema.Environment{Name: "dev", Services: []*schema.Service{
		{Namespace: "kube-system", Name: "dns", Selector: map[string]string{"k8s-app": "kube-dns"}, Ports: []schema.Port{
			{Name: "dns-tcp", Protocol: corev1.ProtocolTCP, Port: 53},
			{Name: "dns", Protocol: corev1.ProtocolUDP, Port: 53},
		}},
		{Namespace: "shop", Name: "cart", Selector: map[string]string{"app": "cart"}, Ports: []schema.Port{
			{Name: "grpc", Protocol: corev1.ProtocolTCP, Port: 7070},
			{Protocol: corev1.ProtocolTCP, Port: 8080},
			{Name: "metrics", Protocol: corev1.ProtocolTCP, Port: 9000, EndPort: 9010},
			{Name: "stats", Protocol: corev1.ProtocolUDP, Port: 8125},
		}},
		{Namespace: "shop", Name: "db", Selector: map[string]string{"app": "postgres", "role": "primary"}},
		{Namespace: "shop", Name: "web", Selector: map[string]string{"app": "web"}},
		{Namespace: "admin", Name: "web", Selector: map[string]string{"app": "web"}},
	}}
}

func service(env *schema.Environment, id string) *schema.Service {
	for _, s := range env.Services {
		if s.ID() == id {
			return s
		}
	}
	panic("no service " + id)
}

func TestParseEndpoint(t *testing.T) {
	env := testEnv()
	cart, db := service(env, "shop/cart"), service(env, "shop/db")
	for _, tc := range []struct {
		name     string
		in       string
		want     Endpoint
		podName  string
		wantErr  string
		notInEnv bool
	}{
		{name: "ns/svc", in: "shop/cart",
			want: Endpoint{Text: "shop/cart", Namespace: "shop", Labels: cart.Selector, Service: cart}, podName: "cart"},
		{name: "bare unique service is shown as ns/svc", in: "cart",
			want: Endpoint{Text: "shop/cart", Namespace: "shop", Labels: cart.Selector, Service: cart}, podName: "cart"},
		{name: "ns/* is an unlabelled pod", in: "shop/*",
			want: Endpoint{Text: "shop/*", Namespace: "shop"}, podName: "(unlabelled)"},
		{name: "ns/(unlabelled) as reports write it", in: "other/(unlabelled)",
			want: Endpoint{Text: "other/(unlabelled)", Namespace: "other"}, podName: "(unlabelled)"},
		{name: "labels", in: "monitoring/{app=pushgateway, tier=metrics}",
			want:    Endpoint{Text: "monitoring/{app=pushgateway, tier=metrics}", Namespace: "monitoring", Labels: map[string]string{"app": "pushgateway", "tier": "metrics"}},
			podName: "(pods app=pushgateway,tier=metrics)"},
		{name: "labels that are a selector are the service", in: "shop/{role=primary,app=postgres}",
			want: Endpoint{Text: "shop/{role=primary,app=postgres}", Namespace: "shop", Labels: db.Selector, Service: db}, podName: "db"},
		{name: "labels of a subset of a selector are not the service", in: "shop/{app=postgres}",
			want:    Endpoint{Text: "shop/{app=postgres}", Namespace: "shop", Labels: map[string]string{"app": "postgres"}},
			podName: "(pods app=postgres)"},
		{name: "empty labels", in: "shop/{}",
			want: Endpoint{Text: "shop/{}", Namespace: "shop", Labels: map[string]string{}}, podName: "(unlabelled)"},
		{name: "IPv4", in: "10.1.2.3",
			want: Endpoint{Text: "10.1.2.3", Addr: netip.MustParseAddr("10.1.2.3"), IsAddr: true}},
		{name: "IPv6 in brackets", in: "[2001:db8::1]",
			want: Endpoint{Text: "[2001:db8::1]", Addr: netip.MustParseAddr("2001:db8::1"), IsAddr: true}},
		{name: "IPv6 bare", in: "2001:db8::1",
			want: Endpoint{Text: "2001:db8::1", Addr: netip.MustParseAddr("2001:db8::1"), IsAddr: true}},
		{name: "IPv4-mapped IPv6 is the IPv4 address", in: "::ffff:10.1.2.3",
			want: Endpoint{Text: "::ffff:10.1.2.3", Addr: netip.MustParseAddr("10.1.2.3"), IsAddr: true}},

		{name: "unknown bare name", in: "carts", notInEnv: true,
			wantErr: `"carts": expected ns/svc, ns/*, ns/{labels} or an address; no service "carts" exists in environment dev (did you mean "cart"?)`},
		{name: "ambiguous bare name", in: "web",
			wantErr: `"web": service name in several namespaces; write one of shop/web, admin/web`},
		{name: "unknown service in namespace", in: "shop/carts", notInEnv: true,
			wantErr: `"shop/carts": no service "carts" in namespace "shop" exists in environment dev (did you mean "shop/cart"?)`},
		{name: "label without value", in: "shop/{app}",
			wantErr: `"shop/{app}": expected labels as {key=value,...}, found "app"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseEndpoint(env, tc.in)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				if errors.Is(err, ErrNotInEnvironment) != tc.notInEnv {
					t.Errorf("errors.Is(err, ErrNotInEnvironment) = %v, want %v", !tc.notInEnv, tc.notInEnv)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if !got.IsAddr && got.PodName() != tc.podName {
				t.Errorf("PodName() = %q, want %q", got.PodName(), tc.podName)
			}
		})
	}
}

func TestParseEndpointImplicitEnvironment(t *testing.T) {
	_, err := ParseEndpoint(&schema.Environment{}, "shop/cart")
	if want := `"shop/cart": no service "cart" in namespace "shop" is declared`; err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
}

func TestSplitPort(t *testing.T) {
	for _, tc := range []struct{ in, endpoint, port string }{
		{"shop/cart:grpc", "shop/cart", "grpc"},
		{"shop/cart:7070/TCP", "shop/cart", "7070/TCP"},
		{"shop/cart", "shop/cart", ""},
		{"cart:7070", "cart", "7070"},
		{"10.1.2.3:443", "10.1.2.3", "443"},
		{"10.1.2.3", "10.1.2.3", ""},
		{"[2001:db8::1]:443/TCP", "[2001:db8::1]", "443/TCP"},
		{"[2001:db8::1]", "[2001:db8::1]", ""},
		{"2001:db8::1", "2001:db8::1", ""},
		{"kube-system/{k8s-app=kube-dns}:53/UDP", "kube-system/{k8s-app=kube-dns}", "53/UDP"},
		{"ns/{k=a:b}", "ns/{k=a:b}", ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			e, p := SplitPort(tc.in)
			if e != tc.endpoint || p != tc.port {
				t.Errorf("SplitPort(%q) = %q, %q; want %q, %q", tc.in, e, p, tc.endpoint, tc.port)
			}
		})
	}
}

func TestParsePorts(t *testing.T) {
	env := testEnv()
	ep := func(s string) Endpoint {
		e, err := ParseEndpoint(env, s)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	for _, tc := range []struct {
		name, dst, port string
		want            []Port
		wantErr         string
	}{
		{name: "every declared port", dst: "shop/cart", want: []Port{
			{tcp, 7070, "7070/TCP (grpc)"}, {tcp, 8080, "8080/TCP"},
			{tcp, 9000, "9000/TCP (first port of 9000-9010)"}, {udp, 8125, "8125/UDP (stats)"}}},
		{name: "port name", dst: "shop/cart", port: "grpc", want: []Port{{tcp, 7070, "7070/TCP (grpc)"}}},
		{name: "range name is its first port", dst: "shop/cart", port: "metrics", want: []Port{{tcp, 9000, "9000/TCP (first port of 9000-9010)"}}},
		{name: "number gets its name", dst: "shop/cart", port: "7070", want: []Port{{tcp, 7070, "7070/TCP (grpc)"}}},
		{name: "number declared for UDP only is UDP", dst: "shop/cart", port: "8125", want: []Port{{udp, 8125, "8125/UDP (stats)"}}},
		{name: "number inside a range", dst: "shop/cart", port: "9005", want: []Port{{tcp, 9005, "9005/TCP"}}},
		{name: "protocol overrides the declared one", dst: "shop/cart", port: "8125/tcp", want: []Port{{tcp, 8125, "8125/TCP"}}},
		{name: "number in two protocols is TCP", dst: "kube-system/dns", port: "53", want: []Port{{tcp, 53, "53/TCP (dns-tcp)"}}},
		{name: "number with protocol", dst: "kube-system/dns", port: "53/UDP", want: []Port{{udp, 53, "53/UDP (dns)"}}},
		{name: "name with its protocol", dst: "kube-system/dns", port: "dns/udp", want: []Port{{udp, 53, "53/UDP (dns)"}}},
		{name: "SCTP", dst: "10.0.0.1", port: "3868/SCTP", want: []Port{{corev1.ProtocolSCTP, 3868, "3868/SCTP"}}},
		{name: "address with a number", dst: "10.0.0.1", port: "443", want: []Port{{tcp, 443, "443/TCP"}}},

		{name: "unknown name", dst: "shop/cart", port: "http",
			wantErr: `shop/cart has no port named "http" (it declares grpc, metrics, stats)`},
		{name: "name on an address", dst: "10.0.0.1", port: "https",
			wantErr: `10.0.0.1 has no port named "https": give a number`},
		{name: "out of range", dst: "shop/cart", port: "70000",
			wantErr: "port 70000 out of range: expected 1 to 65535"},
		{name: "zero", dst: "shop/cart", port: "0/UDP",
			wantErr: "port 0 out of range: expected 1 to 65535"},
		{name: "unknown protocol", dst: "shop/cart", port: "7070/ICMP",
			wantErr: `unknown protocol "ICMP": expected TCP, UDP or SCTP`},
		{name: "address needs a port", dst: "10.0.0.1",
			wantErr: "10.0.0.1 is not a service, so it declares no ports; give one: 10.0.0.1:PORT[/PROTO]"},
		{name: "labels need a port", dst: "shop/{app=x}",
			wantErr: "shop/{app=x} is not a service, so it declares no ports; give one: shop/{app=x}:PORT[/PROTO]"},
		{name: "service without ports", dst: "shop/db",
			wantErr: "shop/db declares no ports; give one: shop/db:PORT[/PROTO]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePorts(ep(tc.dst), tc.port)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestParse: errors name the argument, and a service missing from the
// environment stays recognisable through the wrapping.
func TestParse(t *testing.T) {
	env := testEnv()
	for _, tc := range []struct {
		name, src, dst string
		wantErr        string
		notInEnv       bool
	}{
		{name: "ok", src: "shop/cart", dst: "kube-system/{k8s-app=kube-dns}:53/UDP"},
		{name: "bad SRC", src: "shop/{x}", dst: "shop/cart", wantErr: `SRC "shop/{x}": expected labels as {key=value,...}, found "x"`},
		{name: "missing SRC", src: "shop/carts", dst: "shop/cart", notInEnv: true,
			wantErr: `SRC "shop/carts": no service "carts" in namespace "shop" exists in environment dev (did you mean "shop/cart"?)`},
		{name: "missing DST", src: "shop/cart", dst: "shop/carts:80", notInEnv: true,
			wantErr: `DST "shop/carts": no service "carts" in namespace "shop" exists in environment dev (did you mean "shop/cart"?)`},
		{name: "bad port", src: "shop/cart", dst: "shop/cart:grcp", wantErr: `DST shop/cart has no port named "grcp" (it declares grpc, metrics, stats)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := Parse(env, tc.src, tc.dst)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if q.Dst.Service == nil || q.Dst.Service.ID() != "kube-system/dns" || len(q.Ports) != 1 || q.Ports[0].Label != "53/UDP (dns)" {
					t.Errorf("got %+v", q)
				}
				return
			}
			var ae *ArgError
			if !errors.As(err, &ae) || err.Error() != tc.wantErr {
				t.Fatalf("error %#v, want an *ArgError %q", err, tc.wantErr)
			}
			if errors.Is(err, ErrNotInEnvironment) != tc.notInEnv {
				t.Errorf("errors.Is(err, ErrNotInEnvironment) = %v, want %v", !tc.notInEnv, tc.notInEnv)
			}
		})
	}
}
