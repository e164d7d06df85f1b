package core_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/core"
	"github.com/nichost/nichost/host/bus/sim"
)

func staticPair(t *testing.T, opts sim.SegmentOptions) (a, b *node, na, nb *core.NIC) {
	t.Helper()
	seg := sim.NewSegment(opts)
	a, b = newNode(t, "a"), newNode(t, "b")
	na, nb = a.attach(t, seg, "eth0", mac(1)), b.attach(t, seg, "eth0", mac(2))
	if err := na.SetIPConfig(map[string]any{"addr4": "192.0.2.1/24"}); err != nil {
		t.Fatal(err)
	}
	if err := nb.SetIPConfig(map[string]any{"addr4": abi.Tuple{"192.0.2.2", "255.255.255.0"}, "gw4": "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	return a, b, na, nb
}

func TestNIC_StaticIPConfig(t *testing.T) {
	_, _, _, nb := staticPair(t, sim.SegmentOptions{Seed: 1})
	for name, want := range map[string]any{
		"addr4": abi.Tuple{"192.0.2.2", "255.255.255.0"}, "gw4": "192.0.2.1", "dhcp4": false, "has_dhcp4": false,
	} {
		if got, err := nb.IPConfig(name); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("ipconfig(%q) = %#v, %v; want %#v", name, got, err, want)
		}
	}
	tests := []struct {
		kw   map[string]any
		want error
		msg  string
	}{
		{map[string]any{"addr4": "192.0.2.300/24"}, abi.ErrValue, "not an IPv4 address in CIDR"},
		{map[string]any{"addr4": abi.Tuple{"192.0.2.9", "255.0.255.0"}}, abi.ErrValue, "not contiguous"},
		{map[string]any{"addr4": 5}, abi.ErrType, "addr4: expected"},
		{map[string]any{"gw4": "fe80::1"}, abi.ErrValue, "not an IPv4 address"},
		{map[string]any{"has_dhcp4": true}, abi.ErrValue, "read-only"},
		{map[string]any{"mtu": 9000}, abi.ErrValue, `unknown parameter "mtu"`},
		{map[string]any{"dhcp4": true, "addr4": "192.0.2.7/24"}, abi.ErrValue, "exclude each other"},
		{map[string]any{"gw4": "192.0.2.254", "addr4": "bad"}, abi.ErrValue, "addr4"},
	}
	for _, tt := range tests {
		if err := nb.SetIPConfig(tt.kw); !errors.Is(err, tt.want) || !bytes.Contains([]byte(err.Error()), []byte(tt.msg)) {
			t.Errorf("SetIPConfig(%v) = %v, want %v containing %q", tt.kw, err, tt.want, tt.msg)
		}
	}
	if gw, _ := nb.IPConfig("gw4"); gw != "192.0.2.1" {
		t.Fatalf("a refused call changed gw4 to %v", gw)
	}
	if got := nb.IfConfig(nil); !reflect.DeepEqual(got, abi.Tuple{"192.0.2.2", "255.255.255.0", "192.0.2.1", "0.0.0.0"}) {
		t.Fatalf("ifconfig() = %v", got)
	}
	if _, err := nb.SetIfConfig(abi.Tuple{"192.0.2.3", "255.255.255.0", "192.0.2.1"}); !errors.Is(err, abi.ErrValue) {
		t.Fatalf("3-tuple ifconfig: %v", err)
	}
	dns, err := nb.SetIfConfig(abi.Tuple{"192.0.2.3", "255.255.255.0", "192.0.2.1", "192.0.2.53"})
	if err != nil || dns.String() != "192.0.2.53" {
		t.Fatalf("ifconfig(4-tuple) = %v, %v", dns, err)
	}
	if a, _ := nb.IPConfig("addr4"); !reflect.DeepEqual(a, abi.Tuple{"192.0.2.3", "255.255.255.0"}) {
		t.Fatalf("addr4 after ifconfig = %v", a)
	}
}

// transfer sends size random bytes each way over one TCP connection and
// checks both ends by hash.
func transfer(t *testing.T, a, b *node, bAddr string, size int) {
	t.Helper()
	ln, err := b.st.Listen("tcp", ":7000")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	payload := make([]byte, size)
	rand.NewChaCha8([32]byte{1}).Read(payload)
	want := sha256.Sum256(payload)
	var wg sync.WaitGroup
	var serverGot [32]byte
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := ln.Accept()
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(time.Minute)) // a stall fails, not hangs
		wrote := make(chan struct{})
		go func() {
			if _, err := c.Write(payload); err != nil {
				t.Errorf("server write: %v", err)
			}
			c.(interface{ CloseWrite() error }).CloseWrite()
			close(wrote)
		}()
		h := sha256.New()
		if n, err := io.Copy(h, c); err != nil || n != int64(size) {
			t.Errorf("server read %d bytes, %v", n, err)
		}
		copy(serverGot[:], h.Sum(nil))
		<-wrote
	}()
	c, err := a.st.Dial(ctxT(t), "tcp", net.JoinHostPort(bAddr, "7000"))
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(time.Minute))
	wrote := make(chan struct{})
	go func() {
		if _, err := c.Write(payload); err != nil {
			t.Errorf("client write: %v", err)
		}
		c.(interface{ CloseWrite() error }).CloseWrite()
		close(wrote)
	}()
	h := sha256.New()
	if n, err := io.Copy(h, c); err != nil || n != int64(size) {
		t.Errorf("client read %d bytes, %v", n, err)
	}
	<-wrote
	// Close only after the server has read everything: a closed endpoint
	// with data still unacknowledged is orphaned, and on a lossy link its
	// retransmissions back off for minutes.
	wg.Wait()
	c.Close()
	if !bytes.Equal(h.Sum(nil), want[:]) || serverGot != want {
		t.Fatalf("content differs after %d bytes each way", size)
	}
}

func TestStack_TCP(t *testing.T) {
	a, b, _, _ := staticPair(t, sim.SegmentOptions{Seed: 1, QueueLen: 4096})
	transfer(t, a, b, "192.0.2.2", 4<<20)
}

func TestStack_UDPAndNICBinding(t *testing.T) {
	a, b, na, _ := staticPair(t, sim.SegmentOptions{Seed: 1})
	pc, err := b.st.ListenPacket("udp", ":5353")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(bytes.ToUpper(buf[:n]), from)
		}
	}()
	c, err := na.Dial(ctxT(t), "udp", "192.0.2.2:5353")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("ping"))
	buf := make([]byte, 16)
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "PING" {
		t.Fatalf("udp echo: %q, %v", buf[:n], err)
	}
	if _, err := a.st.Dial(ctxT(t), "tcp", "no-dns.example:80"); err == nil || !bytes.Contains([]byte(err.Error()), []byte("no DNS server")) {
		t.Fatalf("dial by name without DNS: %v", err)
	}
}
