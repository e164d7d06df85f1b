package session

import (
	"testing"

	"github.com/nichost/nichost/plugins/ppp/fsm"
	"github.com/nichost/nichost/plugins/ppp/hdlc"
)

// The option parsers and the protocols behind them take any packet from
// the peer: fuzzed LCP, IPCP, PAP and CHAP packets, delivered to both ends
// of a running link, never panic, and leave a link that either still
// carries IPv4 or can be closed to dead.
func FuzzSession(f *testing.F) {
	f.Add(uint8(0), []byte{fsm.ConfReq, 9, 0, 14, optMRU, 4, 0, 10, optMagic, 6, 1, 2, 3, 4})
	f.Add(uint8(1), []byte{fsm.ConfNak, 1, 0, 10, optIPAddress, 6, 10, 0, 0, 9})
	f.Add(uint8(1), []byte{fsm.ConfReq, 3, 0, 16, optDNS1, 6, 0, 0, 0, 0, optIPComp, 6, 0, 0x2d, 0x0f, 0x01})
	f.Add(uint8(2), []byte{papRequest, 1, 0, 8, 1, 'u', 1, 'k'})
	f.Add(uint8(3), []byte{chapChallenge, 4, 0, 9, 4, 1, 2, 3, 4})
	f.Add(uint8(0), []byte{fsm.ProtoRej, 1, 0, 6, 0x80, 0x21})
	f.Add(uint8(0), []byte{fsm.ConfReq, 1, 0, 7, optAuth, 3, 0xc2})
	f.Fuzz(func(t *testing.T, which uint8, pkt []byte) {
		protos := []uint16{hdlc.ProtoLCP, hdlc.ProtoIPCP, hdlc.ProtoPAP, hdlc.ProtoCHAP, hdlc.ProtoIPv4, hdlc.ProtoIPV6CP}
		proto := protos[int(which>>1)%len(protos)]
		cred := Config{Security: SecCHAP, User: "u", Key: "k"}
		p := newPair(t, cred, cred)
		p.open()
		p.until("running", p.running)
		frame := hdlc.Append(nil, proto, pkt, hdlc.Send{})
		if which&1 == 0 {
			p.c.Input(frame)
		} else {
			p.s.Input(frame)
		}
		p.pump()
		if p.running() {
			p.exchange(100)
		}
		p.c.Close()
		p.s.Close()
		p.until("dead after close", p.dead)
	})
}
