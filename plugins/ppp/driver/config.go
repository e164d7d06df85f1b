package driver

import (
	"math"
	"net/netip"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
)

// configParams lists config()'s parameters, for error messages.
const configParams = "stream, mru, accm, echo_interval, echo_failures, addr4, chat, trace"

// ConfigGet implements guest.Driver.
func (d *Driver) ConfigGet(iface int, name string) (any, error) {
	if err := checkIface(iface); err != nil {
		return nil, err
	}
	s := d.set
	switch name {
	case "stream":
		return busName, nil
	case "mru":
		return int64(s.mru), nil
	case "accm":
		return int64(s.accm), nil
	case "echo_interval":
		return s.echoInterval.Seconds(), nil
	case "echo_failures":
		return int64(s.echoFailures), nil
	case "addr4":
		if !s.addr4.IsValid() {
			return nil, nil
		}
		return s.addr4.String(), nil
	case "chat":
		return chatValue(s.chat), nil
	case "trace":
		return int64(s.trace), nil
	}
	return nil, abi.ValueError("unknown config parameter %q (known: %s)", name, configParams)
}

// ConfigSet implements guest.Driver. Every key is checked before any is
// applied. mru, accm, echo_*, addr4 and chat take effect at the next
// connect(); stream is read-only (it is the UART grant).
func (d *Driver) ConfigSet(iface int, kv map[string]any) error {
	if err := checkIface(iface); err != nil {
		return err
	}
	s := d.set
	for _, k := range abi.SortedKeys(kv) {
		v := kv[k]
		var err error
		switch k {
		case "stream":
			return abi.ValueError("config parameter \"stream\" is read-only: it is the UART the plugin was granted (bus %q)", busName)
		case "mru":
			var n int64
			if n, err = abi.Int(k, v); err == nil {
				if n < 128 || n > 1500 {
					return abi.ValueError("mru: %d is outside 128..1500", n)
				}
				s.mru = int(n)
			}
		case "accm":
			var n int64
			if n, err = abi.Int(k, v); err == nil {
				if n < 0 || n > math.MaxUint32 {
					return abi.ValueError("accm: %d is not a 32-bit map", n)
				}
				s.accm = uint32(n)
			}
		case "echo_interval":
			var t time.Duration
			if t, err = seconds(k, v); err == nil {
				if t < 0 || (t > 0 && t < 100*time.Millisecond) || t > time.Hour {
					return abi.ValueError("echo_interval: %v s is outside 0.1..3600 (0 sends no echoes)", v)
				}
				s.echoInterval = t
			}
		case "echo_failures":
			var n int64
			if n, err = abi.Int(k, v); err == nil {
				if n < 1 || n > 100 {
					return abi.ValueError("echo_failures: %d is outside 1..100", n)
				}
				s.echoFailures = int(n)
			}
		case "addr4":
			if v == nil {
				s.addr4 = netip.Addr{}
				break
			}
			var str string
			if str, err = abi.Str(k, v); err == nil {
				a, perr := netip.ParseAddr(str)
				if perr != nil || !a.Is4() || a.IsUnspecified() || a.IsMulticast() || a.IsLoopback() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
					return abi.ValueError("addr4: %q is not a host's IPv4 address", str)
				}
				s.addr4 = a
			}
		case "chat":
			s.chat, err = parseChat(v)
		case "trace":
			s.trace, err = guest.ParseTrace(v)
		default:
			return abi.ValueError("unknown config parameter %q (known: %s)", k, configParams)
		}
		if err != nil {
			return err
		}
	}
	d.set = s
	return nil
}

// seconds reads a number of seconds, an int or a float.
func seconds(name string, v any) (time.Duration, error) {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) > 1e6 {
			return 0, abi.ValueError("%s: %v is not a number of seconds", name, x)
		}
		return time.Duration(x * float64(time.Second)), nil
	case bool:
		return 0, abi.TypeError("%s: expected int or float, got bool", name)
	}
	n, err := abi.Int(name, v)
	if err != nil {
		return 0, abi.TypeError("%s: expected int or float, got %s", name, abi.TypeName(v))
	}
	if n > 1e6 || n < -1e6 {
		return 0, abi.ValueError("%s: %d is not a number of seconds", name, n)
	}
	return time.Duration(n) * time.Second, nil
}
