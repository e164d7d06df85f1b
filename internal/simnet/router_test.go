package simnet_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/nichost/nichost/core"
	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/internal/simnet"
)

// A client core on the router's LAN gets a lease, resolves the router's
// name and fetches its page over HTTP.
func TestRouter_DHCPDNSHTTP(t *testing.T) {
	r, err := simnet.NewRouter(simnet.Options{PageSize: 100 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	st := core.New(core.Options{Hostname: func() string { return "client" }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer st.Close()
	port := r.Attach("client")
	nic, err := st.AddNIC("eth0", net.HardwareAddr{2, 0, 0, 0, 0, 7}, core.LinkEthernet, port.WriteFrame)
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Forward(port, func(f []byte) { nic.DeliverFrame(f) })()
	nic.LinkChanged(core.LinkState{Up: true, Type: core.LinkEthernet})
	nic.SetIPConfig(map[string]any{"dhcp4": true})
	deadline := time.Now().Add(10 * time.Second)
	for v, _ := nic.IPConfig("has_dhcp4"); v != true; v, _ = nic.IPConfig("has_dhcp4") {
		if time.Now().After(deadline) {
			t.Fatal("no lease from the router")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if l := r.DHCP.Leases(); len(l) != 1 || l[0].Hostname != "client" {
		t.Fatalf("leases %+v", l)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addrs, err := st.LookupHost(ctx, "www.sim.nichost")
	if err != nil || len(addrs) != 1 || addrs[0] != simnet.RouterAddr.String() {
		t.Fatalf("LookupHost = %v, %v", addrs, err)
	}
	if _, err := st.LookupHost(ctx, "nope.sim.nichost"); err == nil {
		t.Fatal("an unknown name resolved")
	}
	client := &http.Client{Transport: &http.Transport{DialContext: nic.Dial}}
	req, _ := http.NewRequestWithContext(ctx, "GET", r.URL(), nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !bytes.Equal(body, r.Page) {
		t.Fatalf("GET %s: %d, %d bytes", r.URL(), resp.StatusCode, len(body))
	}
}
