//go:build wasmtime

package main

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// release --wasmtime: nichost with both engines for this machine's
// architecture (amd64 or arm64), which runs the release's plugins on
// wasmtime with no Go on PATH. (Only in the wasmtime build of the tests:
// it needs what that build needs, cgo and gcc.)
func TestRelease_Wasmtime(t *testing.T) {
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
		t.Skipf("wasmtime-go has static libraries for amd64 and arm64, not %s", runtime.GOARCH)
	}
	dir := filepath.Join(t.TempDir(), "release")
	keys := t.TempDir()
	if out, err := run(t, "plugin", "keygen", "-o", filepath.Join(keys, "k")); err != nil {
		t.Fatalf("keygen: %v\n%s", err, out)
	}
	a, err := runRelease(t.Context(), releaseOptions{out: dir, version: "1.0.0", keyPath: filepath.Join(keys, "k.key"), targets: []string{runtime.GOARCH}, wasmtime: true})
	if err != nil {
		t.Fatalf("release --wasmtime: %v", err)
	}
	bin := filepath.Join(dir, a.Binaries["wasmtime-"+runtime.GOARCH])
	if bin == dir || !strings.HasSuffix(bin, "nichost-wasmtime-linux-"+runtime.GOARCH) {
		t.Fatalf("binaries %v", a.Binaries)
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "nichost 1.0.0") {
		t.Fatalf("version: %v\n%s", err, out)
	}
	runWithoutGo(t, bin, filepath.Join(dir, "plugins"), filepath.Join(keys, "k.pub"), "wasmtime")

	// Neither ARM target has a wasmtime build.
	if _, err := runRelease(t.Context(), releaseOptions{out: t.TempDir(), targets: []string{"armv7"}, wasmtime: true}); err == nil || !strings.Contains(err.Error(), "amd64 and arm64") {
		t.Errorf("--wasmtime --targets armv7: %v", err)
	}
}
