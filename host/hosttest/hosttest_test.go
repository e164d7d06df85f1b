package hosttest

import (
	"bytes"
	"reflect"
	"sync"
	"testing"

	"github.com/nichost/nichost/host"
)

func TestLink(t *testing.T) {
	var l Link
	f := []byte{1, 2, 3}
	l.DeliverFrame(f)
	f[0] = 9 // the link keeps its own copy
	l.LinkChanged(host.LinkState{Up: true, Type: host.LinkEthernet, MTU: 1500})
	l.LinkChanged(host.LinkState{Up: false, Type: host.LinkEthernet})
	m := map[string]any{"addr4": "10.0.0.2"}
	l.Reported(m)
	m["addr4"] = "changed"
	if got := l.Frames(); len(got) != 1 || !bytes.Equal(got[0], []byte{1, 2, 3}) || l.Count() != 1 {
		t.Fatalf("frames %v", got)
	}
	if !reflect.DeepEqual(l.Ups(), []bool{true, false}) || l.States()[0].MTU != 1500 {
		t.Fatalf("states %v", l.States())
	}
	if got := l.Reports(); len(got) != 1 || got[0]["addr4"] != "10.0.0.2" {
		t.Fatalf("reports %v", got)
	}
}

func TestLogBuffer_Concurrent(t *testing.T) {
	var b LogBuffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				b.Write([]byte("x"))
			}
		}()
	}
	wg.Wait()
	if n := len(b.String()); n != 800 {
		t.Fatalf("%d bytes, want 800", n)
	}
}
