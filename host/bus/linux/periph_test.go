package linux

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
)

func TestOpenSPI(t *testing.T) {
	tests := []struct {
		name string
		cfg  SPIConfig
		want string
	}{
		{"absent device", SPIConfig{Device: "/dev/spidev9.9"}, "/dev/spidev9.9"},
		{"invalid config", SPIConfig{Device: "spidev0.0"}, "spi config: device"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, closer, err := OpenSPI(tt.cfg)
			if err == nil {
				_ = closer.Close()
				t.Fatalf("OpenSPI(%+v) = %v, want an error", tt.cfg, c)
			}
			if !strings.HasPrefix(err.Error(), "bus: ") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not name %q", err, tt.want)
			}
		})
	}
	_, _, err := OpenSPI(SPIConfig{Device: "/dev/spidev9.9"})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("absent device: %v, want errors.Is fs.ErrNotExist", err)
	}
}

func TestOpenGPIO(t *testing.T) {
	tests := []struct {
		name string
		cfg  GPIOConfig
		want string
	}{
		{"absent chip", GPIOConfig{Chip: "gpiochip99", Line: "3"}, `chip "gpiochip99" not found`},
		{"invalid config", GPIOConfig{Chip: "gpiochip0"}, "gpio config: line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := OpenGPIO(tt.cfg)
			if err == nil {
				t.Fatalf("OpenGPIO(%+v) = %v, want an error", tt.cfg, p)
			}
			if !strings.HasPrefix(err.Error(), "bus: ") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}
