package core

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"
)

// DNS: a small resolver of the core's own (resolver.go), on the stack's
// sockets and the servers configured here, never /etc/resolv.conf.
//
//   - Servers are asked one at a time in DNSServers order: the static ones
//     (network.ipconfig(dns=...)) first, then those learnt on NICs (DHCP,
//     DHCPv6, router advertisements, PPP).
//   - A lookup sends its A and AAAA queries side by side to the same
//     server, and takes both answers from it.
//   - A query is sent again after dnsAttemptTimeout (2 s) without a
//     reply, dnsAttempts (2) times in all; then the next server is asked.
//     SERVFAIL, REFUSED or another error code, a malformed reply or an
//     error sending (no route) moves on at once. A server that never
//     answers, or whose host answers with ICMP port unreachable (which
//     the stack's UDP sockets do not report to a reader), thus costs a
//     lookup 4 s.
//   - NXDOMAIN is final: the next server is not asked. (If the other
//     family's query answered with addresses, those stand: some
//     forwarders answer NXDOMAIN for the type they lack.) NOERROR without
//     records for one family is an answer (the other family may have
//     some); without records for both, the name has no address. If every
//     server fails but one gave one family's addresses, those are
//     returned (and not cached). At most dnsMaxAddrs (16) addresses of
//     each family are kept.
//   - CNAME chains are followed within the answer section, up to
//     dnsMaxCNAMEs links; records for names outside the chain are ignored.
//   - Answers are cached for their records' smallest TTL, clamped to
//     dnsMinTTL..dnsMaxTTL (5 s .. 1 h); NXDOMAIN and names without
//     addresses for dnsNegativeTTL (5 s). The cache holds dnsCacheSize
//     (256) names and is emptied by SetDNS.
//   - Each query has a random ID and a fresh source port; a reply counts
//     only if it comes from the server's address and port 53 with the
//     query's ID and question. Anything else is ignored, so a spoofed
//     reply from another address cannot answer a query. A truncated UDP
//     reply is asked again over TCP.
//
// Errors are *net.DNSError, naming the servers asked: IsNotFound for a
// name that does not exist or has no address, IsTimeout when no server
// answered in time. A context that ends stops the lookup at once; its
// error is the DNSError's UnwrapErr, as is ErrNoDNS.

type dnsState struct {
	mu     sync.Mutex
	static []netip.Addr
	prefer int // 4 or 6
	cache  dnsCache
	gen    uint64           // counts SetDNS calls: a lookup that began before one is not cached
	now    func() time.Time // the cache's clock (nil: time.Now); tests set it
}

func (d *dnsState) clock() time.Time {
	if d.now != nil {
		return d.now()
	}
	return time.Now()
}

// SetDNS sets the static DNS servers (network.ipconfig(dns=...)); they are
// asked before any learnt ones. It empties the cache.
func (st *Stack) SetDNS(servers []netip.Addr) {
	st.dns.mu.Lock()
	st.dns.static = slices.Clone(servers)
	st.dns.cache = dnsCache{}
	st.dns.gen++
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
// An IP address is returned as it is. Errors are *net.DNSError.
func (st *Stack) LookupHost(ctx context.Context, host string) ([]string, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []string{a.String()}, nil
	}
	name, err := dnsName(host)
	if err != nil {
		return nil, &net.DNSError{Err: err.Error(), Name: host, IsNotFound: true}
	}
	st.dns.mu.Lock()
	prefer, gen := st.dns.prefer, st.dns.gen
	e, hit := st.dns.cache.get(name, st.dns.clock())
	st.dns.mu.Unlock()
	if !hit {
		servers := st.DNSServers()
		if len(servers) == 0 {
			return nil, &net.DNSError{Err: ErrNoDNS.Error(), Name: host, UnwrapErr: ErrNoDNS}
		}
		var cache bool
		e, cache, err = st.lookupDNS(ctx, host, name, servers)
		if err != nil {
			return nil, err
		}
		if cache {
			st.dns.mu.Lock()
			if st.dns.gen == gen {
				st.dns.cache.put(name, e, st.dns.clock())
			}
			st.dns.mu.Unlock()
		}
	}
	if e.notFound != "" {
		return nil, &net.DNSError{Err: e.notFound, Name: host, Server: e.server, IsNotFound: true}
	}
	return hostStrings(e.addrs, prefer), nil
}

