package simnet_test

import (
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"testing"

	"github.com/nichost/nichost/core"
	"github.com/nichost/nichost/simnet"
)

// A point-to-point link attached with AttachIP: its far end, an IP-only
// stack as a PPP client is, fetches the router's page through it (the
// router found by ARP, the far end's address answered by proxy ARP), and
// a host on the LAN reaches a server at the far end's address.
func TestRouter_AttachIP(t *testing.T) {
	r := newRouter(t, simnet.Options{})
	far := core.New(core.Options{Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(far.Close)
	addr := netip.MustParseAddr("10.64.0.210")
	var link *core.NIC
	port, err := r.AttachIP("ppp", addr, func(pkt []byte) error { link.DeliverFrame(pkt); return nil })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(port.Close)
	if link, err = far.AddNIC("ppp0", nil, core.LinkIP, port.Send); err != nil {
		t.Fatal(err)
	}
	link.LinkChanged(core.LinkState{Up: true, Type: core.LinkIP, MTU: 1500})
	if err := link.SetIPConfig(map[string]any{"addr4": addr.String() + "/32", "gw4": simnet.RouterAddr.String()}); err != nil {
		t.Fatal(err)
	}
	get(t, t.Context(), r, link, "http://"+simnet.RouterAddr.String()+"/")

	ln, err := far.Listen("tcp", ":7")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.Copy(c, c)
			c.Close()
		}
	}()
	_, lan := client(t, r, "lanhost", 9)
	if err := lan.SetIPConfig(map[string]any{"addr4": "10.64.0.9/24"}); err != nil {
		t.Fatal(err)
	}
	c, err := lan.Dial(t.Context(), "tcp", addr.String()+":7")
	if err != nil {
		t.Fatalf("a LAN host dialling the far end: %v", err)
	}
	defer c.Close()
	msg := "through proxy ARP"
	c.Write([]byte(msg))
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != msg {
		t.Fatalf("echo from the far end: %q, %v", got, err)
	}
	if st := port.Stats(); st.ToLAN == 0 || st.ToLink == 0 || st.Dropped != 0 {
		t.Errorf("stats %+v: want packets both ways and none dropped", st)
	}
}

// AttachIP refuses an address the LAN cannot give the far end.
func TestRouter_AttachIPAddress(t *testing.T) {
	r := newRouter(t, simnet.Options{})
	for _, a := range []string{"10.64.0.1", "10.64.0.150", "10.65.0.2", "10.64.0.255", "10.64.0.0"} {
		p, err := r.AttachIP("ppp", netip.MustParseAddr(a), func([]byte) error { return nil })
		if err == nil || !strings.Contains(err.Error(), a) {
			t.Errorf("AttachIP(%s) = %v, %v; want an error naming the address", a, p, err)
		}
	}
}
