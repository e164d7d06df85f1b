package deb

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nichost/nichost/internal/testenv"
)

var testTime = time.Date(2024, 5, 17, 12, 30, 45, 0, time.UTC)

// testPackage is a package with nested directories, a conffile, a binary,
// files whose sizes probe Installed-Size's rounding, and two scripts. Its
// files are deliberately not in path order.
func testPackage() *Package {
	binary := bytes.Repeat([]byte("\x7fELF binary "), 125) // 1500 bytes: 2 KiB
	return &Package{
		Control: Control{
			Package:      "nichost",
			Version:      "1:2.0.1~rc1-3",
			Architecture: "amd64",
			Maintainer:   "Nichost Team <team@nichost.example>",
			Description: "network host simulator\n" +
				"\n" +
				"Runs simulated hosts.\n" +
				"\n" +
				"Second paragraph.\n" +
				"  verbatim line\n",
			Section:    "net",
			Priority:   "optional",
			Homepage:   "https://nichost.example/",
			Depends:    []string{"libc6 (>= 2.34)", "iproute2"},
			Recommends: []string{"dnsmasq-base"},
		},
		Files: []File{
			{Path: "/usr/share/nichost/plugins/a.wasm", Mode: 0o644, Data: bytes.Repeat([]byte{'a'}, 2049)}, // 3 KiB
			{Path: "/usr/bin/nichost", Mode: 0o755, Data: binary},
			{Path: "/etc/nichost/nichost.conf", Mode: 0o644, Data: []byte("listen = 0.0.0.0\n"), Conffile: true}, // 1 KiB
			{Path: "/usr/share/doc/nichost/copyright", Mode: 0o644, Data: []byte("Copyright\n")},                 // 1 KiB
			{Path: "/usr/share/nichost/k1", Mode: 0o600, Data: bytes.Repeat([]byte{'k'}, 1024)},                  // 1 KiB
			{Path: "/usr/share/nichost/empty", Mode: 0o644},                                                      // 0 KiB
		},
		Scripts: map[string]string{
			"prerm":    "#!/bin/sh\nexit 0\n",
			"postinst": "#!/bin/sh\nset -e\necho configured\n",
		},
		ModTime: testTime,
	}
}

// wantControl is testPackage's control file: 2+3+1+1+1+0 = 8 KiB.
const wantControl = `Package: nichost
Version: 1:2.0.1~rc1-3
Architecture: amd64
Maintainer: Nichost Team <team@nichost.example>
Installed-Size: 8
Depends: libc6 (>= 2.34), iproute2
Recommends: dnsmasq-base
Section: net
Priority: optional
Homepage: https://nichost.example/
Description: network host simulator
 Runs simulated hosts.
 .
 Second paragraph.
   verbatim line
`

// wantData lists testPackage's data.tar.gz entries in order.
var wantData = []string{
	"./",
	"./etc/",
	"./etc/nichost/",
	"./etc/nichost/nichost.conf",
	"./usr/",
	"./usr/bin/",
	"./usr/bin/nichost",
	"./usr/share/",
	"./usr/share/doc/",
	"./usr/share/doc/nichost/",
	"./usr/share/doc/nichost/copyright",
	"./usr/share/nichost/",
	"./usr/share/nichost/empty",
	"./usr/share/nichost/k1",
	"./usr/share/nichost/plugins/",
	"./usr/share/nichost/plugins/a.wasm",
}

func writePackage(t *testing.T, p *Package) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return buf.Bytes()
}

// arMember is one member of an ar archive, its header fields trimmed.
type arMember struct {
	name, mtime, uid, gid, mode string
	data                        []byte
}

