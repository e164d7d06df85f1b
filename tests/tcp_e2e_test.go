package tests

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/nichost/nichost/host"
)

// exchange sends payload over c while reading what the other side sends,
// and returns the hash of what was read. It closes c's write side when its
// payload is sent and waits for both directions.
func exchange(c net.Conn, payload []byte) ([32]byte, int64, error) {
	c.SetDeadline(time.Now().Add(2 * time.Minute)) // a stall fails, not hangs
	var werr error
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		if _, werr = c.Write(payload); werr == nil {
			werr = c.(interface{ CloseWrite() error }).CloseWrite()
		}
	}()
	h := sha256.New()
	n, rerr := io.Copy(h, c)
	<-wrote
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	if rerr == nil {
		rerr = werr
	}
	return sum, n, rerr
}

func randomPayload(size int, seed byte) []byte {
	p := make([]byte, size)
	rand.NewChaCha8([32]byte{seed}).Read(p)
	return p
}

// serveExchange accepts one connection on ln and exchanges payload over it.
func serveExchange(ln net.Listener, payload []byte) <-chan error {
	want := sha256.Sum256(payload)
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		got, n, err := exchange(c, payload)
		if err == nil && got != want {
			err = fmt.Errorf("server received %d bytes with the wrong hash", n)
		}
		done <- err
	}()
	return done
}

// exchangeVia listens on ln's side (listen), dials it with dial, and moves
// payload each way over the connection, failing the test unless both ends
// receive it intact (by hash). It returns how long the exchange took.
func exchangeVia(t *testing.T, listen func() (net.Listener, error), dial func() (net.Conn, error), payload []byte) time.Duration {
	t.Helper()
	ln, err := listen()
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	served := serveExchange(ln, payload)
	c, err := dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	got, n, err := exchange(c, payload)
	if err != nil || got != sha256.Sum256(payload) {
		t.Fatalf("received %d bytes, intact=%v, err %v", n, got == sha256.Sum256(payload), err)
	}
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	return time.Since(start)
}

const bulk = 64 << 20

// The kernel listens, nichost connects: 64 MiB each way, checked by hash.
func TestTCP_NichostToKernel64MiB(t *testing.T) {
	r := newLANRig(t, "tcp1")
	r.up(t)
	addr := net.JoinHostPort(kernelAddr4, "9000")
	took := exchangeVia(t, func() (ln net.Listener, err error) {
		r.ns.do(t, func() { ln, err = net.Listen("tcp", addr) })
		return ln, err
	}, func() (net.Conn, error) { return r.nic.Dial(ctxT(t), "tcp", addr) }, randomPayload(bulk, 1))
	t.Logf("64 MiB each way in %v", took)
}

// nichost listens, the kernel connects: 64 MiB each way.
func TestTCP_KernelToNichost64MiB(t *testing.T) {
	r := newLANRig(t, "tcp2")
	addr := r.up(t)
	ln, err := r.h.Listen("tcp", ":9001")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	payload := randomPayload(bulk, 2)
	served := serveExchange(ln, payload)
	var c net.Conn
	r.ns.do(t, func() { c, err = net.DialTimeout("tcp", net.JoinHostPort(addr, "9001"), 10*time.Second) })
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got, n, err := exchange(c, payload)
	if err != nil || got != sha256.Sum256(payload) {
		t.Fatalf("kernel received %d bytes, err %v", n, err)
	}
	if err := <-served; err != nil {
		t.Fatal(err)
	}
}

// 100 connections at once, each echoing 64 KiB through the kernel.
func TestTCP_100Concurrent(t *testing.T) {
	r := newLANRig(t, "tcp3")
	r.up(t)
	var ln net.Listener
	var err error
	r.ns.do(t, func() { ln, err = net.Listen("tcp", net.JoinHostPort(kernelAddr4, "9002")) })
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); io.Copy(c, c) }()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := r.h.Dial(ctx, "tcp", net.JoinHostPort(kernelAddr4, "9002"))
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			payload := randomPayload(64<<10, byte(i))
			got, _, err := exchange(c, payload)
			if err != nil {
				errs <- err
			} else if got != sha256.Sum256(payload) {
				errs <- fmt.Errorf("connection %d: echo differs", i)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestUDP_EchoAndDNS(t *testing.T) {
	r := newLANRig(t, "udp")
	r.up(t)
	var pc net.PacketConn
	var err error
	r.ns.do(t, func() { pc, err = net.ListenPacket("udp", net.JoinHostPort(kernelAddr4, "9003")) })
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(bytes.ToUpper(buf[:n]), from)
		}
	}()
	c, err := r.nic.Dial(ctxT(t), "udp", net.JoinHostPort(kernelAddr4, "9003"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 2048)
	for i := range 10 {
		msg := fmt.Sprintf("datagram %d", i)
		c.SetDeadline(time.Now().Add(2 * time.Second))
		c.Write([]byte(msg))
		n, err := c.Read(buf)
		if err != nil || string(buf[:n]) != string(bytes.ToUpper([]byte(msg))) {
			t.Fatalf("echo of %q: %q, %v", msg, buf[:n], err)
		}
	}
	// DNS: dnsmasq (learnt by DHCP) serves a name with A and AAAA records.
	for _, tt := range []struct {
		prefer int
		first  string
	}{{4, kernelAddr4}, {6, kernelAddr6}} {
		if err := r.h.SetIPConfig(host.KW{"prefer": tt.prefer}); err != nil {
			t.Fatal(err)
		}
		addrs, err := r.h.LookupHost(ctxT(t), testName)
		if err != nil {
			t.Fatalf("LookupHost: %v", err)
		}
		if len(addrs) != 2 || addrs[0] != tt.first {
			t.Fatalf("prefer=%d: LookupHost(%s) = %v, want %s first", tt.prefer, testName, addrs, tt.first)
		}
	}
	if _, err := r.h.LookupHost(ctxT(t), "missing.nichost.test"); err == nil {
		t.Fatal("a name dnsmasq does not know resolved")
	}
}
