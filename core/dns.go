package core

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// DNS: Go's own resolver (net.Resolver with PreferGo) whose Dial goes into
// this stack, to the servers configured here rather than /etc/resolv.conf:
// the static ones (network.ipconfig(dns=...)) first, then those learnt on
// NICs (DHCP, PPP). Go's resolver does not expose record TTLs, so the cache
// keeps each name for a fixed time.

// dnsCacheTTL is how long a looked-up name is kept.
const dnsCacheTTL = 30 * time.Second

type dnsState struct {
	mu     sync.Mutex
	static []netip.Addr
	prefer int // 4 or 6
	cache  map[string]dnsEntry
}

type dnsEntry struct {
	addrs   []string
	expires time.Time
}

// SetDNS sets the static DNS servers (network.ipconfig(dns=...)); they are
// asked before any learnt ones.
func (st *Stack) SetDNS(servers []netip.Addr) {
	st.dns.mu.Lock()
	st.dns.static = slices.Clone(servers)
	st.dns.cache = nil
	st.dns.mu.Unlock()
}

// SetPrefer sets which family LookupHost lists first for names with both
// A and AAAA records (network.ipconfig(prefer=4|6)). As in MicroPython it
// does not clear the cache.
func (st *Stack) SetPrefer(family int) {
	st.dns.mu.Lock()
	st.dns.prefer = family
	st.dns.mu.Unlock()
}

// DNSServers lists the servers LookupHost asks, in order.
func (st *Stack) DNSServers() []netip.Addr {
	st.dns.mu.Lock()
	out := slices.Clone(st.dns.static)
	st.dns.mu.Unlock()
	for _, n := range st.NICs() {
		for _, a := range n.DNS() {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out
}

// ErrNoDNS is returned by LookupHost when no DNS server is configured.
var ErrNoDNS = errors.New("core: no DNS server configured (set one with ipconfig(dns=...) or get one from DHCP)")

// LookupHost returns the addresses of host, the preferred family first.
func (st *Stack) LookupHost(ctx context.Context, host string) ([]string, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []string{a.String()}, nil
	}
	st.dns.mu.Lock()
	prefer := st.dns.prefer
	if e, ok := st.dns.cache[host]; ok && time.Now().Before(e.expires) {
		st.dns.mu.Unlock()
		return orderFamilies(slices.Clone(e.addrs), prefer), nil
	}
	st.dns.mu.Unlock()
	servers := st.DNSServers()
	if len(servers) == 0 {
		return nil, &net.DNSError{Err: ErrNoDNS.Error(), Name: host}
	}
	var next atomic.Uint32 // A and AAAA queries dial concurrently
	r := &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			// The resolver asks for the servers of /etc/resolv.conf; ours
			// are taken in turn instead.
			s := servers[int(next.Add(1)-1)%len(servers)]
			return st.dial(ctx, 0, network, netip.AddrPortFrom(s, 53).String())
		},
	}
	addrs, err := r.LookupHost(ctx, host)
	if err != nil {
		// Go's resolver names the server of /etc/resolv.conf in its
		// error; name ours instead.
		var de *net.DNSError
		if errors.As(err, &de) {
			de.Server = joinAddrs(servers)
		}
		return nil, err
	}
	st.dns.mu.Lock()
	if st.dns.cache == nil {
		st.dns.cache = map[string]dnsEntry{}
	}
	st.dns.cache[host] = dnsEntry{addrs: slices.Clone(addrs), expires: time.Now().Add(dnsCacheTTL)}
	st.dns.mu.Unlock()
	return orderFamilies(addrs, prefer), nil
}

// orderFamilies puts the preferred family's addresses first (stable).
func orderFamilies(addrs []string, prefer int) []string {
	is6 := func(s string) bool { a, err := netip.ParseAddr(s); return err == nil && a.Is6() && !a.Is4In6() }
	slices.SortStableFunc(addrs, func(a, b string) int {
		ra, rb := is6(a) != (prefer == 6), is6(b) != (prefer == 6)
		switch {
		case ra == rb:
			return 0
		case !ra:
			return -1
		}
		return 1
	})
	return addrs
}
