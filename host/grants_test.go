package host_test

import (
	"errors"
	"testing"

	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/config"
)

func TestHost_Grants(t *testing.T) {
	tests := []struct {
		name   string
		plugin string
		cfg    func(*config.PluginConfig)
		want   error
		msg    string
	}{
		{"missing grant", "needy", func(c *config.PluginConfig) {
			c.Buses = map[string]config.BusGrant{"spi": {Kind: "spi", Sim: "spi0"}}
		}, host.ErrNotGranted, "the plugin needs [reset (gpio)]"},
		{"wrong kind", "needy", func(c *config.PluginConfig) {
			c.Buses = map[string]config.BusGrant{"spi": {Kind: "uart", Sim: "uart0"}, "reset": {Kind: "gpio", Sim: "pin0"}}
		}, host.ErrNotGranted, `bus "spi" is granted as uart, the plugin needs spi`},
		{"one bus granted twice", "needy", func(c *config.PluginConfig) {
			c.Buses = map[string]config.BusGrant{"spi": {Kind: "spi", Sim: "spi0"}, "reset": {Kind: "gpio", Sim: "spi0"}}
		}, nil, "buses.reset and buses.spi grant the same bus sim:spi0"},
		{"undeclared grant", "needy", func(c *config.PluginConfig) {
			c.Buses = map[string]config.BusGrant{"spi": {Kind: "spi", Sim: "spi0"}, "reset": {Kind: "gpio", Sim: "pin0"}, "irq": {Kind: "uart", Sim: "uart0"}}
		}, host.ErrUndeclaredBus, `undeclared bus "irq": granted, but the plugin does not declare it (it declares spi, reset)`},
		{"class mismatch", "full", func(c *config.PluginConfig) { c.Class = "WIZNET5K" }, host.ErrClassMismatch,
			`the config expects WIZNET5K, the plugin "testdriver" is LAN`},
		{"sim bus of another kind", "full", func(c *config.PluginConfig) {
			c.Buses = map[string]config.BusGrant{"spi": {Kind: "spi", Sim: "pin0"}}
		}, nil, `bus "spi" is granted as spi, but what it names is a GPIO line`},
		{"unknown sim bus", "full", func(c *config.PluginConfig) {
			c.Buses = map[string]config.BusGrant{"spi": {Kind: "spi", Sim: "nope"}}
		}, nil, `no simulated bus named "nope"`},
		{"absent device", "full", func(c *config.PluginConfig) {
			c.Buses = map[string]config.BusGrant{"serial": {Kind: "uart", UART: &busUART}}
		}, nil, "/dev/ttyNICHOST9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, config.Limits{})
			_, _, err := r.loadErr(t, "p", plugin(tt.plugin), tt.cfg)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) || !contains(err.Error(), tt.msg) {
				t.Fatalf("Load = %v\nwant %v containing %q", err, tt.want, tt.msg)
			}
		})
	}
	// With both grants, the needy plugin loads and sees only its handles.
	r := newRig(t, config.Limits{})
	p := r.load(t, "p", plugin("needy"), func(c *config.PluginConfig) {
		c.Buses = map[string]config.BusGrant{"spi": {Kind: "spi", Sim: "spi0"}, "reset": {Kind: "gpio", Sim: "pin0"}}
	})
	if _, err := p.NICs()[0].Call(ctxT(t), "uart_read"); err == nil || !contains(err.Error(), `bus "serial" was not granted`) {
		t.Fatalf("use of an ungranted bus: %v", err)
	}
	// A bus granted to one plugin cannot be granted to another until the
	// first is closed.
	_, _, err := r.loadErr(t, "q", plugin("full"), func(c *config.PluginConfig) {
		c.Buses = map[string]config.BusGrant{"spi": {Kind: "spi", Sim: "spi0"}}
	})
	if err == nil || !contains(err.Error(), `sim:spi0 is already granted to plugin "p"`) {
		t.Fatalf("second grant of spi0: %v", err)
	}
	p.Close()
	r.load(t, "q", plugin("full"), func(c *config.PluginConfig) {
		c.Buses = map[string]config.BusGrant{"spi": {Kind: "spi", Sim: "spi0"}}
	})
}
