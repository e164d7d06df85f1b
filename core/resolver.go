package core

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// The core's DNS resolver (see dns.go for what it promises): queries are
// packed and unpacked with github.com/miekg/dns and travel over the
// stack's own sockets, UDP first and TCP when a UDP reply is truncated.
// Nothing is read from /etc/resolv.conf: the timeouts and attempts are
// these constants.
const (
	// dnsAttemptTimeout is how long one query waits for its reply.
	dnsAttemptTimeout = 2 * time.Second
	// dnsAttempts is how many times a query is sent to one server before
	// the next server is asked; only a timeout earns another attempt. A
	// server that never answers costs a lookup dnsAttempts ×
	// dnsAttemptTimeout (4 s): the A and AAAA queries wait side by side.
	dnsAttempts = 2
	// dnsMinTTL and dnsMaxTTL bound how long an answer is cached, whatever
	// TTL its records carry.
	dnsMinTTL = 5 * time.Second
	dnsMaxTTL = time.Hour
	// dnsNegativeTTL is how long a name that does not exist (NXDOMAIN),
	// or has neither A nor AAAA records, is remembered as such.
	dnsNegativeTTL = 5 * time.Second
	// dnsCacheSize is the most names the cache holds; a new name evicts
	// the expired ones, or else the one that expires first.
	dnsCacheSize = 256
	// dnsMaxCNAMEs is the longest CNAME chain followed in an answer.
	dnsMaxCNAMEs = 8
	// dnsMaxAddrs is the most addresses of one family kept of an answer,
	// so that a server cannot fill the cache with thousands per name.
	dnsMaxAddrs = 16
	// dnsUDPSize is the UDP payload size queries offer (EDNS0), as Go's
	// resolver does: it fits an IPv6 minimum MTU without fragmenting.
	dnsUDPSize = 1232
	// dnsReadBuffer is the UDP receive buffer: larger than dnsUDPSize for
	// servers that ignore it.
	dnsReadBuffer = 4096
)

// errAttemptTimeout is one query attempt getting no reply in time.
var errAttemptTimeout = errors.New("timed out")

// errMalformed is a reply that cannot be parsed or does not fit the query.
var errMalformed = errors.New("malformed reply")

// queryOutcome is what one query (one name, one type) got from a server.
type queryOutcome int

const (
	queryAnswered queryOutcome = iota // NOERROR: the addresses, possibly none (NODATA)
	queryNXDomain                     // NXDOMAIN: the name does not exist
	queryFailed                       // no usable answer: try the next server
)

type queryResult struct {
	outcome queryOutcome
	addrs   []netip.Addr
	ttl     uint32 // queryAnswered: the smallest TTL of the records used
	timeout bool   // queryFailed: every attempt timed out
	err     error  // queryFailed: why
}

func failed(err error) queryResult {
	return queryResult{outcome: queryFailed, err: err, timeout: errors.Is(err, errAttemptTimeout)}
}

// serverResult is what one server said about both families of a name.
type serverResult struct {
	a, aaaa queryResult
}

// askServer sends the A and AAAA queries for name (canonical, absolute)
// to server side by side and waits for both: an NXDOMAIN for one does not
// end the other, because some forwarders answer NXDOMAIN for the type
// they do not have.
func (st *Stack) askServer(ctx context.Context, server netip.Addr, name string) serverResult {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type done struct {
		qtype uint16
		res   queryResult
	}
	ch := make(chan done, 2)
	for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA} {
		go func() {
			ch <- done{qtype, st.query(sctx, server, name, qtype)}
		}()
	}
	var r serverResult
	for range 2 {
		d := <-ch // each query returns soon after sctx ends
		if d.qtype == dns.TypeA {
			r.a = d.res
		} else {
			r.aaaa = d.res
		}
	}
	return r
}

// query asks server for one type of name, again after a timeout up to
// dnsAttempts times, and classifies the reply.
func (st *Stack) query(ctx context.Context, server netip.Addr, name string, qtype uint16) queryResult {
	var err error
	for range dnsAttempts {
		var resp *dns.Msg
		resp, err = st.exchange(ctx, server, name, qtype)
		if err == nil {
			return classify(resp, name, qtype)
		}
		if ctxErr(ctx) != nil || !errors.Is(err, errAttemptTimeout) {
			break
		}
	}
	if e := ctxErr(ctx); e != nil {
		err = e
	}
	return failed(err)
}

