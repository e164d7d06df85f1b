package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nichost/nichost/host/build"
	"github.com/nichost/nichost/internal/control"
)

// signedSet is a key pair, a second key and the full test driver as
// modules in dir: good.wasm signed by the key, and the ways to break it.
type signedSet struct {
	dir, pub                         string
	good, flipped, foreign, unsigned string
}

func newSignedSet(t *testing.T) signedSet {
	t.Helper()
	dir := t.TempDir()
	s := signedSet{dir: dir, pub: filepath.Join(dir, "release.pub")}
	for _, k := range []string{"release", "other"} {
		if out, err := run(t, "plugin", "keygen", "-o", filepath.Join(dir, k)); err != nil {
			t.Fatalf("keygen: %v\n%s", err, out)
		}
	}
	res, err := (&build.Builder{}).Build(t.Context(), testPlugin(t, "full"))
	if err != nil {
		t.Fatal(err)
	}
	wasm, err := os.ReadFile(res.Path)
	if err != nil {
		t.Fatal(err)
	}
	mod := func(name, key string, edit func([]byte) []byte) string {
		p := filepath.Join(dir, name+".wasm")
		if err := os.WriteFile(p, wasm, 0o644); err != nil {
			t.Fatal(err)
		}
		if key != "" {
			if out, err := run(t, "plugin", "sign", "-k", filepath.Join(dir, key+".key"), p); err != nil {
				t.Fatalf("sign: %v\n%s", err, out)
			}
		}
		if edit != nil {
			if err := os.WriteFile(p, edit(append([]byte(nil), wasm...)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return p
	}
	s.good = mod("good", "release", nil)
	s.flipped = mod("flipped", "release", func(b []byte) []byte { b[len(b)/3] ^= 0x80; return b })
	s.foreign = mod("foreign", "other", nil)
	s.unsigned = mod("unsigned", "", nil)
	return s
}

// The refusals a daemon requiring signatures gives, by source.
func (s signedSet) refusals(t *testing.T) map[string]string {
	return map[string]string{
		s.flipped:             "the module was changed after it was signed",
		s.foreign:             "which is not one of the trusted keys",
		s.unsigned:            "there is no " + s.unsigned + ".sig",
		testPlugin(t, "full"): "signatures are required and a source directory carries none",
	}
}

func (s signedSet) config(plugins ...string) string {
	text := "signatures:\n  require: true\n  keys: [" + s.pub + "]\nplugins:\n"
	for i, src := range plugins {
		text += "  - name: lan" + string(rune('0'+i)) + "\n    source: " + src + "\n"
	}
	return text
}

// plugin sign / verify from the command line: verify accepts the signed
// module and refuses each broken one with its reason, exit status 1.
func TestCLI_SignVerify(t *testing.T) {
	s := newSignedSet(t)
	out, err := run(t, "plugin", "verify", "--pub", s.pub, s.good)
	if err != nil || !strings.Contains(out, "OK, signed by ed25519:") || !strings.Contains(out, "LAN testdriver") {
		t.Fatalf("verify good: %v\n%s", err, out)
	}
	for src, reason := range s.refusals(t) {
		if strings.HasSuffix(src, ".wasm") {
			out, err := run(t, "plugin", "verify", "--pub", s.pub, src)
			if exitCode(err) != 1 || !strings.Contains(out, "REFUSED") || !strings.Contains(out, reason) {
				t.Errorf("verify %s: exit %d, %v\n%s", filepath.Base(src), exitCode(err), err, out)
			}
		} else if _, err := run(t, "plugin", "verify", "--pub", s.pub, src); err == nil || !strings.Contains(err.Error(), "is a directory") {
			t.Errorf("verify of a directory: %v", err)
		}
	}
	if _, err := run(t, "plugin", "sign", s.good); err == nil || !strings.Contains(err.Error(), "--key") {
		t.Errorf("sign without a key: %v", err)
	}
}

// A daemon requiring signatures starts with a signed module and refuses
// each bad one at start (starting nothing) and at SIGHUP (the running
// plugin runs on); plugin ls shows the origin and the signer.
func TestDaemon_SignaturesRequired(t *testing.T) {
	s := newSignedSet(t)
	cfg := filepath.Join(s.dir, "nichost.yaml")
	// A daemon that does start is stopped at once, and then fails the test.
	ctx, cancel := context.WithCancel(t.Context())
	daemonReady = func(*daemon) { cancel() }
	t.Cleanup(func() { daemonReady = nil })
	for src, reason := range s.refusals(t) {
		writeFile(t, cfg, s.config(s.good, src))
		cmd := newRoot()
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		cmd.SetArgs([]string{"run", "-c", cfg, "--control-socket", filepath.Join(s.dir, "c.sock")})
		err := cmd.ExecuteContext(ctx)
		if err == nil || !strings.Contains(err.Error(), reason) || !strings.Contains(err.Error(), src) || !strings.Contains(err.Error(), "nothing was started") {
			t.Fatalf("start with %s: %v; want %q", filepath.Base(src), err, reason)
		}
	}
	daemonReady = nil

	writeFile(t, cfg, s.config(s.good))
	d, log := startDaemon(t, cfg)
	lan0, _ := d.h.Plugin("lan0")
	c := control.NewClient(d.sock)
	ps, err := c.Plugins(t.Context())
	if err != nil || len(ps) != 1 || ps[0].Origin != "file" || !strings.HasPrefix(ps[0].SignedBy, "ed25519:") {
		t.Fatalf("plugins: %+v, %v", ps, err)
	}
	out, err := run(t, "--socket", d.sock, "plugin", "ls")
	if err != nil || !strings.Contains(out, "ORIGIN") || !strings.Contains(out, ps[0].SignedBy) {
		t.Fatalf("plugin ls: %v\n%s", err, out)
	}
	b, _ := json.Marshal(ps[0])
	if !strings.Contains(string(b), `"origin":"file"`) {
		t.Fatalf("JSON: %s", b)
	}

	hup := func(text, want string) { t.Helper(); sighup(t, cfg, text, log, want) }
	for src, reason := range s.refusals(t) {
		// lan0's module swapped for the bad one, and a new plugin lan1 from it.
		hup(s.config(src, src), "configuration applied")
		if !strings.Contains(log.String(), "plugin lan0: reload failed, the previous module runs on") ||
			!strings.Contains(log.String(), "plugin lan1 not loaded") || strings.Count(log.String(), reason) < 2 {
			t.Fatalf("SIGHUP to %s: want both refused with %q\n%s", filepath.Base(src), reason, log.String())
		}
		if _, ok := d.h.Plugin("lan1"); ok || !lan0.State().Up || lan0.Generation() != 1 || lan0.Config().Source != s.good {
			t.Fatalf("after SIGHUP to %s: lan1 loaded %v, lan0 up %v, generation %d, source %s", filepath.Base(src), ok, lan0.State().Up, lan0.Generation(), lan0.Config().Source)
		}
	}
	// The signed module changed in place: the same refusal.
	wasm, _ := os.ReadFile(s.good)
	wasm[100] ^= 1
	os.WriteFile(s.good, wasm, 0o644)
	hup(s.config(s.good), "configuration applied")
	if lan0.Generation() != 1 || !lan0.State().Up || !strings.Contains(log.String(), s.good+": does not match its signature") {
		t.Fatalf("the running module changed in place: generation %d\n%s", lan0.Generation(), log.String())
	}
}

// nichost check with signatures required: the signed module passes, each
// broken one is refused with the reason a start would give.
func TestCheck_Signatures(t *testing.T) {
	s := newSignedSet(t)
	cfg := filepath.Join(s.dir, "check.yaml")
	writeFile(t, cfg, s.config(s.good))
	out, err := run(t, "check", cfg)
	if err != nil || !strings.Contains(out, "signed by ed25519:") {
		t.Fatalf("check of a signed module: %v\n%s", err, out)
	}
	for src, reason := range s.refusals(t) {
		writeFile(t, cfg, s.config(s.good, src))
		out, err := run(t, "check", cfg)
		if err == nil || !strings.Contains(out, "REFUSED") || !strings.Contains(out, reason) || !strings.Contains(err.Error(), "1 plugin(s) would be refused") {
			t.Errorf("check with %s: %v\n%s", filepath.Base(src), err, out)
		}
	}
	writeFile(t, cfg, "signatures: {require: true, keys: [missing.pub]}\n")
	if _, err := run(t, "check", cfg); err == nil || !strings.Contains(err.Error(), "signatures.keys") || !strings.Contains(err.Error(), "missing.pub") {
		t.Errorf("check with a missing key file: %v", err)
	}
}
