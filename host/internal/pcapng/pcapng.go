// Package pcapng writes frames as pcapng (which Wireshark and tcpdump read):
// the host records a NIC's frames where they cross into and out of its
// driver when config(trace="file.pcapng") asks for it. Drivers never see
// files. Each Enhanced Packet Block carries its direction in epb_flags.
package pcapng

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"sync"
	"time"
)

// Link types of the Interface Description Block.
const (
	LinkEthernet = 1
	LinkRaw      = 101 // bare IPv4/IPv6 (PPP's frames)
)

// Writer appends frames to one pcapng file. It is safe for concurrent use.
type Writer struct {
	mu   sync.Mutex
	path string
	f    *os.File
	w    *bufio.Writer
	err  error
}

// Create starts a file at path with one interface of the given link type
// and name.
func Create(path string, linkType uint16, ifname string) (*Writer, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	t := &Writer{path: path, f: f, w: bufio.NewWriter(f)}
	// Section Header Block: byte-order magic, version 1.0, unknown length.
	shb := le32s(0x1A2B3C4D)
	shb = binary.LittleEndian.AppendUint16(shb, 1)
	shb = binary.LittleEndian.AppendUint16(shb, 0)
	shb = binary.LittleEndian.AppendUint64(shb, ^uint64(0))
	t.block(0x0A0D0D0A, shb)
	// Interface Description Block: link type, snap length 0 (no limit),
	// if_name and if_tsresol (microseconds, the default, stated for tools
	// that want it).
	idb := binary.LittleEndian.AppendUint16(nil, linkType)
	idb = binary.LittleEndian.AppendUint16(idb, 0)
	idb = binary.LittleEndian.AppendUint32(idb, 0)
	idb = appendOption(idb, 2, []byte(ifname))
	idb = appendOption(idb, 9, []byte{6})
	idb = appendOption(idb, 0, nil)
	t.block(1, idb)
	return t, t.flush()
}

// Path is the file's name as given to Create.
func (t *Writer) Path() string { return t.path }

// Record appends one frame; inbound says which way it went. A write error
// stops recording (Close reports it).
func (t *Writer) Record(frame []byte, inbound bool, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.f == nil || t.err != nil {
		return
	}
	us := uint64(now.UnixMicro())
	epb := binary.LittleEndian.AppendUint32(nil, 0) // interface 0
	epb = binary.LittleEndian.AppendUint32(epb, uint32(us>>32))
	epb = binary.LittleEndian.AppendUint32(epb, uint32(us))
	epb = binary.LittleEndian.AppendUint32(epb, uint32(len(frame)))
	epb = binary.LittleEndian.AppendUint32(epb, uint32(len(frame)))
	epb = append(epb, frame...)
	epb = append(epb, make([]byte, pad4(len(frame)))...)
	dir := uint32(2) // outbound
	if inbound {
		dir = 1
	}
	epb = appendOption(epb, 2, le32s(dir)) // epb_flags
	epb = appendOption(epb, 0, nil)
	t.block(6, epb)
}

func (t *Writer) block(typ uint32, body []byte) {
	total := uint32(12 + len(body))
	b := le32s(typ)
	b = binary.LittleEndian.AppendUint32(b, total)
	b = append(b, body...)
	b = binary.LittleEndian.AppendUint32(b, total)
	if _, err := t.w.Write(b); err != nil && t.err == nil {
		t.err = err
	}
}

func (t *Writer) flush() error {
	if err := t.w.Flush(); err != nil && t.err == nil {
		t.err = err
	}
	return t.err
}

// Close flushes and closes the file.
func (t *Writer) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.f == nil {
		return nil
	}
	err := t.flush()
	if cerr := t.f.Close(); err == nil {
		err = cerr
	}
	t.f = nil
	return err
}

func appendOption(b []byte, code uint16, val []byte) []byte {
	b = binary.LittleEndian.AppendUint16(b, code)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(val)))
	b = append(b, val...)
	return append(b, make([]byte, pad4(len(val)))...)
}

func pad4(n int) int { return (4 - n%4) % 4 }

func le32s(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