// ctxErr is ctx's error, or DeadlineExceeded once ctx's deadline has
// passed even if its timer has not fired yet: a socket deadline set to
// the same instant may fire first, and must not count as a timeout of
// the server.
func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}

// classify turns a reply that matches its query into a result.
func classify(resp *dns.Msg, name string, qtype uint16) queryResult {
	switch resp.Rcode {
	case dns.RcodeSuccess:
	case dns.RcodeNameError:
		return queryResult{outcome: queryNXDomain}
	default: // SERVFAIL, REFUSED, FORMERR, NOTIMP, ...
		return failed(fmt.Errorf("server answered %s", dns.RcodeToString[resp.Rcode]))
	}
	addrs, ttl, err := extract(resp.Answer, name, qtype)
	if err != nil {
		return failed(err)
	}
	if len(resp.Answer) == 0 && !resp.Authoritative && !resp.RecursionAvailable && !hasSOA(resp.Ns) {
		// A server that does not recurse, pointing elsewhere: it said
		// nothing about the name (Go's resolver calls it a lame referral).
		return failed(errors.New("lame referral (the server does not recurse)"))
	}
	return queryResult{outcome: queryAnswered, addrs: addrs, ttl: ttl}
}

func hasSOA(rrs []dns.RR) bool {
	for _, rr := range rrs {
		if _, ok := rr.(*dns.SOA); ok {
			return true
		}
	}
	return false
}

// extract takes the addresses of type qtype for name from an answer
// section, following CNAMEs from name up to dnsMaxCNAMEs links. Records
// for any other name are ignored. ttl is the smallest TTL of the records
// used (CNAMEs included); no addresses is not an error (NODATA).
func extract(answer []dns.RR, name string, qtype uint16) (addrs []netip.Addr, ttl uint32, err error) {
	ttl = ^uint32(0)
	target := name
	for links := 0; ; links++ {
		var next string
		cnameTTL := uint32(0)
		for _, rr := range answer {
			h := rr.Header()
			if h.Class != dns.ClassINET || !strings.EqualFold(h.Name, target) {
				continue
			}
			var a netip.Addr
			switch r := rr.(type) {
			case *dns.A:
				if qtype == dns.TypeA {
					a, _ = netip.AddrFromSlice(r.A.To4())
				}
			case *dns.AAAA:
				if qtype == dns.TypeAAAA {
					a, _ = netip.AddrFromSlice(r.AAAA.To16())
				}
			case *dns.CNAME:
				if next == "" {
					next, cnameTTL = r.Target, h.Ttl
				}
			}
			if a.IsValid() {
				if !containsAddr(addrs, a) {
					addrs = append(addrs, a)
				}
				ttl = min(ttl, h.Ttl)
			}
		}
		if len(addrs) > 0 || next == "" {
			if len(addrs) == 0 {
				ttl = 0
			}
			return addrs, ttl, nil
		}
		if links == dnsMaxCNAMEs {
			return nil, 0, fmt.Errorf("CNAME chain from %s longer than %d", name, dnsMaxCNAMEs)
		}
		target, ttl = next, min(ttl, cnameTTL)
	}
}

func containsAddr(as []netip.Addr, a netip.Addr) bool {
	for _, b := range as {
		if a == b {
			return true
		}
	}
	return false
}

// exchange sends one query to server and returns its reply: over UDP,
// then over TCP if the UDP reply was truncated. The UDP exchange gets
// dnsAttemptTimeout; the TCP one gets it for the connection and again for
// the exchange (a truncated answer can cost an attempt 6 s). An attempt
// that runs out returns errAttemptTimeout, one stopped by ctx returns
// ctx's error.
func (st *Stack) exchange(ctx context.Context, server netip.Addr, name string, qtype uint16) (*dns.Msg, error) {
	q := new(dns.Msg)
	q.SetQuestion(name, qtype) // a random ID (crypto/rand), RD set
	q.SetEdns0(dnsUDPSize, false)
	wire, err := q.Pack()
	if err != nil {
		return nil, err
	}
	resp, err := st.exchangeUDP(ctx, server, q, wire)
	if err == nil && resp.Truncated {
		resp, err = st.exchangeTCP(ctx, server, q, wire)
	}
	return resp, err
}

