package simnet

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"time"
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
