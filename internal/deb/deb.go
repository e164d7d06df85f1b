// Package deb writes Debian binary packages (.deb, format 2.0: an ar archive
// of debian-binary, control.tar.gz and data.tar.gz), byte-for-byte
// reproducible for the same input.
//
// It needs no dpkg-deb, so a release can be built on any machine. Every
// archive member and tar entry is owned by root (uid and gid 0) and carries
// [Package.ModTime]; files and directories are written in path order, so the
// order of [Package.Files] and of [Package.Scripts] does not matter.
package deb

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Control is the package's DEBIAN/control file. Write adds Installed-Size,
// computed from the files.
type Control struct {
	// Package is the package name (required): lowercase letters, digits,
	// '+', '-' and '.', at least 2 characters, starting with a letter or a
	// digit (Debian policy 5.6.1).
	Package string
	// Version is the package version (required), as Debian policy 5.6.12
	// has it: [epoch:]upstream[-revision]. The epoch is a number; the
	// upstream version starts with a digit and holds A-Za-z0-9.+~- (and ':'
	// when there is an epoch); the revision, after the last '-', holds
	// A-Za-z0-9.+~.
	Version string
	// Architecture is the Debian architecture (required), e.g. amd64, arm64,
	// armhf, armel or all: lowercase letters, digits and '-'.
	Architecture string
	// Maintainer is "Name <email>" (required).
	Maintainer string
	// Description is required. Its first line is the synopsis; further
	// lines become the extended description, each emitted with a leading
	// space and empty lines as " .". Blank lines at the start and at the end
	// of the extended description are dropped.
	Description string
	// Section is optional, e.g. "net".
	Section string
	// Priority is optional, e.g. "optional".
	Priority string
	// Homepage is optional.
	Homepage string
	// Depends is optional; its entries are joined with ", ".
	Depends []string
	// Recommends is optional; its entries are joined with ", ".
	Recommends []string
}

// File is a regular file of the installed system. The directories above it
// are created implicitly, root-owned with mode 0755.
type File struct {
	// Path is the absolute path in the installed system, e.g.
	// "/usr/bin/nichost". It must be clean (path.Clean), absolute, not "/"
	// and free of ".." elements.
	Path string
	// Mode holds the permission bits, e.g. 0755 or 0644. Any bit outside
	// fs.ModePerm (setuid, a type bit, ...) is rejected.
	Mode fs.FileMode
	// Data is the file's content.
	Data []byte
	// Conffile lists the file in DEBIAN/conffiles; it must be under /etc.
	Conffile bool
}

// Package is a Debian binary package to write.
type Package struct {
	// Control is the control file's content.
	Control Control
	// Files are the package's regular files.
	Files []File
	// Scripts are maintainer scripts by name: "preinst", "postinst",
	// "prerm", "postrm". Each must start with "#!". Mode 0755 in
	// control.tar.gz.
	Scripts map[string]string
	// ModTime is the timestamp of every member and tar entry (reproducible
	// builds: the caller passes e.g. SOURCE_DATE_EPOCH or a fixed time).
	// Zero means Unix time 0. It is truncated to whole seconds and must not
	// be before 1970.
	ModTime time.Time
}

// scriptNames are the maintainer scripts a package may carry.
var scriptNames = []string{"preinst", "postinst", "prerm", "postrm"}

