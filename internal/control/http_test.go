package control

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/nichost/nichost/internal/wait"
)

// raw sends a request as curl would and returns the status and body.
func (r *rig) raw(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(wait.Context(t), method, "http://nichost"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := r.c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// Requests as curl sends them, good and bad: every answer is JSON, bad
// ones name the problem.
func TestServer_RawRequests(t *testing.T) {
	r := newRig(t, nil)
	for _, c := range []struct {
		name, method, path, body string
		status                   int
		typ                      string // "" for a result
		says                     string
	}{
		{"no body", "POST", "/v1/nics/lan0/active", "", 200, "", `{"result":false}`},
		{"empty args", "POST", "/v1/nics/lan0/active", `{"args": [], "kwargs": {}}`, 200, "", `{"result":false}`},
		{"bytes", "POST", "/v1/nics/t0.eth0/echo", `{"args": [{"$bytes": "0aFF"}, 1, 1.0]}`, 200, "",
			`{"result":{"$tuple":[[{"$bytes":"0aff"},1,1.0],{}]}}`},
		{"malformed JSON", "POST", "/v1/nics/lan0/active", `{"args": [true}`, 400, TypeBadRequest, "malformed request body"},
		{"unknown field", "POST", "/v1/nics/lan0/active", `{"arg": [true]}`, 400, TypeBadRequest, `"arg"`},
		{"args not a list", "POST", "/v1/nics/lan0/active", `{"args": true}`, 400, TypeBadRequest, "args must be a JSON list"},
		{"kwargs not an object", "POST", "/v1/nics/lan0/config", `{"kwargs": [1]}`, 400, TypeBadRequest, "kwargs must be a JSON object"},
		{"bad bytes", "POST", "/v1/nics/lan0/config", `{"kwargs": {"mac": {"$bytes": "zz"}}}`, 400, TypeBadRequest, "kwargs.mac: $bytes"},
		{"huge int", "POST", "/v1/nics/lan0/active", `{"args": [99999999999999999999]}`, 400, TypeBadRequest, "args[0]: the int 99999999999999999999 does not fit"},
		{"too deep", "POST", "/v1/nics/t0.eth0/echo", `{"args": ` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`, 400, TypeBadRequest, "deeper than 16"},
		{"two values", "POST", "/v1/nics/lan0/active", `{} {}`, 400, TypeBadRequest, "more than one"},
		{"too large", "POST", "/v1/nics/t0.eth0/echo", `{"args": ["` + strings.Repeat("x", MaxBody) + `"]}`, 413, TypeBadRequest, "larger than 65536 bytes"},
		{"GET on a call", "GET", "/v1/nics/lan0/active", "", 405, TypeBadRequest, "takes POST"},
		{"POST on a list", "POST", "/v1/nics", "", 405, TypeBadRequest, "takes GET"},
		{"no endpoint", "GET", "/v2/nics", "", 404, TypeNotFound, "no endpoint /v2/nics"},
		{"no plugin action", "POST", "/v1/plugins/lan0/explode", "", 404, TypeNotFound, "reload and restart"},
		{"logs lines", "GET", "/v1/logs?lines=many", "", 400, TypeBadRequest, `lines="many"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, body := r.raw(t, c.method, c.path, c.body)
			if status != c.status {
				t.Fatalf("status %d, want %d: %s", status, c.status, body)
			}
			if c.typ == "" {
				if strings.TrimSpace(body) != c.says {
					t.Fatalf("body %s, want %s", body, c.says)
				}
				return
			}
			var eb errorBody
			if err := json.Unmarshal([]byte(body), &eb); err != nil {
				t.Fatalf("error body is not JSON: %s", body)
			}
			if eb.Error.Type != c.typ || !strings.Contains(eb.Error.Message, c.says) {
				t.Fatalf("error %+v, want %s saying %q", eb.Error, c.typ, c.says)
			}
		})
	}
}

// Calls are logged with the caller's uid and pid, read from the socket's
// peer credentials: at Info those that may change something, at Debug
// the getters, which scripts poll.
func TestServer_LogsCaller(t *testing.T) {
	r := newRig(t, nil)
	r.call(t, "active", []any{false}, nil)
	r.call(t, "config", []any{"mac"}, nil)
	line := func(request string) string {
		t.Helper()
		want := "request=\"POST " + request + "\" status=200"
		for _, l := range r.ring.Lines(-1) {
			if strings.Contains(l.Text, want) {
				return l.Text
			}
		}
		t.Fatalf("no log line with %s", want)
		return ""
	}
	set, get := line("/v1/nics/lan0/active"), line("/v1/nics/lan0/config")
	uid, pid := " uid="+strconv.Itoa(os.Getuid()), " pid="+strconv.Itoa(os.Getpid())
	if !strings.Contains(set, uid) || !strings.Contains(set, pid) {
		t.Fatalf("log line %q does not name%s%s", set, uid, pid)
	}
	if !strings.Contains(set, "level=INFO") || !strings.Contains(get, "level=DEBUG") {
		t.Fatalf("active(False) logged as %q, config('mac') as %q: want INFO and DEBUG", set, get)
	}
}