// readAr parses an ar archive strictly: the global header, 60-byte member
// headers with their "`\n" terminator, a "\n" pad after odd sizes, and
// nothing after the last member.
func readAr(t *testing.T, b []byte) []arMember {
	t.Helper()
	const magic = "!<arch>\n"
	if !bytes.HasPrefix(b, []byte(magic)) {
		t.Fatalf("ar: no %q header: %q", magic, b[:min(len(b), 8)])
	}
	b = b[len(magic):]
	var members []arMember
	for len(b) > 0 {
		if len(b) < 60 {
			t.Fatalf("ar: %d bytes left, too short for a member header", len(b))
		}
		h := string(b[:60])
		if h[58:60] != "`\n" {
			t.Fatalf("ar: member header %q does not end with \"`\\n\"", h)
		}
		field := func(from, to int) string { return strings.TrimRight(h[from:to], " ") }
		m := arMember{
			name:  field(0, 16),
			mtime: field(16, 28),
			uid:   field(28, 34),
			gid:   field(34, 40),
			mode:  field(40, 48),
		}
		size, err := strconv.Atoi(field(48, 58))
		if err != nil {
			t.Fatalf("ar: member %q: size field %q: %v", m.name, h[48:58], err)
		}
		b = b[60:]
		if len(b) < size {
			t.Fatalf("ar: member %q: %d bytes, only %d left", m.name, size, len(b))
		}
		m.data, b = b[:size], b[size:]
		if size%2 == 1 {
			if len(b) == 0 || b[0] != '\n' {
				t.Fatalf("ar: member %q has odd size %d but no \\n pad byte", m.name, size)
			}
			b = b[1:]
		}
		members = append(members, m)
	}
	return members
}

// tarFile is one tar entry with its content.
type tarFile struct {
	hdr  *tar.Header
	data []byte
}

// readTarGz gunzips and untars a member, checking the gzip header carries
// no name and no time.
func readTarGz(t *testing.T, member string, b []byte) []tarFile {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: gzip: %v", member, err)
	}
	if zr.Name != "" || !zr.ModTime.IsZero() {
		t.Errorf("%s: gzip header has name %q and time %v, want none (reproducible)", member, zr.Name, zr.ModTime)
	}
	tr := tar.NewReader(zr)
	var files []tarFile
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: tar: %v", member, err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("%s: tar entry %q: %v", member, h.Name, err)
		}
		files = append(files, tarFile{h, data})
	}
	if err := zr.Close(); err != nil {
		t.Fatalf("%s: gzip: %v", member, err)
	}
	return files
}

func tarNames(files []tarFile) []string {
	var names []string
	for _, f := range files {
		names = append(names, f.hdr.Name)
	}
	return names
}

// checkEntry checks a tar entry's type, mode, owner and time.
func checkEntry(t *testing.T, member string, f tarFile, typ byte, mode int64, mtime time.Time) {
	t.Helper()
	h := f.hdr
	if h.Typeflag != typ {
		t.Errorf("%s: %q: type %q, want %q", member, h.Name, h.Typeflag, typ)
	}
	if h.Mode != mode {
		t.Errorf("%s: %q: mode %#o, want %#o", member, h.Name, h.Mode, mode)
	}
	if h.Uid != 0 || h.Gid != 0 || h.Uname != "root" || h.Gname != "root" {
		t.Errorf("%s: %q: owner %d/%d %s/%s, want 0/0 root/root", member, h.Name, h.Uid, h.Gid, h.Uname, h.Gname)
	}
	if !h.ModTime.Equal(mtime) {
		t.Errorf("%s: %q: time %v, want %v", member, h.Name, h.ModTime, mtime)
	}
}

