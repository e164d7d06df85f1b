package session

import (
	"crypto/md5"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/nichost/nichost/plugins/ppp/fsm"
	"github.com/nichost/nichost/plugins/ppp/hdlc"
)

// PAP's codes (RFC 1334 2.2) and CHAP's (RFC 1994 4).
const (
	papRequest = 1
	papAck     = 2
	papNak     = 3

	chapChallenge = 1
	chapResponse  = 2
	chapSuccess   = 3
	chapFailure   = 4
)

// auth is the authentication phase, either side of it.
type auth struct {
	s        *Session
	sec      Security // what runs: what the peer required (client), what this end requires (server)
	done     bool     // authenticated: the network phase began
	id       byte
	tries    int
	deadline time.Duration // the next retransmission or give-up; 0: none
	chal     []byte        // a server's outstanding challenge
	resp     []byte        // a client's last CHAP Response, resent until answered
	buf      []byte
}

// maxTries is how many times a request or challenge is sent before the
// peer is taken to be gone (RFC 1661's Max-Configure).
const maxTries = fsm.DefaultMaxConfigure

// start begins the phase once LCP opened; sec is what the peer requires
// of a Client. Without authentication the network phase begins at once.
func (a *auth) start(peerRequires Security) {
	s := a.s
	a.sec, a.done, a.tries, a.deadline, a.chal, a.resp = peerRequires, false, 0, 0, nil, nil
	if s.cfg.Role == Server {
		a.sec = s.cfg.Security
	}
	switch {
	case a.sec == SecNone:
		a.succeed()
	case s.cfg.Role == Client && a.sec == SecPAP:
		a.sendPAP()
	case s.cfg.Role == Server && a.sec == SecCHAP:
		a.challenge()
	default:
		// A client waits for a challenge, a server for a PAP request:
		// for as long as a requester would retry.
		a.deadline = s.now() + s.restart()*time.Duration(maxTries)
	}
}

func (a *auth) stop() { a.deadline, a.chal, a.resp = 0, nil, nil }

func (a *auth) succeed() {
	a.deadline = 0
	if !a.done {
		a.done = true
		a.s.networkPhase()
	}
}

// send sends one packet of PAP or CHAP: code, id, length, data.
func (a *auth) send(proto uint16, code, id byte, data []byte) {
	b := append(a.buf[:0], code, id, 0, 0)
	b = append(b, data...)
	b[2], b[3] = byte(len(b)>>8), byte(len(b))
	a.buf = b
	a.s.write(proto, b)
}

func (a *auth) sendPAP() {
	c := a.s.cfg
	a.id++
	a.tries++
	d := append([]byte{byte(len(c.User))}, c.User...)
	d = append(d, byte(len(c.Key)))
	a.send(hdlc.ProtoPAP, papRequest, a.id, append(d, c.Key...))
	a.deadline = a.s.now() + a.s.restart()
}

func (a *auth) challenge() {
	s := a.s
	a.id++
	a.tries++
	a.chal = make([]byte, 16)
	for i := 0; i < len(a.chal); i += 4 {
		binary.BigEndian.PutUint32(a.chal[i:], s.randU32())
	}
	d := append([]byte{byte(len(a.chal))}, a.chal...)
	a.send(hdlc.ProtoCHAP, chapChallenge, a.id, append(d, s.cfg.Name...))
	a.deadline = s.now() + s.restart()
}

// sendResponse sends the client's CHAP Response, and arms its
// retransmission: the Success or Failure may be lost.
func (a *auth) sendResponse() {
	a.tries++
	a.send(hdlc.ProtoCHAP, chapResponse, a.id, a.resp)
	a.deadline = a.s.now() + a.s.restart()
}

// chapValue is RFC 1994's response value: MD5 of the identifier, the
// secret and the challenge.
func chapValue(id byte, secret string, challenge []byte) []byte {
	h := md5.New()
	h.Write([]byte{id})
	h.Write([]byte(secret))
	h.Write(challenge)
	return h.Sum(nil)
}

// tick retransmits, or gives up.
func (a *auth) tick() {
	s := a.s
	if a.deadline == 0 || s.now() < a.deadline {
		return
	}
	a.deadline = 0
	if a.tries > 0 && a.tries < maxTries {
		switch {
		case s.cfg.Role == Server:
			a.challenge()
		case a.sec == SecPAP:
			a.sendPAP()
		case a.resp != nil:
			a.sendResponse()
		}
		return
	}
	switch {
	case s.cfg.Role == Client && a.sec == SecPAP:
		s.closeFor("peer not answering: no reply to PAP")
	case s.cfg.Role == Client && a.resp != nil:
		s.closeFor("peer not answering: no reply to a CHAP response")
	case s.cfg.Role == Client:
		s.closeFor("peer not answering: no CHAP challenge")
	case a.sec == SecCHAP:
		s.closeFor("peer not answering: no reply to a CHAP challenge")
	default:
		s.closeFor("peer did not authenticate: no PAP request")
	}
}

