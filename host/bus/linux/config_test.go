package linux

import (
	"strings"
	"testing"

	"github.com/nichost/nichost/host/bus/sim"
	"go.yaml.in/yaml/v3"
)

// validator is what every config implements.
type validator interface{ Validate() error }

func TestConfig_Validate(t *testing.T) {
	tests := []struct {
		name string
		cfg  validator
		want string // substring of the error, "" for valid
	}{
		{"spi ok", SPIConfig{Device: "/dev/spidev0.1", SpeedHz: 20e6, Mode: 3}, ""},
		{"spi defaults", SPIConfig{Device: "/dev/spidev10.0"}, ""},
		{"spi no device", SPIConfig{}, "spi config: device: missing"},
		{"spi bad device", SPIConfig{Device: "/dev/spi0"}, `device: "/dev/spi0" is not of the form`},
		{"spi bad cs", SPIConfig{Device: "/dev/spidev0.300"}, "device: chip select"},
		{"spi speed", SPIConfig{Device: "/dev/spidev0.0", SpeedHz: 10}, "speed_hz: 10 out of range"},
		{"spi mode", SPIConfig{Device: "/dev/spidev0.0", Mode: 4}, "mode: 4 out of range"},
		{"spi bits", SPIConfig{Device: "/dev/spidev0.0", Bits: 33}, "bits: 33"},
		{"gpio ok", GPIOConfig{Chip: "gpiochip0", Line: "GPIO17"}, ""},
		{"gpio no chip", GPIOConfig{Line: "17"}, "gpio config: chip: missing"},
		{"gpio no line", GPIOConfig{Chip: "gpiochip0"}, "gpio config: line: missing"},
		{"uart ok", UARTConfig{Device: "/dev/ttyUSB0", Baud: 115200, Parity: "even", StopBits: 1.5}, ""},
		{"uart no device", UARTConfig{Baud: 9600}, "uart config: device: missing"},
		{"uart no baud", UARTConfig{Device: "/dev/ttyS0"}, "baud: 0"},
		{"uart data bits", UARTConfig{Device: "/dev/ttyS0", Baud: 9600, DataBits: 9}, "data_bits: 9"},
		{"uart parity", UARTConfig{Device: "/dev/ttyS0", Baud: 9600, Parity: "oddish"}, `parity: "oddish"`},
		{"uart stop bits", UARTConfig{Device: "/dev/ttyS0", Baud: 9600, StopBits: 3}, "stop_bits: 3"},
		{"uart buffer", UARTConfig{Device: "/dev/ttyS0", Baud: 9600, BufferSize: -1}, "buffer_size: -1"},
		{"uart unix", UARTConfig{Unix: "/run/qemu/ttyS0.sock"}, ""},
		{"uart unix with line settings", UARTConfig{Unix: "/tmp/ppp.sock", Baud: 115200, Parity: "none"}, ""},
		{"uart unix and device", UARTConfig{Device: "/dev/ttyS0", Unix: "/tmp/ppp.sock", Baud: 9600}, "unix: and device: are exclusive"},
		{"uart unix long path", UARTConfig{Unix: "/" + strings.Repeat("s", 107)}, "unix: path of 108 bytes"},
		{"uart unix bad settings", UARTConfig{Unix: "/tmp/ppp.sock", DataBits: 4}, "data_bits: 4"},
		{"uart unix negative baud", UARTConfig{Unix: "/tmp/ppp.sock", Baud: -1}, "baud: -1"},
		{"mdio ok", MDIOConfig{Interface: "eth0"}, ""},
		{"mdio no interface", MDIOConfig{}, "mdio config: interface: missing"},
		{"mdio long name", MDIOConfig{Interface: "averyveryverylongname"}, "longer than 15 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkValidate(t, tt.cfg, tt.want) })
	}
}

func TestConfig_yaml(t *testing.T) {
	const doc = `
spi: {device: /dev/spidev0.0, speed_hz: 8000000, mode: 0, bits: 8}
gpio: {chip: gpiochip0, line: GPIO25}
uart: {device: /dev/ttyAMA0, baud: 115200, data_bits: 8, parity: none, stop_bits: 1, buffer_size: 4096}
mdio: {interface: eth0, allow_write: true}
segment: {loss: 0.01, duplicate: 0.001, reorder: 0.01, delay: 2ms, seed: 42, queue_len: 64, mtu: 1500}
`
	var cfg struct {
		SPI     SPIConfig          `yaml:"spi"`
		GPIO    GPIOConfig         `yaml:"gpio"`
		UART    UARTConfig         `yaml:"uart"`
		MDIO    MDIOConfig         `yaml:"mdio"`
		Segment sim.SegmentOptions `yaml:"segment"`
	}
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	for _, v := range []validator{cfg.SPI, cfg.GPIO, cfg.UART, cfg.MDIO, cfg.Segment} {
		if err := v.Validate(); err != nil {
			t.Error(err)
		}
	}
	if cfg.SPI.SpeedHz != 8e6 || cfg.GPIO.Line != "GPIO25" || cfg.UART.BufferSize != 4096 ||
		!cfg.MDIO.AllowWrite || cfg.Segment.Seed != 42 || cfg.Segment.Delay.Milliseconds() != 2 {
		t.Fatalf("decoded %+v", cfg)
	}
}

// checkValidate checks that cfg.Validate() passes (want "") or fails with
// a "bus: " error containing want.
func checkValidate(t *testing.T, cfg validator, want string) {
	t.Helper()
	err := cfg.Validate()
	if want == "" {
		if err != nil {
			t.Fatalf("Validate() = %v, want nil", err)
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "bus: ") {
		t.Fatalf("Validate() = %v, want a bus: error containing %q", err, want)
	}
}
