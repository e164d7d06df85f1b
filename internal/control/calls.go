package control

import (
	"context"
	"slices"
	"strings"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
)

// NICMethods are AbstractNIC's methods, which the API maps to the host's
// NIC calls with MicroPython's argument rules. Any other method name is a
// class-specific method, passed to the driver (host.NIC.Call).
var NICMethods = []string{"active", "config", "connect", "disconnect", "ifconfig", "ipconfig", "isconnected", "scan", "status"}

// NetworkFuncs are the network module's functions the API serves.
var NetworkFuncs = []string{"country", "hostname", "ipconfig", "phy_mode"}

// callArgs are a call's arguments, decoded.
type callArgs struct {
	pos []any
	kw  map[string]any
}

// validMethod reports whether name can be a method: a Python identifier
// of at most 64 characters.
func validMethod(name string) bool {
	if name == "" || len(name) > 64 || name[0] >= '0' && name[0] <= '9' {
		return false
	}
	for _, c := range name {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// callNIC runs nic.method(*args, **kwargs) as MicroPython would.
func callNIC(ctx context.Context, n *host.NIC, method string, a callArgs) (any, error) {
	switch method {
	case "active":
		if err := noKW(method, a); err != nil {
			return nil, err
		}
		switch len(a.pos) {
		case 0:
			return n.Active(ctx)
		case 1:
			up, err := abi.Bool("active", a.pos[0])
			if err != nil {
				return nil, err
			}
			return nil, n.SetActive(ctx, up)
		}
		return nil, tooMany(method, 1, len(a.pos))
	case "connect":
		args := slices.Clone(a.pos)
		if len(a.kw) > 0 {
			args = append(args, host.KW(a.kw))
		}
		return nil, n.Connect(ctx, args...)
	case "disconnect":
		if err := noArgs(method, a); err != nil {
			return nil, err
		}
		return nil, n.Disconnect(ctx)
	case "isconnected":
		if err := noArgs(method, a); err != nil {
			return nil, err
		}
		return n.IsConnected(ctx)
	case "scan":
		if len(a.pos) > 0 {
			return nil, abi.TypeError("scan() takes keyword arguments only (%d positional given)", len(a.pos))
		}
		return n.Scan(ctx, host.KW(a.kw))
	case "status":
		if err := noKW(method, a); err != nil {
			return nil, err
		}
		switch len(a.pos) {
		case 0:
			return n.Status(ctx)
		case 1:
			param, err := abi.Str("status", a.pos[0])
			if err != nil {
				return nil, err
			}
			return n.StatusParam(ctx, param)
		}
		return nil, tooMany(method, 1, len(a.pos))
	case "config", "ipconfig":
		param, set, err := getOrSet(method, a)
		if err != nil {
			return nil, err
		}
		switch {
		case method == "config" && set:
			return nil, n.SetConfig(ctx, host.KW(a.kw))
		case method == "config":
			return n.Config(ctx, param)
		case set:
			return nil, n.SetIPConfig(ctx, host.KW(a.kw))
		default:
			return n.IPConfig(ctx, param)
		}
	case "ifconfig":
		if err := noKW(method, a); err != nil {
			return nil, err
		}
		switch len(a.pos) {
		case 0:
			return n.IfConfig(ctx)
		case 1:
			return nil, n.SetIfConfig(ctx, a.pos[0])
		}
		return nil, tooMany(method, 1, len(a.pos))
	}
	args := slices.Clone(a.pos)
	if len(a.kw) > 0 {
		args = append(args, host.KW(a.kw))
	}
	return n.Call(ctx, method, args...)
}

// callNetwork runs network.fn(*args, **kwargs).
func callNetwork(ctx context.Context, h *host.Host, fn string, a callArgs) (any, error) {
	switch fn {
	case "hostname":
		if err := noKW(fn, a); err != nil {
			return nil, err
		}
		switch len(a.pos) {
		case 0:
			return h.Hostname(), nil
		case 1:
			name, err := abi.Str("hostname", a.pos[0])
			if err != nil {
				return nil, err
			}
			return nil, h.SetHostname(name)
		}
		return nil, tooMany(fn, 1, len(a.pos))
	case "country":
		if err := noKW(fn, a); err != nil {
			return nil, err
		}
		switch len(a.pos) {
		case 0:
			return h.Country(), nil
		case 1:
			code, err := abi.Str("country", a.pos[0])
			if err != nil {
				return nil, err
			}
			return nil, h.SetCountry(ctx, code)
		}
		return nil, tooMany(fn, 1, len(a.pos))
	case "ipconfig":
		param, set, err := getOrSet(fn, a)
		if err != nil {
			return nil, err
		}
		if set {
			return nil, h.SetIPConfig(host.KW(a.kw))
		}
		return h.IPConfig(param)
	case "phy_mode":
		if err := noKW(fn, a); err != nil {
			return nil, err
		}
		switch len(a.pos) {
		case 0:
			return int64(h.PhyMode()), nil
		case 1:
			mode, err := abi.Int("phy_mode", a.pos[0])
			if err != nil {
				return nil, err
			}
			if mode < -1<<31 || mode > 1<<31-1 {
				return nil, abi.ValueError("phy_mode: %d is not MODE_11B (1), MODE_11G (2) or MODE_11N (3)", mode)
			}
			return nil, h.SetPhyMode(ctx, int(mode))
		}
		return nil, tooMany(fn, 1, len(a.pos))
	}
	return nil, notFound("network has no function %q; it has %s", fn, strings.Join(NetworkFuncs, ", "))
}

// getOrSet sorts config(...) and ipconfig(...) calls: one positional
// argument, the parameter's name, gets it; keywords set parameters.
// MicroPython refuses both at once, and so does this.
func getOrSet(fn string, a callArgs) (param string, set bool, err error) {
	switch {
	case len(a.pos) > 0 && len(a.kw) > 0:
		return "", false, abi.TypeError("%s() takes either one parameter name to get or keyword arguments to set, not both", fn)
	case len(a.pos) > 1:
		return "", false, abi.TypeError("%s() can query only one parameter (%d given)", fn, len(a.pos))
	case len(a.pos) == 1:
		param, err := abi.Str(fn, a.pos[0])
		return param, false, err
	}
	return "", true, nil // no arguments at all: the setter says what it needs
}

func noKW(fn string, a callArgs) error {
	if len(a.kw) > 0 {
		return abi.TypeError("%s() takes no keyword arguments (got %s)", fn, strings.Join(abi.SortedKeys(a.kw), ", "))
	}
	return nil
}

func noArgs(fn string, a callArgs) error {
	if len(a.pos) > 0 {
		return abi.TypeError("%s() takes no arguments (%d given)", fn, len(a.pos))
	}
	return noKW(fn, a)
}

func tooMany(fn string, most, given int) error {
	return abi.TypeError("%s() takes at most %d positional argument%s (%d given)", fn, most, plural(most), given)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// nameList is "a, b, c", or "none" for no names.
func nameList(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// unknownNIC is the 404 for a NIC name.
func unknownNIC(h *host.Host, name string) error {
	var names []string
	for _, n := range h.NICs() {
		names = append(names, n.Name())
	}
	return notFound("no NIC %q; the NICs are: %s", name, nameList(names))
}

// unknownPlugin is the 404 for a plugin name.
func unknownPlugin(h *host.Host, name string) error {
	var names []string
	for _, p := range h.Plugins() {
		names = append(names, p.Name())
	}
	return notFound("no plugin %q; the plugins are: %s", name, nameList(names))
}

// badMethod is the 404 for a name that cannot be a method.
func badMethod(nic, method string) error {
	return notFound("%s has no method %q: a method is one of %s, or a class-specific method's name (letters, digits, _)",
		nic, clip(method), strings.Join(NICMethods, ", "))
}