// Write validates p and writes the .deb to w. A validation error names the
// field or file and the rule broken (e.g. `deb: file "/usr/../x": not a
// clean absolute path`, `deb: Version "x1": must start with a digit`,
// `deb: file "/etc/a" listed twice`, `deb: conffile "/usr/x" is not under
// /etc`, `deb: script "postinst" does not start with #!`, `deb: unknown
// script "config2"`). Nothing is written when validation fails.
func (p *Package) Write(w io.Writer) error {
	if err := p.validate(); err != nil {
		return err
	}
	mtime := p.mtime()
	files := sortedFiles(p.Files)

	control, err := p.controlTar(files, mtime)
	if err != nil {
		return err
	}
	data, err := dataTar(files, mtime)
	if err != nil {
		return err
	}

	var out bytes.Buffer
	out.WriteString("!<arch>\n")
	for _, m := range []struct {
		name string
		data []byte
	}{
		{"debian-binary", []byte("2.0\n")},
		{"control.tar.gz", control},
		{"data.tar.gz", data},
	} {
		if err := writeArMember(&out, m.name, mtime.Unix(), m.data); err != nil {
			return err
		}
	}
	if _, err := w.Write(out.Bytes()); err != nil {
		return fmt.Errorf("deb: write: %w", err)
	}
	return nil
}

// mtime is p.ModTime in whole seconds, Unix time 0 when unset.
func (p *Package) mtime() time.Time {
	if p.ModTime.IsZero() {
		return time.Unix(0, 0)
	}
	return time.Unix(p.ModTime.Unix(), 0)
}

// validate checks everything Write relies on, so that Write can fail
// before writing anything.
func (p *Package) validate() error {
	if err := p.Control.validate(); err != nil {
		return err
	}
	if t := p.mtime().Unix(); t < 0 || t > 999999999999 {
		// The ar header has 12 decimal digits for it.
		return fmt.Errorf("deb: ModTime %s: not between 1970 and the year 33000", p.ModTime.UTC().Format(time.RFC3339))
	}
	names := make([]string, 0, len(p.Scripts))
	for name := range p.Scripts {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !slices.Contains(scriptNames, name) {
			return fmt.Errorf("deb: unknown script %q (want one of %s)", name, strings.Join(scriptNames, ", "))
		}
		if !strings.HasPrefix(p.Scripts[name], "#!") {
			return fmt.Errorf("deb: script %q does not start with #!", name)
		}
	}
	seen := make(map[string]bool, len(p.Files))
	for _, f := range p.Files {
		if err := f.validate(); err != nil {
			return err
		}
		if seen[f.Path] {
			return fmt.Errorf("deb: file %q listed twice", f.Path)
		}
		seen[f.Path] = true
	}
	for _, f := range sortedFiles(p.Files) {
		for _, dir := range parents(f.Path) {
			if seen[dir] {
				return fmt.Errorf("deb: file %q is also the directory of file %q", dir, f.Path)
			}
		}
	}
	return nil
}

func (f *File) validate() error {
	p := f.Path
	if p == "/" || !strings.HasPrefix(p, "/") || path.Clean(p) != p {
		return fmt.Errorf("deb: file %q: not a clean absolute path", p)
	}
	if strings.ContainsAny(p, "\x00\n\r") {
		// md5sums and conffiles are line-based; tar names end at NUL.
		return fmt.Errorf("deb: file %q: path contains a NUL, newline or carriage return", p)
	}
	if f.Mode&^fs.ModePerm != 0 {
		return fmt.Errorf("deb: file %q: mode %v (%#o) has bits other than permission bits", p, f.Mode, uint32(f.Mode))
	}
	if f.Conffile {
		if !strings.HasPrefix(p, "/etc/") {
			return fmt.Errorf("deb: conffile %q is not under /etc", p)
		}
		if strings.ContainsAny(p, " \t") {
			// dpkg reads a conffiles line as "[flags] path".
			return fmt.Errorf("deb: conffile %q: path contains white space", p)
		}
	}
	return nil
}

