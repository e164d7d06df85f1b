package linux

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestFrameConfig_Validate(t *testing.T) {
	tests := []struct {
		name string
		cfg  validator
		want string // substring of the error, "" for valid
	}{
		{"tap ok", TAPConfig{Name: "tap0", Up: true, MTU: 9000}, ""},
		{"tap zero value", TAPConfig{}, ""},
		{"tap pattern", TAPConfig{Name: "nic%d"}, ""},
		{"tap 15 bytes", TAPConfig{Name: "abcdefghijklmno"}, ""},
		{"tap long name", TAPConfig{Name: "abcdefghijklmnop"}, `tap config: name: "abcdefghijklmnop" longer than 15 bytes`},
		{"tap slash", TAPConfig{Name: "tap/0"}, `tap config: name: "tap/0" contains '/'`},
		{"tap colon", TAPConfig{Name: "tap:0"}, `contains ':'`},
		{"tap space", TAPConfig{Name: "tap 0"}, `contains ' '`},
		{"tap tab", TAPConfig{Name: "tap\t0"}, `contains '\t'`},
		{"tap dot", TAPConfig{Name: "."}, `name: "." is not a valid interface name`},
		{"tap dotdot", TAPConfig{Name: ".."}, `name: ".." is not a valid`},
		{"tap mtu low", TAPConfig{MTU: 67}, "tap config: mtu: 67 out of range 68..65521"},
		{"tap mtu high", TAPConfig{MTU: 65522}, "mtu: 65522 out of range"},
		{"tap mtu negative", TAPConfig{MTU: -1}, "mtu: -1 out of range"},
		{"tap queue", TAPConfig{QueueLen: -1}, "tap config: queue_len: -1 out of range 0..65536"},
		{"tap queue max", TAPConfig{QueueLen: 65536}, ""},
		{"tap queue high", TAPConfig{QueueLen: 65537}, "queue_len: 65537"},
		{"packet ok", PacketConfig{Interface: "eth0", Promiscuous: true, QueueLen: 16}, ""},
		{"packet no interface", PacketConfig{}, "packet config: interface: missing"},
		{"packet long name", PacketConfig{Interface: "abcdefghijklmnop"}, "packet config: interface: \"abcdefghijklmnop\" longer than 15 bytes"},
		{"packet slash", PacketConfig{Interface: "a/b"}, `contains '/'`},
		{"packet pattern", PacketConfig{Interface: "eth%d"}, `interface: "eth%d" is a pattern`},
		{"packet queue", PacketConfig{Interface: "eth0", QueueLen: -5}, "packet config: queue_len: -5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkValidate(t, tt.cfg, tt.want) })
	}
}

func TestFrameConfig_yaml(t *testing.T) {
	const doc = `
tap: {name: nic0, up: true, mtu: 1400, queue_len: 64}
packet: {interface: veth1, promiscuous: true, queue_len: 128}
`
	var cfg struct {
		TAP    TAPConfig    `yaml:"tap"`
		Packet PacketConfig `yaml:"packet"`
	}
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	want := TAPConfig{Name: "nic0", Up: true, MTU: 1400, QueueLen: 64}
	if cfg.TAP != want {
		t.Errorf("tap = %+v, want %+v", cfg.TAP, want)
	}
	wantP := PacketConfig{Interface: "veth1", Promiscuous: true, QueueLen: 128}
	if cfg.Packet != wantP {
		t.Errorf("packet = %+v, want %+v", cfg.Packet, wantP)
	}
	for _, v := range []validator{cfg.TAP, cfg.Packet} {
		if err := v.Validate(); err != nil {
			t.Error(err)
		}
	}
}

func TestOpenFramePort_invalidConfig(t *testing.T) {
	// Validation comes first on every system, before any device is touched.
	if p, err := OpenTAP(TAPConfig{Name: "bad/name"}); err == nil || !strings.Contains(err.Error(), "tap config: name") {
		t.Errorf("OpenTAP(bad/name) = %v, %v; want a config error", p, err)
	}
	if p, err := OpenPacket(PacketConfig{}); err == nil || !strings.Contains(err.Error(), "packet config: interface") {
		t.Errorf("OpenPacket({}) = %v, %v; want a config error", p, err)
	}
}
