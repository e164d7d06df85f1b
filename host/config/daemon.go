package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// The daemon's own settings (`nichost run`), beside the plugins:
//
//	control:                      # the control API (docs/control-api.md)
//	  socket: /run/nichost/control.sock   # the default
//	  group: nichost              # who may use it besides root (default: the daemon's group)
//	  mode: "0660"                # the socket's permissions (the default)
//	metrics:
//	  listen: 127.0.0.1:9464      # Prometheus metrics on /metrics; absent: off
//	log:
//	  format: text                # text or json
//	  level: info                 # debug, info, warn or error

// DefaultControlSocket is where the daemon listens, and the CLI looks,
// unless told otherwise.
const DefaultControlSocket = "/run/nichost/control.sock"

// ControlConfig is the control API's unix socket.
type ControlConfig struct {
	Socket string   `yaml:"socket"` // DefaultControlSocket when empty
	Group  string   `yaml:"group"`  // a group name or number; "": the daemon's own group
	Mode   FileMode `yaml:"mode"`   // 0660 when 0
}

// MetricsConfig is the optional Prometheus listener.
type MetricsConfig struct {
	Listen string `yaml:"listen"` // host:port; "" turns metrics off
}

// LogConfig says how the daemon logs (log/slog).
type LogConfig struct {
	Format string `yaml:"format"` // "text" (the default) or "json"
	Level  string `yaml:"level"`  // "debug", "info" (the default), "warn" or "error"
}

// FileMode is a file's permission bits, written in octal: mode: "0660" (a
// YAML number such as 0660 is read as the same octal digits).
type FileMode os.FileMode

// UnmarshalYAML reads the octal digits of a scalar.
func (m *FileMode) UnmarshalYAML(n *yaml.Node) error {
	v, err := strconv.ParseUint(n.Value, 8, 32)
	if n.Kind != yaml.ScalarNode || err != nil || v > 0o777 {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: want permission bits in octal, such as \"0660\", not %q", n.Line, n.Value)}}
	}
	*m = FileMode(v)
	return nil
}

// SocketPath is the control socket's path with the default applied.
func (c ControlConfig) SocketPath() string {
	if c.Socket == "" {
		return DefaultControlSocket
	}
	return c.Socket
}

// FileMode is the socket's permissions with the default applied.
func (c ControlConfig) FileMode() os.FileMode {
	if c.Mode == 0 {
		return 0o660
	}
	return os.FileMode(c.Mode)
}

// validateDaemon checks the daemon's settings, naming the first bad key.
func (c *Config) validateDaemon() error {
	if s := c.Control.Socket; s != "" && !filepath.IsAbs(s) {
		return at(fmt.Errorf("control: socket: %q must be an absolute path", s), "control", "socket")
	}
	if m := c.Control.Mode; m != 0 && m&0o600 != 0o600 {
		return at(fmt.Errorf("control: mode: %04o leaves the daemon's own user without read and write", m), "control", "mode")
	}
	if l := c.Metrics.Listen; l != "" {
		if _, port, err := net.SplitHostPort(l); err != nil || port == "" {
			return at(fmt.Errorf("metrics: listen: %q: want host:port, e.g. 127.0.0.1:9464", l), "metrics", "listen")
		}
	}
	switch c.Log.Format {
	case "", "text", "json":
	default:
		return at(fmt.Errorf("log: format: %q: want text or json", c.Log.Format), "log", "format")
	}
	if _, err := ParseLogLevel(c.Log.Level); err != nil {
		return at(fmt.Errorf("log: level: %w", err), "log", "level")
	}
	return nil
}

// ParseLogLevel maps a log level's name to slog's numbering: debug -4,
// info 0 (also for ""), warn 4, error 8.
func ParseLogLevel(s string) (int, error) {
	switch s {
	case "debug":
		return -4, nil
	case "", "info":
		return 0, nil
	case "warn":
		return 4, nil
	case "error":
		return 8, nil
	}
	return 0, errors.New(strconv.Quote(s) + ": want debug, info, warn or error")
}