// input takes a PAP or CHAP packet.
func (a *auth) input(proto uint16, p []byte) {
	if len(p) < 4 {
		return
	}
	n := int(p[2])<<8 | int(p[3])
	if n < 4 || n > len(p) {
		return
	}
	code, id, data := p[0], p[1], p[4:n]
	s := a.s
	switch {
	case proto == hdlc.ProtoPAP && s.cfg.Role == Client && a.sec == SecPAP:
		if id != a.id || a.done {
			return
		}
		switch code {
		case papAck:
			a.succeed()
		case papNak:
			s.closeFor("authentication refused by the peer (PAP)" + message(data))
		}
	case proto == hdlc.ProtoCHAP && s.cfg.Role == Client && a.sec == SecCHAP:
		switch code {
		case chapChallenge:
			// Answered at any time, re-challenges in the network phase
			// included (RFC 1994 2).
			if len(data) < 1 || int(data[0]) == 0 || 1+int(data[0]) > len(data) {
				return
			}
			a.id = id
			v := chapValue(id, s.cfg.Key, data[1:1+data[0]])
			a.resp = append(append([]byte{byte(len(v))}, v...), s.cfg.User...)
			a.tries = 0
			a.sendResponse()
		case chapSuccess:
			if id == a.id && a.resp != nil {
				a.resp = nil
				a.succeed()
			}
		case chapFailure:
			if id == a.id && a.resp != nil {
				s.closeFor("authentication refused by the peer (CHAP)" + message(data))
			}
		}
	case proto == hdlc.ProtoPAP && s.cfg.Role == Server && a.sec == SecPAP && code == papRequest:
		user, key, ok := papFields(data)
		if !ok {
			return
		}
		if user == s.cfg.User && subtle.ConstantTimeCompare([]byte(key), []byte(s.cfg.Key)) == 1 {
			a.send(hdlc.ProtoPAP, papAck, id, append([]byte{7}, "welcome"...))
			a.succeed()
			return
		}
		a.send(hdlc.ProtoPAP, papNak, id, append([]byte{13}, "login refused"...))
		s.closeFor(fmt.Sprintf("peer failed authentication (PAP, user %q)", user))
	case proto == hdlc.ProtoCHAP && s.cfg.Role == Server && a.sec == SecCHAP && code == chapResponse:
		if id == a.id && a.chal == nil && a.done {
			// A retransmitted response: our Success was lost (RFC 1994
			// 4.2 has it sent again).
			a.send(hdlc.ProtoCHAP, chapSuccess, id, []byte("welcome"))
			return
		}
		if id != a.id || a.chal == nil || len(data) < 1 || 1+int(data[0]) > len(data) {
			return
		}
		value, name := data[1:1+data[0]], string(data[1+data[0]:])
		if name == s.cfg.User && subtle.ConstantTimeCompare(value, chapValue(id, s.cfg.Key, a.chal)) == 1 {
			a.chal = nil
			a.send(hdlc.ProtoCHAP, chapSuccess, id, []byte("welcome"))
			a.succeed()
			return
		}
		a.send(hdlc.ProtoCHAP, chapFailure, id, []byte("login refused"))
		s.closeFor(fmt.Sprintf("peer failed authentication (CHAP, name %q)", name))
	}
}

// papFields splits a PAP Authenticate-Request's peer-id and password.
func papFields(d []byte) (user, key string, ok bool) {
	if len(d) < 1 || 2+int(d[0]) > len(d) {
		return "", "", false
	}
	user = string(d[1 : 1+d[0]])
	d = d[1+d[0]:]
	if len(d) < 1 || 1+int(d[0]) > len(d) {
		return "", "", false
	}
	return user, string(d[1 : 1+d[0]]), true
}

// message is a PAP or CHAP reply's message, for a failure's reason. PAP's
// begins with its length; CHAP's is the rest of the packet. Either way
// only printable ASCII is kept.
func message(d []byte) string {
	if len(d) > 0 && int(d[0]) == len(d)-1 {
		d = d[1:]
	}
	var b []byte
	for _, c := range d {
		if c >= 0x20 && c < 0x7f {
			b = append(b, c)
		}
	}
	if len(b) == 0 {
		return ""
	}
	return fmt.Sprintf(": %q", b)
}

// Rechallenge has a Server send a new CHAP challenge on a running link
// (RFC 1994 allows one at any time); a wrong or missing response ends the
// link. It does nothing in another role or phase.
func (s *Session) Rechallenge() {
	a := s.auth
	if s.cfg.Role == Server && a.sec == SecCHAP && a.done && s.lf.State() == fsm.Opened {
		a.tries = 0
		a.challenge()
	}
}
