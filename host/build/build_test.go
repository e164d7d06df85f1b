package build_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/nichost/nichost/host/build"
)

// writePlugin writes a plugin whose driver lives in a helper package of its
// own, inside this module (so it builds against this module's abi/guest).
func writePlugin(t *testing.T, helper string) string {
	t.Helper()
	dir := tempDir(t, "tmp-plugin-")
	files := map[string]string{
		"main.go": `package main

import (
	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/internal/testdriver"
	"github.com/nichost/nichost/host/build/` + filepath.ToSlash(dir) + `/helper"
)

func init() { _ = helper.Name; guest.Register(testdriver.New()) }

func main() {}
`,
		"helper/helper.go": "package helper\n\nconst Name = " + `"` + helper + `"` + "\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// tempDir makes a directory under testdata, inside this module so that a
// plugin there builds against it, and removes it (and testdata, once empty)
// when the test ends.
func tempDir(t *testing.T, pattern string) string {
	t.Helper()
	if err := os.MkdirAll("testdata", 0o755); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("testdata", pattern)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		os.RemoveAll(dir)
		os.Remove("testdata") // fails, harmlessly, while another test uses it
	})
	return dir
}

func TestBuilder_CacheKeyCoversImports(t *testing.T) {
	b := &build.Builder{CacheDir: t.TempDir()}
	ctx := context.Background()
	dir := writePlugin(t, "one")
	first, err := b.Build(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if first.Cached {
		t.Fatal("first build of a new plugin came from the cache")
	}
	again, err := b.Build(ctx, dir)
	if err != nil || !again.Cached || again.Path != first.Path {
		t.Fatalf("unchanged plugin rebuilt: %+v, %v", again, err)
	}
	// A change in a package the plugin imports (not in its own folder)
	// must rebuild it.
	if err := os.WriteFile(filepath.Join(dir, "helper", "helper.go"), []byte("package helper\n\nconst Name = \"two\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	changed, err := b.Build(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if changed.Cached || changed.Key == first.Key {
		t.Fatalf("a change in an imported package did not change the key: %+v", changed)
	}
	if _, err := os.Stat(changed.Path); err != nil {
		t.Fatal(err)
	}
}

func TestBuilder_ConcurrentBuildsShareOneResult(t *testing.T) {
	b := &build.Builder{CacheDir: t.TempDir()}
	dir := writePlugin(t, "concurrent")
	var wg sync.WaitGroup
	results := make([]build.Result, 4)
	errs := make([]error, 4)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = b.Build(context.Background(), dir)
		}()
	}
	wg.Wait()
	built := 0
	for i := range results {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if !results[i].Cached {
			built++
		}
		if results[i].Path != results[0].Path {
			t.Fatalf("different outputs %s and %s", results[i].Path, results[0].Path)
		}
	}
	if built != 1 {
		t.Fatalf("%d of 4 concurrent builds of one plugin ran the compiler, want 1", built)
	}
	entries, _ := os.ReadDir(b.CacheDir)
	for _, e := range entries {
		if filepath.Ext(e.Name()) != ".wasm" && filepath.Ext(e.Name()) != ".lock" && e.Name() != "stamps" {
			t.Fatalf("leftover %s in the cache", e.Name())
		}
	}
	stamps, _ := os.ReadDir(filepath.Join(b.CacheDir, "stamps"))
	for _, e := range stamps {
		if filepath.Ext(e.Name()) != ".json" {
			t.Fatalf("leftover %s in the cache's stamps", e.Name())
		}
	}
}

func TestBuilder_Errors(t *testing.T) {
	b := &build.Builder{CacheDir: t.TempDir()}
	ctx := context.Background()
	if _, err := b.Build(ctx, "testdata/no-such-plugin"); err == nil || !strings.Contains(err.Error(), "testdata/no-such-plugin: no such directory") {
		t.Fatalf("missing dir: %v", err)
	}
	dir := tempDir(t, "tmp-broken-")
	os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() { undefinedThing() }\n"), 0o644)
	if _, err := b.Build(ctx, dir); err == nil || !strings.Contains(err.Error(), "go build failed") || !strings.Contains(err.Error(), "undefinedThing") {
		t.Fatalf("compile error not passed on: %v", err)
	}
	if _, err := b.Build(ctx, filepath.Join(dir, "main.go")); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("a file for a directory: %v", err)
	}
}

// A directory that is neither a Go package nor a C plugin says what it
// lacks, rather than passing on the go command's error about go.mod.
func TestBuilder_NotAPlugin(t *testing.T) {
	b := &build.Builder{CacheDir: t.TempDir()}
	for _, tc := range []struct {
		files map[string]string
		want  string
	}{
		{map[string]string{"drv.c": "int x;\n"}, "the directory holds C sources (drv.c) but no nichost-plugin.yaml: a C plugin needs one"},
		{map[string]string{"drv.c": "int x;\n", "nichost-plugin.yml": "language: c\n"}, "found nichost-plugin.yml, but the C plugin manifest is named nichost-plugin.yaml"},
		{map[string]string{"README": "hi\n"}, "the directory holds no plugin source"},
	} {
		dir := t.TempDir()
		for name, body := range tc.files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := b.Build(context.Background(), dir); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error saying %q", tc.files, err, tc.want)
		}
	}
}

// Without go on PATH, a Go plugin that must be built fails saying that the
// toolchain is missing and what to do instead; it does not fall back to
// the Go that built nichost (runtime.GOROOT: wrong on a board).
func TestBuild_NoGoOnPATH(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	b := &build.Builder{CacheDir: t.TempDir()}
	_, err := b.Build(context.Background(), writePlugin(t, "nogo"))
	if !errors.Is(err, build.ErrNoGo) || !strings.Contains(err.Error(), `"go" is not on PATH`) || !strings.Contains(err.Error(), "prebuilt .wasm") {
		t.Fatalf("build without go: %v", err)
	}
}
