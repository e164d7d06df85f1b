package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nichost/nichost/internal/testenv"
)

// buildLine finds the line `nichost build` prints for dir and checks its
// format: "DIR\tbuilt|cached in D, N KiB\tPATH".
func buildLine(t *testing.T, out, dir string) (how, path string) {
	t.Helper()
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(dir) + "\t(built|cached) in [0-9.]+[µm]?s, [0-9]+ KiB\t(/.+\\.wasm)$")
	for _, l := range strings.Split(out, "\n") {
		if m := re.FindStringSubmatch(l); m != nil {
			return m[1], m[2]
		}
	}
	t.Fatalf("no line for %s in the output of build:\n%s", dir, out)
	return "", ""
}

func TestBuild_CPluginLine(t *testing.T) {
	testenv.NeedTool(t, "clang", "clang")
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	goDir := filepath.Join(root, "host", "testdata", "plugins", "full")
	out, err := run(t, "build", goDir)
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	buildLine(t, out, goDir)

	cDir := t.TempDir()
	os.WriteFile(filepath.Join(cDir, "nichost-plugin.yaml"), []byte("language: c\nsdk: false\n"), 0o644)
	os.WriteFile(filepath.Join(cDir, "drv.c"), []byte("__attribute__((export_name(\"nic_abi_version\"))) int v(void) { return 0x10001; }\n"), 0o644)
	cache := t.TempDir()
	out, err = run(t, "build", "--cache", cache, cDir)
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	if !strings.Contains(out, "building C plugin "+cDir+" for wasm32-wasi with clang") {
		t.Errorf("no progress line before a cold build:\n%s", out)
	}
	how, path := buildLine(t, out, cDir)
	if how != "built" || filepath.Dir(path) != cache {
		t.Fatalf("first build: %s %s", how, path)
	}
	out, err = run(t, "build", "--cache", cache, cDir)
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	if how, again := buildLine(t, out, cDir); how != "cached" || again != path {
		t.Fatalf("second build: %s %s, want cached %s", how, again, path)
	}

	os.WriteFile(filepath.Join(cDir, "nichost-plugin.yaml"), []byte("language: c\nsdk: false\nsrc: [drv.c]\n"), 0o644)
	if out, err := run(t, "build", "--cache", cache, cDir); err == nil || !strings.Contains(err.Error(), `nichost-plugin.yaml:3: unknown key "src"`) {
		t.Fatalf("bad manifest: %v\n%s", err, out)
	}
}
