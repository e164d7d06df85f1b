package config

import (
	"strings"
	"testing"
)

func TestDaemonSettings(t *testing.T) {
	cfg, err := ParseConfig(strings.NewReader(`
control: {socket: /tmp/n.sock, group: adm, mode: "0640"}
metrics: {listen: "127.0.0.1:9464"}
log: {format: json, level: debug}
`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Control.SocketPath() != "/tmp/n.sock" || cfg.Control.FileMode() != 0o640 || cfg.Control.Group != "adm" ||
		cfg.Metrics.Listen != "127.0.0.1:9464" || cfg.Log.Format != "json" || cfg.Log.Level != "debug" {
		t.Fatalf("parsed %+v %+v %+v", cfg.Control, cfg.Metrics, cfg.Log)
	}
	def, err := ParseConfig(strings.NewReader("hostname: b\n"))
	if err != nil {
		t.Fatal(err)
	}
	if def.Control.SocketPath() != DefaultControlSocket || def.Control.FileMode() != 0o660 {
		t.Fatalf("defaults %q %o", def.Control.SocketPath(), def.Control.FileMode())
	}
	for _, c := range []struct{ src, want string }{
		{"control: {socket: rel.sock}", `line 1: control: socket: "rel.sock" must be an absolute path`},
		{"control:\n  mode: \"0044\"", "line 2: control: mode: 0044 leaves the daemon's own user without read and write"},
		{"control: {mode: rw}", `line 1: control.mode: want permission bits in octal, such as "0660", not "rw"`},
		{"metrics:\n  listen: 9464", `line 2: metrics: listen: "9464": want host:port`},
		{"log: {format: xml}", `line 1: log: format: "xml": want text or json`},
		{"log:\n  level: loud", `line 2: log: level: "loud": want debug, info, warn or error`},
	} {
		_, err := ParseConfig(strings.NewReader(c.src))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.src, err, c.want)
		}
	}
}
