package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/nichost/nichost/host/build"
	"github.com/nichost/nichost/host/sign"
	"github.com/nichost/nichost/internal/deb"
)

// releaseTarget is one platform a release builds nichost for.
type releaseTarget struct {
	Name   string // the --targets name and the binary's suffix: amd64, arm64, armv7, armv6
	GOARCH string
	GOARM  string // "" except for arm
	// DebArch is the Debian architecture of its package; DebSuffix, if
	// set, replaces it in the file name (two ARM builds share armhf).
	DebArch, DebSuffix string
	Boards             string // for the help text and README
}

// releaseTargets are the platforms of a release, in the order built.
// ARMv6 (Raspberry Pi 1 and Zero) is armhf in Raspberry Pi OS, as ARMv7
// is in Debian: a Go binary is static, so both packages are armhf and the
// ARMv6 one runs on either.
var releaseTargets = []releaseTarget{
	{Name: "amd64", GOARCH: "amd64", DebArch: "amd64", Boards: "x86-64 PCs and VMs"},
	{Name: "arm64", GOARCH: "arm64", DebArch: "arm64", Boards: "Raspberry Pi 3, 4, 5, Zero 2 W with a 64-bit OS"},
	{Name: "armv7", GOARCH: "arm", GOARM: "7", DebArch: "armhf", Boards: "Raspberry Pi 2, 3, 4 with a 32-bit OS"},
	{Name: "armv6", GOARCH: "arm", GOARM: "6", DebArch: "armhf", DebSuffix: "armhf-armv6", Boards: "Raspberry Pi 1, Zero, Zero W"},
}

// releasePlugin is one driver plugin a release ships.
type releasePlugin struct {
	Name string // the module's file name without .wasm
	Dir  string // its source directory, relative to the module root
}

// releaseOptions are nichost release's flags.
type releaseOptions struct {
	out, version, keyPath string
	targets               []string
	wasmtime              bool // also nichost-wasmtime-linux-T for the amd64 and arm64 targets
	progress              io.Writer
}

// releaseArtifacts is what a release wrote, relative to its directory.
type releaseArtifacts struct {
	Binaries map[string]string // target name -> bin/nichost-linux-...
	Plugins  []string          // plugins/NAME.wasm
	Debs     map[string]string // target name -> nichost_V_ARCH.deb
	Sums     string            // SHA256SUMS
}

