package build_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/nichost/nichost/host/build"
	"github.com/nichost/nichost/internal/testenv"
)

// A self-contained C plugin (sdk: false): two sources and a header.
const (
	cManifest = "language: c\nsdk: false\n"
	cMain     = `#include "drv.h"

__attribute__((export_name("nic_abi_version"))) int abi_version(void) { return DRV_ABI; }
`
	cHelper = `#include <stdlib.h>
#include "drv.h"

static char *buf;

__attribute__((export_name("drv_alloc"))) int drv_alloc(int n) {
	buf = malloc((size_t)n);
	return buf != 0;
}
`
	cHeader = "#define DRV_ABI 0x00010001\n"
)

// writeC writes files (name: content, "/" separated) into a new directory.
func writeC(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func cPlugin(t *testing.T) string {
	return writeC(t, map[string]string{"nichost-plugin.yaml": cManifest, "main.c": cMain, "helper.c": cHelper, "drv.h": cHeader})
}

func needClang(t *testing.T) {
	t.Helper()
	testenv.NeedTool(t, "clang", "clang")
}

// checkReactor compiles the module with wazero and checks the shape of
// ABI.md section 1, and that it exports the functions in want.
func checkReactor(t *testing.T, path string, want ...string) {
	t.Helper()
	wasm, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	m, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		t.Fatalf("wazero does not compile the module: %v", err)
	}
	fns := m.ExportedFunctions()
	if _, ok := fns["_initialize"]; !ok {
		t.Error("the module does not export _initialize: not a reactor")
	}
	if _, ok := fns["_start"]; ok {
		t.Error("the module exports _start: a command, not a reactor")
	}
	if _, ok := m.ExportedMemories()["memory"]; !ok {
		t.Error("the module does not export memory")
	}
	for _, name := range want {
		if _, ok := fns[name]; !ok {
			t.Errorf("the module does not export %s", name)
		}
	}
}

