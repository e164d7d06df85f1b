package core

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Hooks for the tests of package core_test (dns_test.go).

// SetDNSClock sets the clock st's DNS cache runs on.
func SetDNSClock(st *Stack, now func() time.Time) {
	st.dns.mu.Lock()
	st.dns.now = now
	st.dns.mu.Unlock()
}

// The resolver's constants.
const (
	DNSAttemptTimeout = dnsAttemptTimeout
	DNSAttempts       = dnsAttempts
	DNSMinTTL         = dnsMinTTL
	DNSMaxTTL         = dnsMaxTTL
	DNSNegativeTTL    = dnsNegativeTTL
	DNSMaxAddrs       = dnsMaxAddrs
)

func TestDNSName(t *testing.T) {
	long := strings.Repeat("a", 63)
	for _, c := range []struct {
		host, want, err string
	}{
		{"www.Example.COM", "www.example.com.", ""},
		{"www.example.com.", "www.example.com.", ""},
		{"router", "router.", ""},
		{"_srv.x-1.test", "_srv.x-1.test.", ""},
		{long + ".test", long + ".test.", ""},
		{strings.Repeat(long+".", 3) + strings.Repeat("b", 61), strings.Repeat(long+".", 3) + strings.Repeat("b", 61) + ".", ""}, // 253 bytes
		{strings.Repeat(long+".", 3) + strings.Repeat("b", 62), "", "254 bytes long, more than 253"},
		{"x." + long + "a.test", "", "label 2 is 64 bytes long, more than 63"},
		{"", "", "empty"},
		{".", "", "empty"},
		{"a..b", "", "label 2 is empty"},
		{".a", "", "label 1 is empty"},
		{"-a.test", "", "starts or ends with '-'"},
		{"a-.test", "", "starts or ends with '-'"},
		{"a b.test", "", "character ' '"},
		{"a/b.test", "", "character '/'"},
	} {
		got, err := dnsName(c.host)
		switch {
		case c.err == "" && (err != nil || got != c.want):
			t.Errorf("dnsName(%q) = %q, %v; want %q", c.host, got, err, c.want)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("dnsName(%q) = %q, %v; want an error containing %q", c.host, got, err, c.err)
		}
	}
}

func rrs(t *testing.T, lines ...string) []dns.RR {
	t.Helper()
	var out []dns.RR
	for _, l := range lines {
		rr, err := dns.NewRR(l)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rr)
	}
	return out
}