func (c *Control) validate() error {
	single := []struct{ name, value string }{
		{"Package", c.Package},
		{"Version", c.Version},
		{"Architecture", c.Architecture},
		{"Maintainer", c.Maintainer},
		{"Section", c.Section},
		{"Priority", c.Priority},
		{"Homepage", c.Homepage},
	}
	for _, f := range single {
		if strings.ContainsAny(f.value, "\n\r") {
			return fmt.Errorf("deb: %s %q: contains a newline", f.name, f.value)
		}
	}
	for _, f := range []struct{ name, value string }{
		{"Package", c.Package},
		{"Version", c.Version},
		{"Architecture", c.Architecture},
		{"Maintainer", c.Maintainer},
		{"Description", c.Description},
	} {
		if strings.TrimSpace(f.value) == "" {
			return fmt.Errorf("deb: %s is required", f.name)
		}
	}
	if err := validatePackageName(c.Package); err != nil {
		return err
	}
	if err := validateVersion(c.Version); err != nil {
		return err
	}
	if err := validateArchitecture(c.Architecture); err != nil {
		return err
	}
	if err := validateMaintainer(c.Maintainer); err != nil {
		return err
	}
	if strings.Contains(c.Description, "\r") {
		return fmt.Errorf("deb: Description %q: contains a carriage return", c.Description)
	}
	synopsis, _, _ := strings.Cut(c.Description, "\n")
	if strings.TrimSpace(synopsis) == "" {
		return fmt.Errorf("deb: Description %q: the first line (the synopsis) is empty", c.Description)
	}
	for _, list := range []struct {
		name  string
		items []string
	}{{"Depends", c.Depends}, {"Recommends", c.Recommends}} {
		for i, item := range list.items {
			if strings.ContainsAny(item, "\n\r") {
				return fmt.Errorf("deb: %s entry %q: contains a newline", list.name, item)
			}
			if strings.TrimSpace(item) == "" {
				return fmt.Errorf("deb: %s entry %d is empty", list.name, i+1)
			}
		}
	}
	return nil
}

func isLowerAlnum(r rune) bool { return 'a' <= r && r <= 'z' || '0' <= r && r <= '9' }
func isDigit(r rune) bool      { return '0' <= r && r <= '9' }
func isAlnum(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
}

// validatePackageName applies Debian policy 5.6.1.
func validatePackageName(name string) error {
	if len(name) < 2 {
		return fmt.Errorf("deb: Package %q: must be at least 2 characters", name)
	}
	if !isLowerAlnum(rune(name[0])) {
		return fmt.Errorf("deb: Package %q: must start with a lowercase letter or a digit", name)
	}
	for _, r := range name {
		if !isLowerAlnum(r) && !strings.ContainsRune("+-.", r) {
			return fmt.Errorf("deb: Package %q: character %q not allowed (lowercase letters, digits, + - . only)", name, r)
		}
	}
	return nil
}

// validateVersion applies Debian policy 5.6.12.
func validateVersion(v string) error {
	upstream, hasEpoch := v, false
	if epoch, rest, ok := strings.Cut(v, ":"); ok {
		if epoch == "" || strings.IndexFunc(epoch, func(r rune) bool { return !isDigit(r) }) >= 0 {
			return fmt.Errorf("deb: Version %q: epoch %q is not a number", v, epoch)
		}
		upstream, hasEpoch = rest, true
	}
	if i := strings.LastIndexByte(upstream, '-'); i >= 0 {
		revision := upstream[i+1:]
		upstream = upstream[:i]
		if revision == "" {
			return fmt.Errorf("deb: Version %q: empty revision after the last '-'", v)
		}
		for _, r := range revision {
			if !isAlnum(r) && !strings.ContainsRune(".+~", r) {
				return fmt.Errorf("deb: Version %q: character %q not allowed in the revision (A-Za-z0-9.+~ only)", v, r)
			}
		}
	}
	if upstream == "" || !isDigit(rune(upstream[0])) {
		if hasEpoch {
			return fmt.Errorf("deb: Version %q: the upstream version after the epoch must start with a digit", v)
		}
		return fmt.Errorf("deb: Version %q: must start with a digit", v)
	}
	for _, r := range upstream {
		// A '-' here is followed by a revision (the last '-' split it off);
		// a ':' is only reachable after an epoch (the first ':' split it off).
		if !isAlnum(r) && !strings.ContainsRune(".+~-:", r) {
			return fmt.Errorf("deb: Version %q: character %q not allowed (A-Za-z0-9.+~- only, and : after an epoch)", v, r)
		}
	}
	return nil
}