func TestBuilder_C(t *testing.T) {
	needClang(t)
	var progress []string
	b := &build.Builder{CacheDir: t.TempDir(), Progress: func(msg string) { progress = append(progress, msg) }}
	ctx := context.Background()
	dir := cPlugin(t)
	first, err := b.Build(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if first.Cached || filepath.Dir(first.Path) != b.CacheDir || filepath.Base(first.Path) != first.Key+".wasm" {
		t.Fatalf("first build: %+v", first)
	}
	want := "building C plugin " + dir + " for wasm32-wasi with clang (a cold build takes a few seconds)..."
	if len(progress) != 1 || progress[0] != want {
		t.Fatalf("progress %q, want %q", progress, want)
	}
	checkReactor(t, first.Path, "nic_abi_version", "drv_alloc")

	again, err := b.Build(ctx, dir)
	if err != nil || !again.Cached || again.Path != first.Path || again.Key != first.Key {
		t.Fatalf("unchanged plugin rebuilt: %+v, %v", again, err)
	}
	if len(progress) != 1 {
		t.Fatalf("a cached build said %q", progress[1:])
	}
}

// TestBuilder_CKey changes each kind of input of a C build in turn: each
// change must make a new key, and undoing it must find the old module.
func TestBuilder_CKey(t *testing.T) {
	needClang(t)
	b := &build.Builder{CacheDir: t.TempDir()}
	ctx := context.Background()
	dir := cPlugin(t)
	base, err := b.Build(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{base.Key: "the original"}
	for _, c := range []struct {
		what, file, content string
	}{
		{"a source", "helper.c", cHelper + "int drv_extra;\n"},
		{"a header", "drv.h", cHeader + "#define DRV_UNUSED 1\n"},
		{"a header not included", "include/unused.h", "/* nothing */\n"},
		{"the manifest's flags", "nichost-plugin.yaml", cManifest + "cflags: [-DDRV_FLAG=1]\n"},
		{"the manifest's sources", "nichost-plugin.yaml", cManifest + "sources: [main.c, helper.c]\n"},
	} {
		p := filepath.Join(dir, filepath.FromSlash(c.file))
		old, oldErr := os.ReadFile(p)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(c.content), 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := b.Build(ctx, dir)
		if err != nil {
			t.Fatalf("after changing %s: %v", c.what, err)
		}
		if prev, ok := keys[res.Key]; ok || res.Cached {
			t.Errorf("changing %s kept the key of %s (cached %v)", c.what, prev, res.Cached)
		}
		keys[res.Key] = c.what
		if oldErr == nil {
			os.WriteFile(p, old, 0o644)
		} else {
			os.Remove(p)
		}
		if res, err := b.Build(ctx, dir); err != nil || res.Key != base.Key || !res.Cached {
			t.Fatalf("undoing the change of %s: %+v, %v", c.what, res, err)
		}
	}
}

func TestBuilder_CWithSDK(t *testing.T) {
	needClang(t)
	b := &build.Builder{CacheDir: t.TempDir()}
	// The SDK provides the exports; this plugin only proves that nic.h is
	// on the include path and nic.c is linked in.
	dir := writeC(t, map[string]string{
		"nichost-plugin.yaml": "language: c\n",
		"drv.c":               "#include \"nic.h\"\n\nint drv_abi = NIC_ABI_VERSION;\n",
	})
	res, err := b.Build(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	checkReactor(t, res.Path, "nic_abi_version")
	sdk, err := filepath.Glob(filepath.Join(b.CacheDir, "sdk", "*", "nic.h"))
	if err != nil || len(sdk) != 1 {
		t.Fatalf("the SDK is not in the cache: %v, %v", sdk, err)
	}
}

func TestBuilder_CConcurrent(t *testing.T) {
	needClang(t)
	b := &build.Builder{CacheDir: t.TempDir()}
	dir := cPlugin(t)
	var wg sync.WaitGroup
	results := make([]build.Result, 4)
	errs := make([]error, 4)
	for i := range results {
		wg.Go(func() { results[i], errs[i] = b.Build(context.Background(), dir) })
	}
	wg.Wait()
	built := 0
	for i, r := range results {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if !r.Cached {
			built++
		}
		if r.Path != results[0].Path {
			t.Fatalf("different outputs %s and %s", r.Path, results[0].Path)
		}
	}
	if built != 1 {
		t.Fatalf("%d of 4 concurrent builds of one plugin ran the compiler, want 1", built)
	}
}

func TestBuilder_CCompileError(t *testing.T) {
	needClang(t)
	b := &build.Builder{CacheDir: t.TempDir()}
	dir := writeC(t, map[string]string{
		"nichost-plugin.yaml": cManifest,
		"broken.c":            "int f(void) { return undefined_thing(); }\n",
	})
	_, err := b.Build(context.Background(), dir)
	if err == nil || !strings.Contains(err.Error(), "broken.c:1:") || !strings.Contains(err.Error(), "undefined_thing") ||
		!strings.HasPrefix(err.Error(), "build "+dir+": ") || errors.Is(err, build.ErrNoClang) {
		t.Fatalf("compile error not passed on: %v", err)
	}
	entries, _ := os.ReadDir(b.CacheDir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") || strings.HasPrefix(e.Name(), "probe-") {
			t.Errorf("leftover %s in the cache", e.Name())
		}
	}
}

func TestBuilder_CWarnings(t *testing.T) {
	needClang(t)
	var progress []string
	b := &build.Builder{CacheDir: t.TempDir(), Progress: func(msg string) { progress = append(progress, msg) }}
	dir := writeC(t, map[string]string{
		"nichost-plugin.yaml": cManifest,
		"warn.c":              "__attribute__((export_name(\"f\"))) int f(void) { int unused_var; return 1; }\n",
	})
	if _, err := b.Build(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	if len(progress) != 2 || !strings.Contains(progress[1], "unused_var") {
		t.Fatalf("the compiler's warning was not passed on: %q", progress)
	}
}

func TestBuilder_NoClang(t *testing.T) {
	dir := cPlugin(t)
	b := &build.Builder{CacheDir: t.TempDir()}
	t.Setenv("NICHOST_CLANG", "/nonexistent")
	_, err := b.Build(context.Background(), dir)
	want := "build " + dir + ": a C plugin needs clang for wasm32-wasi (Debian: apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32): "
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "/nonexistent") || !errors.Is(err, build.ErrNoClang) {
		t.Fatalf("got %v, want %q...", err, want)
	}
}

// A clang that runs but cannot build for wasm32-wasi (no wasi-libc, no
// lld): the build's failure must be blamed on the toolchain.
func TestBuilder_ClangWithoutWASI(t *testing.T) {
	dir := cPlugin(t)
	fake := filepath.Join(t.TempDir(), "clang")
	script := "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'fake clang version 1.0'; exit 0; fi\necho \"error: unable to create target: 'No available targets are compatible with triple wasm32-unknown-wasi'\" >&2\nexit 1\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("NICHOST_CLANG", fake)
	b := &build.Builder{CacheDir: t.TempDir()}
	_, err := b.Build(context.Background(), dir)
	if err == nil || !errors.Is(err, build.ErrNoClang) || !strings.Contains(err.Error(), "apt-get install clang lld wasi-libc") ||
		!strings.Contains(err.Error(), "No available targets") {
		t.Fatalf("got %v", err)
	}
}

func TestBuilder_CManifestErrors(t *testing.T) {
	b := &build.Builder{CacheDir: t.TempDir()}
	outside := filepath.Join(t.TempDir(), "outside.c")
	os.WriteFile(outside, []byte("int x;\n"), 0o644)
	for _, c := range []struct {
		name, manifest string
		extra          map[string]string
		want           string
	}{
		{"unknown key", "language: c\nsdk: false\nsorces: [a.c]\n", nil,
			`nichost-plugin.yaml:3: unknown key "sorces" (want one of language, sources, cflags, sdk)`},
		{"language rust", "language: rust\n", nil,
			`nichost-plugin.yaml:1: language: "rust" is not supported (supported: c)`},
		{"no language", "sdk: false\n", nil, `nichost-plugin.yaml:1: language: missing (supported: c)`},
		{"empty", "", nil, `nichost-plugin.yaml: language: missing (supported: c)`},
		{"not a mapping", "- c\n", nil, `nichost-plugin.yaml:1: want a mapping`},
		{"syntax", "language: [c\n", nil, `nichost-plugin.yaml:1: did not find expected`},
		{"twice", "language: c\nlanguage: c\n", nil, `nichost-plugin.yaml:2: language: given twice`},
		{"dotdot source", "language: c\nsources:\n  - a.c\n  - ../x/b.c\n", nil,
			`nichost-plugin.yaml:4: sources: "../x/b.c" leaves the plugin directory`},
		{"absolute source", "language: c\nsources: [" + outside + "]\n", nil,
			`nichost-plugin.yaml:2: sources: "` + outside + `" is an absolute path; paths are relative to the plugin directory`},
		{"symlink out", "language: c\nsources: [link.c]\n", map[string]string{"link.c": "->" + outside},
			`nichost-plugin.yaml: sources: "link.c" leads out of the plugin directory`},
		{"symlink out, default sources", "language: c\n", map[string]string{"link.c": "->" + outside},
			`sources: "link.c" leads out of the plugin directory`},
		{"missing source", "language: c\nsources: [nope.c]\n", nil, `nichost-plugin.yaml: sources: "nope.c" does not exist`},
		{"not c", "language: c\nsources: [a.s]\n", nil, `nichost-plugin.yaml:2: sources: "a.s" is not a .c file`},
		{"dup source", "language: c\nsources: [a.c, ./a.c]\n", nil, `nichost-plugin.yaml:2: sources: "./a.c" listed twice`},
		{"empty sources", "language: c\nsources: []\n", nil, `nichost-plugin.yaml:2: sources: empty`},
		{"sources string", "language: c\nsources: a.c\n", nil, `nichost-plugin.yaml:2: sources: want a list of strings, not "a.c"`},
		{"sdk yes", "language: c\nsdk: yes\n", nil, `nichost-plugin.yaml:2: sdk: want true or false, not "yes"`},
		{"cflags -o", "language: c\ncflags: [-O3, -o, x.wasm]\n", nil, `nichost-plugin.yaml:2: cflags: "-o": nichost sets -o itself`},
		{"cflags target", "language: c\ncflags: [--target=wasm64-wasi]\n", nil, `cflags: "--target=wasm64-wasi": nichost sets --target itself`},
		{"cflags include out", "language: c\ncflags: [-I../common]\n", nil, `cflags: "-I../common": "../common" leaves the plugin directory`},
		{"cflags include out, two flags", "language: c\ncflags:\n  - -isystem\n  - /usr/include\n", nil,
			`nichost-plugin.yaml:4: cflags: -isystem /usr/include: "/usr/include" is an absolute path`},
		{"cflags dangling -I", "language: c\ncflags: [-DX, -I]\n", nil, `nichost-plugin.yaml:2: cflags: -I needs a path after it`},
		{"no sources", "language: c\n", map[string]string{"README": "no C here\n"}, `no *.c files in the directory`},
	} {
		t.Run(c.name, func(t *testing.T) {
			files := map[string]string{"nichost-plugin.yaml": c.manifest, "a.c": "int a;\n"}
			if c.extra != nil {
				files = map[string]string{"nichost-plugin.yaml": c.manifest}
			}
			links := map[string]string{}
			for k, v := range c.extra {
				if target, ok := strings.CutPrefix(v, "->"); ok {
					links[k] = target
					continue
				}
				files[k] = v
			}
			dir := writeC(t, files)
			for name, target := range links {
				if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
					t.Fatal(err)
				}
			}
			_, err := b.Build(context.Background(), dir)
			if err == nil || !strings.HasPrefix(err.Error(), "build "+dir+": ") || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v\nwant %q", err, c.want)
			}
		})
	}
}

// A compiler that succeeds without writing the module (a wrapper script
// that swallows the call) is named, not reported as a cache error.
func TestBuilder_CompilerWritesNothing(t *testing.T) {
	dir := cPlugin(t)
	fake := filepath.Join(t.TempDir(), "clang")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho 'clang version 99'\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("NICHOST_CLANG", fake)
	_, err := (&build.Builder{CacheDir: t.TempDir()}).Build(context.Background(), dir)
	if err == nil || !strings.Contains(err.Error(), fake+" exited without error but wrote no module") {
		t.Fatalf("got %v, want the compiler named as writing no module", err)
	}
}
