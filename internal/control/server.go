package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
)

// Bounds of the API.
const (
	// MaxBody is the largest request body read; a larger one is answered
	// 413. Every value a call takes fits in it many times over.
	MaxBody = 64 << 10
	// MaxStreams is how many event and log streams may be open at once;
	// one more is answered 503.
	MaxStreams = 32
	// DefaultCallTimeout bounds one call when ServerOptions.CallTimeout
	// is 0.
	DefaultCallTimeout = 10 * time.Second
	// DefaultReloadTimeout bounds a reload or restart when
	// ServerOptions.ReloadTimeout is 0: a reload may build the plugin
	// from source first.
	DefaultReloadTimeout = 5 * time.Minute
)

// ServerOptions configure a Server.
type ServerOptions struct {
	// Logger receives a line per mutating request, naming the caller's
	// uid and pid (slog.Default when nil).
	Logger *slog.Logger
	// Logs is the daemon's log ring, which GET /v1/logs serves; without
	// it that endpoint answers NotImplementedError.
	Logs *LogRing
	// Reload, if set, reloads a plugin from its configured source (the
	// daemon's, which keeps its configuration in step); otherwise a
	// reload is Plugin.Reload with the plugin's current source.
	Reload func(ctx context.Context, plugin string) error
	// CallTimeout bounds each call to a NIC or the network module
	// (DefaultCallTimeout when 0).
	CallTimeout time.Duration
	// ReloadTimeout bounds each reload and restart (DefaultReloadTimeout
	// when 0).
	ReloadTimeout time.Duration
	// Version is the daemon's version, as GET /v1/status reports it.
	Version string
}

// Server serves the control API for one host.
type Server struct {
	h       *host.Host
	o       ServerOptions
	log     *slog.Logger
	started time.Time
	handler http.Handler
	srv     *http.Server

	streams   atomic.Int32  // open event and log streams
	closing   chan struct{} // closed by Shutdown: streams end
	closeOnce sync.Once
	heartbeat time.Duration // between comments on an idle stream
}

// NewServer makes the API's server for h.
func NewServer(h *host.Host, o ServerOptions) *Server {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	if o.ReloadTimeout <= 0 {
		o.ReloadTimeout = DefaultReloadTimeout
	}
	s := &Server{h: h, o: o, log: o.Logger.With("part", "control"), started: time.Now(),
		closing: make(chan struct{}), heartbeat: 15 * time.Second}
	s.handler = s.routes()
	s.srv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, peerKey{}, peerOf(c))
		},
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	return s
}

// Handler is the API as an http.Handler, for tests and for serving it
// elsewhere; requests it gets have no peer credentials unless their
// context carries them.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve answers requests on l until Shutdown; it then returns
// http.ErrServerClosed.
func (s *Server) Serve(l net.Listener) error { return s.srv.Serve(l) }

// Shutdown stops taking requests, ends the event and log streams, and
// waits for the calls under way to finish or ctx to end.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closeOnce.Do(func() { close(s.closing) })
	return s.srv.Shutdown(ctx)
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", s.status)
	mux.HandleFunc("GET /v1/nics", s.nics)
	mux.HandleFunc("GET /v1/nics/{name}", s.nic)
	mux.HandleFunc("POST /v1/nics/{name}/{method}", s.mutating(s.nicCall))
	mux.HandleFunc("GET /v1/network", s.network)
	mux.HandleFunc("POST /v1/network/{fn}", s.mutating(s.networkCall))
	mux.HandleFunc("GET /v1/plugins", s.plugins)
	mux.HandleFunc("GET /v1/plugins/{name}", s.plugin)
	mux.HandleFunc("POST /v1/plugins/{name}/reload", s.mutating(s.reload))
	mux.HandleFunc("POST /v1/plugins/{name}/restart", s.mutating(s.restart))
	mux.HandleFunc("POST /v1/plugins/{name}/{action}", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, notFound("a plugin has no action %q; it has reload and restart", clip(r.PathValue("action"))))
	})
	mux.HandleFunc("GET /v1/events", s.events)
	mux.HandleFunc("GET /v1/logs", s.logs)
	mux.HandleFunc("POST /v1/dial", s.dial) // dial.go (the lead's)
	// The same paths with another method, and everything else, get a
	// JSON error rather than the mux's text.
	for _, p := range []string{"/v1/status", "/v1/nics", "/v1/nics/{name}", "/v1/nics/{name}/{method}", "/v1/network",
		"/v1/network/{fn}", "/v1/plugins", "/v1/plugins/{name}", "/v1/plugins/{name}/{action}", "/v1/events", "/v1/logs", "/v1/dial"} {
		mux.HandleFunc(p, s.wrongMethod)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, notFound("no endpoint %s; see docs/control-api.md (GET /v1/status, /v1/nics, /v1/plugins, /v1/events, /v1/logs; POST /v1/nics/NAME/METHOD, /v1/network/FN)", clip(r.URL.Path)))
	})
	return mux
}

