package peer

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/internal/wait"
	"github.com/nichost/nichost/plugins/ppp/hdlc"
)

// readUntil collects what the peer sends until cond holds of it.
func readUntil(t *testing.T, u *sim.UART, what string, cond func([]byte) bool) []byte {
	t.Helper()
	var got []byte
	buf := make([]byte, 4096)
	wait.For(t, what, func() bool {
		n, _ := u.Read(buf)
		got = append(got, buf[:n]...)
		return cond(got)
	})
	return got
}

// The modem answers AT commands in command mode and goes on line at
// CONNECT: only then does LCP begin.
func TestModem(t *testing.T) {
	ours, theirs := sim.NewUARTPair()
	p := New(theirs, Options{Modem: &Modem{DialTime: 20 * time.Millisecond}})
	defer p.Close()
	ours.Write([]byte("AT\r"))
	readUntil(t, ours, "OK", func(b []byte) bool { return bytes.Contains(b, []byte("\r\nOK\r\n")) })
	ours.Write([]byte("ATD*99#\r"))
	got := readUntil(t, ours, "CONNECT and an LCP request", func(b []byte) bool {
		i := bytes.Index(b, []byte("CONNECT 115200\r\n"))
		return i >= 0 && bytes.Contains(b[i:], []byte{hdlc.Flag})
	})
	if i, j := bytes.Index(got, []byte("CONNECT")), bytes.IndexByte(got, hdlc.Flag); j < i {
		t.Errorf("PPP began before CONNECT: %q", got)
	}
}

func TestModem_Answer(t *testing.T) {
	ours, theirs := sim.NewUARTPair()
	p := New(theirs, Options{Modem: &Modem{Answer: "NO CARRIER"}})
	defer p.Close()
	ours.Write([]byte("ATD5551234\r"))
	got := readUntil(t, ours, "NO CARRIER", func(b []byte) bool { return strings.Contains(string(b), "NO CARRIER") })
	if bytes.IndexByte(got, hdlc.Flag) >= 0 {
		t.Error("PPP began after NO CARRIER")
	}
}

// At a baud rate the line carries no more than baud/10 octets a second:
// 4 KiB at 115200 baud take at least 0.35 s (a lower bound: a busy
// machine only makes it slower).
func TestBaudPacing(t *testing.T) {
	ours, theirs := sim.NewUARTPair()
	p := New(theirs, Options{Baud: 115200})
	defer p.Close()
	readUntil(t, ours, "the first LCP request", func(b []byte) bool { return len(b) > 0 })
	start := time.Now()
	p.mu.Lock()
	p.txq = append(p.txq, make([]byte, 4096)...)
	p.mu.Unlock()
	p.kick()
	readUntil(t, ours, "4 KiB", func(b []byte) bool { return len(b) >= 4096 })
	if el := time.Since(start); el < 350*time.Millisecond {
		t.Errorf("4096 octets at 115200 baud took %v, under the line's 0.356 s", el)
	}
}

// Noise changes and drops octets at about the rates asked for.
func TestNoise(t *testing.T) {
	p := &Peer{opts: Options{Corrupt: 0.01, Loss: 0.01}, rng: rand.New(rand.NewPCG(3, 3))}
	in := bytes.Repeat([]byte{0x55}, 100000)
	out := p.noise(nil, in)
	if st := p.stats; st.Lost < 700 || st.Lost > 1300 || st.Corrupted < 700 || st.Corrupted > 1300 || len(out) != len(in)-int(st.Lost) {
		t.Errorf("1%% each of 100000 octets: %+v, %d out", st, len(out))
	}
	changed := 0
	for _, c := range out {
		if c != 0x55 {
			changed++
		}
	}
	if uint64(changed) != p.stats.Corrupted {
		t.Errorf("%d octets changed, %d counted", changed, p.stats.Corrupted)
	}
}

// A strict peer records what the client got wrong, naming the rule: a
// frame whose FCS fails on a clean line, an IPv4 packet before IPCP
// opened. A frame cut short by Cut is not the client's doing; a peer that
// is not strict records nothing.
func TestMisuse(t *testing.T) {
	for _, strict := range []bool{true, false} {
		ours, theirs := sim.NewUARTPair()
		p := New(theirs, Options{Strict: strict})
		defer p.Close()
		readUntil(t, ours, "the first LCP request", func(b []byte) bool { return len(b) > 0 })

		bad := hdlc.Append(nil, hdlc.ProtoLCP, []byte{9, 1, 0, 8, 0, 0, 0, 0}, hdlc.DefaultSend) // an Echo-Request
		bad[len(bad)/2] ^= 0x10
		ours.Write(bad)
		ours.Write(hdlc.Append(nil, hdlc.ProtoIPv4, make([]byte, 20), hdlc.DefaultSend))
		half := hdlc.Append(nil, hdlc.ProtoLCP, []byte{9, 2, 0, 8, 0, 0, 0, 0}, hdlc.DefaultSend)
		ours.Write(half[:len(half)/2])
		wait.For(t, "the peer to read the line, the half frame too", func() bool {
			p.mu.Lock()
			defer p.mu.Unlock()
			st := p.sess.Stats()
			return st.Line.BadFCS == 1 && st.Discarded == 1 && theirs.Buffered() == 0 && len(p.rxq) == 0
		})
		p.Cut(true)
		p.Cut(false)
		got := p.Misuse()
		if !strict {
			if len(got) != 0 {
				t.Errorf("a peer that is not strict recorded %v", got)
			}
			continue
		}
		if len(got) != 2 || !strings.Contains(got[0].Error(), "FCS did not check") || !strings.Contains(got[0].Error(), "(RFC 1662 3.1") ||
			!strings.Contains(got[1].Error(), "IPv4 before IPCP opened") || !strings.Contains(got[1].Error(), "(RFC 1661 3.3 to 3.5") {
			t.Errorf("misuse: %v; want the bad FCS, then the early IPv4 packet, each with its rule", got)
		}
		// The half frame was discarded as the line came back.
		p.mu.Lock()
		st := p.sess.Stats().Line
		p.mu.Unlock()
		if st.BadFCS+st.Aborted+st.Runts != 2 {
			t.Errorf("after the cut: %+v, want the half frame dropped", st)
		}
	}
}
