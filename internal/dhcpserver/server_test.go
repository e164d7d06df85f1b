package dhcpserver

import (
	"bytes"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/soypat/seqs/eth/dhcp"

	"github.com/nichost/nichost/internal/dhcpwire"
)

var (
	serverMAC = net.HardwareAddr{0x02, 0x64, 0, 0, 0, 0x01}
	broadcast = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	zero4     = netip.AddrFrom4([4]byte{})
	bcast4    = netip.AddrFrom4([4]byte{255, 255, 255, 255})
)

// rig is a server whose replies are kept, on a clock the test moves.
type rig struct {
	srv  *Server
	sent [][]byte
	now  time.Time
}

func newRig(t *testing.T, first, last string) *rig {
	t.Helper()
	r := &rig{now: time.Unix(1e9, 0)}
	srv, err := New(Config{
		Addr: netip.MustParsePrefix("10.64.0.1/24"), MAC: serverMAC,
		First: netip.MustParseAddr(first), Last: netip.MustParseAddr(last),
		Router: netip.MustParseAddr("10.64.0.1"), DNS: []netip.Addr{netip.MustParseAddr("10.64.0.1")},
		Lease: time.Hour,
		Send:  func(f []byte) error { r.sent = append(r.sent, bytes.Clone(f)); return nil },
		Now:   func() time.Time { return r.now },
	})
	if err != nil {
		t.Fatal(err)
	}
	r.srv = srv
	return r
}

// request is a client's message as a broadcast frame.
func request(client byte, typ dhcp.MessageType, opts ...dhcp.Option) []byte {
	mac := net.HardwareAddr{0x02, 0, 0, 0, 0, client}
	hdr := dhcp.HeaderV4{OP: dhcp.OpRequest, HType: 1, HLen: 6, Xid: 0x1234}
	copy(hdr.CHAddr[:], mac)
	opts = append([]dhcp.Option{{Num: dhcp.OptMessageType, Data: []byte{byte(typ)}}}, opts...)
	return dhcpwire.UDPFrame(broadcast, mac, zero4, bcast4, dhcp.DefaultClientPort, dhcp.DefaultServerPort, dhcpwire.Encode(hdr, opts))
}

func opt(n dhcp.OptNum, s string) dhcp.Option {
	if a, err := netip.ParseAddr(s); err == nil {
		return dhcp.Option{Num: n, Data: a.AsSlice()}
	}
	return dhcp.Option{Num: n, Data: []byte(s)}
}

// reply decodes the one frame the server sent since the last call.
func (r *rig) reply(t *testing.T) *dhcpwire.Message {
	t.Helper()
	if len(r.sent) != 1 {
		t.Fatalf("the server sent %d frames, want 1", len(r.sent))
	}
	d, ok := dhcpwire.ParseUDP(r.sent[0])
	r.sent = nil
	if !ok || d.SrcPort != dhcp.DefaultServerPort || d.DstPort != dhcp.DefaultClientPort {
		t.Fatalf("the reply is not DHCP from port 67 to 68")
	}
	m, err := dhcpwire.Decode(d.Payload)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestServer_Handle(t *testing.T) {
	for _, c := range []struct {
		name    string
		frames  [][]byte // handed over in order; the last one's answer is checked
		taken   bool
		reply   dhcp.MessageType // 0: silence
		yours   string
		hasOpts bool
	}{
		{"discover is offered the first free address",
			[][]byte{request(7, dhcp.MsgDiscover)}, true, dhcp.MsgOffer, "10.64.0.100", true},
		{"request of the offer is acknowledged",
			[][]byte{request(7, dhcp.MsgDiscover), request(7, dhcp.MsgRequest, opt(dhcp.OptRequestedIPaddress, "10.64.0.100"), opt(dhcp.OptServerIdentification, "10.64.0.1"))},
			true, dhcp.MsgAck, "10.64.0.100", true},
		{"request of another address is refused",
			[][]byte{request(7, dhcp.MsgDiscover), request(7, dhcp.MsgRequest, opt(dhcp.OptRequestedIPaddress, "10.64.0.150"))},
			true, dhcp.MsgNak, "0.0.0.0", false},
		{"request with nothing offered is refused",
			[][]byte{request(7, dhcp.MsgRequest, opt(dhcp.OptRequestedIPaddress, "10.64.0.100"))}, true, dhcp.MsgNak, "0.0.0.0", false},
		{"request to another server is taken silently",
			[][]byte{request(7, dhcp.MsgRequest, opt(dhcp.OptRequestedIPaddress, "10.64.0.100"), opt(dhcp.OptServerIdentification, "10.64.0.2"))}, true, 0, "", false},
		{"two clients get two addresses",
			[][]byte{request(7, dhcp.MsgDiscover), request(8, dhcp.MsgDiscover)}, true, dhcp.MsgOffer, "10.64.0.101", true},
		{"a client asking again keeps its address",
			[][]byte{request(7, dhcp.MsgDiscover), request(8, dhcp.MsgDiscover), request(7, dhcp.MsgDiscover)}, true, dhcp.MsgOffer, "10.64.0.100", true},
		{"malformed DHCP on port 67 is taken",
			[][]byte{dhcpwire.UDPFrame(broadcast, serverMAC, zero4, bcast4, 68, 67, []byte("not dhcp"))}, true, 0, "", false},
		{"other UDP is left to the stack",
			[][]byte{dhcpwire.UDPFrame(broadcast, serverMAC, zero4, bcast4, 68, 53, dhcpwire.Encode(dhcp.HeaderV4{OP: dhcp.OpRequest, HLen: 6}, nil))}, false, 0, "", false},
		{"unicast to another station is left alone",
			[][]byte{append([]byte{0x02, 0, 0, 0, 0, 0x99}, request(7, dhcp.MsgDiscover)[6:]...)}, false, 0, "", false},
		{"a runt frame is left alone", [][]byte{{1, 2, 3}}, false, 0, "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, "10.64.0.100", "10.64.0.199")
			var taken bool
			for _, f := range c.frames {
				r.sent = nil
				taken = r.srv.Handle(f)
			}
			if taken != c.taken {
				t.Fatalf("Handle = %v, want %v", taken, c.taken)
			}
			if c.reply == 0 {
				if len(r.sent) != 0 {
					t.Fatalf("the server answered %d frames, want silence", len(r.sent))
				}
				return
			}
			m := r.reply(t)
			if m.Type != c.reply || netip.AddrFrom4(m.Header.YIAddr).String() != c.yours || m.Header.Xid != 0x1234 {
				t.Fatalf("reply %v yiaddr %v xid %#x, want %v %s", m.Type, netip.AddrFrom4(m.Header.YIAddr), m.Header.Xid, c.reply, c.yours)
			}
			if sid := m.Addr(dhcp.OptServerIdentification); sid.String() != "10.64.0.1" {
				t.Fatalf("server identifier %v", sid)
			}
			if got := m.Addr(dhcp.OptRouter).IsValid() && m.Addr(dhcp.OptDNSServers).IsValid() && len(m.Options[dhcp.OptSubnetMask]) == 4; got != c.hasOpts {
				t.Fatalf("router, DNS and mask present = %v, want %v (%v)", got, c.hasOpts, m.Options)
			}
		})
	}
}