// attempt bounds one exchange on c by dnsAttemptTimeout and ctx: when
// either ends, c's reads and writes fail at once. stop releases it;
// mapErr maps the error a read or write returned.
func attempt(ctx context.Context, c net.Conn) (stop func(), mapErr func(error) error) {
	actx, cancel := context.WithTimeout(ctx, dnsAttemptTimeout)
	if d, ok := actx.Deadline(); ok {
		c.SetDeadline(d)
	}
	unwatch := context.AfterFunc(actx, func() { c.SetDeadline(time.Unix(1, 0)) })
	mapErr = func(err error) error {
		var ne net.Error
		switch {
		case ctxErr(ctx) != nil:
			return ctxErr(ctx)
		case actx.Err() != nil, errors.As(err, &ne) && ne.Timeout():
			return errAttemptTimeout
		}
		return err
	}
	return func() { unwatch(); cancel() }, mapErr
}

// exchangeUDP sends wire from a fresh socket (a new source port each
// attempt) and waits for the reply: from server's port 53, with q's ID
// and question. Anything else that arrives is ignored; a reply with the
// right ID that cannot be parsed is errMalformed.
func (st *Stack) exchangeUDP(ctx context.Context, server netip.Addr, q *dns.Msg, wire []byte) (*dns.Msg, error) {
	want := netip.AddrPortFrom(server.Unmap().WithZone(""), 53)
	c, err := st.dial(ctx, 0, "udp", netip.AddrPortFrom(server, 53).String())
	if err != nil {
		return nil, err
	}
	defer c.Close()
	stop, mapErr := attempt(ctx, c)
	defer stop()
	if _, err := c.Write(wire); err != nil {
		return nil, mapErr(err)
	}
	pc, ok := c.(net.PacketConn)
	if !ok {
		return nil, errors.New("core: UDP socket is not a PacketConn")
	}
	buf := make([]byte, dnsReadBuffer)
	for {
		n, src, err := pc.ReadFrom(buf)
		if err != nil {
			return nil, mapErr(err)
		}
		if ua, ok := src.(*net.UDPAddr); !ok || netip.AddrPortFrom(ua.AddrPort().Addr().Unmap(), ua.AddrPort().Port()) != want {
			continue // not from the server: a spoofed or stray packet
		}
		resp := new(dns.Msg)
		if err := resp.Unpack(buf[:n]); err != nil {
			if n >= 2 && binary.BigEndian.Uint16(buf) == q.Id {
				return nil, fmt.Errorf("%w: %v", errMalformed, err)
			}
			continue
		}
		if replyTo(q, resp) {
			return resp, nil
		}
	}
}

// exchangeTCP sends wire over a TCP connection (RFC 1035 4.2.2: a
// two-byte length first) and reads the one reply.
func (st *Stack) exchangeTCP(ctx context.Context, server netip.Addr, q *dns.Msg, wire []byte) (*dns.Msg, error) {
	dctx, cancel := context.WithTimeout(ctx, dnsAttemptTimeout)
	c, err := st.dial(dctx, 0, "tcp", netip.AddrPortFrom(server, 53).String())
	cancel()
	if err != nil {
		if err := ctxErr(ctx); err != nil {
			return nil, err
		}
		if dctx.Err() != nil {
			return nil, errAttemptTimeout
		}
		return nil, err
	}
	defer c.Close()
	stop, mapErr := attempt(ctx, c)
	defer stop()
	msg := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(wire)), uint16(len(wire)))
	if _, err := c.Write(append(msg, wire...)); err != nil {
		return nil, mapErr(err)
	}
	var l [2]byte
	if _, err := io.ReadFull(c, l[:]); err != nil {
		return nil, mapErr(err)
	}
	buf := make([]byte, binary.BigEndian.Uint16(l[:]))
	if _, err := io.ReadFull(c, buf); err != nil {
		return nil, mapErr(err)
	}
	resp := new(dns.Msg)
	if err := resp.Unpack(buf); err != nil {
		return nil, fmt.Errorf("%w: %v", errMalformed, err)
	}
	if !replyTo(q, resp) {
		return nil, fmt.Errorf("%w: its ID or question is not the query's", errMalformed)
	}
	return resp, nil
}

