package control

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// ErrUnreachable is matched (errors.Is) by the error of a Client call
// that could not connect to the daemon: no socket, nobody listening, or
// no permission.
var ErrUnreachable = errors.New("control: the daemon cannot be reached")

// ConnectError says why a Client could not connect to the daemon's
// socket. It matches ErrUnreachable, and unwraps to the dial error (so
// errors.Is(err, fs.ErrPermission) tells a permission problem).
type ConnectError struct {
	Path string
	Err  error
}

func (e *ConnectError) Error() string {
	if errors.Is(e.Err, syscall.EACCES) || errors.Is(e.Err, syscall.EPERM) {
		return fmt.Sprintf("permission denied on %s: ask for membership of its group %s or run as root", e.Path, socketGroup(e.Path))
	}
	return fmt.Sprintf("cannot reach the nichost daemon at %s: is `nichost run` running? (%v)", e.Path, e.Err)
}

func (e *ConnectError) Unwrap() error { return e.Err }

// Is matches ErrUnreachable.
func (e *ConnectError) Is(target error) bool { return target == ErrUnreachable }

// socketGroup names the group of the socket (or of the nearest directory
// that exists), for the permission error.
func socketGroup(path string) string {
	for p := path; ; p = filepath.Dir(p) {
		if fi, err := os.Stat(p); err == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				gid := strconv.FormatUint(uint64(st.Gid), 10)
				if g, err := user.LookupGroupId(gid); err == nil {
					return g.Name
				}
				return gid
			}
			return "(unknown)"
		}
		if p == filepath.Dir(p) {
			return "(unknown)"
		}
	}
}

// Client calls a daemon's control API over its unix socket. Its methods
// may be called from any goroutine; a ctx bounds each call (the daemon
// bounds them too, see ServerOptions.CallTimeout).
type Client struct {
	path string
	hc   *http.Client
}

// NewClient makes a client of the daemon listening at socketPath. It does
// not connect until a call.
func NewClient(socketPath string) *Client {
	var d net.Dialer
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			c, err := d.DialContext(ctx, "unix", socketPath)
			if err != nil {
				return nil, &ConnectError{Path: socketPath, Err: err}
			}
			return c, nil
		},
		MaxIdleConns:       4,
		DisableCompression: true,
	}
	return &Client{path: socketPath, hc: &http.Client{Transport: tr}}
}

// SocketPath is the socket the client calls.
func (c *Client) SocketPath() string { return c.path }

// do sends a request and returns the response of a 2xx status; another
// status becomes a *RemoteError.
func (c *Client) do(ctx context.Context, method, path string, body any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://nichost"+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		var ce *ConnectError
		if errors.As(err, &ce) {
			return nil, ce // without url.Error's "Post \"http://nichost/...\":"
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("control: %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, remoteError(resp)
}

func remoteError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, MaxBody))
	var eb errorBody
	if err := json.Unmarshal(b, &eb); err != nil || eb.Error.Type == "" {
		return &RemoteError{Type: TypeInternal, Status: resp.StatusCode,
			Message: fmt.Sprintf("the daemon answered %s: %s", resp.Status, strings.TrimSpace(string(b)))}
	}
	return &RemoteError{Type: eb.Error.Type, Errno: eb.Error.Errno, Message: eb.Error.Message, Status: resp.StatusCode}
}

// getJSON decodes the JSON answer of a request into out.
func (c *Client) getJSON(ctx context.Context, method, path string, body, out any) error {
	resp, err := c.do(ctx, method, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("control: %s %s: the answer is not what this client reads: %w", method, path, err)
	}
	return nil
}

// callBody is a call's request body, with the values in the JSON form.
func callBody(args []any, kw map[string]any) (any, error) {
	if args == nil {
		args = []any{}
	}
	if kw == nil {
		kw = map[string]any{}
	}
	a, err := EncodeValue(args)
	if err != nil {
		return nil, fmt.Errorf("control: args: %w", err)
	}
	k, err := EncodeValue(kw)
	if err != nil {
		return nil, fmt.Errorf("control: kwargs: %w", err)
	}
	return struct {
		Args   json.RawMessage `json:"args"`
		Kwargs json.RawMessage `json:"kwargs"`
	}{a, k}, nil
}

// call posts a call and decodes its result.
func (c *Client) call(ctx context.Context, path string, args []any, kw map[string]any) (any, error) {
	body, err := callBody(args, kw)
	if err != nil {
		return nil, err
	}
	var out struct {
		Result json.RawMessage `json:"result"`
	}
	if err := c.getJSON(ctx, http.MethodPost, path, body, &out); err != nil {
		return nil, err
	}
	if len(out.Result) == 0 {
		return nil, fmt.Errorf("control: POST %s: the answer has no result", path)
	}
	v, err := DecodeValue(out.Result)
	if err != nil {
		return nil, fmt.Errorf("control: POST %s: %w", path, err)
	}
	return v, nil
}