func addrs(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

func TestExtract(t *testing.T) {
	chain := func(n int) []string { // c0 -> c1 -> ... -> cn, which has an A record
		var l []string
		for i := range n {
			l = append(l, "c"+string(rune('a'+i))+".test. 60 IN CNAME c"+string(rune('a'+i+1))+".test.")
		}
		return append(l, "c"+string(rune('a'+n))+".test. 60 IN A 192.0.2.9")
	}
	for _, c := range []struct {
		name   string
		answer []string
		qname  string
		qtype  uint16
		want   []netip.Addr
		ttl    uint32
		err    string
	}{
		{"A records", []string{"a.test. 60 IN A 192.0.2.1", "a.test. 30 IN A 192.0.2.2"}, "a.test.", dns.TypeA, addrs("192.0.2.1", "192.0.2.2"), 30, ""},
		{"AAAA records", []string{"a.test. 60 IN AAAA 2001:db8::1"}, "a.test.", dns.TypeAAAA, addrs("2001:db8::1"), 60, ""},
		{"owner names are case-insensitive", []string{"A.Test. 60 IN A 192.0.2.1"}, "a.test.", dns.TypeA, addrs("192.0.2.1"), 60, ""},
		{"duplicates are dropped", []string{"a.test. 60 IN A 192.0.2.1", "a.test. 60 IN A 192.0.2.1"}, "a.test.", dns.TypeA, addrs("192.0.2.1"), 60, ""},
		{"other types and names are ignored", []string{
			"a.test. 60 IN AAAA 2001:db8::1", "b.test. 60 IN A 198.51.100.6", "a.test. 60 CH A 198.51.100.7", "a.test. 60 IN A 192.0.2.1",
		}, "a.test.", dns.TypeA, addrs("192.0.2.1"), 60, ""},
		{"a CNAME chain, TTLs of its links counted", []string{
			"alias.test. 20 IN CNAME mid.test.", "mid.test. 300 IN CNAME www.test.", "www.test. 60 IN A 192.0.2.3",
		}, "alias.test.", dns.TypeA, addrs("192.0.2.3"), 20, ""},
		{"records beside the chain are ignored", []string{
			"evil.test. 5 IN A 198.51.100.6", "alias.test. 60 IN CNAME www.test.", "alias2.test. 60 IN A 198.51.100.7", "www.test. 60 IN A 192.0.2.3",
		}, "alias.test.", dns.TypeA, addrs("192.0.2.3"), 60, ""},
		{"a chain in any order", []string{
			"www.test. 60 IN A 192.0.2.3", "mid.test. 60 IN CNAME www.test.", "alias.test. 60 IN CNAME mid.test.",
		}, "alias.test.", dns.TypeA, addrs("192.0.2.3"), 60, ""},
		{"a chain ending without records: NODATA", []string{"alias.test. 60 IN CNAME www.test."}, "alias.test.", dns.TypeA, nil, 0, ""},
		{"empty: NODATA", nil, "a.test.", dns.TypeA, nil, 0, ""},
		{"8 links are followed", chain(8), "ca.test.", dns.TypeA, addrs("192.0.2.9"), 60, ""},
		{"9 links are too many", chain(9), "ca.test.", dns.TypeA, nil, 0, "CNAME chain from ca.test. longer than 8"},
		{"a CNAME loop ends", []string{"a.test. 60 IN CNAME b.test.", "b.test. 60 IN CNAME a.test."}, "a.test.", dns.TypeA, nil, 0, "longer than 8"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ttl, err := extract(rrs(t, c.answer...), c.qname, c.qtype)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("extract = %v, %v; want an error containing %q", got, err, c.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, c.want) || ttl != c.ttl {
				t.Fatalf("extract = %v (TTL %d), %v; want %v (TTL %d)", got, ttl, err, c.want, c.ttl)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	q := new(dns.Msg).SetQuestion("a.test.", dns.TypeA)
	reply := func(rcode int, aa, ra bool, ns ...dns.RR) *dns.Msg {
		m := new(dns.Msg).SetRcode(q, rcode)
		m.Authoritative, m.RecursionAvailable, m.Ns = aa, ra, ns
		return m
	}
	soa := rrs(t, "test. 60 IN SOA ns.test. host.test. 1 2 3 4 5")[0]
	for _, c := range []struct {
		name string
		resp *dns.Msg
		want queryOutcome
		err  string
	}{
		{"NXDOMAIN", reply(dns.RcodeNameError, true, true), queryNXDomain, ""},
		{"SERVFAIL", reply(dns.RcodeServerFailure, false, true), queryFailed, "SERVFAIL"},
		{"REFUSED", reply(dns.RcodeRefused, false, true), queryFailed, "REFUSED"},
		{"FORMERR", reply(dns.RcodeFormatError, false, true), queryFailed, "FORMERR"},
		{"NODATA from a recursive server", reply(dns.RcodeSuccess, false, true), queryAnswered, ""},
		{"NODATA, authoritative", reply(dns.RcodeSuccess, true, false), queryAnswered, ""},
		{"NODATA with an SOA", reply(dns.RcodeSuccess, false, false, soa), queryAnswered, ""},
		{"lame referral", reply(dns.RcodeSuccess, false, false), queryFailed, "lame referral"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := classify(c.resp, "a.test.", dns.TypeA)
			if r.outcome != c.want || (c.err != "") != (r.err != nil) || r.err != nil && !strings.Contains(r.err.Error(), c.err) {
				t.Fatalf("classify = %+v; want outcome %d, error %q", r, c.want, c.err)
			}
			if r.timeout {
				t.Fatal("an answer counted as a timeout")
			}
		})
	}
}

func TestReplyTo(t *testing.T) {
	q := new(dns.Msg).SetQuestion("a.test.", dns.TypeA)
	edit := func(f func(m *dns.Msg)) *dns.Msg {
		m := new(dns.Msg).SetReply(q)
		f(m)
		return m
	}
	for _, c := range []struct {
		name string
		resp *dns.Msg
		want bool
	}{
		{"the reply", edit(func(*dns.Msg) {}), true},
		{"the name in other case", edit(func(m *dns.Msg) { m.Question[0].Name = "A.TEST." }), true},
		{"another ID", edit(func(m *dns.Msg) { m.Id++ }), false},
		{"not a response", edit(func(m *dns.Msg) { m.Response = false }), false},
		{"another name", edit(func(m *dns.Msg) { m.Question[0].Name = "b.test." }), false},
		{"another type", edit(func(m *dns.Msg) { m.Question[0].Qtype = dns.TypeAAAA }), false},
		{"another class", edit(func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassCHAOS }), false},
		{"two questions", edit(func(m *dns.Msg) { m.Question = append(m.Question, m.Question[0]) }), false},
		{"REFUSED without a question", edit(func(m *dns.Msg) { m.Question, m.Rcode = nil, dns.RcodeRefused }), true},
		{"NOERROR without a question", edit(func(m *dns.Msg) { m.Question = nil }), false},
		{"NXDOMAIN without a question", edit(func(m *dns.Msg) { m.Question, m.Rcode = nil, dns.RcodeNameError }), false},
	} {
		if got := replyTo(q, c.resp); got != c.want {
			t.Errorf("%s: replyTo = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestCacheTTL(t *testing.T) {
	for ttl, want := range map[uint32]time.Duration{0: 5 * time.Second, 4: 5 * time.Second, 5: 5 * time.Second, 300: 5 * time.Minute, 3600: time.Hour, 86400: time.Hour, ^uint32(0): time.Hour} {
		if got := cacheTTL(ttl); got != want {
			t.Errorf("cacheTTL(%d) = %v, want %v", ttl, got, want)
		}
	}
}

func TestDNSCache(t *testing.T) {
	t0 := time.Unix(1e9, 0)
	var c dnsCache
	name := func(i int) string {
		return "n" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + "." + string(rune('a'+i/26)) + ".test."
	}
	// Full of names expiring one second apart, the first already expired
	// when the next one comes.
	for i := range dnsCacheSize {
		c.put(name(i), dnsEntry{addrs: addrs("192.0.2.1"), expires: t0.Add(time.Duration(i) * time.Second)}, t0)
	}
	if len(c.entries) != dnsCacheSize {
		t.Fatalf("%d entries, want %d", len(c.entries), dnsCacheSize)
	}
	if _, ok := c.get(name(0), t0); ok {
		t.Fatal("an entry that expires now was returned")
	}
	c.put(name(0), dnsEntry{expires: t0.Add(time.Hour)}, t0) // room again after the get dropped it
	now := t0.Add(10*time.Second + time.Millisecond)         // entries 1..10 have expired
	c.put("new.test.", dnsEntry{expires: now.Add(time.Hour)}, now)
	if len(c.entries) != dnsCacheSize-9 {
		t.Fatalf("%d entries after expired ones were evicted, want %d", len(c.entries), dnsCacheSize-9)
	}
	for i := 1; i <= 10; i++ {
		if _, ok := c.entries[name(i)]; ok {
			t.Fatalf("expired entry %d kept", i)
		}
	}
	// Full of live entries: the one expiring first goes.
	for i := 0; len(c.entries) < dnsCacheSize; i++ {
		c.put("fill"+string(rune('a'+i%26))+string(rune('a'+i/26))+".test.", dnsEntry{expires: now.Add(2 * time.Hour)}, now)
	}
	c.put("last.test.", dnsEntry{expires: now.Add(time.Hour)}, now)
	if len(c.entries) != dnsCacheSize {
		t.Fatalf("%d entries, want %d", len(c.entries), dnsCacheSize)
	}
	if _, ok := c.entries[name(11)]; ok {
		t.Fatal("the entry expiring first was kept")
	}
	if _, ok := c.get("last.test.", now); !ok {
		t.Fatal("the new entry is missing")
	}
	// Replacing a name does not evict another.
	c.put("last.test.", dnsEntry{expires: now.Add(time.Hour)}, now)
	if _, ok := c.entries[name(12)]; !ok || len(c.entries) != dnsCacheSize {
		t.Fatal("replacing an entry evicted another")
	}
}