func md5hex(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

func TestWriteRoundTrip(t *testing.T) {
	p := testPackage()
	members := readAr(t, writePackage(t, p))

	var names []string
	for _, m := range members {
		names = append(names, m.name)
		if m.mtime != strconv.FormatInt(testTime.Unix(), 10) || m.uid != "0" || m.gid != "0" || m.mode != "100644" {
			t.Errorf("ar member %q: mtime %q uid %q gid %q mode %q, want %d 0 0 100644", m.name, m.mtime, m.uid, m.gid, m.mode, testTime.Unix())
		}
	}
	if want := []string{"debian-binary", "control.tar.gz", "data.tar.gz"}; !slices.Equal(names, want) {
		t.Fatalf("ar members %q, want %q", names, want)
	}
	if got := string(members[0].data); got != "2.0\n" {
		t.Errorf("debian-binary is %q, want %q", got, "2.0\n")
	}

	// control.tar.gz
	control := readTarGz(t, "control.tar.gz", members[1].data)
	wantNames := []string{"./", "./control", "./md5sums", "./conffiles", "./postinst", "./prerm"}
	if got := tarNames(control); !slices.Equal(got, wantNames) {
		t.Fatalf("control.tar.gz entries %q, want %q", got, wantNames)
	}
	checkEntry(t, "control.tar.gz", control[0], tar.TypeDir, 0o755, testTime)
	byName := map[string]tarFile{}
	for _, f := range control[1:] {
		byName[f.hdr.Name] = f
		mode := int64(0o644)
		if f.hdr.Name == "./postinst" || f.hdr.Name == "./prerm" {
			mode = 0o755
		}
		checkEntry(t, "control.tar.gz", f, tar.TypeReg, mode, testTime)
	}
	if got := string(byName["./control"].data); got != wantControl {
		t.Errorf("control is\n%s\nwant\n%s", got, wantControl)
	}
	wantSums := fmt.Sprintf("%s  etc/nichost/nichost.conf\n", md5hex(p.Files[2].Data)) +
		fmt.Sprintf("%s  usr/bin/nichost\n", md5hex(p.Files[1].Data)) +
		fmt.Sprintf("%s  usr/share/doc/nichost/copyright\n", md5hex(p.Files[3].Data)) +
		"d41d8cd98f00b204e9800998ecf8427e  usr/share/nichost/empty\n" +
		fmt.Sprintf("%s  usr/share/nichost/k1\n", md5hex(p.Files[4].Data)) +
		fmt.Sprintf("%s  usr/share/nichost/plugins/a.wasm\n", md5hex(p.Files[0].Data))
	if got := string(byName["./md5sums"].data); got != wantSums {
		t.Errorf("md5sums is\n%s\nwant\n%s", got, wantSums)
	}
	if got, want := string(byName["./conffiles"].data), "/etc/nichost/nichost.conf\n"; got != want {
		t.Errorf("conffiles is %q, want %q", got, want)
	}
	for name, script := range p.Scripts {
		if got := string(byName["./"+name].data); got != script {
			t.Errorf("script %s is %q, want %q", name, got, script)
		}
	}

	// data.tar.gz
	data := readTarGz(t, "data.tar.gz", members[2].data)
	if got := tarNames(data); !slices.Equal(got, wantData) {
		t.Fatalf("data.tar.gz entries\n%q\nwant\n%q", got, wantData)
	}
	files := map[string]File{}
	for _, f := range p.Files {
		files["."+f.Path] = f
	}
	seen := map[string]bool{}
	for _, e := range data {
		name := e.hdr.Name
		if seen[name] {
			t.Errorf("data.tar.gz: %q appears twice", name)
		}
		seen[name] = true
		if name != "./" {
			trimmed := strings.TrimSuffix(name, "/")
			parent := trimmed[:strings.LastIndexByte(trimmed, '/')+1]
			if !seen[parent] {
				t.Errorf("data.tar.gz: %q comes before its directory %q", name, parent)
			}
		}
		if strings.HasSuffix(name, "/") {
			checkEntry(t, "data.tar.gz", e, tar.TypeDir, 0o755, testTime)
			continue
		}
		f, ok := files[name]
		if !ok {
			t.Errorf("data.tar.gz: unexpected file %q", name)
			continue
		}
		checkEntry(t, "data.tar.gz", e, tar.TypeReg, int64(f.Mode), testTime)
		if !bytes.Equal(e.data, f.Data) {
			t.Errorf("data.tar.gz: %q has %d bytes %.20q..., want %d bytes %.20q...", name, len(e.data), e.data, len(f.Data), f.Data)
		}
	}
}

func TestWriteMinimal(t *testing.T) {
	p := &Package{Control: Control{
		Package:      "nichost-meta",
		Version:      "0.1",
		Architecture: "all",
		Maintainer:   "A B <a@b.example>",
		Description:  "only a synopsis",
	}}
	members := readAr(t, writePackage(t, p))
	if len(members) != 3 {
		t.Fatalf("%d ar members, want 3", len(members))
	}
	if members[0].mtime != "0" {
		t.Errorf("zero ModTime gave ar mtime %q, want 0", members[0].mtime)
	}
	control := readTarGz(t, "control.tar.gz", members[1].data)
	if got, want := tarNames(control), []string{"./", "./control"}; !slices.Equal(got, want) {
		t.Errorf("control.tar.gz entries %q, want %q (no md5sums, conffiles or scripts without files and scripts)", got, want)
	}
	if len(control) < 2 {
		t.Fatalf("control.tar.gz has no control file")
	}
	want := "Package: nichost-meta\nVersion: 0.1\nArchitecture: all\nMaintainer: A B <a@b.example>\nInstalled-Size: 0\nDescription: only a synopsis\n"
	if string(control[1].data) != want {
		t.Errorf("control is\n%s\nwant (no empty optional fields)\n%s", control[1].data, want)
	}
	if !control[1].hdr.ModTime.Equal(time.Unix(0, 0)) {
		t.Errorf("zero ModTime gave tar time %v, want Unix 0", control[1].hdr.ModTime)
	}
	data := readTarGz(t, "data.tar.gz", members[2].data)
	if got, want := tarNames(data), []string{"./"}; !slices.Equal(got, want) {
		t.Errorf("data.tar.gz entries %q, want %q", got, want)
	}

	// One empty file still counts as 1 KiB.
	p.Files = []File{{Path: "/etc/x", Mode: 0o644}}
	members = readAr(t, writePackage(t, p))
	control = readTarGz(t, "control.tar.gz", members[1].data)
	if !strings.Contains(string(control[1].data), "\nInstalled-Size: 1\n") {
		t.Errorf("a package with one empty file: control\n%s\nwant Installed-Size: 1", control[1].data)
	}
}

func TestWriteReproducible(t *testing.T) {
	first := writePackage(t, testPackage())
	for i := range 5 {
		// Scripts is a map: its iteration order changes between runs.
		if again := writePackage(t, testPackage()); !bytes.Equal(first, again) {
			t.Fatalf("write %d of the same package differs from the first", i+2)
		}
	}

	p := testPackage()
	slices.Reverse(p.Files)
	if !bytes.Equal(first, writePackage(t, p)) {
		t.Error("reordering Files changed the output")
	}

	p = testPackage()
	p.ModTime = p.ModTime.Add(time.Second)
	if bytes.Equal(first, writePackage(t, p)) {
		t.Error("changing ModTime did not change the output")
	}

	p = testPackage()
	p.ModTime = p.ModTime.Add(time.Millisecond)
	if !bytes.Equal(first, writePackage(t, p)) {
		t.Error("a sub-second ModTime change changed the output; times are whole seconds")
	}
}

func TestWriteRejects(t *testing.T) {
	tests := []struct {
		name   string
		modify func(p *Package)
		want   string
	}{
		{"no package", func(p *Package) { p.Control.Package = "" }, `deb: Package is required`},
		{"uppercase package", func(p *Package) { p.Control.Package = "Nichost" }, `deb: Package "Nichost"`},
		{"short package", func(p *Package) { p.Control.Package = "n" }, `deb: Package "n": must be at least 2 characters`},
		{"package starts with -", func(p *Package) { p.Control.Package = "-nichost" }, `deb: Package "-nichost": must start`},
		{"package with _", func(p *Package) { p.Control.Package = "nic_host" }, `deb: Package "nic_host"`},
		{"no version", func(p *Package) { p.Control.Version = "" }, `deb: Version is required`},
		{"version starts with letter", func(p *Package) { p.Control.Version = "x1" }, `deb: Version "x1": must start with a digit`},
		{"upstream starts with letter", func(p *Package) { p.Control.Version = "1:v2" }, `deb: Version "1:v2"`},
		{"bad epoch", func(p *Package) { p.Control.Version = "a:1.0" }, `deb: Version "a:1.0": epoch "a"`},
		{"colon without epoch", func(p *Package) { p.Control.Version = "1.0:2" }, `deb: Version "1.0:2": epoch "1.0"`},
		{"empty revision", func(p *Package) { p.Control.Version = "1.0-" }, `deb: Version "1.0-": empty revision`},
		{"bad revision", func(p *Package) { p.Control.Version = "1.0-1:2" }, `deb: Version "1.0-1:2"`},
		{"bad version char", func(p *Package) { p.Control.Version = "1.0_1" }, `deb: Version "1.0_1"`},
		{"no architecture", func(p *Package) { p.Control.Architecture = "" }, `deb: Architecture is required`},
		{"uppercase architecture", func(p *Package) { p.Control.Architecture = "AMD64" }, `deb: Architecture "AMD64"`},
		{"architecture with _", func(p *Package) { p.Control.Architecture = "x86_64" }, `deb: Architecture "x86_64"`},
		{"no maintainer", func(p *Package) { p.Control.Maintainer = "" }, `deb: Maintainer is required`},
		{"maintainer without email", func(p *Package) { p.Control.Maintainer = "Nichost Team" }, `deb: Maintainer "Nichost Team"`},
		{"maintainer without name", func(p *Package) { p.Control.Maintainer = "<team@nichost.example>" }, `deb: Maintainer "<team@nichost.example>"`},
		{"maintainer bad email", func(p *Package) { p.Control.Maintainer = "Team <team>" }, `deb: Maintainer "Team <team>"`},
		{"no description", func(p *Package) { p.Control.Description = "" }, `deb: Description is required`},
		{"no synopsis", func(p *Package) { p.Control.Description = "\nlong text" }, `deb: Description "\nlong text": the first line`},
		{"newline in section", func(p *Package) { p.Control.Section = "net\nPackage: evil" }, `deb: Section "net\nPackage: evil": contains a newline`},
		{"newline in homepage", func(p *Package) { p.Control.Homepage = "https://x/\n" }, `deb: Homepage "https://x/\n": contains a newline`},
		{"newline in priority", func(p *Package) { p.Control.Priority = "optional\r" }, `deb: Priority "optional\r": contains a newline`},
		{"newline in version", func(p *Package) { p.Control.Version = "1.0\n" }, `deb: Version "1.0\n": contains a newline`},
		{"newline in depends", func(p *Package) { p.Control.Depends = []string{"libc6\nEvil: yes"} }, `deb: Depends entry "libc6\nEvil: yes": contains a newline`},
		{"empty recommends", func(p *Package) { p.Control.Recommends = []string{"a", " "} }, `deb: Recommends entry 2 is empty`},
		{"unclean path", func(p *Package) { p.Files[0].Path = "/usr/../x" }, `deb: file "/usr/../x": not a clean absolute path`},
		{"relative path", func(p *Package) { p.Files[0].Path = "usr/bin/x" }, `deb: file "usr/bin/x": not a clean absolute path`},
		{"root path", func(p *Package) { p.Files[0].Path = "/" }, `deb: file "/": not a clean absolute path`},
		{"empty path", func(p *Package) { p.Files[0].Path = "" }, `deb: file "": not a clean absolute path`},
		{"trailing slash", func(p *Package) { p.Files[0].Path = "/usr/bin/" }, `deb: file "/usr/bin/": not a clean absolute path`},
		{"newline in path", func(p *Package) { p.Files[0].Path = "/usr/a\nb" }, `deb: file "/usr/a\nb"`},
		{"setuid", func(p *Package) { p.Files[1].Mode = 0o755 | fs.ModeSetuid }, `deb: file "/usr/bin/nichost": mode`},
		{"directory mode", func(p *Package) { p.Files[1].Mode = 0o755 | fs.ModeDir }, `deb: file "/usr/bin/nichost": mode`},
		{"listed twice", func(p *Package) {
			p.Files = append(p.Files, File{Path: "/etc/a", Mode: 0o644}, File{Path: "/etc/a", Mode: 0o600})
		}, `deb: file "/etc/a" listed twice`},
		{"file is a directory", func(p *Package) {
			p.Files = append(p.Files, File{Path: "/usr/bin", Mode: 0o644})
		}, `deb: file "/usr/bin" is also the directory of file "/usr/bin/nichost"`},
		{"conffile outside /etc", func(p *Package) { p.Files = append(p.Files, File{Path: "/usr/x", Mode: 0o644, Conffile: true}) }, `deb: conffile "/usr/x" is not under /etc`},
		{"conffile in /etcx", func(p *Package) { p.Files = append(p.Files, File{Path: "/etcx/a", Mode: 0o644, Conffile: true}) }, `deb: conffile "/etcx/a" is not under /etc`},
		{"conffile with space", func(p *Package) { p.Files = append(p.Files, File{Path: "/etc/a b", Mode: 0o644, Conffile: true}) }, `deb: conffile "/etc/a b"`},
		{"script without #!", func(p *Package) { p.Scripts["postinst"] = "set -e\n" }, `deb: script "postinst" does not start with #!`},
		{"unknown script", func(p *Package) { p.Scripts["config2"] = "#!/bin/sh\n" }, `deb: unknown script "config2"`},
		{"time before 1970", func(p *Package) { p.ModTime = time.Unix(-1, 0) }, `deb: ModTime 1969-12-31T23:59:59Z`},
	}
	if err := testPackage().Write(io.Discard); err != nil {
		t.Fatalf("the package the cases break is itself rejected: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testPackage()
			tt.modify(p)
			var buf bytes.Buffer
			err := p.Write(&buf)
			if err == nil {
				t.Fatalf("Write succeeded, want an error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Write error %q, want it to contain %q", err, tt.want)
			}
			if buf.Len() != 0 {
				t.Errorf("Write failed but wrote %d bytes", buf.Len())
			}
		})
	}
}

