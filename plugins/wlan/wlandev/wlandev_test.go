package wlandev

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/nichost/nichost/internal/wait"
)

func TestOrderedClock(t *testing.T) {
	c := NewOrderedClock()
	defer c.Stop()
	var mu sync.Mutex
	var order []int
	record := func(i int) func() {
		return func() { mu.Lock(); order = append(order, i); mu.Unlock() }
	}
	// Due together: in the order scheduled; a stopped one never runs;
	// one due earlier first.
	for i := range 10 {
		c.AfterFunc(5*time.Millisecond, record(i))
	}
	stop := c.AfterFunc(5*time.Millisecond, record(99))
	if !stop() || stop() {
		t.Fatal("stop: want true once, then false")
	}
	c.AfterFunc(time.Millisecond, record(-1))
	wait.For(t, "11 functions", func() bool { mu.Lock(); defer mu.Unlock(); return len(order) == 11 })
	want := []int{-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	mu.Lock()
	defer mu.Unlock()
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("order %v, want %v", order, want)
		}
	}
}

func TestBlobs(t *testing.T) {
	if fw := Firmware(); len(fw) != FirmwareSize || !bytes.Equal(fw, Firmware()) {
		t.Fatal("Firmware() is not 224190 deterministic bytes")
	}
	if clm := CLM(); len(clm) != CLMSize || !bytes.Equal(clm, CLM()) || bytes.Equal(clm, Firmware()[:CLMSize]) {
		t.Fatal("CLM() is not 984 deterministic bytes of its own")
	}
}

func TestNew(t *testing.T) {
	d, err := New(nil, "x", Options{NoIRQ: true, NVRAM: []byte("a=1\x00\x00")})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if len(d.APs) != 4 || len(d.Networks) != 4 || d.Networks[0].SSID != "nichost-sim" || !d.Networks[3].Hidden {
		t.Fatalf("networks %+v", d.Networks)
	}
	for _, b := range []string{"spi", "on", "firmware", "clm", "nvram"} {
		g, ok := d.Buses[b]
		if !ok || d.Sims[g.Sim] == nil {
			t.Errorf("bus %q not granted with a sim (%+v)", b, g)
		}
	}
	if _, ok := d.Buses["irq"]; ok {
		t.Error("irq granted with NoIRQ")
	}
	d.SetLink(false)
	if d.APs[0].On() {
		t.Error("SetLink(false) left the first AP on the air")
	}
	if _, err := New(nil, "y", Options{Networks: Networks()[:1]}); err != nil {
		t.Fatal(err)
	}
}