func newRelease() *cobra.Command {
	var o releaseOptions
	cmd := &cobra.Command{
		Use:   "release [-o DIR] [--version V] [--key FILE.key] [--targets LIST]",
		Short: "Build a release: nichost for each board, every plugin's .wasm, checksums, .debs",
		Long: `release, run in a nichost source tree with Go on PATH (and clang for the C
plugins), builds into DIR (default dist/release):

  bin/nichost-linux-TARGET   the pure-Go nichost (CGO_ENABLED=0, -trimpath)
  plugins/NAME.wasm          every plugin, Go and C, built from source
  plugins/NAME.wasm.json     the module's declaration (class, name, version, buses)
  plugins/NAME.wasm.sig      with --key: its signature (plugin sign)
  nichost_V_ARCH.deb         per target: the binary, the plugins, the systemd
                             unit (its own user, CAP_NET_ADMIN and CAP_NET_RAW),
                             /etc/nichost/nichost.yaml (a conffile), shell
                             completions and the man page
  SHA256SUMS                 of every file above (sha256sum -c SHA256SUMS)

Targets: ` + targetHelp() + `.
The version (default: from git describe) is stamped into the binaries
(nichost version) and the packages; a Debian version must start with a
digit. The packages' timestamps are $SOURCE_DATE_EPOCH, else the last
commit's time, so a release of the same commit is the same bytes.

--wasmtime also builds bin/nichost-wasmtime-linux-TARGET for the amd64 and
arm64 targets, the two that wasmtime-go has static libraries for: nichost
with both engines (README, "Engines"). That is a cgo build: gcc for the
machine's own architecture, a cross compiler for the other
(aarch64-linux-gnu-gcc, x86_64-linux-gnu-gcc). The packages keep the
pure-Go build.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.progress = cmd.ErrOrStderr()
			a, err := runRelease(cmd.Context(), o)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "release in %s: %d binaries, %d plugins, %d packages, %s\n", o.out, len(a.Binaries), len(a.Plugins), len(a.Debs), a.Sums)
			return nil
		},
	}
	cmd.Flags().StringVarP(&o.out, "out", "o", "", "output directory (default: dist/release in the source tree)")
	cmd.Flags().StringVar(&o.version, "version", "", "release version (default: from git describe)")
	cmd.Flags().StringVarP(&o.keyPath, "key", "k", "", "sign every plugin with this private key (plugin keygen)")
	cmd.Flags().StringSliceVar(&o.targets, "targets", nil, "targets to build (default: all)")
	cmd.Flags().BoolVar(&o.wasmtime, "wasmtime", false, "also build nichost with the wasmtime engine for amd64 and arm64 (cgo)")
	return cmd
}

func targetHelp() string {
	var s []string
	for _, t := range releaseTargets {
		s = append(s, t.Name+" ("+t.Boards+")")
	}
	return strings.Join(s, ", ")
}

// runRelease builds a release as newRelease describes.
func runRelease(ctx context.Context, o releaseOptions) (*releaseArtifacts, error) {
	if o.progress == nil {
		o.progress = io.Discard
	}
	root, err := moduleRoot()
	if err != nil {
		return nil, errors.New("release: run it in a nichost source tree (it builds nichost and the plugins from source)")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return nil, errors.New("release: the Go toolchain is not on PATH; a release is built from source (https://go.dev/dl/)")
	}
	targets, err := pickTargets(o.targets)
	if err != nil {
		return nil, err
	}
	ccs := map[string]string{} // target -> C compiler of its wasmtime build
	if o.wasmtime {
		for _, t := range targets {
			if t.Name != "amd64" && t.Name != "arm64" {
				continue
			}
			if ccs[t.Name], err = wasmtimeCC(t.GOARCH); err != nil {
				return nil, err
			}
		}
		if len(ccs) == 0 {
			return nil, usage("release --wasmtime: wasmtime builds are for the amd64 and arm64 targets, and --targets has neither")
		}
	}
	var key ed25519.PrivateKey
	if o.keyPath != "" {
		if key, err = sign.ReadPrivateKey(o.keyPath); err != nil {
			return nil, fmt.Errorf("release: --key: %w", err)
		}
	}
	if o.out == "" {
		o.out = filepath.Join(root, "dist", "release")
	}
	version := o.version
	if version == "" {
		version = gitVersion(ctx, root)
	}
	// A version the packages cannot carry fails now, not after the builds:
	// an empty package with it is checked as the real ones will be.
	if err := (&deb.Package{Control: deb.Control{Package: "nichost", Version: version, Architecture: "all", Maintainer: debMaintainer, Description: "x"}}).Write(io.Discard); err != nil {
		return nil, fmt.Errorf("release: --version %q: %w", version, err)
	}
	mtime := releaseTime(ctx, root)
	for _, d := range []string{"bin", "plugins"} {
		if err := os.MkdirAll(filepath.Join(o.out, d), 0o755); err != nil {
			return nil, fmt.Errorf("release: %w", err)
		}
	}
	say := func(format string, a ...any) { fmt.Fprintf(o.progress, "release: "+format+"\n", a...) }
	say("nichost %s into %s (%d targets)", version, o.out, len(targets))
	a := &releaseArtifacts{Binaries: map[string]string{}, Debs: map[string]string{}, Sums: "SHA256SUMS"}

	// The plugins first: a missing C toolchain fails the release early.
	plugins, err := findPlugins(root)
	if err != nil {
		return nil, err
	}
	b := &build.Builder{Progress: func(msg string) { say("%s", msg) }}
	h, err := describer(nil)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	var files []deb.File
	for i, p := range plugins {
		t0 := time.Now()
		res, err := b.Build(ctx, filepath.Join(root, p.Dir))
		if err != nil {
			return nil, fmt.Errorf("release: plugin %s (%s): %w", p.Name, p.Dir, err)
		}
		wasm, err := os.ReadFile(res.Path)
		if err != nil {
			return nil, err
		}
		rel := filepath.Join("plugins", p.Name+".wasm")
		path := filepath.Join(o.out, rel)
		if err := os.WriteFile(path, wasm, 0o644); err != nil {
			return nil, err
		}
		desc, err := h.Describe(ctx, path)
		if err != nil {
			return nil, fmt.Errorf("release: plugin %s: %w", p.Name, err)
		}
		decl, _ := json.MarshalIndent(sign.DeclarationOf(desc), "", "  ")
		decl = append(decl, '\n')
		if err := os.WriteFile(path+".json", decl, 0o644); err != nil {
			return nil, err
		}
		a.Plugins = append(a.Plugins, rel)
		files = append(files, deb.File{Path: "/usr/lib/nichost/plugins/" + p.Name + ".wasm", Mode: 0o644, Data: wasm},
			deb.File{Path: "/usr/lib/nichost/plugins/" + p.Name + ".wasm.json", Mode: 0o644, Data: decl})
		signed := ""
		if key != nil {
			sig := sign.Sign(key, wasm, sign.DeclarationOf(desc))
			if err := os.WriteFile(sign.SigPath(path), sig.Marshal(), 0o644); err != nil {
				return nil, err
			}
			files = append(files, deb.File{Path: "/usr/lib/nichost/plugins/" + p.Name + ".wasm.sig", Mode: 0o644, Data: sig.Marshal()})
			signed = ", signed by " + sig.Key
		}
		say("[plugin %d/%d] %s: %s %s %s, %d KiB in %v%s", i+1, len(plugins), rel, desc.Class, desc.Name, desc.Version, len(wasm)>>10, time.Since(t0).Round(time.Millisecond), signed)
	}

	common, err := packageFiles(root, version, mtime)
	if err != nil {
		return nil, err
	}
	files = append(files, common...)
	for i, t := range targets {
		t0 := time.Now()
		rel := filepath.Join("bin", "nichost-linux-"+t.Name)
		cmd := exec.CommandContext(ctx, goBin, "build", "-trimpath", "-ldflags", "-s -w -X main.version="+version, "-o", filepath.Join(o.out, rel), "./cmd/nichost")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+t.GOARCH, "GOARM="+t.GOARM, "CGO_ENABLED=0", "GOFLAGS=")
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("release: go build for %s: %w\n%s", t.Name, err, out)
		}
		bin, err := os.ReadFile(filepath.Join(o.out, rel))
		if err != nil {
			return nil, err
		}
		a.Binaries[t.Name] = rel
		say("[target %d/%d] %s: %d MiB in %v", i+1, len(targets), rel, len(bin)>>20, time.Since(t0).Round(time.Millisecond))
		if cc, ok := ccs[t.Name]; ok {
			t0 := time.Now()
			wrel := filepath.Join("bin", "nichost-wasmtime-linux-"+t.Name)
			cmd := exec.CommandContext(ctx, goBin, "build", "-trimpath", "-tags", "wasmtime", "-ldflags", "-s -w -X main.version="+version, "-o", filepath.Join(o.out, wrel), "./cmd/nichost")
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+t.GOARCH, "CGO_ENABLED=1", "CC="+cc, "GOFLAGS=")
			if out, err := cmd.CombinedOutput(); err != nil {
				return nil, fmt.Errorf("release: go build -tags wasmtime for %s: %w\n%s", t.Name, err, out)
			}
			a.Binaries["wasmtime-"+t.Name] = wrel
			say("[target %d/%d] %s (cgo, %s): in %v", i+1, len(targets), wrel, filepath.Base(cc), time.Since(t0).Round(time.Millisecond))
		}

		pkg := deb.Package{
			Control: deb.Control{
				Package: "nichost", Version: version, Architecture: t.DebArch, Maintainer: debMaintainer,
				Section: "net", Priority: "optional", Homepage: "https://github.com/nichost/nichost",
				Recommends: []string{"systemd"},
				Description: "network interface drivers as sandboxed WebAssembly plugins\n" +
					"nichost runs network interface drivers (W5500, CYW43439 Wi-Fi, PPP, Ethernet PHYs)\n" +
					"as WebAssembly plugins that reach hardware only through the buses they are\n" +
					"granted, with MicroPython's network API, a TCP/IP stack, a CLI and a daemon.\n" +
					"This build is for " + t.Boards + ".",
			},
			Files:   append(slices.Clone(files), deb.File{Path: "/usr/bin/nichost", Mode: 0o755, Data: bin}),
			Scripts: debScripts,
			ModTime: mtime,
		}
		suffix := t.DebArch
		if t.DebSuffix != "" {
			suffix = t.DebSuffix
		}
		debName := fmt.Sprintf("nichost_%s_%s.deb", strings.ReplaceAll(version, ":", "%3a"), suffix)
		var buf bytes.Buffer
		if err := pkg.Write(&buf); err != nil {
			return nil, fmt.Errorf("release: %s: %w", debName, err)
		}
		if err := os.WriteFile(filepath.Join(o.out, debName), buf.Bytes(), 0o644); err != nil {
			return nil, err
		}
		a.Debs[t.Name] = debName
		say("[target %d/%d] %s: %d MiB", i+1, len(targets), debName, buf.Len()>>20)
	}
	if err := writeSums(o.out, a); err != nil {
		return nil, err
	}
	return a, nil
}

// wasmtimeCC is the C compiler of a cgo build for goarch on this
// machine: gcc for its own architecture, else the Debian cross compiler.
func wasmtimeCC(goarch string) (string, error) {
	cross := map[string][2]string{"amd64": {"x86_64-linux-gnu-gcc", "gcc-x86-64-linux-gnu"}, "arm64": {"aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu"}}[goarch]
	name, pkg := cross[0], cross[1]
	if runtime.GOOS == "linux" && goarch == runtime.GOARCH {
		name, pkg = "gcc", "gcc libc6-dev"
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("release --wasmtime: nichost with wasmtime for %s is a cgo build and needs the C compiler %s (Debian: apt-get install %s)", goarch, name, pkg)
	}
	return p, nil
}

const debMaintainer = "nichost developers <nichost@users.noreply.github.com>"

func pickTargets(names []string) ([]releaseTarget, error) {
	if len(names) == 0 {
		return releaseTargets, nil
	}
	var out []releaseTarget
	for _, n := range names {
		i := slices.IndexFunc(releaseTargets, func(t releaseTarget) bool { return t.Name == n })
		if i < 0 {
			return nil, usage("release: --targets: unknown target %q (have: %s)", n, targetHelp())
		}
		out = append(out, releaseTargets[i])
	}
	return out, nil
}

// findPlugins lists the plugins under plugins/: every directory with a Go
// main package (main.go), named after the directory, and every C plugin
// (a nichost-plugin.yaml) one level below, named DIR-SUBDIR ("lan-c").
func findPlugins(root string) ([]releasePlugin, error) {
	entries, err := os.ReadDir(filepath.Join(root, "plugins"))
	if err != nil {
		return nil, fmt.Errorf("release: %w", err)
	}
	var out []releasePlugin
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join("plugins", e.Name())
		if _, err := os.Stat(filepath.Join(root, dir, "main.go")); err == nil {
			out = append(out, releasePlugin{Name: e.Name(), Dir: dir})
		}
		subs, _ := os.ReadDir(filepath.Join(root, dir))
		for _, s := range subs {
			if _, err := os.Stat(filepath.Join(root, dir, s.Name(), build.ManifestName)); s.IsDir() && err == nil {
				out = append(out, releasePlugin{Name: e.Name() + "-" + s.Name(), Dir: filepath.Join(dir, s.Name())})
			}
		}
	}
	if len(out) == 0 {
		return nil, errors.New("release: no plugins under plugins/")
	}
	return out, nil
}

// packageFiles are the files every package holds besides the binary and
// the plugins: the unit, the example configuration, the completions, the
// man page and the README.
func packageFiles(root, version string, mtime time.Time) ([]deb.File, error) {
	read := func(rel string) ([]byte, error) {
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			return nil, fmt.Errorf("release: %w", err)
		}
		return b, nil
	}
	unit, err := read("dist/systemd/nichost.service")
	if err != nil {
		return nil, err
	}
	conf, err := read("dist/nichost.yaml")
	if err != nil {
		return nil, err
	}
	readme, err := read("README.md")
	if err != nil {
		return nil, err
	}
	var bash, zsh, fish bytes.Buffer
	rootCmd := newRoot()
	if err := rootCmd.GenBashCompletionV2(&bash, true); err != nil {
		return nil, err
	}
	if err := rootCmd.GenZshCompletion(&zsh); err != nil {
		return nil, err
	}
	if err := rootCmd.GenFishCompletion(&fish, true); err != nil {
		return nil, err
	}
	var man bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&man, gzip.BestCompression)
	zw.Write(manPage(rootCmd, version, mtime))
	zw.Close()
	return []deb.File{
		{Path: "/usr/lib/systemd/system/nichost.service", Mode: 0o644, Data: unit},
		{Path: "/etc/nichost/nichost.yaml", Mode: 0o644, Data: conf, Conffile: true},
		{Path: "/usr/share/bash-completion/completions/nichost", Mode: 0o644, Data: bash.Bytes()},
		{Path: "/usr/share/zsh/vendor-completions/_nichost", Mode: 0o644, Data: zsh.Bytes()},
		{Path: "/usr/share/fish/vendor_completions.d/nichost.fish", Mode: 0o644, Data: fish.Bytes()},
		{Path: "/usr/share/man/man1/nichost.1.gz", Mode: 0o644, Data: man.Bytes()},
		{Path: "/usr/share/doc/nichost/README.md", Mode: 0o644, Data: readme},
	}, nil
}

// debScripts make the service's user and groups (the unit's User=,
// Group= and SupplementaryGroups=; systemd refuses to start a unit whose
// groups do not exist, and spi and gpio exist only on Raspberry Pi OS),
// and tell systemd about the unit. The unit is not enabled: the
// configuration needs editing first (README, "Install on a board").
var debScripts = map[string]string{
	"postinst": `#!/bin/sh
set -e
if [ "$1" = configure ]; then
	for g in spi gpio dialout; do
		getent group "$g" >/dev/null || groupadd --system "$g"
	done
	getent group nichost >/dev/null || groupadd --system nichost
	if ! getent passwd nichost >/dev/null; then
		useradd --system --gid nichost --groups spi,gpio,dialout \
			--home-dir /var/cache/nichost --no-create-home --shell /usr/sbin/nologin nichost
	fi
	if [ -d /run/systemd/system ]; then
		systemctl daemon-reload || true
	fi
	echo "nichost: edit /etc/nichost/nichost.yaml (nichost check it), then: systemctl enable --now nichost"
fi
`,
	"prerm": `#!/bin/sh
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
	systemctl stop nichost.service || true
fi
`,
	"postrm": `#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
fi
if [ "$1" = purge ] && getent passwd nichost >/dev/null; then
	userdel nichost || true
fi
`,
}

// writeSums writes SHA256SUMS over every file of the release, in the
// format sha256sum -c reads.
func writeSums(dir string, a *releaseArtifacts) error {
	var names []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel != a.Sums {
			names = append(names, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return err
	}
	slices.Sort(names)
	var sums bytes.Buffer
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(n)))
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(sum[:]), n)
	}
	return os.WriteFile(filepath.Join(dir, a.Sums), sums.Bytes(), 0o644)
}

// gitVersion is the version of the checkout as a Debian version
// (debVersion of git describe); without git, 0.0.0~dev.
func gitVersion(ctx context.Context, root string) string {
	out, err := exec.CommandContext(ctx, "git", "-C", root, "describe", "--tags", "--always", "--dirty=.dirty").Output()
	if err != nil {
		return "0.0.0~dev"
	}
	return debVersion(strings.TrimSpace(string(out)))
}

// debVersion turns git describe's output into a Debian version: the tag
// without its "v" ("v1.2.0" is 1.2.0), and past it "+N.gHASH" (which sorts
// after the tag); with no tag, "0.0.0~git.HASH" (before any release).
func debVersion(describe string) string {
	tag, rest, _ := strings.Cut(strings.TrimPrefix(describe, "v"), "-")
	if tag == "" || tag[0] < '0' || tag[0] > '9' {
		return "0.0.0~git." + describe
	}
	if rest == "" {
		return tag
	}
	return tag + "+" + strings.ReplaceAll(rest, "-", ".")
}

// releaseTime is $SOURCE_DATE_EPOCH, else the last commit's time, else now.
func releaseTime(ctx context.Context, root string) time.Time {
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return time.Unix(n, 0).UTC()
		}
	}
	if out, err := exec.CommandContext(ctx, "git", "-C", root, "log", "-1", "--format=%ct").Output(); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); err == nil {
			return time.Unix(n, 0).UTC()
		}
	}
	return time.Now().UTC().Truncate(time.Second)
}
