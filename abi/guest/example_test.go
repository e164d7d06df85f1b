package guest_test

import (
	"fmt"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/abi/guest/guesttest"
)

// dummy is about the smallest driver there is: a LAN interface with no
// hardware whose link is up while it is active, and one config()
// parameter, its MAC address. A real driver would take its buses from the
// Env in Start and advance its device's state machine in Poll.
type dummy struct {
	env    *guest.Env
	active bool
	mac    []byte
}

func (d *dummy) Describe() abi.Description {
	return abi.Description{Class: abi.ClassLAN, Name: "dummy", Interfaces: []string{"eth"}}
}

func (d *dummy) Start(env *guest.Env) error {
	d.env, d.mac = env, env.MAC(0)
	return nil
}

func (d *dummy) Active(int) bool      { return d.active }
func (d *dummy) IsConnected(int) bool { return d.active }

func (d *dummy) SetActive(_ int, up bool) error {
	d.active = up
	return d.env.SetLink(0, up, abi.LinkEthernet, 1500)
}

func (d *dummy) Status(_ int, param string) (any, error) {
	if param != "" {
		return nil, abi.ValueError("unknown status parameter %q", param)
	}
	if d.active {
		return 2, nil // link up and active, in the LAN class's codes
	}
	return 0, nil
}

func (d *dummy) ConfigGet(_ int, name string) (any, error) {
	if name == "mac" {
		return d.mac, nil
	}
	return nil, abi.ValueError("unknown config parameter %q", name)
}

// ConfigSet checks every key before it applies any.
func (d *dummy) ConfigSet(_ int, kv map[string]any) error {
	var mac []byte
	for _, k := range abi.SortedKeys(kv) {
		if k != "mac" {
			return abi.ValueError("unknown config parameter %q", k)
		}
		m, err := abi.MAC(k, kv[k])
		if err != nil {
			return err
		}
		mac = m
	}
	d.mac = mac
	return nil
}

func (d *dummy) Poll(abi.Event) error       { return nil }
func (d *dummy) Transmit(int, []byte) error { return nil } // frames go nowhere

// A minimal Driver, run on guesttest's fake host the way a unit test does
// (in a test, guesttest.New(t, ...) fails the test instead of returning an
// error). Each Call is what the host sends for the MicroPython call in the
// comment; errors are MicroPython's exceptions.
func ExampleDriver() {
	h, err := guesttest.Start(&dummy{}, guesttest.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer h.Close()

	mac, _ := h.Call("config", "mac") // config('mac'): the MAC the host assigned
	fmt.Printf("config('mac'): % x\n", mac)
	_, err = h.Call("config", guesttest.KW{"mac": []byte{2, 0, 0, 0, 0, 0x42}}) // config(mac=b'...')
	mac, _ = h.Call("config", "mac")
	fmt.Printf("config(mac=...): %v, now % x\n", err, mac)
	_, err = h.Call("config", guesttest.KW{"mtu": 9000})
	fmt.Println(err)

	h.Call("active", true) // active(True)
	active, _ := h.Call("active")
	connected, _ := h.Call("isconnected")
	status, _ := h.Call("status")
	fmt.Println("active():", active, "isconnected():", connected, "status():", status, "link:", h.Link(0).Up)

	_, err = h.Call("connect") // no Connector: the SDK answers for the driver
	fmt.Println(err)
	// Output:
	// config('mac'): 02 00 00 00 00 01
	// config(mac=...): <nil>, now 02 00 00 00 00 42
	// ValueError: unknown config parameter "mtu"
	// active(): true isconnected(): true status(): 2 link: true
	// NotImplementedError: connect() is not supported by LAN
}
