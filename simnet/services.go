package simnet

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// The router's DNS and HTTP servers listen on its LAN NIC. Without IPv6
// they take its IPv4 address; with IPv6 they take every address of the
// NIC through one dual-stack socket each, so that they need not wait for
// duplicate address detection to finish on RouterAddr6 before binding it.

// listenAddr is the network and address the servers bind, for port.
func (r *Router) listenAddr(kind string, port uint16) (network, address string) {
	if r.ipv6 {
		return kind, fmt.Sprintf(":%d", port)
	}
	return kind + "4", netip.AddrPortFrom(RouterAddr, port).String()
}

// zone is what the DNS server knows: router.<domain> and www.<domain>,
// both the router itself.
func (r *Router) zone() map[string][]netip.Addr {
	addrs := []netip.Addr{RouterAddr}
	if r.ipv6 {
		addrs = append(addrs, RouterAddr6)
	}
	return map[string][]netip.Addr{
		dns.Fqdn("router." + r.Domain): addrs,
		dns.Fqdn("www." + r.Domain):    addrs,
	}
}

// answer is the DNS server's handler: A and AAAA records from the zone,
// NXDOMAIN for any other name, an empty answer for other types.
func answer(zone map[string][]netip.Addr) dns.HandlerFunc {
	return func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		m.Authoritative = true
		for _, question := range q.Question {
			addrs, ok := zone[strings.ToLower(question.Name)]
			if !ok {
				m.Rcode = dns.RcodeNameError
				continue
			}
			for _, a := range addrs {
				hdr := dns.RR_Header{Name: question.Name, Rrtype: question.Qtype, Class: dns.ClassINET, Ttl: 60}
				switch {
				case question.Qtype == dns.TypeA && a.Is4():
					m.Answer = append(m.Answer, &dns.A{Hdr: hdr, A: a.AsSlice()})
				case question.Qtype == dns.TypeAAAA && a.Is6():
					m.Answer = append(m.Answer, &dns.AAAA{Hdr: hdr, AAAA: a.AsSlice()})
				}
			}
		}
		w.WriteMsg(m)
	}
}

// serveDNS answers queries for the zone on port 53.
func (r *Router) serveDNS() error {
	pc, err := r.NIC.ListenPacket(r.listenAddr("udp", 53))
	if err != nil {
		return fmt.Errorf("simnet: DNS: %w", err)
	}
	mux := dns.NewServeMux()
	mux.Handle(".", answer(r.zone()))
	r.dnsSrv = &dns.Server{PacketConn: pc, Handler: mux}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.dnsSrv.ActivateAndServe()
	}()
	return nil
}

// serveHTTP serves the page on port 80.
func (r *Router) serveHTTP() error {
	ln, err := r.NIC.Listen(r.listenAddr("tcp", 80))
	if err != nil {
		return fmt.Errorf("simnet: HTTP: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", fmt.Sprint(len(r.Page)))
		w.Write(r.Page)
	})
	r.httpSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		if err := r.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return
		}
	}()
	return nil
}

// stopServers shuts the HTTP and DNS servers down.
func (r *Router) stopServers() {
	if r.httpSrv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		r.httpSrv.Shutdown(ctx)
		cancel()
	}
	if r.dnsSrv != nil {
		r.dnsSrv.Shutdown()
	}
}
