package devices_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/simnet"
	"github.com/nichost/nichost/simnet/devices"
)

func TestLookup(t *testing.T) {
	for _, c := range []struct {
		name  string
		ok    bool
		class string
	}{
		{"lan8720", true, abi.ClassLAN},
		{"ksz8081", true, abi.ClassLAN},
		{"w5500", true, abi.ClassWIZNET5K},
		{"ppp", true, abi.ClassPPP},
		{"cyw43439", true, abi.ClassWLAN},
		{"W5500", false, ""},
		{"", false, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, ok := devices.Lookup(c.name)
			if ok != c.ok || m.Class != c.class {
				t.Fatalf("Lookup(%q) = %+v, %v", c.name, m, ok)
			}
		})
	}
}

func TestAll(t *testing.T) {
	var names []string
	for _, m := range devices.All() {
		names = append(names, m.Name)
		if m.About == "" || m.New == nil {
			t.Errorf("%s: no description or constructor", m.Name)
		}
		// The driver directory is nichost's own plugin, from the module root.
		if _, err := os.Stat(filepath.Join("..", "..", filepath.FromSlash(m.Driver), "main.go")); err != nil {
			t.Errorf("%s: driver %s: %v", m.Name, m.Driver, err)
		}
	}
	if !slices.IsSorted(names) || len(names) != 5 {
		t.Fatalf("All = %v, want the five models by name", names)
	}
	all := devices.All()
	all[0].Name = "changed"
	if devices.All()[0].Name == "changed" {
		t.Fatal("All shares the table")
	}
	if got, want := devices.List(), "cyw43439 (WLAN), ksz8081 (LAN), lan8720 (LAN), ppp (PPP), w5500 (WIZNET5K)"; got != want {
		t.Fatalf("List = %q, want %q", got, want)
	}
}

// Every model's device grants only buses it simulates, under the name it
// was given, and comes with a cable.
func TestModel_New(t *testing.T) {
	lan, err := simnet.NewRouter(simnet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer lan.Close()
	for _, m := range devices.All() {
		for _, name := range []string{"", "eth7"} {
			t.Run(m.Name+"/"+name, func(t *testing.T) {
				var d *simnet.Device
				var err error
				if name == "" {
					d, err = m.Conformance(lan)
					name = "dut"
				} else {
					d, err = m.New(lan, devices.Options{Name: name})
				}
				if err != nil {
					t.Fatal(err)
				}
				defer d.Close()
				if len(d.Buses) == 0 || d.SetLink == nil {
					t.Fatalf("device %+v has no buses or no cable", d)
				}
				// Its simulator reports misuse, for the suite to fail
				// a driver on; a fresh device has none.
				if d.Misuse == nil {
					t.Fatal("the device reports no misuse (Device.Misuse is nil)")
				}
				if errs := d.Misuse(); len(errs) != 0 {
					t.Fatalf("a fresh device recorded misuse: %v", errs)
				}
				for role, g := range d.Buses {
					if _, ok := d.Sims[g.Sim]; !ok || !strings.HasPrefix(g.Sim, name+"-") {
						t.Errorf("grant %s names %q, not one of the device's buses %v", role, g.Sim, d.Sims)
					}
				}
			})
		}
	}
}

// abi/ABI.md names every model: in §8.6's list of devices (with its class)
// and a "#### NAME" subsection there, and in §8.5's sentence on what each
// --sim grants.
func TestModels_InABIDoc(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "abi", "ABI.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	section := func(heading, next string) string {
		start, end := strings.Index(doc, "\n"+heading+"\n"), strings.Index(doc, "\n"+next+"\n")
		if start < 0 || end < start {
			t.Fatalf("abi/ABI.md has no %q before %q", heading, next)
		}
		return strings.Join(strings.Fields(doc[start:end]), " ")
	}
	busNames := section("### 8.5 Bus names", "### 8.6 The simulated devices")
	devs := section("### 8.6 The simulated devices", "## 9. The link protocol")
	intro, _, _ := strings.Cut(devs, "####")
	for _, m := range devices.All() {
		if !strings.Contains(intro, "`"+m.Name+"` ("+m.Class+")") {
			t.Errorf("§8.6 does not list `%s` (%s) among the devices", m.Name, m.Class)
		}
		if !strings.Contains(devs, "#### "+m.Name+" ") {
			t.Errorf("§8.6 has no #### %s subsection", m.Name)
		}
		if !strings.Contains(busNames, "`--sim "+m.Name+"`") {
			t.Errorf("§8.5 does not say what `--sim %s` grants", m.Name)
		}
	}
}
