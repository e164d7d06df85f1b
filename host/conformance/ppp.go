package conformance

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/internal/seam"
	"github.com/nichost/nichost/simnet"
)

// MicroPython's PPP status codes (section 8.3).
const (
	pppInactive   = int64(0)
	pppIdle       = int64(1)
	pppConnecting = int64(3)
	pppConnected  = int64(4)
	pppFailed     = int64(-1)
)

// Echo keep-alive settings the suite gives before connecting, so that a
// cut line is noticed within a check's time: 1 s apart, 3 unanswered.
const (
	pppEchoInterval = int64(1)
	pppEchoFailures = int64(3)
)

// eALREADY is Linux's errno for a connect() already under way.
const eALREADY = 114

// pppSuite is the PPP class's suite (section 8.3): a driver on a UART to
// an access server whose routed side is the LAN. The device gives the
// connect() arguments its server accepts (simnet.Device.Connect).
func pppSuite() []check {
	sec := classSections[abi.ClassPPP]
	return []check{
		{loadCheck, secShape, func(ctx context.Context, e *env) error {
			if len(e.dev.Connect) == 0 {
				return errors.New("the simulated device gives no connect() arguments (simnet.Device.Connect), which the PPP suite needs")
			}
			return load(ctx, e, abi.ClassPPP)
		}},
		{"inactive after load: status() 0, phase dead", sec, func(ctx context.Context, e *env) error {
			if err := expect(e.nic.Active(ctx))(false, "active()"); err != nil {
				return err
			}
			if err := expectValue(e.nic.Status(ctx))(pppInactive, "status()"); err != nil {
				return err
			}
			if err := expectValue(e.nic.StatusParam(ctx, "phase"))("dead", "status('phase')"); err != nil {
				return err
			}
			return expectValue(e.nic.StatusParam(ctx, "failure"))(nil, "status('failure')")
		}},
		{"config('stream') names the UART grant and is read-only", sec, func(ctx context.Context, e *env) error {
			if err := expectValue(e.nic.Config(ctx, "stream"))("uart", "config('stream')"); err != nil {
				return err
			}
			if err := e.nic.SetConfig(ctx, host.KW{"stream": "uart"}); !errors.Is(err, abi.ErrValue) || !strings.Contains(err.Error(), "stream") {
				return fmt.Errorf("config(stream='uart') = %v; want a ValueError naming stream (it is read-only)", err)
			}
			return nil
		}},
		{"config errors name the problem; a refused call changes nothing", secErrors, checkPPPConfigErrors},
		{"trace flags: 1, 2, 4 and 8, an int", secClasses, checkTrace},
		checkNoStatusParam,
		checkNoMethod(abi.ClassPPP),
		{"scan() is not supported", sec, func(ctx context.Context, e *env) error {
			if _, err := e.nic.Scan(ctx, nil); !errors.Is(err, abi.ErrUnsupported) || !strings.Contains(err.Error(), abi.ClassPPP) {
				return fmt.Errorf("scan() = %v; want NotImplementedError naming PPP", err)
			}
			return nil
		}},
		{"call('poll') returns None", sec, func(ctx context.Context, e *env) error {
			return expectValue(e.nic.Call(ctx, "poll"))(nil, "call('poll')")
		}},
		{"connect() checks its arguments before it starts", sec, checkPPPConnectArgs},
		{"connect() with a wrong key fails: status() -1, status('failure') says why", sec, checkPPPWrongKey},
		{"connect(): status() 4, the address, gateway and DNS from IPCP", sec, checkPPPConnect},
		{"connect() while connected is OSError(EALREADY)", sec, func(ctx context.Context, e *env) error {
			if err := e.nic.Connect(ctx, e.dev.Connect...); !errors.Is(err, abi.ErrOS) || !isErrno(err, eALREADY) {
				return fmt.Errorf("connect() while connected = %v; want OSError(EALREADY)", err)
			}
			return expect(e.nic.IsConnected(ctx))(true, "isconnected() after the refused connect()")
		}},
		{"DNS and HTTP through the NIC", secLink, get},
		{"a burst of packets arrives whole", secExports, checkBurst},
		{"line cut: echo keep-alive fails the link; status() -1, isconnected() False", sec, checkPPPLineCut},
		{"connect() again once the line is back", sec, func(ctx context.Context, e *env) error {
			if err := pppConnect(ctx, e); err != nil {
				return err
			}
			return get(ctx, e)
		}},
		{"disconnect(): LCP terminates, status() 1, the link reported down", sec, func(ctx context.Context, e *env) error {
			if err := e.nic.Disconnect(ctx); err != nil {
				return fmt.Errorf("disconnect(): %w", err)
			}
			return pppUntilIdle(ctx, e, "after disconnect()")
		}},
		{"disconnected: packets offered are refused, not kept", secLink, checkPPPRefused},
		{"active(False) while connected: inactive, status() 0, the link reported down", sec, func(ctx context.Context, e *env) error {
			if err := e.nic.SetActive(ctx, false); err != nil {
				return fmt.Errorf("active(False): %w", err)
			}
			if err := expect(e.nic.Active(ctx))(false, "active()"); err != nil {
				return err
			}
			return until(ctx, "status() 0 and the link reported down", func() (bool, error) {
				st, err := e.nic.Status(ctx)
				ok, _ := e.nic.IsConnected(ctx)
				return st == pppInactive && !ok && !e.nic.LinkState().Up, err
			})
		}},
	}
}

