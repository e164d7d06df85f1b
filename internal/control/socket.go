package control

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// DefaultMode is the control socket's mode when Listen is given 0: the
// daemon's user and the socket's group may connect, nobody else.
const DefaultMode os.FileMode = 0o660

// Listen makes the control socket at path: it creates the directory if it
// is missing (0755), removes a stale socket left by a daemon that died,
// but refuses when a live one answers there, and binds. The socket gets
// mode (DefaultMode when 0) and, if group is not "", that group (a name
// or a number) before anyone can connect: it is bound under a temporary
// name, set up, then linked into place. Closing the listener removes the
// socket.
func Listen(path string, mode os.FileMode, group string) (net.Listener, error) {
	if mode == 0 {
		mode = DefaultMode
	}
	gid := -1
	if group != "" {
		var err error
		if gid, err = lookupGroup(group); err != nil {
			return nil, err
		}
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("control: socket directory: %w", err)
	}
	if err := clearStale(path); err != nil {
		return nil, err
	}
	// A short temporary name: a socket's path is limited to 107 bytes,
	// and the final one may be near that.
	tmp := filepath.Join(dir, fmt.Sprintf(".ctl%d-%d", os.Getpid(), tmpSeq.Add(1)))
	os.Remove(tmp) // our own leftover, from a pid reused
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("control: %w", err)
	}
	l.SetUnlinkOnClose(false) // the temporary name goes; Close removes the final one
	fail := func(err error) (net.Listener, error) {
		l.Close()
		os.Remove(tmp)
		return nil, err
	}
	if err := os.Chmod(tmp, mode.Perm()); err != nil {
		return fail(fmt.Errorf("control: socket mode: %w", err))
	}
	if gid >= 0 {
		if err := os.Lchown(tmp, -1, gid); err != nil {
			if errors.Is(err, os.ErrPermission) {
				err = fmt.Errorf("the daemon's user must be a member of group %s, or root: %w", group, err)
			}
			return fail(fmt.Errorf("control: giving the socket to group %s: %w", group, err))
		}
	}
	// A link, not a rename: it fails rather than replace a socket that
	// another daemon made since clearStale looked.
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, os.ErrExist) {
			err = fmt.Errorf("%s appeared while this daemon started: is another `nichost run` starting?", path)
		}
		return fail(fmt.Errorf("control: %w", err))
	}
	os.Remove(tmp)
	fi, err := os.Lstat(path)
	if err != nil {
		return fail(fmt.Errorf("control: %w", err))
	}
	return &listener{UnixListener: l, path: path, fi: fi}, nil
}

// tmpSeq tells apart the temporary names of Listens in one process.
var tmpSeq atomic.Uint64

// lookupGroup resolves a group name or number.
func lookupGroup(group string) (int, error) {
	if n, err := strconv.Atoi(group); err == nil {
		if n < 0 {
			return 0, fmt.Errorf("control: group %s: not a group id", group)
		}
		return n, nil
	}
	g, err := user.LookupGroup(group)
	if err != nil {
		return 0, fmt.Errorf("control: group %q: no such group (%v)", group, err)
	}
	n, err := strconv.Atoi(g.Gid)
	if err != nil {
		return 0, fmt.Errorf("control: group %q has the id %q, not a number", group, g.Gid)
	}
	return n, nil
}

// clearStale removes a socket nobody listens on any more, and refuses
// to touch anything else at path.
func clearStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("control: %w", err)
	}
	if fi.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("control: %s exists and is not a socket; not removing it", path)
	}
	c, err := net.DialTimeout("unix", path, 2*time.Second)
	if err == nil {
		c.Close()
		return fmt.Errorf("control: another daemon is listening on %s (is `nichost run` already running?); stop it or choose another socket", path)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("control: %s exists and cannot be checked: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("control: removing the stale socket: %w", err)
	}
	return nil
}

// listener is the control socket; Close removes it, unless another daemon
// has replaced it since.
type listener struct {
	*net.UnixListener
	path string
	fi   os.FileInfo
	once sync.Once
}

func (l *listener) Close() error {
	err := l.UnixListener.Close()
	l.once.Do(func() {
		if fi, serr := os.Lstat(l.path); serr == nil && os.SameFile(fi, l.fi) {
			os.Remove(l.path)
		}
	})
	return err
}

// Peer is who is on the other end of a control connection, as the kernel
// says (SO_PEERCRED).
type Peer struct {
	PID, UID, GID int
}

func (p *Peer) String() string {
	if p == nil {
		return "unknown peer"
	}
	return fmt.Sprintf("uid %d pid %d", p.UID, p.PID)
}

type peerKey struct{}

// PeerFrom returns the peer of the connection a request came on (the
// server puts it in each request's context), nil if unknown.
func PeerFrom(ctx context.Context) *Peer {
	p, _ := ctx.Value(peerKey{}).(*Peer)
	return p
}
