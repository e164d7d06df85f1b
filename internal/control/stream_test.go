package control

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/internal/wait"
)

// follower collects an event stream in the background.
type follower struct {
	mu     sync.Mutex
	events []Event
	done   chan error
	cancel context.CancelFunc
}

func (r *rig) follow(t *testing.T) *follower {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	f := &follower{done: make(chan error, 1), cancel: cancel}
	go func() {
		f.done <- r.c.Events(ctx, func(ev Event) error {
			f.mu.Lock()
			f.events = append(f.events, ev)
			f.mu.Unlock()
			return nil
		})
	}()
	t.Cleanup(func() {
		cancel()
		<-f.done
		if t.Failed() {
			for _, ev := range f.seen() {
				t.Logf("event %d %s %s/%s gen %d %q %v", ev.Seq, ev.Kind, ev.Plugin, ev.NIC, ev.Generation, ev.Message, ev.Data)
			}
		}
	})
	wait.For(t, "the event stream to open", func() bool { return len(f.seen()) > 0 })
	if ev := f.seen()[0]; ev.Kind != EventOpen || ev.Seq != 0 {
		t.Fatalf("the stream begins with %+v, want kind %q", ev, EventOpen)
	}
	return f
}

func (f *follower) seen() []Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.events)
}

// waitFor waits for an event that match accepts, after the first `after`
// events, and returns its index.
func (f *follower) waitFor(t *testing.T, what string, after int, match func(Event) bool) int {
	t.Helper()
	i := -1
	wait.For(t, what, func() bool {
		for j, ev := range f.seen() {
			if j >= after && match(ev) {
				i = j
				return true
			}
		}
		return false
	})
	return i
}

// The stream carries the host's events in order, each as the host saw
// it: link and lease after active(True), reload, restart, fault.
func TestServer_Events(t *testing.T) {
	r := newRig(t, nil)
	ctx := wait.Context(t)
	f := r.follow(t)
	r.call(t, "active", []any{true}, nil)
	i := f.waitFor(t, "lan0's link up", 0, func(ev Event) bool { return ev.Kind == host.EventLink && ev.NIC == "lan0" })
	link := f.seen()[i]
	if link.Plugin != "lan0" || link.Generation != 1 || link.Data["up"] != true || link.Data["type"] != "ethernet" ||
		link.Data["mtu"] == nil || link.Time.IsZero() {
		t.Fatalf("link event %+v", link)
	}
	if _, ok := link.Data["mtu"].(int64); !ok {
		t.Fatalf("link event mtu %#v, want an int", link.Data["mtu"])
	}
	j := f.waitFor(t, "lan0's lease", i, func(ev Event) bool { return ev.Kind == host.EventLease && ev.Data["event"] == "bound" })
	addr, _ := r.h.NIC("lan0")
	a4, _ := addr.Addr4()
	if got := f.seen()[j].Data["addr4"]; got != a4.String() {
		t.Fatalf("lease event addr4 %v, host says %s", got, a4)
	}

	p, err := r.c.ReloadPlugin(ctx, "lan0")
	if err != nil {
		t.Fatal(err)
	}
	if p.Generation != 2 || p.Reloads != 1 || !p.Up {
		t.Fatalf("after reload: %+v", p)
	}
	k := f.waitFor(t, "the reload event", j, func(ev Event) bool { return ev.Kind == host.EventReload })
	if ev := f.seen()[k]; ev.Plugin != "lan0" || ev.Generation != 2 || ev.NIC != "" {
		t.Fatalf("reload event %+v", ev)
	}

	p, err = r.c.RestartPlugin(ctx, "lan0")
	if err != nil {
		t.Fatal(err)
	}
	if p.Generation != 3 || p.Restarts != 1 {
		t.Fatalf("after restart: %+v", p)
	}
	k = f.waitFor(t, "the restart event", k, func(ev Event) bool { return ev.Kind == host.EventRestart })
	if ev := f.seen()[k]; ev.Plugin != "lan0" || ev.Generation != 3 {
		t.Fatalf("restart event %+v", ev)
	}

	// The fresh instance brings the PHY up again; then the cable is
	// pulled.
	k = f.waitFor(t, "lan0's link up in generation 3", k, func(ev Event) bool {
		return ev.Kind == host.EventLink && ev.Generation == 3 && ev.Data["up"] == true
	})
	r.dev.SetLink(false)
	k = f.waitFor(t, "lan0's link down", k, func(ev Event) bool {
		return ev.Kind == host.EventLink && ev.NIC == "lan0" && ev.Data["up"] == false
	})

	r.c.Call(ctx, "t0.eth0", "crash", nil, nil)
	fault := f.waitFor(t, "t0's fault", k, func(ev Event) bool { return ev.Kind == host.EventFault && ev.Plugin == "t0" })
	if ev := f.seen()[fault]; ev.Generation != 1 || !strings.Contains(ev.Message, "crash") && !strings.Contains(ev.Message, "trap") {
		t.Fatalf("fault event %+v: want generation 1 and the fault", ev)
	}
	f.waitFor(t, "t0's restart", fault, func(ev Event) bool {
		return ev.Kind == host.EventRestart && ev.Plugin == "t0" && ev.Generation == 2
	})

	seen := f.seen()
	for n := 2; n < len(seen); n++ {
		if seen[n].Seq <= seen[n-1].Seq {
			t.Fatalf("events out of order: %d after %d", seen[n].Seq, seen[n-1].Seq)
		}
	}
}