func isErrno(err error, errno int) bool {
	var ae *abi.Error
	return errors.As(err, &ae) && ae.Errno == errno
}

// checkPPPConfigErrors: the parameters section 8.3 requires read back with
// their types; out-of-range values are ValueErrors and wrong types
// TypeErrors naming the parameter; a call with one bad key applies none.
func checkPPPConfigErrors(ctx context.Context, e *env) error {
	types := map[string]string{"mru": "int", "accm": "int", "echo_interval": "", "echo_failures": "int"}
	was := map[string]any{}
	for _, k := range []string{"mru", "accm", "echo_interval", "echo_failures"} {
		v, err := e.nic.Config(ctx, k)
		if err != nil {
			return fmt.Errorf("config(%q): %w", k, err)
		}
		switch v.(type) {
		case int64:
		case float64:
			if types[k] == "int" {
				return fmt.Errorf("config(%q) = %v (float); want an int", k, v)
			}
		default:
			return fmt.Errorf("config(%q) = %v (%s); want a number", k, v, abi.TypeName(v))
		}
		was[k] = v
	}
	if was["mru"] != int64(1500) {
		return fmt.Errorf("config('mru') = %v before any was set; want 1500, PPP's default", was["mru"])
	}
	for _, c := range []struct {
		kw   host.KW
		want error
		part string
	}{
		{host.KW{"mru": int64(5000)}, abi.ErrValue, "mru"},
		{host.KW{"mru": "1500"}, abi.ErrType, "mru"},
		{host.KW{"echo_failures": int64(0)}, abi.ErrValue, "echo_failures"},
		{host.KW{"accm": int64(-1)}, abi.ErrValue, "accm"},
		{host.KW{"no_such_param": int64(1)}, abi.ErrValue, "no_such_param"},
		{host.KW{"mru": int64(1000), "echo_failures": int64(0)}, abi.ErrValue, "echo_failures"},
	} {
		if err := e.nic.SetConfig(ctx, c.kw); !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.part) {
			return fmt.Errorf("config(%v) = %v; want %s naming %q", c.kw, err, abi.KindName(c.want.(*abi.Error).Kind), c.part)
		}
	}
	for k, v := range was {
		if err := expectValue(e.nic.Config(ctx, k))(v, fmt.Sprintf("config(%q) after the refused calls", k)); err != nil {
			return err
		}
	}
	if _, err := e.nic.Config(ctx, "no_such_param"); !errors.Is(err, abi.ErrValue) || !strings.Contains(err.Error(), "no_such_param") {
		return fmt.Errorf("config('no_such_param') = %v; want a ValueError naming it", err)
	}
	// The keep-alive the suite uses from here on.
	if err := e.nic.SetConfig(ctx, host.KW{"echo_interval": pppEchoInterval, "echo_failures": pppEchoFailures}); err != nil {
		return fmt.Errorf("config(echo_interval=%d, echo_failures=%d): %w", pppEchoInterval, pppEchoFailures, err)
	}
	return expectValue(e.nic.Config(ctx, "echo_failures"))(pppEchoFailures, "config('echo_failures')")
}

// checkPPPConnectArgs: bad connect() arguments are refused before
// anything starts: the interface stays inactive, status() 0.
func checkPPPConnectArgs(ctx context.Context, e *env) error {
	for _, c := range []struct {
		args []any
		want error
		part string
	}{
		{[]any{int64(7)}, abi.ErrValue, "security"},
		{[]any{int64(1)}, abi.ErrValue, "user"}, // SEC_PAP needs a user
		{[]any{int64(2), int64(5), "k"}, abi.ErrType, "user"},
		{[]any{int64(2), strings.Repeat("u", 256), "k"}, abi.ErrValue, "255"},
		{[]any{"chap"}, abi.ErrType, "security"},
	} {
		if err := e.nic.Connect(ctx, c.args...); !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.part) {
			return fmt.Errorf("connect%v = %v; want %s naming %q", shortArgs(c.args), err, abi.KindName(c.want.(*abi.Error).Kind), c.part)
		}
	}
	if err := expect(e.nic.Active(ctx))(false, "active() after refused connect() calls"); err != nil {
		return err
	}
	return expectValue(e.nic.Status(ctx))(pppInactive, "status() after refused connect() calls")
}