func TestWriteAccepts(t *testing.T) {
	for _, v := range []string{"0", "1.0", "1.0-1", "2:1.0", "1:2.0.1~rc1+git20240101-0ubuntu1~22.04", "1.0-rc1-2", "3:1:2-1", "10:1~"} {
		p := testPackage()
		p.Control.Version = v
		if err := p.Write(io.Discard); err != nil {
			t.Errorf("Version %q rejected: %v", v, err)
		}
	}
	for _, name := range []string{"g++", "0ad", "lib.x-y+z", "ab"} {
		p := testPackage()
		p.Control.Package = name
		if err := p.Write(io.Discard); err != nil {
			t.Errorf("Package %q rejected: %v", name, err)
		}
	}
	for _, arch := range []string{"amd64", "arm64", "armhf", "armel", "all", "any", "linux-any", "ppc64el"} {
		p := testPackage()
		p.Control.Architecture = arch
		if err := p.Write(io.Discard); err != nil {
			t.Errorf("Architecture %q rejected: %v", arch, err)
		}
	}
	p := testPackage()
	p.Scripts = map[string]string{"preinst": "#!/bin/sh\n", "postinst": "#!/bin/sh\n", "prerm": "#!/bin/sh\n", "postrm": "#!/bin/sh\n"}
	if err := p.Write(io.Discard); err != nil {
		t.Errorf("all four scripts rejected: %v", err)
	}
}

