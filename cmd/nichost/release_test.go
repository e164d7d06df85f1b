package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nichost/nichost/internal/control"
	"github.com/nichost/nichost/internal/testenv"
	"github.com/nichost/nichost/internal/wait"
	"github.com/nichost/nichost/simnet"
	"github.com/nichost/nichost/simnet/devices"
)

// The release: a .deb per target with the expected control fields and
// files, binaries that run on their boards' CPUs (under qemu-user),
// checksums that match, and a nichost that runs the plugins it ships
// with no Go on PATH, under a configuration that requires their
// signatures.
func TestRelease(t *testing.T) {
	testenv.NeedTool(t, "dpkg-deb", "dpkg")
	testenv.NeedTool(t, "clang", "clang") // the C plugins are part of a release
	dir := filepath.Join(t.TempDir(), "release")
	keys := t.TempDir()
	if out, err := run(t, "plugin", "keygen", "-o", filepath.Join(keys, "release")); err != nil {
		t.Fatalf("keygen: %v\n%s", err, out)
	}
	const version = "1.2.3~rc1"
	var progress testenv.Buffer
	a, err := runRelease(t.Context(), releaseOptions{out: dir, version: version, keyPath: filepath.Join(keys, "release.key"), progress: &progress})
	if err != nil {
		t.Fatalf("release: %v\n%s", err, progress.String())
	}
	if !strings.Contains(progress.String(), "[target 4/4]") || !strings.Contains(progress.String(), "[plugin 1/") {
		t.Errorf("no progress lines:\n%s", progress.String())
	}
	plugins := []string{"lan", "lan-c", "ppp", "wiznet", "wlan"}
	if want := len(plugins); len(a.Plugins) != want {
		t.Fatalf("plugins %v, want %v", a.Plugins, plugins)
	}

	t.Run("packages", func(t *testing.T) {
		wantArch := map[string]string{"amd64": "amd64", "arm64": "arm64", "armv7": "armhf", "armv6": "armhf"}
		for _, target := range slices.Sorted(maps.Keys(wantArch)) {
			debPath := filepath.Join(dir, a.Debs[target])
			fields := dpkgDeb(t, "-f", debPath, "Package", "Version", "Architecture", "Maintainer", "Section", "Description")
			for _, want := range []string{"Package: nichost", "Version: " + version, "Architecture: " + wantArch[target], "Section: net", "Maintainer: nichost developers"} {
				if !strings.Contains(fields, want) {
					t.Errorf("%s: control lacks %q:\n%s", a.Debs[target], want, fields)
				}
			}
			info := dpkgDeb(t, "-I", debPath)
			for _, want := range []string{"conffiles", "postinst", "prerm", "postrm", "md5sums"} {
				if !strings.Contains(info, want) {
					t.Errorf("%s: -I lacks %s:\n%s", a.Debs[target], want, info)
				}
			}
			listing := dpkgDeb(t, "-c", debPath)
			want := map[string]string{
				"./usr/bin/nichost":                                  "-rwxr-xr-x root/root",
				"./etc/nichost/nichost.yaml":                         "-rw-r--r-- root/root",
				"./usr/lib/systemd/system/nichost.service":           "-rw-r--r-- root/root",
				"./usr/share/bash-completion/completions/nichost":    "-rw-r--r-- root/root",
				"./usr/share/zsh/vendor-completions/_nichost":        "-rw-r--r-- root/root",
				"./usr/share/fish/vendor_completions.d/nichost.fish": "-rw-r--r-- root/root",
				"./usr/share/man/man1/nichost.1.gz":                  "-rw-r--r-- root/root",
			}
			for _, p := range plugins {
				for _, ext := range []string{".wasm", ".wasm.json", ".wasm.sig"} {
					want["./usr/lib/nichost/plugins/"+p+ext] = "-rw-r--r-- root/root"
				}
			}
			for path, mode := range want {
				if !listsFile(listing, path, mode) {
					t.Errorf("%s: no %s %s in:\n%s", a.Debs[target], mode, path, listing)
				}
			}
			// The packaged files are the release's.
			x := t.TempDir()
			dpkgDeb(t, "-x", debPath, x)
			sameFile(t, filepath.Join(x, "usr/bin/nichost"), filepath.Join(dir, a.Binaries[target]))
			sameFile(t, filepath.Join(x, "usr/lib/nichost/plugins/wiznet.wasm"), filepath.Join(dir, "plugins/wiznet.wasm"))
			unit, _ := os.ReadFile(filepath.Join(x, "usr/lib/systemd/system/nichost.service"))
			for _, want := range []string{"User=nichost", "AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW", "ExecStart=/usr/bin/nichost run -c /etc/nichost/nichost.yaml"} {
				if !bytes.Contains(unit, []byte(want)) {
					t.Errorf("%s: the unit lacks %q", a.Debs[target], want)
				}
			}
			ctl := t.TempDir()
			dpkgDeb(t, "-e", debPath, ctl)
			if b, _ := os.ReadFile(filepath.Join(ctl, "conffiles")); string(b) != "/etc/nichost/nichost.yaml\n" {
				t.Errorf("%s: conffiles %q", a.Debs[target], b)
			}
			if b, _ := os.ReadFile(filepath.Join(ctl, "postinst")); !bytes.Contains(b, []byte("useradd --system")) {
				t.Errorf("%s: postinst makes no user:\n%s", a.Debs[target], b)
			}
		}
		// Every plugin's declaration is beside it.
		var decl struct{ Class, Name string }
		b, _ := os.ReadFile(filepath.Join(dir, "plugins/wiznet.wasm.json"))
		if err := json.Unmarshal(b, &decl); err != nil || decl.Class != "WIZNET5K" || decl.Name != "w5500" {
			t.Errorf("wiznet.wasm.json: %s (%v)", b, err)
		}
	})

	t.Run("checksums", func(t *testing.T) {
		f, err := os.Open(filepath.Join(dir, a.Sums))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		listed := map[string]bool{}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			sum, name, ok := strings.Cut(sc.Text(), "  ")
			if !ok {
				t.Fatalf("SHA256SUMS line %q", sc.Text())
			}
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if got := sha256.Sum256(b); hex.EncodeToString(got[:]) != sum {
				t.Errorf("%s: sha256 %x, SHA256SUMS says %s", name, got, sum)
			}
			listed[name] = true
		}
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			rel, _ := filepath.Rel(dir, p)
			if err == nil && !d.IsDir() && rel != a.Sums && !listed[filepath.ToSlash(rel)] {
				t.Errorf("%s is not in SHA256SUMS", rel)
			}
			return err
		})
		if len(listed) < len(plugins)*3+2*len(a.Debs) {
			t.Errorf("SHA256SUMS lists %d files", len(listed))
		}
	})

	t.Run("qemu", func(t *testing.T) {
		for target, emu := range map[string]string{"arm64": "qemu-aarch64-static", "armv7": "qemu-arm-static", "armv6": "qemu-arm-static"} {
			qemu := testenv.NeedTool(t, emu, "qemu-user-static")
			args := []string{filepath.Join(dir, a.Binaries[target]), "version"}
			if target == "armv6" {
				args = append([]string{"-cpu", "arm1176"}, args...) // the Raspberry Pi 1's and Zero's core
			}
			out, err := exec.Command(qemu, args...).CombinedOutput()
			goarch := map[string]string{"arm64": "linux/arm64", "armv7": "linux/arm", "armv6": "linux/arm"}[target]
			if err != nil || !strings.Contains(string(out), "nichost "+version) || !strings.Contains(string(out), goarch) {
				t.Errorf("%s %s version: %v\n%s", emu, target, err, out)
			}
		}
	})

	t.Run("without go", func(t *testing.T) {
		runWithoutGo(t, filepath.Join(dir, a.Binaries["amd64"]), filepath.Join(dir, "plugins"), filepath.Join(keys, "release.pub"), "wazero")
	})
}

