package conformance

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/internal/seam"
	"github.com/nichost/nichost/simnet"
)

type check struct {
	name string
	// section is the heading of abi/ABI.md whose rule the check tests,
	// without the leading #s ("8.2 WIZNET5K"); sections_test.go checks
	// that each one exists.
	section string
	run     func(ctx context.Context, e *env) error
}

// Sections of abi/ABI.md that checks name.
const (
	secShape       = "1. Shape of a plugin"
	secDescription = "3.1 Description"
	secErrors      = "3.4 Errors"
	secExports     = "4. Exports"
	secVersioning  = "6. Versioning"
	secClasses     = "8. Classes"
	secBusNames    = "8.5 Bus names"
	secLink        = "9. The link protocol"
)

// loadSection is the section a failure of the load check breaks (the
// check names section 1 when it passes), by the kind of the
// host's error: the ABI version (section 6), the grants against the buses
// the plugin declares (8.5), the class it declares (3.1); anything else,
// a module that is not a plugin (a missing export, an import of another
// type, a bad description) or a source that does not build, is section 1.
func loadSection(err error) string {
	switch {
	case errors.Is(err, host.ErrABIVersion):
		return secVersioning
	case errors.Is(err, host.ErrNotGranted), errors.Is(err, host.ErrUndeclaredBus):
		return secBusNames
	case errors.Is(err, host.ErrClassMismatch):
		return secDescription
	}
	return secShape
}

// loadSections are the sections loadSection returns.
var loadSections = []string{secShape, secVersioning, secBusNames, secDescription}

// dropRefused is the key of host.NICStats.Drops for the frames a driver
// refused (section 9 names it).
const dropRefused = "the driver refused it"

// classSections are the ABI.md sections of each class's contract.
var classSections = map[string]string{
	abi.ClassLAN:      "8.1 LAN",
	abi.ClassWIZNET5K: "8.2 WIZNET5K",
	abi.ClassPPP:      "8.3 PPP",
	abi.ClassWLAN:     "8.4 WLAN",
}

// loadCheck is the first check of every suite. It may build the plugin,
// which takes as long as the machine needs, so Config.Timeout does not
// bound it; the checks after it need the plugin it loads.
const loadCheck = "load"

// suites are the checks of each class, in order: later checks rely on the
// state earlier ones leave (the interface up, a lease held).
var suites = map[string][]check{
	abi.ClassLAN:      ethernetSuite(abi.ClassLAN),
	abi.ClassWIZNET5K: ethernetSuite(abi.ClassWIZNET5K),
	abi.ClassPPP:      pppSuite(),
	abi.ClassWLAN:     wlanSuite(),
}

