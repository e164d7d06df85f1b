// Package build turns a driver plugin's source directory into a WASM
// module, with a cache keyed by the content of every input of the build.
//
// A directory holding a build manifest, nichost-plugin.yaml, is a C plugin,
// compiled with clang for wasm32-wasi together with nichost's C SDK
// (abi/c/nic.h and nic.c, embedded in the binary by package abi); any other
// directory is a Go main package, built with GOOS=wasip1 GOARCH=wasm go
// build -buildmode=c-shared.
// Either way the module is a reactor, as abi/ABI.md section 1 requires.
package build

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Builder builds driver plugins from source into WASM modules, keeping the
// results in a cache keyed by a hash of every input of the build. For Go:
// the Go version, the build settings, and the content of every file of
// every package the plugin imports from its own module (abi/guest
// included), with the module versions of everything else. For C: the clang
// version, the compiler flags, the manifest, every source and header of the
// directory, and the C SDK. An unchanged plugin is never built twice; a
// change anywhere in its inputs rebuilds it. Finding a Go plugin's inputs
// takes the go toolchain (go list); a stamp beside the cache lets an
// unchanged directory skip it (stamp.go). The cache is safe for
// concurrent use by several processes (tests run packages in parallel).
type Builder struct {
	// CacheDir holds the built modules (DefaultCacheDir()/plugins when
	// empty).
	CacheDir string
	// Progress, if set, receives a line before a build starts, since a cold
	// build takes a few seconds, and the compiler's warnings after a C build
	// that had any.
	Progress func(msg string)
}

// Result says where the module is and how it was obtained.
type Result struct {
	Path     string        // the .wasm file
	Key      string        // content hash of the inputs
	Cached   bool          // taken from the cache, not built
	Stamped  bool          // the key came from the directory's stamp: no tool ran to find the inputs (Go plugins; stamp.go)
	Duration time.Duration // time spent, hashing included
}

// DefaultCacheDir is $NICHOST_CACHE, or "nichost" in the user's cache
// directory.
func DefaultCacheDir() string {
	if d := os.Getenv("NICHOST_CACHE"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "nichost")
	}
	return filepath.Join(os.TempDir(), "nichost-cache")
}

// Build returns the WASM module for the plugin in dir, building it if the
// cache has no module for the current inputs. dir is a C plugin if it holds
// a ManifestName file, a Go main package otherwise.
func (b *Builder) Build(ctx context.Context, dir string) (Result, error) {
	start := time.Now()
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Result{}, fmt.Errorf("build %s: %w", dir, err)
	}
	switch st, err := os.Stat(abs); {
	case errors.Is(err, os.ErrNotExist):
		return Result{}, fmt.Errorf("build %s: no such directory", dir)
	case err != nil:
		return Result{}, fmt.Errorf("build %s: %w", dir, err)
	case !st.IsDir():
		return Result{}, fmt.Errorf("build %s: not a directory: a plugin's source is a directory of Go or C files (a .wasm file is loaded as it is)", dir)
	}
	var j job
	switch _, serr := os.Stat(filepath.Join(abs, ManifestName)); {
	case serr == nil:
		j, err = b.cJob(ctx, dir, abs)
	case errors.Is(serr, os.ErrNotExist):
		if err := notGo(dir, abs); err != nil {
			return Result{}, err
		}
		j, err = b.goJob(ctx, dir, abs)
	default:
		return Result{}, fmt.Errorf("build %s: %w", dir, serr)
	}
	if err != nil {
		return Result{}, err
	}
	return b.run(ctx, start, j)
}