// shortArgs prints connect() arguments with long strings cut.
func shortArgs(args []any) string {
	var out []string
	for _, a := range args {
		s := fmt.Sprintf("%#v", a)
		if len(s) > 20 {
			s = s[:17] + "..."
		}
		out = append(out, s)
	}
	return "(" + strings.Join(out, ", ") + ")"
}

// checkPPPWrongKey: the device's server refuses a wrong key. connect()
// returns at once; the failure shows as status() -1 with the reason, which
// names authentication; the link never comes up.
func checkPPPWrongKey(ctx context.Context, e *env) error {
	args := slices.Clone(e.dev.Connect)
	if len(args) < 3 {
		return fmt.Errorf("the device's connect() arguments %v have no key to get wrong", args)
	}
	args[2] = fmt.Sprint(args[2]) + "-wrong"
	if err := e.nic.Connect(ctx, args...); err != nil {
		return fmt.Errorf("connect(...wrong key): %w", err)
	}
	var failure any
	if err := until(ctx, "status() -1 after a wrong key", func() (bool, error) {
		st, err := e.nic.Status(ctx)
		if st == pppFailed {
			failure, err = e.nic.StatusParam(ctx, "failure")
		}
		return st == pppFailed, err
	}); err != nil {
		return err
	}
	if f, ok := failure.(string); !ok || !strings.Contains(strings.ToLower(f), "auth") {
		return fmt.Errorf("status('failure') = %v after a wrong key; want a str naming authentication", failure)
	}
	if ok, err := e.nic.IsConnected(ctx); err != nil || ok || e.nic.LinkState().Up {
		return fmt.Errorf("after a wrong key: isconnected() = %v, %v, link up %v; want False and down", ok, err, e.nic.LinkState().Up)
	}
	return e.nic.Disconnect(ctx)
}

// pppConnect connects with the device's arguments and waits until the
// driver says connected and the core has the link up (IP-only).
func pppConnect(ctx context.Context, e *env) error {
	if err := e.nic.Connect(ctx, e.dev.Connect...); err != nil {
		return fmt.Errorf("connect(): %w", err)
	}
	return pppUntilConnected(ctx, e)
}

// pppUntilConnected waits for isconnected(), status() 4, phase running
// and the link up in the core.
func pppUntilConnected(ctx context.Context, e *env) error {
	return until(ctx, "isconnected(), status() 4, phase running, and the link reported up", func() (bool, error) {
		ok, err := e.nic.IsConnected(ctx)
		st, _ := e.nic.Status(ctx)
		ph, _ := e.nic.StatusParam(ctx, "phase")
		return ok && st == pppConnected && ph == "running" && e.nic.LinkState().Up, err
	})
}

// checkPPPConnect: connect() with the device's arguments returns at once
// with status() 3 or already 4; IPCP's outcome is reported to the core:
// the NIC's address is the one negotiated (addr4), its gateway the peer's
// (peer4), its DNS servers the negotiated ones; the link is IP-only with
// an MTU of at least 128.
func checkPPPConnect(ctx context.Context, e *env) error {
	if err := e.nic.Connect(ctx, e.dev.Connect...); err != nil {
		return fmt.Errorf("connect(): %w", err)
	}
	if st, err := e.nic.Status(ctx); err != nil || (st != pppConnecting && st != pppConnected) {
		return fmt.Errorf("status() right after connect() = %v, %v; want 3 (connecting) or 4", st, err)
	}
	if err := expect(e.nic.Active(ctx))(true, "active() after connect()"); err != nil {
		return err
	}
	if err := pppUntilConnected(ctx, e); err != nil {
		return err
	}
	if err := expectValue(e.nic.StatusParam(ctx, "failure"))(nil, "status('failure') once connected"); err != nil {
		return err
	}
	ls := e.nic.LinkState()
	if ls.Type != host.LinkIP || ls.MTU < 128 {
		return fmt.Errorf("the link reported %v with MTU %d; want IP-only, MTU 128 or more", ls.Type, ls.MTU)
	}
	rep := e.nic.Reported()
	addr, _ := e.nic.Addr4()
	gw, _ := e.nic.Gateway4()
	dns, _ := e.nic.DNS()
	want := func(key string, got netip.Addr) error {
		s, _ := rep[key].(string)
		a, err := netip.ParseAddr(s)
		switch {
		case err != nil:
			return fmt.Errorf("the driver reported %s = %v; want the address IPCP negotiated, a str", key, rep[key])
		case a != got:
			return fmt.Errorf("the driver reported %s = %v, but the NIC's is %v", key, a, got)
		}
		return nil
	}
	if err := want("addr4", addr.Addr()); err != nil {
		return err
	}
	if err := want("peer4", gw); err != nil {
		return fmt.Errorf("%w (the peer's address is the gateway, gw4)", err)
	}
	if len(dns) == 0 {
		return fmt.Errorf("no DNS server on the NIC after IPCP (the driver reported dns = %v)", rep["dns"])
	}
	v, err := e.nic.IPConfig(ctx, "addr4")
	if err != nil {
		return fmt.Errorf("ipconfig('addr4'): %w", err)
	}
	if tup, ok := v.(abi.Tuple); !ok || len(tup) == 0 || tup[0] != addr.Addr().String() {
		return fmt.Errorf("ipconfig('addr4') = %v; want the negotiated %v first", v, addr.Addr())
	}
	return nil
}