func (s *Server) wrongMethod(w http.ResponseWriter, r *http.Request) {
	allow := "GET"
	switch {
	case strings.HasPrefix(r.URL.Path, "/v1/network/"), strings.Count(r.URL.Path, "/") == 4, r.URL.Path == "/v1/dial":
		allow = "POST"
	}
	w.Header().Set("Allow", allow)
	s.fail(w, r, &statusError{http.StatusMethodNotAllowed, apiError{Type: TypeBadRequest,
		Message: fmt.Sprintf("%s %s: this endpoint takes %s", r.Method, clip(r.URL.Path), allow)}})
}

// mutating logs who made a POST request, and how it ended: at level Info
// for one that may change something, at Debug for a getter (active(),
// config('mac')), which scripts may poll.
func (s *Server) mutating(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		a := &audit{}
		r = r.WithContext(context.WithValue(r.Context(), auditKey{}, a))
		t0 := time.Now()
		h(rec, r)
		level := slog.LevelInfo
		if a.getter {
			level = slog.LevelDebug
		}
		peer := PeerFrom(r.Context())
		attrs := []any{"request", r.Method + " " + r.URL.Path, "status", rec.status, "took", time.Since(t0).Round(time.Microsecond)}
		if peer != nil {
			attrs = append(attrs, "uid", peer.UID, "pid", peer.PID)
		} else {
			attrs = append(attrs, "peer", "unknown")
		}
		s.log.Log(r.Context(), level, "control request", attrs...)
	}
}

// audit is what a handler tells mutating about its request.
type audit struct{ getter bool }

type auditKey struct{}

// getter marks the request as one that changes nothing.
func getter(r *http.Request) {
	if a, ok := r.Context().Value(auditKey{}).(*audit); ok {
		a.getter = true
	}
}

// isGetter reports whether a call of a NIC method or network function
// only reads: status(), config('mac'), hostname(), ...
func isGetter(method string, a callArgs) bool {
	switch method {
	case "isconnected", "status", "scan":
		return true
	case "mode", "ssid", "auth", "channel", "antenna", "mac": // the WLANWiPy profile's getters
		return len(a.pos) == 0 && len(a.kw) == 0
	case "active", "ifconfig", "hostname", "country", "phy_mode":
		return len(a.pos) == 0 && len(a.kw) == 0
	case "config", "ipconfig":
		return len(a.pos) == 1 && len(a.kw) == 0
	}
	return false
}

type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// writeJSON answers v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil { // only the package's own types come here
		status = http.StatusInternalServerError
		b, _ = json.Marshal(errorBody{apiError{Type: TypeInternal, Message: err.Error()}})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// fail answers an error.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	e := classify(err)
	if e.e.Type == TypeInternal {
		s.log.Error("control: request failed", "request", r.Method+" "+r.URL.Path, "err", err)
	}
	writeJSON(w, e.status, errorBody{e.e})
}

// result answers {"result": v}.
func (s *Server) result(w http.ResponseWriter, r *http.Request, v any) {
	raw, err := EncodeValue(v)
	if err != nil {
		s.fail(w, r, &statusError{http.StatusInternalServerError, apiError{Type: TypeInternal,
			Message: fmt.Sprintf("the result cannot be written as JSON: %v", err)}})
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Result json.RawMessage `json:"result"`
	}{raw})
}