// ethernetSuite is for always-connected wired classes (LAN, WIZNET5K):
// MicroPython's status codes 0 (link down), 1 (link up, inactive), 2 (link
// up, active); no connect, disconnect or scan.
func ethernetSuite(class string) []check {
	sec := classSections[class]
	checks := []check{
		{loadCheck, secShape, func(ctx context.Context, e *env) error { return load(ctx, e, class) }},
		{"inactive after load", sec, func(ctx context.Context, e *env) error {
			return expect(e.nic.Active(ctx))(false, "active()")
		}},
		checkMAC(sec),
		{"config errors name the problem", secErrors, func(ctx context.Context, e *env) error {
			for _, c := range []struct {
				kw   host.KW
				want error
				part string
			}{
				{host.KW{"mac": []byte{1, 2, 3, 4, 5}}, abi.ErrValue, "6 bytes"},
				{host.KW{"no_such_param": 1}, abi.ErrValue, "no_such_param"},
				{host.KW{"mac": "02:00:00:00:00:01"}, abi.ErrType, "mac"},
			} {
				if err := e.nic.SetConfig(ctx, c.kw); !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.part) {
					return fmt.Errorf("config(%v) = %v; want %s naming %q", c.kw, err, abi.KindName(c.want.(*abi.Error).Kind), c.part)
				}
			}
			if _, err := e.nic.Config(ctx, "no_such_param"); !errors.Is(err, abi.ErrValue) || !strings.Contains(err.Error(), "no_such_param") {
				return fmt.Errorf("config('no_such_param') = %v; want a ValueError naming it", err)
			}
			return nil
		}},
		{"connect, disconnect and scan are not supported", sec, func(ctx context.Context, e *env) error {
			for name, err := range map[string]error{
				"connect()": e.nic.Connect(ctx), "disconnect()": e.nic.Disconnect(ctx), "scan()": second(e.nic.Scan(ctx, nil)),
			} {
				if !errors.Is(err, abi.ErrUnsupported) || !strings.Contains(err.Error(), class) {
					return fmt.Errorf("%s = %v; want NotImplementedError naming %s", name, err, class)
				}
			}
			return nil
		}},
		checkNoStatusParam,
		{"trace flags: 1, 2, 4 and 8, an int", secClasses, checkTrace},
		checkNoMethod(class),
		{"active(True) brings the link up", sec, func(ctx context.Context, e *env) error {
			if err := e.nic.SetIPConfig(ctx, host.KW{"dhcp4": true}); err != nil {
				return err
			}
			if err := e.nic.SetActive(ctx, true); err != nil {
				return err
			}
			if err := expect(e.nic.Active(ctx))(true, "active()"); err != nil {
				return err
			}
			return until(ctx, "isconnected() and status() == 2", func() (bool, error) {
				ok, err := e.nic.IsConnected(ctx)
				st, _ := e.nic.Status(ctx)
				return ok && st == int64(2) && e.nic.LinkState().Up, err
			})
		}},
		{"regs() returns the registers", sec, func(ctx context.Context, e *env) error { return checkRegs(ctx, e, class) }},
		{"DHCP lease and HTTP through the NIC", secLink, func(ctx context.Context, e *env) error {
			if err := until(ctx, "a DHCP lease", func() (bool, error) {
				v, err := e.nic.IPConfig(ctx, "has_dhcp4")
				return v == true, err
			}); err != nil {
				return err
			}
			return get(ctx, e)
		}},
		{"a burst of frames arrives whole", secExports, checkBurst},
		{reloadCheck, secWarm, checkReload},
		{"cable out: frames offered are refused, not kept", secLink, refusedWhileDown(0, 2)},
		{"cable out: link down; back in: traffic resumes", secLink, func(ctx context.Context, e *env) error {
			e.dev.SetLink(false)
			if err := until(ctx, "isconnected() false and status() 0", func() (bool, error) {
				ok, err := e.nic.IsConnected(ctx)
				st, _ := e.nic.Status(ctx)
				return !ok && st == int64(0), err
			}); err != nil {
				return err
			}
			e.dev.SetLink(true)
			if err := until(ctx, "isconnected() again and the link reported up", func() (bool, error) {
				ok, err := e.nic.IsConnected(ctx)
				return ok && e.nic.LinkState().Up, err
			}); err != nil {
				return err
			}
			return get(ctx, e)
		}},
	}
	if class == abi.ClassLAN {
		checks = append(checks, check{"config(low_power=True) takes the link down, False brings it back", sec, checkLowPower})
	}
	return append(checks,
		check{"active(False): inactive, status 1 with the cable in", sec, func(ctx context.Context, e *env) error {
			if err := e.nic.SetActive(ctx, false); err != nil {
				return err
			}
			if err := expect(e.nic.Active(ctx))(false, "active()"); err != nil {
				return err
			}
			return until(ctx, "status() == 1", func() (bool, error) {
				st, err := e.nic.Status(ctx)
				return st == int64(1), err
			})
		}},
	)
}

// load loads the plugin as a driver of class with the device's grants
// and options. The suite tests the driver, not the host's CPU share: a
// throttled plugin's frames would wait, and checks that count what the
// host offered it would blame the driver.
func load(ctx context.Context, e *env, class string) error {
	p, _, err := e.h.Load(ctx, config.PluginConfig{Name: PluginName, Source: e.cfg.Source, Class: class, Buses: e.dev.Buses, Options: e.dev.Options,
		Limits: config.Limits{CPUShare: maxCPUShare}})
	if err != nil {
		return err
	}
	e.plugin, e.nic = p, p.NICs()[0]
	return nil
}

// checkMAC: config('mac') reads the MAC address the host assigned (the
// class's section: every Ethernet-linked class has mac).
func checkMAC(section string) check {
	return check{"config('mac') is the host's MAC", section, func(ctx context.Context, e *env) error {
		v, err := e.nic.Config(ctx, "mac")
		if err != nil {
			return err
		}
		if b, ok := v.([]byte); !ok || !bytes.Equal(b, e.nic.MAC()) {
			return fmt.Errorf("config('mac') = %v, the host assigned %v", v, e.nic.MAC())
		}
		return nil
	}}
}

