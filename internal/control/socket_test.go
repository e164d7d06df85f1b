package control

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/internal/testenv"
	"github.com/nichost/nichost/internal/wait"
)

func statSocket(t *testing.T, path string) (os.FileMode, int) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("%s is %v, not a socket", path, fi.Mode())
	}
	return fi.Mode().Perm(), int(fi.Sys().(*syscall.Stat_t).Gid)
}

func TestListen_ModeAndGroup(t *testing.T) {
	dir := t.TempDir()
	gid := os.Getgid()
	g, err := user.LookupGroupId(strconv.Itoa(gid))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		mode  os.FileMode
		group string
		want  os.FileMode
	}{
		{"defaults", 0, "", 0o660},
		{"mode", 0o600, "", 0o600},
		{"group by number", 0, strconv.Itoa(gid), 0o660},
		{"group by name", 0o660, g.Name, 0o660},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".sock")
			l, err := Listen(path, c.mode, c.group)
			if err != nil {
				t.Fatal(err)
			}
			mode, sgid := statSocket(t, path)
			if mode != c.want || sgid != gid {
				t.Fatalf("socket mode %04o group %d, want %04o group %d", mode, sgid, c.want, gid)
			}
			l.Close()
			if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("the socket is left after Close: %v", err)
			}
		})
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 0 {
		t.Fatalf("left in the directory: %v", ents)
	}
}

func TestListen_MakesDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run", "nichost", "control.sock")
	l, err := Listen(path, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	fi, err := os.Stat(filepath.Dir(path))
	if err != nil || fi.Mode().Perm() != 0o755 {
		t.Fatalf("directory %v %v, want mode 0755", fi.Mode(), err)
	}
}

func TestListen_Refuses(t *testing.T) {
	dir := t.TempDir()
	_, err := Listen(filepath.Join(dir, "a.sock"), 0, "no-such-group-nichost")
	if err == nil || !strings.Contains(err.Error(), `group "no-such-group-nichost": no such group`) {
		t.Fatalf("unknown group: %v", err)
	}

	file := filepath.Join(dir, "file")
	os.WriteFile(file, []byte("keep me"), 0o644)
	if _, err := Listen(file, 0, ""); err == nil || !strings.Contains(err.Error(), "is not a socket") {
		t.Fatalf("a file in the way: %v", err)
	}
	if b, _ := os.ReadFile(file); string(b) != "keep me" {
		t.Fatal("Listen changed a file that is not a socket")
	}

	live := filepath.Join(dir, "live.sock")
	l, err := Listen(live, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := Listen(live, 0, ""); err == nil || !strings.Contains(err.Error(), "another daemon is listening on "+live) {
		t.Fatalf("a live daemon's socket: %v", err)
	}
	if c, err := net.Dial("unix", live); err != nil {
		t.Fatalf("the live socket does not answer after the refused Listen: %v", err)
	} else {
		c.Close()
	}
}

// A socket left by a daemon that died is replaced.
func TestListen_ReplacesStale(t *testing.T) {
	path := filepath.Join(t.TempDir(), "control.sock")
	old, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	old.SetUnlinkOnClose(false)
	old.Close() // the socket file stays, nobody listens
	if _, err := net.Dial("unix", path); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("the stale socket: %v", err)
	}
	l, err := Listen(path, 0, "")
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	defer l.Close()
	go http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "{}") }))
	if _, err := NewClient(path).Status(wait.Context(t)); err != nil {
		t.Fatalf("a client of the new socket: %v", err)
	}
}

func TestClient_Unreachable(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "stale.sock")
	old, _ := net.ListenUnix("unix", &net.UnixAddr{Name: stale, Net: "unix"})
	old.SetUnlinkOnClose(false)
	old.Close()
	for _, path := range []string{filepath.Join(dir, "none.sock"), stale} {
		_, err := NewClient(path).Call(wait.Context(t), "eth0", "active", nil, nil)
		want := "cannot reach the nichost daemon at " + path + ": is `nichost run` running? ("
		if !errors.Is(err, ErrUnreachable) || !strings.HasPrefix(err.Error(), want) {
			t.Fatalf("no daemon at %s: %v, want %q...", path, err, want)
		}
	}
}

// The socket's group decides who may call: the kernel refuses a user
// outside it, and the client says what to do; a member gets in.
func TestListen_GroupKeepsOthersOut(t *testing.T) {
	testenv.Need(t, os.Geteuid() == 0, "the test runs a client as other users, which needs root")
	dir := t.TempDir()
	for d := dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		os.Chmod(d, 0o755) // t.TempDir's directories are 0700
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "control.test")
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	const group = 64123 // a gid no user here has
	path := filepath.Join(dir, "control.sock")
	l, err := Listen(path, 0, strconv.Itoa(group))
	if err != nil {
		t.Fatal(err)
	}
	h, err := host.New(host.Options{CacheDir: t.TempDir(), Hostname: "board-7"})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	srv := NewServer(h, ServerOptions{})
	go srv.Serve(l)
	defer srv.Shutdown(context.Background())

	client := func(groups ...uint32) (string, error) {
		cmd := exec.Command(bin, "-test.run=^TestClient_HelperProcess$")
		cmd.Env = append(os.Environ(), "NICHOST_CONTROL_HELPER="+path)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, Groups: groups}}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := client()
	want := fmt.Sprintf("permission denied on %s: ask for membership of its group %d or run as root", path, group)
	if err == nil || !strings.Contains(out, want) {
		t.Fatalf("a user outside the group: %v\n%s\nwant %q", err, out, want)
	}
	out, err = client(group)
	if err != nil || !strings.Contains(out, "hostname board-7") {
		t.Fatalf("a member of the group: %v\n%s", err, out)
	}
}

// TestClient_HelperProcess is the client TestListen_GroupKeepsOthersOut
// runs as another user.
func TestClient_HelperProcess(t *testing.T) {
	path := os.Getenv("NICHOST_CONTROL_HELPER")
	if path == "" {
		t.Skip("only run as a helper process")
	}
	st, err := NewClient(path).Status(context.Background())
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Println("hostname", st.Hostname)
}