// Call runs nic.method(*args, **kw) in the daemon and returns its result
// as an ABI value (nil for None). MicroPython's exceptions come back as a
// *RemoteError.
func (c *Client) Call(ctx context.Context, nic, method string, args []any, kw map[string]any) (any, error) {
	return c.call(ctx, "/v1/nics/"+url.PathEscape(nic)+"/"+url.PathEscape(method), args, kw)
}

// Network runs network.fn(*args, **kw): hostname, country, ipconfig or
// phy_mode.
func (c *Client) Network(ctx context.Context, fn string, args []any, kw map[string]any) (any, error) {
	return c.call(ctx, "/v1/network/"+url.PathEscape(fn), args, kw)
}

// NICs lists the daemon's NICs.
func (c *Client) NICs(ctx context.Context) ([]NICInfo, error) {
	var out []NICInfo
	return out, c.getJSON(ctx, http.MethodGet, "/v1/nics", nil, &out)
}

// NIC describes one NIC.
func (c *Client) NIC(ctx context.Context, name string) (NICInfo, error) {
	var out NICInfo
	return out, c.getJSON(ctx, http.MethodGet, "/v1/nics/"+url.PathEscape(name), nil, &out)
}

// Plugins lists the daemon's plugins.
func (c *Client) Plugins(ctx context.Context) ([]PluginInfo, error) {
	var out []PluginInfo
	return out, c.getJSON(ctx, http.MethodGet, "/v1/plugins", nil, &out)
}

// Plugin describes one plugin.
func (c *Client) Plugin(ctx context.Context, name string) (PluginInfo, error) {
	var out PluginInfo
	return out, c.getJSON(ctx, http.MethodGet, "/v1/plugins/"+url.PathEscape(name), nil, &out)
}

// ReloadPlugin has the daemon reload a plugin's module from its
// configured source and returns the plugin after (a new Generation).
func (c *Client) ReloadPlugin(ctx context.Context, name string) (PluginInfo, error) {
	var out PluginInfo
	return out, c.getJSON(ctx, http.MethodPost, "/v1/plugins/"+url.PathEscape(name)+"/reload", nil, &out)
}

// RestartPlugin has the daemon start a fresh instance of a plugin now.
func (c *Client) RestartPlugin(ctx context.Context, name string) (PluginInfo, error) {
	var out PluginInfo
	return out, c.getJSON(ctx, http.MethodPost, "/v1/plugins/"+url.PathEscape(name)+"/restart", nil, &out)
}

// Status reports the daemon's facts.
func (c *Client) Status(ctx context.Context) (DaemonStatus, error) {
	var out DaemonStatus
	return out, c.getJSON(ctx, http.MethodGet, "/v1/status", nil, &out)
}

// Events follows the daemon's event stream, calling fn for each event in
// order, the first being one of kind EventOpen once the stream is live. It
// returns when ctx ends (nil), when fn returns an error (that error), or
// when the daemon ends the stream (io.ErrUnexpectedEOF, as the stream
// does not end by itself).
func (c *Client) Events(ctx context.Context, fn func(Event) error) error {
	return c.stream(ctx, "/v1/events", func(_, data string) error {
		var ev Event
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			return fmt.Errorf("control: a bad event in the stream: %w", err)
		}
		return fn(ev)
	}, true)
}

// Logs reads the daemon's recent log: the last lines (at most what the
// daemon keeps), then, with follow, each new line as it is written. fn
// gets each line without its newline. It returns nil at the end of the
// lines without follow, and as Events does with it.
func (c *Client) Logs(ctx context.Context, lines int, follow bool, fn func(string) error) error {
	q := url.Values{}
	q.Set("lines", strconv.Itoa(max(lines, 0)))
	if follow {
		q.Set("follow", "1")
	}
	return c.stream(ctx, "/v1/logs?"+q.Encode(), func(_, data string) error { return fn(data) }, follow)
}

// stream reads a server-sent event stream, calling fn with each event's
// kind and data.
func (c *Client) stream(ctx context.Context, path string, fn func(kind, data string) error, endless bool) error {
	resp, err := c.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	var kind string
	var data []string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if data != nil {
				if err := fn(kind, strings.Join(data, "\n")); err != nil {
					return err
				}
			}
			kind, data = "", nil
		case strings.HasPrefix(line, ":"): // a comment: the heartbeat
		default:
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "event":
				kind = value
			case "data":
				data = append(data, value)
			}
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("control: GET %s: %w", path, err)
	}
	if endless {
		return fmt.Errorf("control: GET %s: the daemon ended the stream: %w", path, io.ErrUnexpectedEOF)
	}
	return nil
}
