package build

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/nichost/nichost/abi"
)

// ErrNoClang is wrapped by the error of a C build on a machine without a
// clang that can build for wasm32-wasi.
var ErrNoClang = errors.New("a C plugin needs clang for wasm32-wasi (Debian: apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32)")

// cFlags come first on clang's command line; part of the cache key.
//
// The -m flags turn on wasm features of ABI.md's list that clang 14 leaves
// off by default: with bulk memory, memcpy and memset become one
// memory.copy or memory.fill instead of a loop, which made the C LAN
// driver's received frames/s 2.6 times what it was (its frames are copied
// twice). Unused parameters are the rule in a table of callbacks, and a
// nic_bus may leave out its optional field, so those two warnings are off.
// gnu11 rather than c11: driver code ported from Linux or Zephyr uses
// POSIX functions (strnlen) that strict C11 hides.
var cFlags = []string{
	"--target=wasm32-wasi", "-mexec-model=reactor", "-O2", "-std=gnu11",
	"-mbulk-memory", "-msign-ext", "-mnontrapping-fptoint", "-mmutable-globals",
	"-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers",
	"-Werror=implicit-function-declaration",
}

// clangEnv are the variables clang takes include paths from: part of the
// key.
var clangEnv = []string{"CPATH", "C_INCLUDE_PATH"}

// clangArgs is clang's command line after the program name. sdk is the
// directory of the SDK's files, "" without the SDK.
func clangArgs(m *manifest, sources []string, sdk, out string) []string {
	args := append([]string{}, cFlags...)
	if sdk != "" {
		args = append(args, "-I", sdk)
	}
	args = append(args, m.CFlags...)
	args = append(args, "-o", out)
	args = append(args, sources...)
	if sdk != "" {
		args = append(args, filepath.Join(sdk, "nic.c"))
	}
	return args
}

// cJob is the build of the C plugin in abs (named dir in messages).
func (b *Builder) cJob(ctx context.Context, dir, abs string) (job, error) {
	fail := func(err error) (job, error) { return job{}, fmt.Errorf("build %s: %w", dir, err) }
	src, err := os.ReadFile(filepath.Join(abs, ManifestName))
	if err != nil {
		return fail(err)
	}
	m, err := parseManifest(src)
	if err != nil {
		return fail(err)
	}
	sources, err := cSources(abs, m)
	if err != nil {
		return fail(err)
	}
	headers, err := cHeaders(abs)
	if err != nil {
		return fail(err)
	}
	clang, version, err := findClang(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return fail(ctx.Err())
		}
		if v := os.Getenv("NICHOST_CLANG"); v != "" {
			err = fmt.Errorf("$NICHOST_CLANG=%s: %w", v, err)
		}
		return fail(fmt.Errorf("%w: %v", ErrNoClang, err))
	}
	var sdk map[string][]byte
	sdkPlaceholder := ""
	if m.SDK {
		sdk, sdkPlaceholder = abi.CSDKFiles(), "$SDK"
	}

	h := newHash()
	fmt.Fprintf(h, "nichost-build-c-v1\n%s\n%s\n", version, strings.Join(clangArgs(m, sources, sdkPlaceholder, "$OUT"), " "))
	for _, v := range clangEnv {
		fmt.Fprintf(h, "%s=%s\n", v, os.Getenv(v))
	}
	hashBytes(h, "manifest", ManifestName, src)
	files := append(append([]string{}, sources...), headers...)
	sort.Strings(files)
	files = slices.Compact(files)
	for _, f := range files {
		if err := hashFile(h, f, filepath.Join(abs, filepath.FromSlash(f))); err != nil {
			return fail(err)
		}
	}
	for _, name := range sortedKeys(sdk) {
		hashBytes(h, "sdk", name, sdk[name])
	}
	return job{
		dir:      dir,
		key:      sum(h),
		progress: fmt.Sprintf("building C plugin %s for wasm32-wasi with clang (a cold build takes a few seconds)...", dir),
		noOutput: fmt.Sprintf("%s exited without error but wrote no module", clang),
		compile: func(ctx context.Context, cache, out string) error {
			sdkDir := ""
			if m.SDK {
				d, err := writeSDK(cache, sdk)
				if err != nil {
					return fmt.Errorf("build %s: %w", dir, err)
				}
				sdkDir = d
			}
			warnings, err := runTool(ctx, dir, abs, clang, "clang", clangArgs(m, sources, sdkDir, out), nil)
			if err != nil {
				if ctx.Err() == nil {
					if perr := probeClang(ctx, clang, cache); perr != nil {
						return fmt.Errorf("build %s: %w: %v", dir, ErrNoClang, perr)
					}
				}
				return err
			}
			if w := strings.TrimSpace(warnings); w != "" && b.Progress != nil {
				b.Progress(fmt.Sprintf("%s: compiler warnings:\n%s", dir, w))
			}
			return nil
		},
	}, nil
}

