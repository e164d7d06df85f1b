package conformance

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/simnet"
)

// secWarm is the section of the warm handover.
const secWarm = "Warm handover"

// Ports of checkWarmReload's datagrams.
const (
	warmHostPort   = 11
	warmRouterPort = 12
)

// warmDatagrams is how many datagrams checkWarmReload sends each way, one
// a millisecond: they span the reload, and their bytes stay far below
// what any device buffers.
const warmDatagrams = 300

// checkReload: the plugin is reloaded (a fresh instance of the same
// module). A driver that declares resume is reloaded while datagrams move
// both ways: the core must not see the link go down, and every datagram
// must arrive. Any other driver gets the cold path, and must bring the
// link back and carry traffic again.
func checkReload(ctx context.Context, e *env) error {
	if !slices.Contains(e.plugin.Description().Features, abi.FeatureResume) {
		if _, err := e.plugin.Reload(ctx, e.plugin.Config().Source); err != nil {
			return fmt.Errorf("reload: %w", err)
		}
		if err := until(ctx, "isconnected() and the link up again after a cold reload", func() (bool, error) {
			ok, err := e.nic.IsConnected(ctx)
			return ok && e.nic.LinkState().Up, err
		}); err != nil {
			return err
		}
		return get(ctx, e)
	}
	addr, err := e.nic.Addr4()
	if err != nil || !addr.IsValid() {
		return fmt.Errorf("the NIC has no IPv4 address to receive on (%v)", err)
	}
	hostPC, err := e.nic.ListenPacket("udp4", netip.AddrPortFrom(addr.Addr(), warmHostPort).String())
	if err != nil {
		return err
	}
	defer hostPC.Close()
	routerPC, err := e.lan.NIC.ListenPacket("udp4", netip.AddrPortFrom(simnet.RouterAddr, warmRouterPort).String())
	if err != nil {
		return err
	}
	defer routerPC.Close()
	toRouter, err := e.nic.Dial(ctx, "udp4", netip.AddrPortFrom(simnet.RouterAddr, warmRouterPort).String())
	if err != nil {
		return err
	}
	defer toRouter.Close()
	toHost := net.UDPAddrFromAddrPort(netip.AddrPortFrom(addr.Addr(), warmHostPort))

	events, stop := e.h.Subscribe(256)
	defer stop()
	gen := e.plugin.Generation()

	var wg sync.WaitGroup
	var mu sync.Mutex // guards up and down
	var up, down [warmDatagrams]bool
	wg.Add(2)
	go receiveSeqs(&wg, &mu, routerPC, up[:])
	go receiveSeqs(&wg, &mu, hostPC, down[:])
	seen := func(n int) bool {
		mu.Lock()
		defer mu.Unlock()
		return count(up[:]) >= n && count(down[:]) >= n
	}
	sent := make(chan error, 1)
	go func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		b := make([]byte, 64)
		for i := range warmDatagrams {
			binary.BigEndian.PutUint32(b, uint32(i))
			if _, err := toRouter.Write(b); err != nil {
				sent <- fmt.Errorf("sending datagram %d to the router: %w", i+1, err)
				return
			}
			if _, err := routerPC.WriteTo(b, toHost); err != nil {
				sent <- fmt.Errorf("the router sending datagram %d: %w", i+1, err)
				return
			}
			<-tick.C
		}
		sent <- nil
	}()
	// The reload starts once datagrams move both ways.
	if err := until(ctx, "the first datagrams both ways", func() (bool, error) { return seen(10), nil }); err != nil {
		return err
	}
	_, rerr := e.plugin.Reload(ctx, e.plugin.Config().Source)
	if err := <-sent; err != nil {
		return err
	}
	if rerr != nil {
		return fmt.Errorf("reload: %w", rerr)
	}
	err = until(ctx, "every datagram both ways", func() (bool, error) { return seen(warmDatagrams), nil })
	hostPC.Close()
	routerPC.Close()
	wg.Wait()
	if err != nil {
		return fmt.Errorf("across a warm reload, of %d datagrams each way %d reached the router and %d the NIC: frames were lost in the handover", warmDatagrams, count(up[:]), count(down[:]))
	}
	if g := e.plugin.Generation(); g != gen+1 {
		return fmt.Errorf("generation %d after the reload, want %d", g, gen+1)
	}
	for {
		select {
		case ev := <-events:
			if ev.Kind == host.EventLink && ev.NIC == e.nic.Name() && ev.Data["up"] == false {
				return errors.New("the core saw the link go down during the reload: the new instance did not take the device over (it must reply True from nic_start)")
			}
			continue
		default:
		}
		break
	}
	return nil
}

// receiveSeqs marks the sequence numbers of the datagrams pc receives,
// until pc is closed.
func receiveSeqs(wg *sync.WaitGroup, mu *sync.Mutex, pc net.PacketConn, seen []bool) {
	defer wg.Done()
	b := make([]byte, 128)
	for {
		n, _, err := pc.ReadFrom(b)
		if err != nil {
			return
		}
		if n >= 4 {
			if i := int(binary.BigEndian.Uint32(b)); i < len(seen) {
				mu.Lock()
				seen[i] = true
				mu.Unlock()
			}
		}
	}
}

func count(seen []bool) int {
	n := 0
	for _, s := range seen {
		if s {
			n++
		}
	}
	return n
}

// reloadCheck is the name of checkReload's check.
const reloadCheck = "reload: a warm handover keeps the link and every frame, a cold one brings the link back"
