package tests

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nichost/nichost/internal/testenv"
)

// A driver in a separate Go module (tests/extdriver, which reaches nichost
// through a replace directive) passes the LAN conformance suite and its own
// unit test from its own `go test`, using only nichost's public packages.
// The root's `go test ./...` does not descend into a nested module, so this
// test runs the module's tests with the go command, offline: every module
// comes from the local module cache, which this module's own build filled,
// and the nested go.sum must already list them all.
func TestExtDriver(t *testing.T) {
	gotool, ok := goCommand(t, "the separate module tests/extdriver cannot be built")
	if !ok {
		return
	}
	dir, err := filepath.Abs("extdriver")
	if err != nil {
		t.Fatal(err)
	}
	statTree(t, "..")

	// No timeout of our own: a cold run builds nichost's host and the
	// plugin's WASM, which takes as long as the machine needs.
	cmd := exec.CommandContext(t.Context(), gotool, append(append([]string{"test"}, testenv.BuildFlags()...), "./...")...)
	cmd.Dir = dir
	// The caller's GOFLAGS stay; a later -mod overrides an earlier one.
	goflags := strings.TrimSpace(os.Getenv("GOFLAGS") + " -mod=readonly")
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOWORK=off", "GOFLAGS="+goflags)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go test ./... in %s (GOPROXY=off GOWORK=off GOFLAGS=%q): %v\n%s", dir, goflags, err, out)
	}
	t.Logf("go test ./... in %s:\n%s", dir, out)
}

// statTree lists every directory of the repository under root but .git.
// The go command caches this test's result keyed on what the test binary
// links and on the files the test opened; listing the directories records
// the size and modification time of every file in them, so that an edit to
// the nested module, or to any package of nichost it uses, runs the test
// again instead of replaying a stale pass.
func statTree(t *testing.T, root string) {
	t.Helper()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		return nil
	})
	if err != nil {
		t.Fatalf("listing the repository for the test cache: %v", err)
	}
}

// goCommand finds the go command; without it the test skips (or fails,
// under NICHOST_E2E=require) saying what cannot be done.
func goCommand(t *testing.T, what string) (string, bool) {
	t.Helper()
	gotool, err := exec.LookPath("go")
	testenv.Need(t, err == nil, "the go command is not on PATH, so "+what)
	return gotool, err == nil
}
