package build

import (
	"bytes"
	"context"
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
)

// buildFlags are part of the cache key: change them and every plugin
// rebuilds.
var buildFlags = []string{"build", "-trimpath", "-buildmode=c-shared"}

// buildEnv is part of the cache key too. GOWASM lets Go emit the
// sign-extension and saturating float-to-int instructions (wasm 2.0, which
// wazero runs): smaller, faster guest code; the W5500 driver's WASM/native
// frame rate ratio went from about 1.6 to 1.5 with it.
var buildEnv = []string{"GOOS=wasip1", "GOARCH=wasm", "GOWASM=satconv,signext", "CGO_ENABLED=0"}

// goJob is the build of the Go main package in abs (named dir in messages).
func (b *Builder) goJob(ctx context.Context, dir, abs string) (job, error) {
	key, stamped := b.stampedKey(abs)
	if !stamped {
		env := goFingerprint()
		t, watch, err := goKey(ctx, dir, abs)
		if err != nil {
			return job{}, err
		}
		key = t.key()
		b.saveStamp(abs, env, t, watch)
	}
	return job{
		stamped:  stamped,
		dir:      dir,
		key:      key,
		noOutput: "go build exited without error but wrote no module",
		progress: fmt.Sprintf("building plugin %s for wasip1/wasm (a cold build takes a few seconds)...", dir),
		compile: func(ctx context.Context, _, out string) error {
			tool, err := goTool()
			if err != nil {
				return fmt.Errorf("build %s: %w", dir, err)
			}
			args := append(append([]string{}, buildFlags...), "-o", out, ".")
			_, err = runTool(ctx, dir, abs, tool, "go build", args, buildEnv)
			return err
		},
	}, nil
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
	IgnoredGoFiles, IgnoredOtherFiles                 []string
	Error                                             *struct{ Err string }
}

// goKey hashes every input of the build of the package in abs, as a
// transcript a stamp can replay, and lists what else the stamp must watch
// (stamp.go).
func goKey(ctx context.Context, dir, abs string) (*transcript, []watched, error) {
	tool, err := goTool()
	if err != nil {
		return nil, nil, fmt.Errorf("build %s: %w", dir, err)
	}
	cmd := exec.CommandContext(ctx, tool, "list", "-deps", "-json", ".")
	cmd.Dir = abs
	cmd.Env = append(os.Environ(), buildEnv...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	outb, err := cmd.Output()
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, fmt.Errorf("build %s: go list: %w", dir, ctx.Err())
		}
		return nil, nil, fmt.Errorf("build %s: go list: %v\n%s", dir, err, strings.TrimSpace(stderr.String()))
	}
	t := newTranscript()
	t.line("nichost-build-v1\n%s\n%s\n%s\n", goVersion(ctx), strings.Join(buildFlags, " "), strings.Join(buildEnv, " "))
	// Settings the go command takes from the environment change the output.
	for _, v := range []string{"GOFLAGS", "GOEXPERIMENT", "GOWASM", "GOAMD64", "GOTOOLCHAIN"} {
		t.line("%s=%s\n", v, os.Getenv(v))
	}
	var watch []watched
	for _, f := range append(workFiles(abs), goEnvFile()) {
		if f != "" {
			watch = append(watch, look(f))
		}
	}
	dec := json.NewDecoder(bytes.NewReader(outb))
	modFiles := map[string]bool{}
	for {
		var p listedPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return nil, nil, fmt.Errorf("build %s: go list output: %w", dir, err)
		}
		if p.Error != nil {
			return nil, nil, fmt.Errorf("build %s: %s: %s", dir, p.ImportPath, p.Error.Err)
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
			t.line("dep %s %s@%s\n", p.ImportPath, p.Module.Path, v)
			continue
		}
		if p.Module != nil && p.Module.GoMod != "" {
			modFiles[p.Module.GoMod] = true
		}
		files := append(append(append(append(append([]string{}, p.GoFiles...), p.CgoFiles...), p.SFiles...), p.EmbedFiles...), p.OtherFiles...)
		sort.Strings(files)
		t.line("pkg %s\n", p.ImportPath)
		for _, f := range files {
			if err := t.file(f, filepath.Join(p.Dir, f)); err != nil {
				return nil, nil, fmt.Errorf("build %s: %w", dir, err)
			}
		}
		// A file added to or removed from the directory changes its
		// mtime; an edit of a file the build constraints leave out can
		// bring it in.
		watch = append(watch, look(p.Dir))
		for _, f := range append(append([]string{}, p.IgnoredGoFiles...), p.IgnoredOtherFiles...) {
			watch = append(watch, look(filepath.Join(p.Dir, f)))
		}
	}
	// go.mod carries replace directives and the go line; go.sum pins
	// versions' content. Sorted: the key must not depend on map order.
	var mods []string
	for gomod := range modFiles {
		mods = append(mods, gomod)
	}
	sort.Strings(mods)
	for _, gomod := range mods {
		for _, f := range []string{gomod, strings.TrimSuffix(gomod, ".mod") + ".sum"} {
			w := look(f)
			watch = append(watch, w)
			if !w.Missing {
				if err := t.file(filepath.Base(f), f); err != nil {
					return nil, nil, fmt.Errorf("build %s: %w", dir, err)
				}
			}
		}
		watch = append(watch, look(filepath.Dir(gomod))) // a vendor directory appearing
	}
	return t, watch, nil
}

// ErrNoGo is the error of building a Go plugin where no go command is on
// PATH: a board that runs nichost rarely has a toolchain, and loads
// prebuilt modules instead (nichost release builds them).
var ErrNoGo = errors.New(`building a Go plugin needs the Go toolchain, and "go" is not on PATH: install Go (https://go.dev/dl/), or load a prebuilt .wasm (nichost release writes every plugin's)`)

// goTool is the go command on PATH. (Not runtime.GOROOT's: that is where
// nichost itself was built, wrong once the binary is copied to a board.)
func goTool() (string, error) {
	p, err := exec.LookPath("go")
	if err != nil {
		return "", ErrNoGo
	}
	return p, nil
}

func goVersion(ctx context.Context) string {
	tool, err := goTool()
	if err != nil {
		return runtime.Version()
	}
	out, err := exec.CommandContext(ctx, tool, "env", "GOVERSION").Output()
	if err != nil {
		return runtime.Version()
	}
	return strings.TrimSpace(string(out))
}
