// Package build turns a driver plugin's Go source into a WASM module, with a
// cache keyed by the content of every input of the build.
package build

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Builder builds driver plugins from Go source into WASM modules, keeping
// the results in a cache keyed by a hash of every input of the build: the Go
// version, the build settings, and the content of every file of every
// package the plugin imports from its own module (abi/guest included), with
// the module versions of everything else. An unchanged plugin is never built
// twice; a change anywhere in its imports rebuilds it. The cache is safe for
// concurrent use by several processes (tests run packages in parallel).
type Builder struct {
	// CacheDir holds the built modules (DefaultCacheDir()/plugins when
	// empty).
	CacheDir string
	// Progress, if set, receives a line before a build starts, since a cold
	// build takes a few seconds.
	Progress func(msg string)
}

// Result says where the module is and how it was obtained.
type Result struct {
	Path     string        // the .wasm file
	Key      string        // content hash of the inputs
	Cached   bool          // taken from the cache, not built
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

// buildFlags are part of the cache key: change them and every plugin
// rebuilds.
var buildFlags = []string{"build", "-trimpath", "-buildmode=c-shared"}

// buildEnv is part of the cache key too. GOWASM lets Go emit the
// sign-extension and saturating float-to-int instructions (wasm 2.0, which
// wazero runs): smaller, faster guest code; the W5500 driver's WASM/native
// frame rate ratio went from about 1.6 to 1.5 with it.
var buildEnv = []string{"GOOS=wasip1", "GOARCH=wasm", "GOWASM=satconv,signext", "CGO_ENABLED=0"}

// Build returns the WASM module for the Go main package in dir, building it
// if the cache has no module for the current inputs.
func (b *Builder) Build(ctx context.Context, dir string) (Result, error) {
	start := time.Now()
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Result{}, fmt.Errorf("build %s: %w", dir, err)
	}
	if st, err := os.Stat(abs); err != nil || !st.IsDir() {
		return Result{}, fmt.Errorf("build %s: not a directory of Go source", dir)
	}
	key, err := b.key(ctx, abs)
	if err != nil {
		return Result{}, err
	}
	cache := b.CacheDir
	if cache == "" {
		cache = filepath.Join(DefaultCacheDir(), "plugins")
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return Result{}, fmt.Errorf("build cache: %w", err)
	}
	out := filepath.Join(cache, key+".wasm")
	res := Result{Path: out, Key: key, Cached: true}
	if _, err := os.Stat(out); err == nil {
		res.Duration = time.Since(start)
		return res, nil
	}
	// Serialise builds of the same key across processes; whoever gets the
	// lock second finds the module there.
	unlock, err := lockFile(ctx, filepath.Join(cache, key+".lock"))
	if err != nil {
		return Result{}, err
	}
	defer unlock()
	if _, err := os.Stat(out); err == nil {
		res.Duration = time.Since(start)
		return res, nil
	}
	if b.Progress != nil {
		b.Progress(fmt.Sprintf("building plugin %s for wasip1/wasm (a cold build takes a few seconds)...", dir))
	}
	tmp := out + fmt.Sprintf(".tmp%d", os.Getpid())
	args := append(append([]string{}, buildFlags...), "-o", tmp, ".")
	cmd := exec.CommandContext(ctx, goTool(), args...)
	cmd.Dir = abs
	cmd.Env = append(os.Environ(), buildEnv...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		os.Remove(tmp)
		return Result{}, fmt.Errorf("build %s: %v\n%s", dir, err, strings.TrimSpace(stderr.String()))
	}
	if err := os.Rename(tmp, out); err != nil {
		os.Remove(tmp)
		return Result{}, fmt.Errorf("build cache: %w", err)
	}
	res.Cached = false
	res.Duration = time.Since(start)
	return res, nil
}

// listedPackage is the part of `go list -json` output the key needs.
type listedPackage struct {
	ImportPath string
	Dir        string
	Standard   bool
	Module     *struct {
		Path    string
		Version string
		Main    bool
		GoMod   string
		Replace *struct {
			Path    string
			Version string
			Dir     string
		}
	}
	GoFiles, CgoFiles, SFiles, EmbedFiles, OtherFiles []string
	Error                                             *struct{ Err string }
}

// key hashes every input of the build of the package in dir.
func (b *Builder) key(ctx context.Context, dir string) (string, error) {
	cmd := exec.CommandContext(ctx, goTool(), "list", "-deps", "-json", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), buildEnv...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	outb, err := cmd.Output()
	if err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("build %s: go list: %w", dir, ctx.Err())
		}
		return "", fmt.Errorf("build %s: go list: %v\n%s", dir, err, strings.TrimSpace(stderr.String()))
	}
	h := sha256.New()
	fmt.Fprintf(h, "nichost-build-v1\n%s\n%s\n%s\n", goVersion(ctx), strings.Join(buildFlags, " "), strings.Join(buildEnv, " "))
	// Settings the go command takes from the environment change the output.
	for _, v := range []string{"GOFLAGS", "GOEXPERIMENT", "GOWASM", "GOAMD64", "GOTOOLCHAIN"} {
		fmt.Fprintf(h, "%s=%s\n", v, os.Getenv(v))
	}
	dec := json.NewDecoder(bytes.NewReader(outb))
	modFiles := map[string]bool{}
	for {
		var p listedPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return "", fmt.Errorf("build %s: go list output: %w", dir, err)
		}
		if p.Error != nil {
			return "", fmt.Errorf("build %s: %s: %s", dir, p.ImportPath, p.Error.Err)
		}
		if p.Standard {
			continue
		}
		// A module from the module cache is named by its version; one
		// replaced by a local directory is hashed like our own code.
		localReplace := p.Module != nil && p.Module.Replace != nil && p.Module.Replace.Version == ""
		if p.Module != nil && p.Module.Version != "" && !localReplace {
			v := p.Module.Version
			if p.Module.Replace != nil {
				v += " => " + p.Module.Replace.Path + "@" + p.Module.Replace.Version
			}
			fmt.Fprintf(h, "dep %s %s@%s\n", p.ImportPath, p.Module.Path, v)
			continue
		}
		if p.Module != nil && p.Module.GoMod != "" {
			modFiles[p.Module.GoMod] = true
		}
		files := append(append(append(append(append([]string{}, p.GoFiles...), p.CgoFiles...), p.SFiles...), p.EmbedFiles...), p.OtherFiles...)
		sort.Strings(files)
		fmt.Fprintf(h, "pkg %s\n", p.ImportPath)
		for _, f := range files {
			if err := hashFile(h, filepath.Join(p.Dir, f)); err != nil {
				return "", fmt.Errorf("build %s: %w", dir, err)
			}
		}
	}
	// go.mod carries replace directives and the go line; go.sum pins
	// versions' content.
	for gomod := range modFiles {
		for _, f := range []string{gomod, strings.TrimSuffix(gomod, ".mod") + ".sum"} {
			if _, err := os.Stat(f); err == nil {
				if err := hashFile(h, f); err != nil {
					return "", err
				}
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:32], nil
}

func hashFile(h io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintf(h, "file %s\n", filepath.Base(path))
	_, err = io.Copy(h, f)
	return err
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

func goVersion(ctx context.Context) string {
	out, err := exec.CommandContext(ctx, goTool(), "env", "GOVERSION").Output()
	if err != nil {
		return runtime.Version()
	}
	return strings.TrimSpace(string(out))
}

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
