package guest

import (
	"testing"

	"github.com/nichost/nichost/abi"
)

// BenchmarkCodec compares the SDK's codec with the host's (abi.Marshal,
// abi.Unmarshal, the general CBOR library the SDK used before) on what a
// control call moves: isconnected()'s arguments [[], {}] and bool reply,
// and a status tuple.
//
//	go test -run '^$' -bench Codec ./abi/guest/
func BenchmarkCodec(b *testing.B) {
	args := []byte{0x82, 0x80, 0xa0}
	status := abi.Tuple{int64(2), "up", int64(-40), 1500.0}
	statusMsg, err := abi.Marshal(status)
	if err != nil {
		b.Fatal(err)
	}
	decode := []struct {
		name string
		msg  []byte
	}{{"args-empty", args}, {"status-tuple", statusMsg}}
	for _, c := range decode {
		b.Run("decode-"+c.name+"/guest", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := decodeValue(c.msg); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("decode-"+c.name+"/host", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := abi.Unmarshal(c.msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	encode := []struct {
		name string
		v    any
	}{{"bool", true}, {"status-tuple", status}}
	for _, c := range encode {
		b.Run("encode-"+c.name+"/guest", func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 64) // the Module keeps its reply buffer
			for b.Loop() {
				if _, err := appendValue(buf[:0], c.v); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("encode-"+c.name+"/host", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := abi.Marshal(c.v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// callHost serves one control call's imports: fixed arguments, the reply
// dropped.
type callHost struct {
	abi.Imports
	args []byte
}

func (h *callHost) Args(dst []byte) int32 { return int32(copy(dst, h.args)) }
func (h *callHost) Reply([]byte) int32    { return 0 }

type connected struct{ Driver }

func (connected) IsConnected(int) bool { return true }

// BenchmarkModule_IsConnected is the guest's whole share of an
// isconnected() call, natively: fetch and decode the arguments, call the
// driver, encode and send the reply.
func BenchmarkModule_IsConnected(b *testing.B) {
	m := NewModule(connected{}, &callHost{args: []byte{0x82, 0x80, 0xa0}})
	b.ReportAllocs()
	for b.Loop() {
		if rc := m.IsConnected(0); rc != abi.StatusOK {
			b.Fatal(rc)
		}
	}
}

type batchHost struct {
	abi.Imports
	pushed int
}

func (h *batchHost) RxPushBatch(_ int32, b []byte) int32 { h.pushed += len(b); return 0 }

type taker struct{ Driver }

func (taker) Start(*Env) error           { return nil }
func (taker) Transmit(int, []byte) error { return nil }

// BenchmarkModule_TransmitBatch is the guest's share of nic_transmit_batch
// for 8 full frames served one Transmit each: no allocation per frame.
func BenchmarkModule_TransmitBatch(b *testing.B) {
	m := NewModule(taker{}, &batchHost{})
	var records []byte
	for range 8 {
		records = abi.AppendFrame(records, make([]byte, 1514))
	}
	b.ReportAllocs()
	for b.Loop() {
		if k := m.TransmitBatch(0, 8, records); k != 8 {
			b.Fatal(k)
		}
	}
}

// BenchmarkEnv_Deliver is a full frame delivered and pushed in a batch of
// 8: one copy, no allocation.
func BenchmarkEnv_Deliver(b *testing.B) {
	h := &batchHost{}
	e := newEnv(h, abi.StartInfo{Interfaces: make([]abi.InterfaceInfo, 1), Features: []string{abi.FeatureRxBatch}})
	frame := make([]byte, 1514)
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for i := 0; b.Loop(); i++ {
		if err := e.Deliver(0, frame); err != nil {
			b.Fatal(err)
		}
		if i%8 == 7 {
			e.flushAll()
		}
	}
}
