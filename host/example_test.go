package host_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/native"
	"github.com/nichost/nichost/plugins/lan/driver"
	"github.com/nichost/nichost/simnet"
	"github.com/nichost/nichost/simnet/devices"
)

// A LAN driver brought up on simulated hardware: a LAN8720-style PHY and an
// Ethernet port on a simulated LAN whose router serves DHCP, DNS and a web
// page. No hardware, no root and no real network are involved. The driver
// runs natively (host/native) so that nothing is built; Host.Load with
// Source "plugins/lan" runs the same driver as a WebAssembly plugin.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// The simulated LAN and a device on it: the buses the driver is granted.
	lan, err := simnet.NewRouter(simnet.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer lan.Close()
	model, _ := devices.Lookup("lan8720")
	dev, err := model.New(lan, devices.Options{Name: "lan0"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer dev.Close()

	h, err := host.New(host.Options{Logger: slog.New(slog.DiscardHandler), Buses: dev.Sims})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer h.Close()
	p, err := native.Load(ctx, h, config.PluginConfig{Name: "lan0", Class: abi.ClassLAN, Buses: dev.Buses}, driver.New)
	if err != nil {
		fmt.Println(err)
		return
	}
	nic := p.NICs()[0]

	// active(True). A LAN interface runs DHCP by default, as on
	// MicroPython's ports.
	if err := nic.SetActive(ctx, true); err != nil {
		fmt.Println(err)
		return
	}
	// active(True) returns at once; the PHY negotiates, then DHCP runs.
	// isconnected() is true once the link is up and an address is held.
	for {
		if up, _ := nic.IsConnected(ctx); up {
			break
		}
		select {
		case <-ctx.Done():
			fmt.Println("no link or no lease:", ctx.Err())
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
	// The MicroPython face: ipconfig("addr4") is an (address, netmask)
	// tuple. The Go face: Addr4 is a netip.Prefix.
	addr4, _ := nic.IPConfig(ctx, "addr4")
	fmt.Println(`ipconfig("addr4"):`, addr4)
	prefix, _ := nic.Addr4()
	gw, _ := nic.Gateway4()
	_, leased, _ := nic.DHCP4()
	fmt.Println("Addr4:", prefix, "Gateway4:", gw, "leased:", leased)

	// An HTTP GET through this NIC: the name is resolved by the DNS server
	// the lease named.
	client := &http.Client{Transport: &http.Transport{DialContext: nic.Dial}}
	req, _ := http.NewRequestWithContext(ctx, "GET", lan.URL(), nil)
	resp, err := client.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	line, _ := bufio.NewReader(resp.Body).ReadString('\n')
	fmt.Println(lan.URL(), resp.Proto, resp.Status)
	fmt.Print(line)
	// Output:
	// ipconfig("addr4"): [10.64.0.100 255.255.255.0]
	// Addr4: 10.64.0.100/24 Gateway4: 10.64.0.1 leased: true
	// http://www.sim.nichost/ HTTP/1.1 200 OK
	// nichost simulated router
}

// simulatedLAN is the set-up of Example, without its comments: a simulated
// LAN, a LAN8720-style device on it and the LAN driver loaded natively as
// plugin lan0. With up, the NIC is brought up and has a DHCP lease.
// cleanup releases it all.
func simulatedLAN(ctx context.Context, up bool) (*host.Host, *host.NIC, func(), error) {
	lan, err := simnet.NewRouter(simnet.Options{})
	if err != nil {
		return nil, nil, nil, err
	}
	model, _ := devices.Lookup("lan8720")
	dev, err := model.New(lan, devices.Options{Name: "lan0"})
	if err != nil {
		lan.Close()
		return nil, nil, nil, err
	}
	h, err := host.New(host.Options{Logger: slog.New(slog.DiscardHandler), Buses: dev.Sims})
	if err != nil {
		dev.Close()
		lan.Close()
		return nil, nil, nil, err
	}
	cleanup := func() {
		h.Close()
		dev.Close()
		lan.Close()
	}
	fail := func(err error) (*host.Host, *host.NIC, func(), error) {
		cleanup()
		return nil, nil, nil, err
	}
	p, err := native.Load(ctx, h, config.PluginConfig{Name: "lan0", Class: abi.ClassLAN, Buses: dev.Buses}, driver.New)
	if err != nil {
		return fail(err)
	}
	nic := p.NICs()[0]
	if !up {
		return h, nic, cleanup, nil
	}
	if err := nic.SetActive(ctx, true); err != nil {
		return fail(err)
	}
	for {
		if up, _ := nic.IsConnected(ctx); up {
			return h, nic, cleanup, nil
		}
		select {
		case <-ctx.Done():
			return fail(fmt.Errorf("no lease: %w", ctx.Err()))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// config(k=v) with keyword arguments: the host checks what it owns (a MAC
// must be 6 bytes) and the driver the rest, applying all or nothing. The
// errors carry an *abi.Error with MicroPython's exception type. The NIC is
// the LAN driver's on simulated hardware, as in Example.
func ExampleNIC_SetConfig() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, nic, cleanup, err := simulatedLAN(ctx, false)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cleanup()

	// config(mac=b"\x02\x00\x00\x00\x00\x42", low_power=False)
	err = nic.SetConfig(ctx, host.KW{"mac": []byte{0x02, 0, 0, 0, 0, 0x42}, "low_power": false})
	fmt.Println("set:", err)
	mac, _ := nic.Config(ctx, "mac")
	fmt.Printf("config('mac'): % x, NIC.MAC: %v\n", mac, nic.MAC())

	// A MAC of 4 bytes never reaches the driver. A read-only parameter is
	// refused by the driver, and the MAC given with it is not applied. The
	// *abi.Error inside says which exception MicroPython would raise.
	var pyErr *abi.Error
	err = nic.SetConfig(ctx, host.KW{"mac": []byte{1, 2, 3, 4}})
	fmt.Println(errors.Is(err, abi.ErrValue), errors.As(err, &pyErr), pyErr)
	err = nic.SetConfig(ctx, host.KW{"mac": []byte{0x02, 0, 0, 0, 0, 0x43}, "phy_addr": 3})
	fmt.Println(errors.Is(err, abi.ErrValue), errors.As(err, &pyErr), pyErr)
	fmt.Println("NIC.MAC:", nic.MAC())
	// Output:
	// set: <nil>
	// config('mac'): 02 00 00 00 00 42, NIC.MAC: 02:00:00:00:00:42
	// true true ValueError: mac: a MAC address is 6 bytes, got 4
	// true true ValueError: config parameter "phy_addr" is read-only (set it as a plugin option)
	// NIC.MAC: 02:00:00:00:00:42
}

// A name resolved through the DNS server a DHCP lease named: the
// simulated router's. The host has the LAN driver's NIC up on simulated
// hardware, with a lease, as in Example.
func ExampleHost_LookupHost() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, _, cleanup, err := simulatedLAN(ctx, true)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cleanup()

	fmt.Println("DNS servers:", h.DNSServers())
	addrs, err := h.LookupHost(ctx, "www.sim.nichost")
	fmt.Println(addrs, err)
	_, err = h.LookupHost(ctx, "nowhere.sim.nichost")
	fmt.Println(err)
	// Output:
	// DNS servers: [10.64.0.1]
	// [10.64.0.1] <nil>
	// lookup nowhere.sim.nichost on 10.64.0.1: no such host
}