// Error texts of names without addresses.
const (
	errNoSuchHost = "no such host"
	errNoAddress  = "no such host (the name has no A or AAAA records)"
)

// lookupDNS asks the servers in turn for name's addresses (see the
// comment at the top of this file) and returns the entry to cache, with
// its lifetime counted from the cache's clock when cache is set.
func (st *Stack) lookupDNS(ctx context.Context, host, name string, servers []netip.Addr) (e dnsEntry, cache bool, err error) {
	var (
		asked    []netip.Addr
		reasons  []string
		partial  []netip.Addr
		timedOut = true // every query failed by timing out
	)
	for _, s := range servers {
		asked = append(asked, s)
		r := st.askServer(ctx, s, name)
		if err := ctxErr(ctx); err != nil {
			return e, false, &net.DNSError{Err: err.Error(), Name: host, Server: joinAddrs(asked),
				IsTimeout: errors.Is(err, context.DeadlineExceeded), UnwrapErr: err}
		}
		a, aaaa := r.a, r.aaaa
		if a.outcome == queryNXDomain || aaaa.outcome == queryNXDomain {
			// Final, unless the other type has addresses: some forwarders
			// answer NXDOMAIN for the type they lack.
			other := a
			if a.outcome == queryNXDomain {
				other = aaaa
			}
			if other.outcome == queryAnswered && len(other.addrs) > 0 {
				return st.positive(other), true, nil
			}
			return st.negative(errNoSuchHost, s), true, nil
		}
		if a.outcome == queryAnswered && aaaa.outcome == queryAnswered {
			if len(a.addrs)+len(aaaa.addrs) == 0 {
				return st.negative(errNoAddress, s), true, nil
			}
			return st.positive(a, aaaa), true, nil
		}
		var why []string
		for _, q := range []struct {
			typ string
			res queryResult
		}{{"A", a}, {"AAAA", aaaa}} {
			switch {
			case q.res.outcome != queryFailed:
				timedOut = false
				if partial == nil && len(q.res.addrs) > 0 {
					partial = q.res.addrs
				}
			case q.res.timeout:
				why = append(why, fmt.Sprintf("%s: no reply in %d attempts of %v", q.typ, dnsAttempts, dnsAttemptTimeout))
			default:
				timedOut = false
				why = append(why, q.typ+": "+q.res.err.Error())
			}
		}
		reasons = append(reasons, s.String()+" ("+strings.Join(why, ", ")+")")
		st.log.Debug("DNS server failed", "server", s, "name", name, "why", strings.Join(why, ", "))
	}
	if partial != nil {
		return dnsEntry{addrs: partial}, false, nil
	}
	return e, false, &net.DNSError{Err: "no answer: " + strings.Join(reasons, "; "), Name: host, Server: joinAddrs(asked),
		IsTimeout: timedOut, IsTemporary: true}
}

// positive is the entry of the addresses the answers gave (at most
// dnsMaxAddrs of each), kept for the smallest TTL of those used.
func (st *Stack) positive(answers ...queryResult) dnsEntry {
	var addrs []netip.Addr
	ttl := ^uint32(0)
	for _, q := range answers {
		if len(q.addrs) > 0 {
			addrs = append(addrs, q.addrs[:min(len(q.addrs), dnsMaxAddrs)]...)
			ttl = min(ttl, q.ttl)
		}
	}
	st.dns.mu.Lock()
	now := st.dns.clock()
	st.dns.mu.Unlock()
	return dnsEntry{addrs: addrs, expires: now.Add(cacheTTL(ttl))}
}

// negative is the entry of a name that server said does not exist or has
// no address.
func (st *Stack) negative(why string, server netip.Addr) dnsEntry {
	st.dns.mu.Lock()
	now := st.dns.clock()
	st.dns.mu.Unlock()
	return dnsEntry{notFound: why, server: server.String(), expires: now.Add(dnsNegativeTTL)}
}

// hostStrings lists addrs as strings, the preferred family first, each
// family in the server's order.
func hostStrings(addrs []netip.Addr, prefer int) []string {
	out := make([]string, 0, len(addrs))
	for _, first := range []bool{true, false} {
		for _, a := range addrs {
			if is6 := a.Is6() && !a.Is4In6(); (is6 == (prefer == 6)) == first {
				out = append(out, a.String())
			}
		}
	}
	return out
}