// The daemon's reload hook is used when set, and a failed reload reads as
// an OSError naming the plugin and the cause.
func TestServer_ReloadHook(t *testing.T) {
	var asked []string
	r := newRig(t, func(o *ServerOptions) {
		o.Reload = func(_ context.Context, name string) error {
			asked = append(asked, name)
			return errors.New("build: syntax error in main.go")
		}
	})
	_, err := r.c.ReloadPlugin(wait.Context(t), "lan0")
	re := wantRemote(t, err, TypeOSError, http.StatusInternalServerError, "reload of plugin lan0 failed", "syntax error in main.go")
	if re.Errno == 0 || !slices.Equal(asked, []string{"lan0"}) {
		t.Fatalf("errno %d; the hook was asked %v", re.Errno, asked)
	}
	if p, _ := r.h.Plugin("lan0"); p.Generation() != 1 {
		t.Fatalf("a failed reload changed the generation to %d", p.Generation())
	}
}

// Shutdown ends the streams, which a client sees as the end.
func TestServer_ShutdownEndsStreams(t *testing.T) {
	r := newRig(t, nil)
	f := r.follow(t)
	r.srv.Shutdown(context.Background())
	err := <-f.done
	f.done <- err // for the cleanup
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("Events after Shutdown: %v, want the stream's end", err)
	}
}

// At most MaxStreams streams are open at once; the next is refused until
// one closes.
func TestServer_StreamLimit(t *testing.T) {
	r := newRig(t, nil)
	var fs []*follower
	for range MaxStreams {
		fs = append(fs, r.follow(t))
	}
	err := r.c.Events(wait.Context(t), func(Event) error { return nil })
	wantRemote(t, err, TypeOSError, http.StatusServiceUnavailable, fmt.Sprint(MaxStreams), "close one")
	fs[0].cancel()
	wait.For(t, "a stream to be allowed again", func() bool {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		opened := false
		r.c.Events(ctx, func(ev Event) error { opened = true; cancel(); return nil })
		return opened
	})
}

func TestServer_Logs(t *testing.T) {
	ring := NewLogRing(10)
	r := newRig(t, func(o *ServerOptions) { o.Logs = ring })
	ctx := wait.Context(t)
	ring.Write([]byte("one\ntwo\nthr"))
	ring.Write([]byte("ee\n"))
	read := func(n int) []string {
		var out []string
		if err := r.c.Logs(ctx, n, false, func(l string) error { out = append(out, l); return nil }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := read(100); !slices.Equal(got, []string{"one", "two", "three"}) {
		t.Fatalf("logs: %q", got)
	}
	if got := read(2); !slices.Equal(got, []string{"two", "three"}) {
		t.Fatalf("logs lines=2: %q", got)
	}

	fctx, cancel := context.WithCancel(ctx)
	var mu sync.Mutex
	var got []string
	done := make(chan error, 1)
	go func() {
		done <- r.c.Logs(fctx, 1, true, func(l string) error {
			mu.Lock()
			got = append(got, l)
			mu.Unlock()
			return nil
		})
	}()
	lines := func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(got) }
	wait.For(t, "the last line", func() bool { return len(lines()) == 1 })
	ring.Write([]byte("four\n"))
	wait.For(t, "a new line while following", func() bool { return len(lines()) == 2 })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Logs after its ctx ended: %v", err)
	}
	if !slices.Equal(lines(), []string{"three", "four"}) {
		t.Fatalf("followed %q", lines())
	}
}

func TestServer_LogsWithoutRing(t *testing.T) {
	r := newRig(t, func(o *ServerOptions) { o.Logs = nil })
	err := r.c.Logs(wait.Context(t), 10, false, func(string) error { return nil })
	wantRemote(t, err, TypeNotImplementedError, http.StatusNotImplemented, "no log")
}