// checkNoStatusParam: status() with a parameter the class does not have
// is a ValueError naming it (section 8, rules of every class).
var checkNoStatusParam = check{"status('no_such_param') is a ValueError naming it", secClasses, func(ctx context.Context, e *env) error {
	v, err := e.nic.StatusParam(ctx, "no_such_param")
	if !errors.Is(err, abi.ErrValue) || !strings.Contains(err.Error(), "no_such_param") {
		return fmt.Errorf("status('no_such_param') = %v, %v; want a ValueError naming no_such_param", v, err)
	}
	return nil
}}

// checkNoMethod: a call() name the driver does not know is a
// NotImplementedError naming the class and the method (section 8).
func checkNoMethod(class string) check {
	return check{"an unknown call() name is a NotImplementedError", secClasses, func(ctx context.Context, e *env) error {
		want := class + " has no method no_such_method()"
		v, err := e.nic.Call(ctx, "no_such_method")
		if !errors.Is(err, abi.ErrUnsupported) || !strings.Contains(err.Error(), want) {
			return fmt.Errorf("call('no_such_method') = %v, %v; want NotImplementedError %q", v, err, want)
		}
		return nil
	}}
}

// get fetches the router's page through the NIC.
func get(ctx context.Context, e *env) error {
	client := &http.Client{Transport: &http.Transport{DialContext: e.nic.Dial, DisableKeepAlives: true}}
	req, _ := http.NewRequestWithContext(ctx, "GET", e.lan.URL(), nil)
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", e.lan.URL(), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 || !bytes.Equal(body, e.lan.Page) {
		return fmt.Errorf("GET %s: status %d, %d of %d bytes, %v", e.lan.URL(), resp.StatusCode, len(body), len(e.lan.Page), err)
	}
	return nil
}

func expect[T comparable](got T, err error) func(want T, what string) error {
	return func(want T, what string) error {
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("%s = %v, want %v", what, got, want)
		}
		return nil
	}
}

// expectValue is expect for ABI values, which need not be comparable.
func expectValue(got any, err error) func(want any, what string) error {
	return func(want any, what string) error {
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(got, want) {
			return fmt.Errorf("%s = %v (%s), want %v", what, got, abi.TypeName(got), want)
		}
		return nil
	}
}

func second[T any](_ T, err error) error { return err }

// quietFor is how long no frame may have moved for quiet.
const quietFor = 50 * time.Millisecond

// quiet waits until no frame has moved through the NIC, either way, for
// quietFor.
func quiet(ctx context.Context, e *env) error {
	moved := func() uint64 { st := e.nic.Stats(); return st.TxFrames + st.RxFrames }
	last, since := moved(), time.Now()
	return until(ctx, "the NIC to go quiet", func() (bool, error) {
		if n := moved(); n != last {
			last, since = n, time.Now()
		}
		return time.Since(since) >= quietFor, nil
	})
}

