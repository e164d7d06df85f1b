package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/config"
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
	secErrors   = "3.4 Errors"
	secBusNames = "8.5 Bus names"
	secLink     = "9. The link protocol"
)

// classSections are the ABI.md sections of each class's contract.
var classSections = map[string]string{
	abi.ClassLAN:      "8.1 LAN",
	abi.ClassWIZNET5K: "8.2 WIZNET5K",
	abi.ClassPPP:      "8.3 PPP (provisional)",
	abi.ClassWLAN:     "8.4 WLAN (provisional)",
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
}

// ethernetSuite is for always-connected wired classes (LAN, WIZNET5K):
// MicroPython's status codes 0 (link down), 1 (link up, inactive), 2 (link
// up, active); no connect, disconnect or scan.
func ethernetSuite(class string) []check {
	sec := classSections[class]
	return []check{
		{loadCheck, secBusNames, func(ctx context.Context, e *env) error {
			p, _, err := e.h.Load(ctx, config.PluginConfig{Name: "dut", Source: e.cfg.Source, Class: class, Buses: e.dev.Buses, Options: e.dev.Options})
			if err != nil {
				return err
			}
			e.plugin, e.nic = p, p.NICs()[0]
			return nil
		}},
		{"inactive after load", sec, func(ctx context.Context, e *env) error {
			return expect(e.nic.Active(ctx))(false, "active()")
		}},
		{"config('mac') is the host's MAC", sec, func(ctx context.Context, e *env) error {
			v, err := e.nic.Config(ctx, "mac")
			if err != nil {
				return err
			}
			if b, ok := v.([]byte); !ok || !bytes.Equal(b, e.nic.MAC()) {
				return fmt.Errorf("config('mac') = %v, the host assigned %v", v, e.nic.MAC())
			}
			return nil
		}},
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
		{"DHCP lease and HTTP through the NIC", secLink, func(ctx context.Context, e *env) error {
			if err := until(ctx, "a DHCP lease", func() (bool, error) {
				v, err := e.nic.IPConfig(ctx, "has_dhcp4")
				return v == true, err
			}); err != nil {
				return err
			}
			return get(ctx, e)
		}},
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
			if err := until(ctx, "isconnected() again", func() (bool, error) { return e.nic.IsConnected(ctx) }); err != nil {
				return err
			}
			return get(ctx, e)
		}},
		{"active(False): inactive, status 1 with the cable in", sec, func(ctx context.Context, e *env) error {
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
	}
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

func second[T any](_ T, err error) error { return err }

// until polls cond until it holds, fails, or ctx ends.
func until(ctx context.Context, what string, cond func() (bool, error)) error {
	for {
		ok, err := cond()
		if err != nil {
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