func TestServer_Leases(t *testing.T) {
	r := newRig(t, "10.64.0.100", "10.64.0.100") // a pool of one
	r.srv.Handle(request(7, dhcp.MsgDiscover, opt(dhcp.OptHostName, "board-7")))
	r.srv.Handle(request(7, dhcp.MsgRequest, opt(dhcp.OptRequestedIPaddress, "10.64.0.100"), opt(dhcp.OptHostName, "board-7b")))
	l := r.srv.Leases()
	if len(l) != 1 || !l[0].Bound || l[0].Hostname != "board-7b" || l[0].Addr.String() != "10.64.0.100" || !l[0].Expires.Equal(r.now.Add(time.Hour)) {
		t.Fatalf("leases %+v, want one bound to board-7b for an hour", l)
	}
	l[0].MAC[0] = 0xee // a copy
	if r.srv.Leases()[0].MAC[0] == 0xee {
		t.Fatal("Leases shares its MACs with the server")
	}
	r.sent = nil
	r.srv.Handle(request(8, dhcp.MsgDiscover))
	if len(r.sent) != 0 {
		t.Fatal("an exhausted pool offered an address")
	}
	r.now = r.now.Add(2 * time.Hour) // client 7's lease runs out
	r.srv.Handle(request(8, dhcp.MsgDiscover))
	if m := r.reply(t); m.Type != dhcp.MsgOffer || netip.AddrFrom4(m.Header.YIAddr).String() != "10.64.0.100" {
		t.Fatalf("after expiry: %v of %v, want an offer of 10.64.0.100", m.Type, netip.AddrFrom4(m.Header.YIAddr))
	}
	r.srv.Handle(request(8, dhcp.MsgRelease))
	if l := r.srv.Leases(); len(l) != 0 {
		t.Fatalf("leases after release %+v", l)
	}
}

func TestNew(t *testing.T) {
	good := Config{
		Addr: netip.MustParsePrefix("10.64.0.1/24"), MAC: serverMAC,
		First: netip.MustParseAddr("10.64.0.100"), Last: netip.MustParseAddr("10.64.0.199"),
		Send: func([]byte) error { return nil },
	}
	for _, c := range []struct {
		name string
		edit func(*Config)
		want string // "" for success
	}{
		{"valid", func(*Config) {}, ""},
		{"no address", func(c *Config) { c.Addr = netip.Prefix{} }, "IPv4 address"},
		{"IPv6 address", func(c *Config) { c.Addr = netip.MustParsePrefix("fd64::1/64") }, "IPv4 address"},
		{"short MAC", func(c *Config) { c.MAC = c.MAC[:5] }, "6-byte MAC"},
		{"no Send", func(c *Config) { c.Send = nil }, "Send"},
		{"pool outside the subnet", func(c *Config) { c.Last = netip.MustParseAddr("10.65.0.1") }, "pool"},
		{"pool backwards", func(c *Config) { c.First, c.Last = c.Last, c.First }, "pool"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := good
			c.edit(&cfg)
			_, err := New(cfg)
			switch {
			case c.want == "" && err != nil:
				t.Fatal(err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "dhcpserver: ")):
				t.Fatalf("New = %v, want an error naming %q", err, c.want)
			}
		})
	}
}