func dpkgDeb(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("dpkg-deb", args...)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("dpkg-deb %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// listsFile reports whether a dpkg-deb -c listing has path with mode and
// owner ("-rw-r--r-- root/root").
func listsFile(listing, path, mode string) bool {
	for _, l := range strings.Split(listing, "\n") {
		f := strings.Fields(l)
		if len(f) >= 6 && f[len(f)-1] == path && f[0]+" "+f[1] == mode {
			return true
		}
	}
	return false
}

func sameFile(t *testing.T, a, b string) {
	t.Helper()
	x, err1 := os.ReadFile(a)
	y, err2 := os.ReadFile(b)
	if err1 != nil || err2 != nil || !bytes.Equal(x, y) {
		t.Errorf("%s and %s differ (%v, %v)", a, b, err1, err2)
	}
}

// runWithoutGo runs the release's nichost with an empty PATH and a fresh
// cache: a configuration of the shipped modules, signatures required,
// loads on the simulated devices, on engine, and brings their NICs up
// (the Ethernet ones get DHCP leases from the simulated router); a source
// directory fails, saying the toolchain is missing.
func runWithoutGo(t *testing.T, bin, plugins, pub, engine string) {
	work := t.TempDir()
	env := []string{"PATH=" + filepath.Join(work, "empty-bin"), "HOME=" + work, "NICHOST_CACHE=" + filepath.Join(work, "cache")}
	if _, err := exec.LookPath("go"); err != nil {
		t.Log("(go is not on this PATH either)")
	}
	sims := map[string]string{"eth0": "lan8720", "eth1": "w5500", "ppp0": "ppp", "wlan0": "cyw43439"}
	files := map[string]string{"eth0": "lan.wasm", "eth1": "wiznet.wasm", "ppp0": "ppp.wasm", "wlan0": "wlan.wasm"}
	lan, err := simnet.NewRouter(simnet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer lan.Close()
	cfg := "signatures: {require: true, keys: [" + pub + "]}\nplugins:\n"
	var args []string
	for _, name := range slices.Sorted(maps.Keys(sims)) {
		m, _ := devices.Lookup(sims[name])
		dev, err := m.New(lan, devices.Options{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		if dev.Close != nil {
			dev.Close()
		}
		cfg += fmt.Sprintf("  - name: %s\n    source: %s\n    buses:\n", name, filepath.Join(plugins, files[name]))
		for _, g := range slices.Sorted(maps.Keys(dev.Buses)) {
			cfg += fmt.Sprintf("      %s: {kind: %s, sim: %s}\n", g, dev.Buses[g].Kind, dev.Buses[g].Sim)
		}
		args = append(args, "--sim", name+"="+sims[name])
	}
	cfgPath := filepath.Join(work, "nichost.yaml")
	writeFile(t, cfgPath, cfg)
	sock := filepath.Join(work, "control.sock")
	var log testenv.Buffer
	cmd := exec.Command(bin, append([]string{"run", "-c", cfgPath, "--control-socket", sock, "--up", "--engine", engine}, args...)...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		if err := <-done; err != nil {
			t.Errorf("nichost run: %v", err)
		}
		if t.Failed() {
			t.Logf("daemon log:\n%s", log.String())
		}
	}()
	var nics []control.NICInfo
	wait.For(t, "every NIC active, eth0 and eth1 with a DHCP lease", func() bool {
		c := exec.Command(bin, "--socket", sock, "nic", "ls", "--json")
		c.Env = env
		out, err := c.Output()
		if err != nil || json.Unmarshal(out, &nics) != nil || len(nics) < 4 {
			return false
		}
		for _, n := range nics {
			ap := n.Class == "WLAN" && strings.HasSuffix(n.Name, ".ap") // --up leaves it down
			if n.Active == nil || !ap && !*n.Active {
				return false
			}
			if (n.Class == "LAN" || n.Class == "WIZNET5K") && n.Addr4 == "" {
				return false
			}
		}
		return true
	})
	c := exec.Command(bin, "--socket", sock, "plugin", "ls")
	c.Env = env
	out, err := c.CombinedOutput()
	if err != nil || strings.Count(string(out), " file ") < 4 || strings.Count(string(out), "ed25519:") < 4 || strings.Count(string(out), " "+engine+" ") < 4 {
		t.Errorf("plugin ls: want four modules from files, signed, on %s: %v\n%s", engine, err, out)
	}

	// A source directory needs the toolchain this PATH lacks.
	src := filepath.Join(work, "src.yaml")
	root, _ := moduleRoot()
	writeFile(t, src, "plugins:\n  - name: lan0\n    source: "+filepath.Join(root, "plugins", "lan")+"\n")
	c = exec.Command(bin, "run", "-c", src, "--control-socket", filepath.Join(work, "c2.sock"))
	c.Env = env
	out, err = c.CombinedOutput()
	if err == nil || !strings.Contains(string(out), `"go" is not on PATH`) {
		t.Errorf("a source plugin without go: %v\n%s", err, out)
	}
}

func TestDebVersion(t *testing.T) {
	for describe, want := range map[string]string{
		"v1.2.0":                  "1.2.0",
		"v1.2.0-5-gabc1234":       "1.2.0+5.gabc1234",
		"v1.2.0-5-gabc1234.dirty": "1.2.0+5.gabc1234.dirty",
		"0.3":                     "0.3",
		"abc1234":                 "0.0.0~git.abc1234",
		"abc1234.dirty":           "0.0.0~git.abc1234.dirty",
		"release-x":               "0.0.0~git.release-x",
	} {
		if got := debVersion(describe); got != want {
			t.Errorf("debVersion(%q) = %q, want %q", describe, got, want)
		}
	}
}

// The man page has a section per command, escapes what roff would take
// for requests, and groff reads it without a warning.
func TestManPage(t *testing.T) {
	root := newRoot()
	page := string(manPage(root, "1.0", time.Unix(0, 0)))
	for _, c := range []string{"nichost run", "nichost plugin sign", "nichost release", "nichost nic", "nichost completion"} {
		if !strings.Contains(page, ".SS "+strings.ReplaceAll(c, "-", `\-`)+"\n") {
			t.Errorf("no section for %s", c)
		}
	}
	for i, l := range strings.Split(page, "\n") {
		if strings.HasPrefix(l, "'") || strings.HasPrefix(l, ".") && !regexp.MustCompile(`^\.(TH|SH|SS|B|I|RI|BR|PP|TP|nf|fi)( |$)`).MatchString(l) {
			t.Errorf("line %d is a roff request by accident: %q", i+1, l)
		}
	}
	if groff, err := exec.LookPath("groff"); err == nil {
		cmd := exec.Command(groff, "-man", "-Tutf8", "-ww", "-z")
		cmd.Stdin = strings.NewReader(page)
		if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
			t.Errorf("groff: %v\n%s", err, out)
		}
	}
}