func validateArchitecture(a string) error {
	for _, r := range a {
		if !isLowerAlnum(r) && r != '-' {
			return fmt.Errorf("deb: Architecture %q: character %q not allowed (lowercase letters, digits and - only)", a, r)
		}
	}
	return nil
}

// validateMaintainer wants "Name <email>".
func validateMaintainer(m string) error {
	i := strings.IndexByte(m, '<')
	if i < 0 || !strings.HasSuffix(m, ">") {
		return fmt.Errorf("deb: Maintainer %q: want \"Name <email>\"", m)
	}
	name, email := strings.TrimSpace(m[:i]), m[i+1:len(m)-1]
	if name == "" || strings.ContainsAny(name, "<>") {
		return fmt.Errorf("deb: Maintainer %q: want \"Name <email>\" with a name", m)
	}
	if at := strings.IndexByte(email, '@'); at <= 0 || at == len(email)-1 || strings.ContainsAny(email, "<> \t") {
		return fmt.Errorf("deb: Maintainer %q: %q is not an email address", m, email)
	}
	return nil
}

// comparePaths orders paths element by element, so that a directory's
// contents follow it directly ("/usr/bin/x" before "/usr/bin-y").
func comparePaths(a, b string) int {
	return slices.Compare(strings.Split(a, "/"), strings.Split(b, "/"))
}

// sortedFiles returns a copy of files sorted by path.
func sortedFiles(files []File) []File {
	s := slices.Clone(files)
	slices.SortStableFunc(s, func(a, b File) int { return comparePaths(a.Path, b.Path) })
	return s
}

// parents returns the directories above the absolute path p, outermost
// first, without "/": parents("/usr/bin/x") is ["/usr", "/usr/bin"].
func parents(p string) []string {
	var dirs []string
	for i := 1; i < len(p); i++ {
		if p[i] == '/' {
			dirs = append(dirs, p[:i])
		}
	}
	return dirs
}

// installedSize is the files' size in KiB, each file rounded up to whole
// KiB, at least 1 when there are files.
func installedSize(files []File) int64 {
	var kib int64
	for _, f := range files {
		kib += (int64(len(f.Data)) + 1023) / 1024
	}
	if len(files) > 0 && kib == 0 {
		kib = 1
	}
	return kib
}

// controlFile renders DEBIAN/control.
func (p *Package) controlFile(files []File) []byte {
	c := &p.Control
	var b strings.Builder
	field := func(name, value string) {
		if value != "" {
			fmt.Fprintf(&b, "%s: %s\n", name, value)
		}
	}
	field("Package", c.Package)
	field("Version", c.Version)
	field("Architecture", c.Architecture)
	field("Maintainer", c.Maintainer)
	field("Installed-Size", strconv.FormatInt(installedSize(files), 10))
	field("Depends", joinList(c.Depends))
	field("Recommends", joinList(c.Recommends))
	field("Section", c.Section)
	field("Priority", c.Priority)
	field("Homepage", c.Homepage)

	synopsis, rest, _ := strings.Cut(c.Description, "\n")
	field("Description", strings.TrimSpace(synopsis))
	lines := strings.Split(rest, "\n")
	blank := func(s string) bool { return strings.TrimSpace(s) == "" }
	for len(lines) > 0 && blank(lines[0]) {
		lines = lines[1:]
	}
	for len(lines) > 0 && blank(lines[len(lines)-1]) {
		lines = lines[:len(lines)-1]
	}
	for _, l := range lines {
		if blank(l) {
			b.WriteString(" .\n")
		} else {
			b.WriteString(" " + strings.TrimRight(l, " \t") + "\n")
		}
	}
	return []byte(b.String())
}