// notGo explains a directory without a manifest that holds no Go files: C
// sources without a manifest, or a manifest under another name, are the
// likely mistakes, and `go list`'s own error would not say so.
func notGo(dir, abs string) error {
	if m, _ := filepath.Glob(filepath.Join(abs, "*.go")); len(m) > 0 {
		return nil
	}
	for _, alt := range []string{"nichost-plugin.yml", "nichost_plugin.yaml", "nichost-plugin.YAML"} {
		if _, err := os.Stat(filepath.Join(abs, alt)); err == nil {
			return fmt.Errorf("build %s: found %s, but the C plugin manifest is named %s", dir, alt, ManifestName)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(abs, "*.c")); len(m) > 0 {
		return fmt.Errorf("build %s: the directory holds C sources (%s) but no %s: a C plugin needs one, with at least \"language: c\"", dir, filepath.Base(m[0]), ManifestName)
	}
	return fmt.Errorf("build %s: the directory holds no plugin source: Go files (a main package) or a C plugin's %s", dir, ManifestName)
}

// job is one build, language aside: its cache key, the line to say before
// it runs, and how to run it.
type job struct {
	dir      string // the plugin directory, as given
	key      string
	progress string
	noOutput string // the error when the compiler succeeded but wrote no module
	stamped  bool   // key came from a stamp
	// compile writes the module to out; cache is the cache directory, for
	// files the build needs (the C SDK).
	compile func(ctx context.Context, cache, out string) error
}

func (b *Builder) cacheDir() string {
	if b.CacheDir != "" {
		return b.CacheDir
	}
	return filepath.Join(DefaultCacheDir(), "plugins")
}

// run returns the cached module for j.key, or builds it under the key's
// lock into a temporary file renamed into place when complete, so that a
// module in the cache is always whole.
func (b *Builder) run(ctx context.Context, start time.Time, j job) (Result, error) {
	cache := b.cacheDir()
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return Result{}, fmt.Errorf("build cache: %w", err)
	}
	out := filepath.Join(cache, j.key+".wasm")
	res := Result{Path: out, Key: j.key, Cached: true, Stamped: j.stamped}
	if _, err := os.Stat(out); err == nil {
		res.Duration = time.Since(start)
		return res, nil
	}
	// Serialise builds of the same key across processes; whoever gets the
	// lock second finds the module there.
	unlock, err := lockFile(ctx, filepath.Join(cache, j.key+".lock"))
	if err != nil {
		return Result{}, err
	}
	defer unlock()
	if _, err := os.Stat(out); err == nil {
		res.Duration = time.Since(start)
		return res, nil
	}
	if b.Progress != nil {
		b.Progress(j.progress)
	}
	tmp := out + fmt.Sprintf(".tmp%d", os.Getpid())
	if err := j.compile(ctx, cache, tmp); err != nil {
		os.Remove(tmp)
		return Result{}, err
	}
	if _, err := os.Stat(tmp); err != nil {
		return Result{}, fmt.Errorf("build %s: %s", j.dir, j.noOutput)
	}
	if err := os.Rename(tmp, out); err != nil {
		os.Remove(tmp)
		return Result{}, fmt.Errorf("build cache: %w", err)
	}
	res.Cached = false
	res.Duration = time.Since(start)
	return res, nil
}

// runTool runs a compiler in dir and returns what it wrote to stderr. A
// failure is an error naming the plugin directory and carrying that output,
// trimmed.
func runTool(ctx context.Context, name, dir, tool, what string, args, env []string) (stderr string, err error) {
	cmd := exec.CommandContext(ctx, tool, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var buf bytes.Buffer
	cmd.Stderr = &buf
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return buf.String(), fmt.Errorf("build %s: %w", name, ctx.Err())
		}
		return buf.String(), fmt.Errorf("build %s: %s failed (%v):\n%s", name, what, err, strings.TrimSpace(buf.String()))
	}
	return buf.String(), nil
}

// hashFile adds a file to a key: its name as given, its size and content.
func hashFile(h io.Writer, name, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	hashBytes(h, "file", name, b)
	return nil
}

// hashBytes adds named content to a key, its length first so that no two
// sequences of files hash alike.
func hashBytes(h io.Writer, kind, name string, b []byte) {
	fmt.Fprintf(h, "%s %s %d\n", kind, name, len(b))
	h.Write(b)
}

// sum is the key of what h has seen.
func sum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil))[:32] }

func newHash() hash.Hash { return sha256.New() }

// lockFile takes an exclusive flock on path, waiting for ctx.
func lockFile(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("build lock: %w", err)
	}
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { unix.Flock(int(f.Fd()), unix.LOCK_UN); f.Close() }, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("build lock: %w", err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("build: waiting for another build of the same plugin: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