type failingWriter struct{}

var errDiskFull = errors.New("disk full")

func (failingWriter) Write([]byte) (int, error) { return 0, errDiskFull }

func TestWriteWriterError(t *testing.T) {
	err := testPackage().Write(failingWriter{})
	if !errors.Is(err, errDiskFull) || !strings.HasPrefix(err.Error(), "deb: ") {
		t.Errorf("Write to a failing writer: %v, want a deb: error wrapping %v", err, errDiskFull)
	}
}

// dpkgDeb runs dpkg-deb with args and returns its stdout; anything on
// stderr (dpkg-deb's warnings) fails the test.
func dpkgDeb(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("dpkg-deb", args...)
	cmd.Env = append(os.Environ(), "TZ=UTC", "LC_ALL=C")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("dpkg-deb %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("dpkg-deb %s warned:\n%s", strings.Join(args, " "), stderr.String())
	}
	return stdout.String()
}

func writeDebFile(t *testing.T, p *Package) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "pkg.deb")
	if err := os.WriteFile(file, writePackage(t, p), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// listing is one line of dpkg-deb -c.
type listing struct{ mode, owner, size, date, path string }

func parseListing(t *testing.T, out string) []listing {
	t.Helper()
	var ls []listing
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		if len(f) != 6 {
			t.Fatalf("dpkg-deb -c line %q: want 6 fields", line)
		}
		ls = append(ls, listing{f[0], f[1], f[2], f[3] + " " + f[4], f[5]})
	}
	return ls
}