// replyTo reports whether resp answers q: a response with q's ID and
// question. An error reply (neither NOERROR nor NXDOMAIN) without a
// question is accepted too, as some servers send them: it can only make
// the resolver move on to the next server.
func replyTo(q, resp *dns.Msg) bool {
	if !resp.Response || resp.Id != q.Id {
		return false
	}
	if len(resp.Question) == 0 {
		return resp.Rcode != dns.RcodeSuccess && resp.Rcode != dns.RcodeNameError
	}
	a, b := q.Question[0], resp.Question[0]
	return len(resp.Question) == 1 && a.Qtype == b.Qtype && a.Qclass == b.Qclass && strings.EqualFold(a.Name, b.Name)
}

// dnsName checks host as a DNS name (RFC 1035 lengths; letters, digits,
// '-' and '_', as Go's resolver accepts) and returns it lower-case and
// absolute (with the final dot). A name without dots is asked as is:
// there are no search domains.
func dnsName(host string) (string, error) {
	name := strings.TrimSuffix(host, ".")
	if name == "" {
		return "", errors.New("invalid name: empty")
	}
	if len(name) > 253 {
		return "", fmt.Errorf("invalid name: %d bytes long, more than 253", len(name))
	}
	for i, label := range strings.Split(name, ".") {
		switch {
		case label == "":
			return "", fmt.Errorf("invalid name: label %d is empty", i+1)
		case len(label) > 63:
			return "", fmt.Errorf("invalid name: label %d is %d bytes long, more than 63", i+1, len(label))
		case label[0] == '-' || label[len(label)-1] == '-':
			return "", fmt.Errorf("invalid name: label %q starts or ends with '-'", label)
		}
		for _, c := range []byte(label) {
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return "", fmt.Errorf("invalid name: label %q has the character %q", label, c)
			}
		}
	}
	return strings.ToLower(name) + ".", nil
}

// dnsCache holds looked-up names (canonical, absolute) until their TTL
// runs out; at most dnsCacheSize of them.
type dnsCache struct {
	entries map[string]dnsEntry
}

type dnsEntry struct {
	addrs    []netip.Addr // both families, in the server's order
	notFound string       // why the name has no address (NXDOMAIN, NODATA); "" if it has
	server   string       // which server said notFound
	expires  time.Time
}

// get returns name's entry if it has not expired.
func (c *dnsCache) get(name string, now time.Time) (dnsEntry, bool) {
	e, ok := c.entries[name]
	if !ok {
		return dnsEntry{}, false
	}
	if !now.Before(e.expires) {
		delete(c.entries, name)
		return dnsEntry{}, false
	}
	return e, true
}

// put stores name's entry; when the cache is full it first drops the
// expired entries, then, if it is still full, the one that expires first.
func (c *dnsCache) put(name string, e dnsEntry, now time.Time) {
	if c.entries == nil {
		c.entries = map[string]dnsEntry{}
	}
	if _, ok := c.entries[name]; !ok && len(c.entries) >= dnsCacheSize {
		for k, v := range c.entries {
			if !now.Before(v.expires) {
				delete(c.entries, k)
			}
		}
		for len(c.entries) >= dnsCacheSize {
			first := ""
			for k, v := range c.entries {
				if first == "" || v.expires.Before(c.entries[first].expires) {
					first = k
				}
			}
			delete(c.entries, first)
		}
	}
	c.entries[name] = e
}

// cacheTTL is how long an answer whose smallest record TTL is ttl seconds
// is kept.
func cacheTTL(ttl uint32) time.Duration {
	return min(max(time.Duration(ttl)*time.Second, dnsMinTTL), dnsMaxTTL)
}