// joinList joins a relationship field's entries with ", ".
func joinList(items []string) string {
	trimmed := make([]string, len(items))
	for i, item := range items {
		trimmed[i] = strings.TrimSpace(item)
	}
	return strings.Join(trimmed, ", ")
}

// tarEntry is one entry of a tar member: a directory when dir is set, else
// a regular file.
type tarEntry struct {
	name string
	dir  bool
	mode int64
	data []byte
}

// controlTar builds control.tar.gz.
func (p *Package) controlTar(files []File, mtime time.Time) ([]byte, error) {
	entries := []tarEntry{
		{name: "./", dir: true, mode: 0o755},
		{name: "./control", mode: 0o644, data: p.controlFile(files)},
	}
	if len(files) > 0 {
		var sums, conffiles bytes.Buffer
		for _, f := range files {
			sum := md5.Sum(f.Data)
			fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(sum[:]), f.Path[1:])
			if f.Conffile {
				fmt.Fprintf(&conffiles, "%s\n", f.Path)
			}
		}
		entries = append(entries, tarEntry{name: "./md5sums", mode: 0o644, data: sums.Bytes()})
		if conffiles.Len() > 0 {
			entries = append(entries, tarEntry{name: "./conffiles", mode: 0o644, data: conffiles.Bytes()})
		}
	}
	for _, name := range scriptNames {
		if s, ok := p.Scripts[name]; ok {
			entries = append(entries, tarEntry{name: "./" + name, mode: 0o755, data: []byte(s)})
		}
	}
	return tarGz(entries, mtime)
}

// dataTar builds data.tar.gz from files sorted by path: "./", then each
// directory once, before its contents.
func dataTar(files []File, mtime time.Time) ([]byte, error) {
	entries := []tarEntry{{name: "./", dir: true, mode: 0o755}}
	made := map[string]bool{}
	for _, f := range files {
		for _, dir := range parents(f.Path) {
			if !made[dir] {
				made[dir] = true
				entries = append(entries, tarEntry{name: "." + dir + "/", dir: true, mode: 0o755})
			}
		}
		entries = append(entries, tarEntry{name: "." + f.Path, mode: int64(f.Mode.Perm()), data: f.Data})
	}
	return tarGz(entries, mtime)
}

// tarGz writes entries as a gzip-compressed GNU tar archive, root-owned,
// with the gzip header's name and time left empty.
func tarGz(entries []tarEntry, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	gz, err := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	if err != nil {
		return nil, fmt.Errorf("deb: gzip: %w", err)
	}
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		h := &tar.Header{
			Typeflag: tar.TypeReg,
			Name:     e.name,
			Mode:     e.mode,
			Size:     int64(len(e.data)),
			ModTime:  mtime,
			Uname:    "root",
			Gname:    "root",
			Format:   tar.FormatGNU,
		}
		if e.dir {
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("deb: tar entry %q: %w", e.name, err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, fmt.Errorf("deb: tar entry %q: %w", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("deb: tar: %w", err)
	}
	if err := gz.Close(); err != nil {
		return nil, fmt.Errorf("deb: gzip: %w", err)
	}
	return buf.Bytes(), nil
}

// writeArMember appends one ar member: its 60-byte header, the data, and a
// "\n" pad byte when the size is odd.
func writeArMember(b *bytes.Buffer, name string, mtime int64, data []byte) error {
	size := strconv.Itoa(len(data))
	if len(size) > 10 {
		return fmt.Errorf("deb: member %s: %d bytes do not fit in an ar header", name, len(data))
	}
	fmt.Fprintf(b, "%-16s%-12d%-6s%-6s%-8s%-10s`\n", name, mtime, "0", "0", "100644", size)
	b.Write(data)
	if len(data)%2 == 1 {
		b.WriteByte('\n')
	}
	return nil
}