func TestDpkgDeb(t *testing.T) {
	testenv.NeedTool(t, "dpkg-deb", "dpkg")
	p := testPackage()
	deb := writeDebFile(t, p)

	info := dpkgDeb(t, "-I", deb)
	for _, want := range []string{
		" new Debian package, version 2.0.",
		" Package: nichost\n",
		" Installed-Size: 8\n",
		" Description: network host simulator\n",
		"  .\n", // the extended description's blank line, indented by -I
	} {
		if !strings.Contains(info, want) {
			t.Errorf("dpkg-deb -I output lacks %q:\n%s", want, info)
		}
	}
	// -I marks executable control members with '*'.
	for _, want := range []string{`\*\s+postinst`, `\*\s+prerm`} {
		if !regexp.MustCompile(want).MatchString(info) {
			t.Errorf("dpkg-deb -I does not show %s as an executable script:\n%s", want, info)
		}
	}

	fields := dpkgDeb(t, "-f", deb, "Package", "Version", "Architecture")
	if want := "Package: nichost\nVersion: 1:2.0.1~rc1-3\nArchitecture: amd64\n"; fields != want {
		t.Errorf("dpkg-deb -f: %q, want %q", fields, want)
	}
	if got := dpkgDeb(t, "-f", deb, "Depends"); got != "libc6 (>= 2.34), iproute2\n" {
		t.Errorf("dpkg-deb -f Depends: %q", got)
	}

	modes := map[string]string{}
	sizes := map[string]int{}
	for _, f := range p.Files {
		modes["."+f.Path] = "-" + f.Mode.String()[1:]
		sizes["."+f.Path] = len(f.Data)
	}
	var paths []string
	for _, l := range parseListing(t, dpkgDeb(t, "-c", deb)) {
		paths = append(paths, l.path)
		wantMode, wantSize := "drwxr-xr-x", "0"
		if !strings.HasSuffix(l.path, "/") {
			wantMode, wantSize = modes[l.path], strconv.Itoa(sizes[l.path])
		}
		if l.mode != wantMode || l.owner != "root/root" || l.size != wantSize || l.date != "2024-05-17 12:30" {
			t.Errorf("dpkg-deb -c: %q: %s %s %s %s, want %s root/root %s 2024-05-17 12:30", l.path, l.mode, l.owner, l.size, l.date, wantMode, wantSize)
		}
	}
	if !slices.Equal(paths, wantData) {
		t.Errorf("dpkg-deb -c lists\n%q\nwant\n%q", paths, wantData)
	}

	root := filepath.Join(t.TempDir(), "root")
	dpkgDeb(t, "-x", deb, root)
	for _, f := range p.Files {
		file := filepath.Join(root, filepath.FromSlash(f.Path))
		got, err := os.ReadFile(file)
		if err != nil {
			t.Errorf("dpkg-deb -x: %v", err)
			continue
		}
		if !bytes.Equal(got, f.Data) {
			t.Errorf("dpkg-deb -x: %s has %d bytes, want %d", f.Path, len(got), len(f.Data))
		}
		fi, err := os.Stat(file)
		if err != nil {
			t.Fatal(err)
		}
		if f.Mode&0o100 != 0 && fi.Mode()&0o100 == 0 {
			t.Errorf("dpkg-deb -x: %s is %v, want it executable", f.Path, fi.Mode())
		}
	}

	ctrl := filepath.Join(t.TempDir(), "DEBIAN")
	dpkgDeb(t, "-e", deb, ctrl)
	for name, script := range p.Scripts {
		got, err := os.ReadFile(filepath.Join(ctrl, name))
		if err != nil || string(got) != script {
			t.Errorf("dpkg-deb -e: %s is %q (%v), want %q", name, got, err, script)
		}
	}
	if got, err := os.ReadFile(filepath.Join(ctrl, "conffiles")); err != nil || string(got) != "/etc/nichost/nichost.conf\n" {
		t.Errorf("dpkg-deb -e: conffiles is %q (%v)", got, err)
	}
	// md5sums must match the files dpkg-deb extracted.
	sums, err := os.ReadFile(filepath.Join(ctrl, "md5sums"))
	if err != nil {
		t.Fatalf("dpkg-deb -e: %v", err)
	}
	n := 0
	for line := range strings.Lines(string(sums)) {
		sum, rel, ok := strings.Cut(strings.TrimSuffix(line, "\n"), "  ")
		if !ok {
			t.Errorf("md5sums line %q: want \"<md5>  <path>\"", line)
			continue
		}
		got, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil || md5hex(got) != sum {
			t.Errorf("md5sums: %s: %s, but the extracted file's is %s (%v)", rel, sum, md5hex(got), err)
		}
		n++
	}
	if n != len(p.Files) {
		t.Errorf("md5sums has %d lines, want %d", n, len(p.Files))
	}
}