// checkPPPLineCut: with the line cut, the driver's LCP echoes go
// unanswered; after echo_failures of them the link fails: isconnected()
// False, status() -1, a failure naming the unanswered peer, and the link
// reported down. The line is joined again at the end.
func checkPPPLineCut(ctx context.Context, e *env) error {
	e.dev.SetLink(false)
	defer e.dev.SetLink(true)
	var failure any
	if err := until(ctx, fmt.Sprintf("status() -1 with the line cut (%d echoes %d s apart unanswered)", pppEchoFailures, pppEchoInterval), func() (bool, error) {
		ok, err := e.nic.IsConnected(ctx)
		st, _ := e.nic.Status(ctx)
		if st == pppFailed {
			failure, _ = e.nic.StatusParam(ctx, "failure")
		}
		return !ok && st == pppFailed && !e.nic.LinkState().Up, err
	}); err != nil {
		return err
	}
	if f, ok := failure.(string); !ok || !strings.Contains(strings.ToLower(f), "echo") {
		return fmt.Errorf("status('failure') = %v with the line cut; want a str naming the unanswered echoes", failure)
	}
	return nil
}

// pppUntilIdle waits for status() 1, phase dead and the link down.
func pppUntilIdle(ctx context.Context, e *env, when string) error {
	return until(ctx, "status() 1, phase dead, isconnected() False and the link reported down "+when, func() (bool, error) {
		st, err := e.nic.Status(ctx)
		ph, _ := e.nic.StatusParam(ctx, "phase")
		ok, _ := e.nic.IsConnected(ctx)
		return st == pppIdle && ph == "dead" && !ok && !e.nic.LinkState().Up, err
	})
}

// checkPPPRefused: packets the host offers while the link is down are
// refused with OSError(EAGAIN), dropped and counted by the host (section
// 9), and none is sent once the link is up again.
func checkPPPRefused(ctx context.Context, e *env) error {
	const n = 8
	pc, err := e.lan.NIC.ListenPacket("udp4", netip.AddrPortFrom(simnet.RouterAddr, refusedPort).String())
	if err != nil {
		return err
	}
	defer pc.Close()
	before := e.nic.Stats()
	for i := range n {
		if err := seam.Transmit(e.nic, e.packet(refusedPort, i, 64)); err != nil {
			return fmt.Errorf("queueing packet %d of %d: %w", i+1, n, err)
		}
	}
	for range 3 { // each call into the instance ends with the queued packets offered
		if _, err := e.nic.Status(ctx); err != nil {
			return err
		}
	}
	after := e.nic.Stats()
	if refused := after.Drops[dropRefused] - before.Drops[dropRefused]; refused < n {
		return fmt.Errorf("the host offered %d packets with the link down: the driver refused %d (drops %q) and took %d; want every one refused with OSError(EAGAIN)",
			n, refused, dropRefused, after.TxFrames-before.TxFrames)
	}
	if err := pppConnect(ctx, e); err != nil {
		return err
	}
	if err := seam.Transmit(e.nic, e.packet(refusedPort, n, 64)); err != nil {
		return fmt.Errorf("queueing a packet once connected again: %w", err)
	}
	got, err := readDatagrams(ctx, pc, refusedPort, n+1, func(seen []bool) bool { return seen[n] })
	if err != nil {
		return fmt.Errorf("a packet sent once connected again: %w", err)
	}
	if i := slices.Index(got[:n], true); i >= 0 {
		return fmt.Errorf("packet %d of the %d offered with the link down reached the router once connected again: the driver kept it", i+1, n)
	}
	return nil
}

// packet is datagram as the NIC's link carries it: an Ethernet frame, or
// for PPP, the IP-only class (section 9), the bare IPv4 packet. The class
// decides, not the link state: the link may be down.
func (e *env) packet(port uint16, seq, size int) []byte {
	f := e.datagram(port, seq, size)
	if e.plugin.Description().Class == abi.ClassPPP {
		return f[14:]
	}
	return f
}