// cSources returns the manifest's sources, slash-separated and cleaned,
// or, when the manifest lists none, the *.c files of abs, sorted; each
// checked to be a file inside abs (a symbolic link may lead out).
func cSources(abs string, m *manifest) ([]string, error) {
	names := m.Sources
	if names == nil {
		entries, err := os.ReadDir(abs)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if filepath.Ext(e.Name()) == ".c" && !e.IsDir() {
				names = append(names, e.Name())
			}
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("no *.c files in the directory, and %s lists no sources", ManifestName)
		}
	}
	root, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range names {
		rel := filepath.Clean(filepath.FromSlash(s))
		real, err := filepath.EvalSymlinks(filepath.Join(abs, rel))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: sources: %q does not exist", ManifestName, s)
		} else if err != nil {
			return nil, fmt.Errorf("%s: sources: %w", ManifestName, err)
		}
		if r, err := filepath.Rel(root, real); err != nil || !filepath.IsLocal(r) {
			return nil, fmt.Errorf("%s: sources: %q leads out of the plugin directory (to %s)", ManifestName, s, real)
		}
		if st, err := os.Stat(real); err != nil || !st.Mode().IsRegular() {
			return nil, fmt.Errorf("%s: sources: %q is not a file", ManifestName, s)
		}
		out = append(out, filepath.ToSlash(rel))
	}
	return out, nil
}

// cHeaders returns the *.h files under abs, slash-separated relative paths,
// leaving out directories whose names start with a dot.
func cHeaders(abs string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(abs, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != abs && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if filepath.Ext(p) != ".h" {
			return nil
		}
		if st, err := os.Stat(p); err != nil || st.IsDir() {
			return nil // a dangling link or one to a directory: nothing clang can include
		}
		rel, err := filepath.Rel(abs, p)
		if err != nil {
			return err
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	return out, err
}

// findClang returns the clang to use, $NICHOST_CLANG or clang on PATH, and
// the first line of its --version.
func findClang(ctx context.Context) (path, version string, err error) {
	name := os.Getenv("NICHOST_CLANG")
	if name == "" {
		name = "clang"
	}
	path, err = exec.LookPath(name)
	if err != nil {
		return "", "", err
	}
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	if err != nil {
		if ctx.Err() != nil {
			return "", "", ctx.Err()
		}
		return "", "", fmt.Errorf("%s --version: %v", path, err)
	}
	version, _, _ = strings.Cut(strings.TrimSpace(string(out)), "\n")
	return path, strings.TrimSpace(version), nil
}

// probeSource is a reactor that needs what every C plugin needs: the
// target, the C library's headers and archive, the compiler runtime and the
// linker.
const probeSource = `#include <stdlib.h>
__attribute__((export_name("probe"))) void *probe(int n) { return malloc((size_t)n * 3 / 2); }
`

// probeClang builds probeSource, after a failed build, to tell a broken
// toolchain from a broken plugin.
func probeClang(ctx context.Context, clang, cache string) error {
	f, err := os.CreateTemp(cache, "probe-*.wasm")
	if err != nil {
		return err
	}
	f.Close()
	defer os.Remove(f.Name())
	cmd := exec.CommandContext(ctx, clang, append(append([]string{}, cFlags...), "-x", "c", "-o", f.Name(), "-")...)
	cmd.Stdin = strings.NewReader(probeSource)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s cannot build a wasm32-wasi reactor: %v\n%s", clang, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// writeSDK writes the SDK's files into CACHE/sdk/<hash of their content>
// and returns that directory. Each file is written to a temporary name and
// renamed, so that a concurrent build never sees a partial one.
func writeSDK(cache string, files map[string][]byte) (string, error) {
	h := newHash()
	for _, name := range sortedKeys(files) {
		hashBytes(h, "sdk", name, files[name])
	}
	dir := filepath.Join(cache, "sdk", sum(h))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("build cache: %w", err)
	}
	for _, name := range sortedKeys(files) {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			continue
		}
		f, err := os.CreateTemp(dir, name+".tmp*")
		if err != nil {
			return "", fmt.Errorf("build cache: %w", err)
		}
		_, err = f.Write(files[name])
		if err == nil {
			err = f.Chmod(0o644)
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(f.Name(), p)
		}
		if err != nil {
			os.Remove(f.Name())
			return "", fmt.Errorf("build cache: %w", err)
		}
	}
	return dir, nil
}

func sortedKeys(m map[string][]byte) []string { return slices.Sorted(maps.Keys(m)) }