// longPathPackage is testPackage with a file whose path has elements over
// 100 bytes and is over 256 bytes long: more than a plain ustar header
// (100-byte name, 155-byte prefix) can hold.
func longPathPackage(t *testing.T) (p *Package, dir, long string) {
	t.Helper()
	dir = "/usr/share/nichost/" + strings.Repeat("d", 110) + "/" + strings.Repeat("long-directory-name/", 3)
	long = dir + strings.Repeat("f", 120) + ".txt"
	if len(long) <= 256 {
		t.Fatalf("test path is only %d bytes", len(long))
	}
	p = testPackage()
	p.Files = append(p.Files, File{Path: long, Mode: 0o644, Data: []byte("long\n")})
	return p, dir, long
}

func TestWriteLongPath(t *testing.T) {
	p, dir, long := longPathPackage(t)
	members := readAr(t, writePackage(t, p))
	data := readTarGz(t, "data.tar.gz", members[2].data)
	names := tarNames(data)
	for _, want := range []string{"." + dir, "." + long} {
		if !slices.Contains(names, want) {
			t.Errorf("data.tar.gz lacks %q (%d bytes):\n%s", want, len(want), strings.Join(names, "\n"))
		}
	}
	control := readTarGz(t, "control.tar.gz", members[1].data)
	if len(control) < 3 || control[2].hdr.Name != "./md5sums" {
		t.Fatalf("control.tar.gz entries %q, want md5sums third", tarNames(control))
	}
	if !strings.Contains(string(control[2].data), "  "+long[1:]+"\n") {
		t.Errorf("md5sums lacks %q:\n%s", long[1:], control[2].data)
	}
}

func TestDpkgDebLongPath(t *testing.T) {
	testenv.NeedTool(t, "dpkg-deb", "dpkg")
	p, dir, long := longPathPackage(t)
	deb := writeDebFile(t, p)

	if info := dpkgDeb(t, "--info", deb); !strings.Contains(info, " Package: nichost\n") {
		t.Errorf("dpkg-deb --info:\n%s", info)
	}
	var paths []string
	for _, l := range parseListing(t, dpkgDeb(t, "-c", deb)) {
		paths = append(paths, l.path)
	}
	for _, want := range []string{"." + dir, "." + long} {
		if !slices.Contains(paths, want) {
			t.Errorf("dpkg-deb -c does not list %q (%d bytes) in full:\n%s", want, len(want), strings.Join(paths, "\n"))
		}
	}
	root := t.TempDir()
	dpkgDeb(t, "-x", deb, root)
	if got, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(long))); err != nil || string(got) != "long\n" {
		t.Errorf("dpkg-deb -x: %s: %q (%v), want %q", long, got, err, "long\n")
	}
}