// readCall decodes a call's body: {"args": [...], "kwargs": {...}}, both
// optional; an empty body is a call without arguments.
func readCall(w http.ResponseWriter, r *http.Request) (callArgs, error) {
	a := callArgs{pos: []any{}, kw: map[string]any{}}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return a, &statusError{http.StatusRequestEntityTooLarge, apiError{Type: TypeBadRequest,
				Message: fmt.Sprintf("the request body is larger than %d bytes (64 KiB), the most a call takes", MaxBody)}}
		}
		return a, badRequest("reading the request body: %v", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return a, nil
	}
	var req struct {
		Args   json.RawMessage `json:"args"`
		Kwargs json.RawMessage `json:"kwargs"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return a, badRequest(`malformed request body (want {"args": [...], "kwargs": {...}}): %v`, err)
	}
	if dec.More() {
		return a, badRequest("malformed request body: more than one JSON value")
	}
	if len(req.Args) > 0 && string(req.Args) != "null" {
		v, err := decodeValueAt(req.Args, "args")
		if err != nil {
			return a, badRequest("%s", strings.TrimPrefix(err.Error(), ErrValue.Error()+": "))
		}
		l, ok := v.([]any)
		if !ok {
			return a, badRequest("args must be a JSON list, not %s", abi.TypeName(v))
		}
		a.pos = l
	}
	if len(req.Kwargs) > 0 && string(req.Kwargs) != "null" {
		v, err := decodeValueAt(req.Kwargs, "kwargs")
		if err != nil {
			return a, badRequest("%s", strings.TrimPrefix(err.Error(), ErrValue.Error()+": "))
		}
		m, ok := v.(map[string]any)
		if !ok {
			return a, badRequest("kwargs must be a JSON object, not %s", abi.TypeName(v))
		}
		a.kw = m
	}
	return a, nil
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, DaemonStatus{
		Version: s.o.Version, ABI: fmt.Sprintf("%d.%d", abi.VersionMajor, abi.VersionMinor), ABIVersion: abi.Version,
		Hostname: s.h.Hostname(), Started: s.started, UptimeSeconds: time.Since(s.started).Seconds(), PID: os.Getpid(),
		Plugins: len(s.h.Plugins()), NICs: len(s.h.NICs()),
	})
}

func (s *Server) nics(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), s.o.CallTimeout)
	defer cancel()
	writeJSON(w, http.StatusOK, nicInfos(ctx, s.h.NICs()))
}

func (s *Server) nic(w http.ResponseWriter, r *http.Request) {
	n, ok := s.h.NIC(r.PathValue("name"))
	if !ok {
		s.fail(w, r, unknownNIC(s.h, r.PathValue("name")))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.o.CallTimeout)
	defer cancel()
	writeJSON(w, http.StatusOK, nicInfo(ctx, n))
}

func (s *Server) nicCall(w http.ResponseWriter, r *http.Request) {
	name, method := r.PathValue("name"), r.PathValue("method")
	n, ok := s.h.NIC(name)
	if !ok {
		s.fail(w, r, unknownNIC(s.h, name))
		return
	}
	if !validMethod(method) {
		s.fail(w, r, badMethod(name, method))
		return
	}
	a, err := readCall(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if isGetter(method, a) {
		getter(r)
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.o.CallTimeout)
	defer cancel()
	var v any
	handled := false
	if n.Profile() == host.ProfileWiPy {
		v, handled, err = callWiPy(ctx, n, method, a)
	}
	if !handled {
		v, err = callNIC(ctx, n, method, a)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.result(w, r, v)
}

func (s *Server) networkCall(w http.ResponseWriter, r *http.Request) {
	a, err := readCall(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if isGetter(r.PathValue("fn"), a) {
		getter(r)
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.o.CallTimeout)
	defer cancel()
	v, err := callNetwork(ctx, s.h, r.PathValue("fn"), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.result(w, r, v)
}

// network answers the module's settings at once.
func (s *Server) network(w http.ResponseWriter, r *http.Request) {
	dns, _ := s.h.IPConfig("dns")
	prefer, _ := s.h.IPConfig("prefer")
	servers := []any{}
	for _, a := range s.h.DNSServers() {
		servers = append(servers, a.String())
	}
	s.result(w, r, map[string]any{
		"hostname": s.h.Hostname(), "country": s.h.Country(), "dns": dns, "dns_servers": servers,
		"prefer": prefer, "phy_mode": int64(s.h.PhyMode()),
	})
}

func (s *Server) plugins(w http.ResponseWriter, r *http.Request) {
	out := []PluginInfo{}
	for _, p := range s.h.Plugins() {
		out = append(out, pluginInfo(p))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) plugin(w http.ResponseWriter, r *http.Request) {
	p, ok := s.h.Plugin(r.PathValue("name"))
	if !ok {
		s.fail(w, r, unknownPlugin(s.h, r.PathValue("name")))
		return
	}
	writeJSON(w, http.StatusOK, pluginInfo(p))
}

func (s *Server) reload(w http.ResponseWriter, r *http.Request) {
	s.lifecycle(w, r, "reload", func(ctx context.Context, p *host.Plugin) error {
		if s.o.Reload != nil {
			return s.o.Reload(ctx, p.Name())
		}
		_, err := p.Reload(ctx, p.Config().Source)
		return err
	})
}

func (s *Server) restart(w http.ResponseWriter, r *http.Request) {
	s.lifecycle(w, r, "restart", func(ctx context.Context, p *host.Plugin) error { return p.Restart(ctx) })
}

// lifecycle runs a reload or restart and answers the plugin as it is
// after. A failure that is not one of MicroPython's kinds is an OSError
// (EIO): the module did not build or start, which is not the daemon's bug.
func (s *Server) lifecycle(w http.ResponseWriter, r *http.Request, what string, fn func(context.Context, *host.Plugin) error) {
	name := r.PathValue("name")
	p, ok := s.h.Plugin(name)
	if !ok {
		s.fail(w, r, unknownPlugin(s.h, name))
		return
	}
	if _, err := readCall(w, r); err != nil { // bounds the body; it takes no arguments
		s.fail(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.o.ReloadTimeout)
	defer cancel()
	if err := fn(ctx, p); err != nil {
		e := classify(err)
		if e.e.Type == TypeInternal {
			e = &statusError{http.StatusInternalServerError, apiError{Type: TypeOSError, Errno: abi.EIO,
				Message: fmt.Sprintf("%s of plugin %s failed: %v", what, name, err)}}
		}
		s.fail(w, r, e)
		return
	}
	if p2, ok := s.h.Plugin(name); ok {
		p = p2 // the daemon's reload may have loaded it anew
	}
	writeJSON(w, http.StatusOK, pluginInfo(p))
}
