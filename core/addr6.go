package core

import (
	"math"
	"net/netip"
	"sort"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
)

// Addr6 is one IPv6 address of a NIC, typed: what ipconfig("addr6")
// reports as a tuple.
type Addr6 struct {
	Prefix    netip.Prefix  // the address and its prefix length
	Code      int           // MicroPython's state code: 0x08+probes tentative, 0x10 deprecated, 0x30 preferred, 0x40 duplicated
	Preferred time.Duration // preferred lifetime left (0 when deprecated); Forever when infinite
	Valid     time.Duration // valid lifetime left; Forever when infinite
	Source    string        // "link-local", "slaac" or "static"
}

// Forever is the lifetime of an address that does not expire.
const Forever = time.Duration(math.MaxInt64)

// IPv6Addrs lists the NIC's IPv6 addresses, link-local first, then in
// address order.
func (n *NIC) IPv6Addrs() []Addr6 {
	now, mono := time.Now(), n.st.s.Clock().NowMonotonic()
	left := func(until tcpip.MonotonicTime) time.Duration {
		if until == (tcpip.MonotonicTime{}) || until == tcpip.MonotonicTimeInfinite() {
			return Forever
		}
		return max(until.Sub(mono), 0)
	}
	n.mu.Lock()
	out := make([]Addr6, 0, len(n.addrs6))
	for _, e := range n.addrs6 {
		a := Addr6{Prefix: netip.PrefixFrom(e.addr, e.bits), Code: e.code(now), Source: e.source,
			Preferred: left(e.lifetimes.PreferredUntil), Valid: left(e.lifetimes.ValidUntil)}
		if e.lifetimes.Deprecated {
			a.Preferred = 0
		}
		out = append(out, a)
	}
	n.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if li, lj := out[i].Source == "link-local", out[j].Source == "link-local"; li != lj {
			return li
		}
		return out[i].Prefix.Addr().Less(out[j].Prefix.Addr())
	})
	return out
}