// until polls cond until it holds, fails, or ctx ends.
func until(ctx context.Context, what string, cond func() (bool, error)) error {
	for {
		ok, err := cond()
		if err != nil {
			if ctx.Err() != nil {
				// The check's time ran out during a call: that is the
				// wait timing out, not the call failing.
				return fmt.Errorf("%w waiting for %s (the last call: %v)", errTimeout, what, err)
			}
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w waiting for %s", errTimeout, what)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// checkTrace: config(trace=...) with an int is the driver's flags (section
// 8, rules of every class): bits other than 1, 2, 4 and 8 are a
// ValueError, another type than int a TypeError naming trace, a refused
// call changes nothing, and config('trace') reads back what was set.
func checkTrace(ctx context.Context, e *env) error {
	was, err := e.nic.Config(ctx, "trace")
	if err != nil {
		return fmt.Errorf("config('trace'): %w", err)
	}
	if _, ok := was.(int64); !ok {
		return fmt.Errorf("config('trace') = %v (%s); want the driver's flags, an int", was, abi.TypeName(was))
	}
	if err := e.nic.SetConfig(ctx, host.KW{"trace": int64(16)}); !errors.Is(err, abi.ErrValue) {
		return fmt.Errorf("config(trace=16) = %v; want a ValueError (the flags are 1, 2, 4 and 8)", err)
	}
	if err := e.nic.SetConfig(ctx, host.KW{"trace": 1.5}); !errors.Is(err, abi.ErrType) || !strings.Contains(err.Error(), "trace") {
		return fmt.Errorf("config(trace=1.5) = %v; want a TypeError naming trace", err)
	}
	if err := expectValue(e.nic.Config(ctx, "trace"))(was, "config('trace') after the refused calls"); err != nil {
		return err
	}
	if err := e.nic.SetConfig(ctx, host.KW{"trace": int64(1)}); err != nil {
		return fmt.Errorf("config(trace=1): %w", err)
	}
	if err := expectValue(e.nic.Config(ctx, "trace"))(int64(1), "config('trace') after config(trace=1)"); err != nil {
		return err
	}
	if err := e.nic.SetConfig(ctx, host.KW{"trace": was}); err != nil {
		return fmt.Errorf("config(trace=%v): %w", was, err)
	}
	return expectValue(e.nic.Config(ctx, "trace"))(was, fmt.Sprintf("config('trace') after config(trace=%v)", was))
}

// regsInts and regsBytes are the keys regs() returns, with the length of
// each bytes value: for LAN the IEEE 802.3 clause 22 registers 0 to 6,
// which every PHY has (section 8.1 lists the keys of the LAN8720 and
// KSZ8081 the simulators are, with vendor registers the check does not
// require); for WIZNET5K the W5500's registers of section 8.2.
var (
	regsInts = map[string][]string{
		abi.ClassLAN: {"bmcr", "bmsr", "phyid1", "phyid2", "anar", "anlpar", "aner"},
		abi.ClassWIZNET5K: {"mr", "intlevel", "ir", "imr", "sir", "simr", "rtr", "rcr", "ptimer", "phycfgr", "versionr",
			"s0_mr", "s0_cr", "s0_ir", "s0_sr", "s0_rxbuf_size", "s0_txbuf_size", "s0_tx_fsr", "s0_tx_rd", "s0_tx_wr",
			"s0_rx_rsr", "s0_rx_rd", "s0_rx_wr", "s0_imr"},
	}
	regsBytes = map[string]map[string]int{
		abi.ClassWIZNET5K: {"gar": 4, "subr": 4, "shar": 6, "sipr": 4},
	}
)

// checkRegs: call('regs') on an active interface returns a dict with the
// class's registers (sections 8.1 and 8.2); a LAN PHY's are each an int
// 0..0xffff; a W5500's SHAR holds the interface's MAC address, which the
// driver writes to the chip while active.
func checkRegs(ctx context.Context, e *env, class string) error {
	v, err := e.nic.Call(ctx, "regs")
	if err != nil {
		return fmt.Errorf("call('regs'): %w", err)
	}
	regs, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("call('regs') = %s; want a dict", abi.TypeName(v))
	}
	var bad []string
	for _, k := range regsInts[class] {
		_, present := regs[k]
		switch r, ok := regs[k].(int64); {
		case !present:
			bad = append(bad, k+" missing")
		case !ok:
			bad = append(bad, fmt.Sprintf("%s is a %s, not an int", k, abi.TypeName(regs[k])))
		case class == abi.ClassLAN && (r < 0 || r > 0xffff):
			bad = append(bad, fmt.Sprintf("%s = %d, outside 0..0xffff", k, r))
		}
	}
	for _, k := range abi.SortedKeys(regs) {
		if r, ok := regs[k].(int64); class == abi.ClassLAN && (!ok || r < 0 || r > 0xffff) && !slices.Contains(regsInts[class], k) {
			bad = append(bad, fmt.Sprintf("%s = %v, not an int 0..0xffff", k, regs[k]))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(regsBytes[class])) {
		n := regsBytes[class][k]
		_, present := regs[k]
		switch b, ok := regs[k].([]byte); {
		case !present:
			bad = append(bad, k+" missing")
		case !ok || len(b) != n:
			bad = append(bad, fmt.Sprintf("%s = %v (%s); want %d bytes", k, regs[k], abi.TypeName(regs[k]), n))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("call('regs'): %s", strings.Join(bad, "; "))
	}
	if shar, ok := regs["shar"].([]byte); ok && !bytes.Equal(shar, e.nic.MAC()) {
		return fmt.Errorf("call('regs')['shar'] = %v on an active interface; want its MAC address %v", net.HardwareAddr(shar), e.nic.MAC())
	}
	return nil
}

// checkLowPower (LAN): config(low_power=True) powers the PHY down, which
// takes the link down: status() 0, isconnected() False, the link reported
// down (section 9: every change of the link while active);
// config(low_power=False) powers it up and it negotiates again: the link
// comes back and traffic resumes.
func checkLowPower(ctx context.Context, e *env) (err error) {
	if err := e.nic.SetConfig(ctx, host.KW{"low_power": true}); err != nil {
		return fmt.Errorf("config(low_power=True): %w", err)
	}
	defer func() {
		if err != nil { // leave the PHY powered for the checks after this one
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.Timeout)
			defer cancel()
			e.nic.SetConfig(cctx, host.KW{"low_power": false})
		}
	}()
	if err := expectValue(e.nic.Config(ctx, "low_power"))(true, "config('low_power') after config(low_power=True)"); err != nil {
		return err
	}
	if err := until(ctx, "status() 0, isconnected() False and the link reported down after config(low_power=True)", func() (bool, error) {
		ok, err := e.nic.IsConnected(ctx)
		st, _ := e.nic.Status(ctx)
		return !ok && st == int64(0) && !e.nic.LinkState().Up, err
	}); err != nil {
		return err
	}
	if err := e.nic.SetConfig(ctx, host.KW{"low_power": false}); err != nil {
		return fmt.Errorf("config(low_power=False): %w", err)
	}
	if err := expectValue(e.nic.Config(ctx, "low_power"))(false, "config('low_power') after config(low_power=False)"); err != nil {
		return err
	}
	if err := until(ctx, "isconnected() and status() 2 after config(low_power=False)", func() (bool, error) {
		ok, err := e.nic.IsConnected(ctx)
		st, _ := e.nic.Status(ctx)
		return ok && st == int64(2) && e.nic.LinkState().Up, err
	}); err != nil {
		return err
	}
	return get(ctx, e)
}

// The UDP ports on the router that the frame checks send to.
const (
	burstPort   = 9
	refusedPort = 10
)

// burstLen is how many datagrams checkBurst sends: more than the 64
// frames of one nic_transmit_batch call. Their payloads add up to 22 KiB,
// under the router socket's 32 KiB receive buffer, so none is lost there
// even if the reader falls behind.
const burstLen = 70

// burstPayload is the size of datagram i of the burst: every sixth one
// fills a 1514-byte frame, the others are small, down to a frame shorter
// than Ethernet's 60-byte minimum.
func burstPayload(i int) int {
	if i%6 == 5 {
		return 1472
	}
	return 4 + (i*37)%200
}

// checkBurst: frames the host offers in one nic_transmit_batch call (or,
// for a 1.0 plugin, one nic_transmit call each) all reach the wire whole
// (section 4: k taken is k sent). The check queues burstLen UDP datagrams
// to the router while the plugin's goroutine is held in a bus access (see
// gate), so that the host offers them as batches of many frames, up to 64
// or what the transmit buffer holds, and reads them at the router.
func checkBurst(ctx context.Context, e *env) error {
	pc, err := e.lan.NIC.ListenPacket("udp4", netip.AddrPortFrom(simnet.RouterAddr, burstPort).String())
	if err != nil {
		return err
	}
	defer pc.Close()
	frames := make([][]byte, burstLen)
	for i := range frames {
		frames[i] = e.packet(burstPort, i, burstPayload(i))
	}

	tx0 := e.nic.Stats().TxFrames
	held, release := e.gate.arm()
	defer release()
	// A call that reads the device's registers reaches the bus (regs()
	// must read them; WIZNET5K's status() reads the chip), unless a poll
	// does first; either way the goroutine waits in the gate.
	calls := make(chan struct{})
	go func() {
		defer close(calls)
		e.nic.Call(ctx, "regs")
		e.nic.Status(ctx)
	}()
	gated := true
	select {
	case <-held:
	case <-calls:
		select {
		case <-held: // a poll reached the bus meanwhile
		default: // the driver touched no bus: the frames go ungated
			gated = false
		}
	case <-ctx.Done():
		release()
		<-calls
		return fmt.Errorf("%w waiting for the driver to use its bus", errTimeout)
	}
	for i, f := range frames {
		if err := seam.Transmit(e.nic, f); err != nil {
			release()
			<-calls
			return fmt.Errorf("queueing datagram %d of %d: %w", i+1, burstLen, err)
		}
	}
	release()
	<-calls

	got, err := readDatagrams(ctx, pc, burstPort, burstLen, func(seen []bool) bool {
		return !slices.Contains(seen, false)
	})
	if err == nil {
		return nil
	}
	var missing []string
	for i, ok := range got {
		if !ok {
			missing = append(missing, strconv.Itoa(i+1))
		}
	}
	how := "queued while the plugin was held in a bus access, so offered in batches"
	if !gated {
		how = "queued back to back"
	}
	return fmt.Errorf("%d UDP datagrams (%s) sent through the NIC to the router: %d arrived whole; missing or damaged: datagram %s (the driver took %d frames meanwhile): %w",
		burstLen, how, burstLen-len(missing), strings.Join(missing, ", "), e.nic.Stats().TxFrames-tx0, err)
}

// refusedWhileDown: with the link down, a driver refuses the frames the
// host offers with OSError(EAGAIN), and the host drops and counts them
// (section 9); it does not answer busy, which would keep them, and every
// frame behind them, for a link that may stay down for hours. After the
// cable (or a Wi-Fi device's access point) is back, none of them is sent.
// down and up are the class's status() codes with the link down and back.
func refusedWhileDown(down, up int64) func(ctx context.Context, e *env) error {
	return func(ctx context.Context, e *env) error { return checkRefusedWhileDown(ctx, e, down, up) }
}

func checkRefusedWhileDown(ctx context.Context, e *env, down, up int64) error {
	const n = 8
	pc, err := e.lan.NIC.ListenPacket("udp4", netip.AddrPortFrom(simnet.RouterAddr, refusedPort).String())
	if err != nil {
		return err
	}
	defer pc.Close()
	// The cable comes out between frames: what the previous checks left
	// moving (an HTTP connection closing) has gone out first, so that the
	// only frames this check judges are its own.
	if err := quiet(ctx, e); err != nil {
		return err
	}
	defer e.dev.SetLink(true)
	e.dev.SetLink(false)
	if err := until(ctx, fmt.Sprintf("the link reported down and status() %d", down), func() (bool, error) {
		st, err := e.nic.Status(ctx)
		return st == down && !e.nic.LinkState().Up, err
	}); err != nil {
		return err
	}
	before := e.nic.Stats()
	for i := range n {
		if err := seam.Transmit(e.nic, e.datagram(refusedPort, i, 64)); err != nil {
			return fmt.Errorf("queueing frame %d of %d: %w", i+1, n, err)
		}
	}
	// The host offers queued frames at the end of every call it makes
	// into the instance, on the plugin's one goroutine: once the last of
	// these calls returns, it has offered the frames at least once.
	for range 3 {
		if _, err := e.nic.Status(ctx); err != nil {
			return err
		}
	}
	after := e.nic.Stats()
	if refused := after.Drops[dropRefused] - before.Drops[dropRefused]; refused < n {
		took := after.TxFrames - before.TxFrames
		var kept uint64
		if refused+took < n {
			kept = n - refused - took
		}
		return fmt.Errorf("the host offered %d frames with the link down: the driver refused %d (drops %q), took %d as sent, and answered busy for %d, which the host keeps queued; "+
			"want every one refused with OSError(EAGAIN)", n, refused, dropRefused, took, kept)
	}
	e.dev.SetLink(true)
	if err := until(ctx, fmt.Sprintf("the link reported up again and status() %d", up), func() (bool, error) {
		st, err := e.nic.Status(ctx)
		return st == up && e.nic.LinkState().Up, err
	}); err != nil {
		return err
	}
	// A marker sent now arrives after any frame the driver kept.
	if err := seam.Transmit(e.nic, e.datagram(refusedPort, n, 64)); err != nil {
		return fmt.Errorf("queueing a frame after the cable was plugged back in: %w", err)
	}
	got, err := readDatagrams(ctx, pc, refusedPort, n+1, func(seen []bool) bool { return seen[n] })
	if err != nil {
		st := e.nic.Stats()
		return fmt.Errorf("a frame sent after the cable was plugged back in: %w (the driver took %d frames since, drops %v)", err, st.TxFrames-after.TxFrames, st.Drops)
	}
	if i := slices.Index(got[:n], true); i >= 0 {
		return fmt.Errorf("frame %d of the %d offered with the link down reached the router after the cable was plugged back in: the driver kept it", i+1, n)
	}
	return nil
}

// datagram builds the Ethernet frame of UDP datagram seq from the NIC to
// the router's port: its payload, size bytes, says which datagram it is
// (datagramSeq reads it back).
func (e *env) datagram(port uint16, seq, size int) []byte {
	src := netip.AddrFrom4([4]byte{10, 64, 0, 254}) // until the NIC holds an address
	if p, err := e.nic.Addr4(); err == nil && p.Addr().Is4() {
		src = p.Addr()
	}
	payload := make([]byte, max(size, 4))
	binary.BigEndian.PutUint16(payload, uint16(seq))
	binary.BigEndian.PutUint16(payload[2:], uint16(len(payload)))
	for i := 4; i < len(payload); i++ {
		payload[i] = byte(seq*7 + i)
	}
	f := make([]byte, 14+20+8+len(payload))
	copy(f[0:6], e.lan.NIC.MAC())
	copy(f[6:12], e.nic.MAC())
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	ip := f[14:34]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(20+8+len(payload)))
	binary.BigEndian.PutUint16(ip[4:], uint16(seq))
	binary.BigEndian.PutUint16(ip[6:], 0x4000) // don't fragment
	ip[8], ip[9] = 64, 17                      // TTL, UDP
	s4, d4 := src.As4(), simnet.RouterAddr.As4()
	copy(ip[12:16], s4[:])
	copy(ip[16:20], d4[:])
	binary.BigEndian.PutUint16(ip[10:], ^checksum(0, ip))
	udp := f[34:]
	binary.BigEndian.PutUint16(udp[0:], 40000+port)
	binary.BigEndian.PutUint16(udp[2:], port)
	binary.BigEndian.PutUint16(udp[4:], uint16(8+len(payload)))
	copy(udp[8:], payload)
	pseudo := append(append(append([]byte{}, s4[:]...), d4[:]...), 0, 17, udp[4], udp[5])
	sum := ^checksum(uint32(checksum(0, pseudo)), udp)
	if sum == 0 {
		sum = 0xffff
	}
	binary.BigEndian.PutUint16(udp[6:], sum)
	return f
}

// datagramSeq returns the number of a datagram built by datagram, if p is
// one, whole.
func datagramSeq(p []byte) (int, bool) {
	if len(p) < 4 || int(binary.BigEndian.Uint16(p[2:])) != len(p) {
		return 0, false
	}
	seq := int(binary.BigEndian.Uint16(p))
	for i := 4; i < len(p); i++ {
		if p[i] != byte(seq*7+i) {
			return 0, false
		}
	}
	return seq, true
}

// checksum adds b to the ones' complement sum sum (RFC 1071).
func checksum(sum uint32, b []byte) uint16 {
	for len(b) >= 2 {
		sum += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return uint16(sum)
}

// readDatagrams reads datagrams 0..n-1 built by datagram from pc until
// done(seen) holds or ctx ends, and returns which arrived whole.
func readDatagrams(ctx context.Context, pc net.PacketConn, port uint16, n int, done func(seen []bool) bool) ([]bool, error) {
	seen := make([]bool, n)
	if d, ok := ctx.Deadline(); ok {
		pc.SetReadDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { pc.SetReadDeadline(time.Now()) })
	defer stop()
	buf := make([]byte, 2048)
	for !done(seen) {
		k, _, err := pc.ReadFrom(buf)
		if err != nil {
			if ne, ok := err.(net.Error); ctx.Err() != nil || ok && ne.Timeout() {
				return seen, fmt.Errorf("%w waiting for UDP datagrams at %v:%d", errTimeout, simnet.RouterAddr, port)
			}
			return seen, err
		}
		if seq, ok := datagramSeq(buf[:k]); ok && seq < n {
			seen[seq] = true
		}
	}
	return seen, nil
}
