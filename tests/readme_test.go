package tests

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// readmeDriverHeading is the README section whose first Go block is the
// driver example.
const readmeDriverHeading = "## Writing a driver"

// The driver snippet of README.md compiles against this tree, as a driver
// of a module of its own would: natively (as host/native and guesttest run
// drivers; go vet finds nothing either) and for wasip1/wasm with the flags
// `nichost build` uses. The snippet goes into a temporary
// module that reaches nichost through a replace directive and takes the
// root's go.sum, and the go command runs offline (GOPROXY=off): every
// module comes from the local module cache, which building this module
// filled. A //line directive makes the compiler's messages name README.md
// and its lines.
func TestREADMEDriverSnippet(t *testing.T) {
	gotool, ok := goCommand(t, "README.md's driver snippet cannot be compiled")
	if !ok {
		return
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	src, line, err := goBlockUnder(readme, readmeDriverHeading)
	if err != nil {
		t.Fatalf("README.md: %v", err)
	}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	gosum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	goVersion := ""
	for l := range strings.Lines(string(gomod)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "go "); ok {
			goVersion = v
		}
	}
	if goVersion == "" {
		t.Fatal("go.mod has no go directive")
	}
	statTree(t, root) // an edit to any package the snippet uses runs the test again

	dir := t.TempDir()
	files := map[string][]byte{
		"go.mod": fmt.Appendf(nil, "module example.com/readmedriver\n\ngo %s\n\nrequire github.com/nichost/nichost v0.0.0\n\nreplace github.com/nichost/nichost => %s\n",
			goVersion, root),
		"go.sum":  gosum,
		"main.go": fmt.Appendf(nil, "//line %s:%d:1\n%s", filepath.Join(root, "README.md"), line, src),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// The caller's GOFLAGS stay; a later -mod overrides an earlier one.
	// -mod=mod lets the go command complete the temporary go.mod's
	// requirements from nichost's, offline.
	goflags := strings.TrimSpace(os.Getenv("GOFLAGS") + " -mod=mod")
	env := append(os.Environ(), "GOPROXY=off", "GOWORK=off", "GOFLAGS="+goflags)
	for _, step := range []struct {
		what string
		env  []string
		args []string
	}{
		{"natively", nil, []string{"build", "-o", filepath.Join(dir, "driver"), "."}},
		{"natively under go vet", nil, []string{"vet", "."}},
		{"for wasip1/wasm, as nichost build does", []string{"GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0"},
			[]string{"build", "-trimpath", "-buildmode=c-shared", "-o", filepath.Join(dir, "driver.wasm"), "."}},
	} {
		cmd := exec.CommandContext(t.Context(), gotool, step.args...)
		cmd.Dir = dir
		cmd.Env = append(env, step.env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("README.md's Go block under %q (from line %d) does not compile %s against this tree: go %s (GOPROXY=off GOFLAGS=%q): %v\n%s",
				readmeDriverHeading, line, step.what, strings.Join(step.args, " "), goflags, err, out)
		}
	}
}

func TestGoBlockUnder(t *testing.T) {
	md := []byte("# T\n\n```go\nnot this\n```\n\n## Writing a driver\n\n```sh\n# not a heading\n```\n\n" +
		"### A subsection\n\n```go\npackage main\n\nfunc main() {}\n```\n\n```go\nnor this\n```\n\n## Next\n")
	src, line, err := goBlockUnder(md, "## Writing a driver")
	if err != nil || string(src) != "package main\n\nfunc main() {}\n" || line != 16 {
		t.Fatalf("goBlockUnder = %q, line %d, %v", src, line, err)
	}
	for _, c := range []struct{ md, want string }{
		{"## Writing a driver\n\ntext\n\n## Next\n\n```go\npackage main\n```\n", "no ```go block"},
		{"## Writing\n\n```go\npackage main\n```\n", "no heading"},
		{"## Writing a driver\n\n```go\npackage main\n", "not closed"},
	} {
		if _, _, err := goBlockUnder([]byte(c.md), "## Writing a driver"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("goBlockUnder(%q): %v, want an error saying %q", c.md, err, c.want)
		}
	}
}

// goBlockUnder returns the first ```go block of the section that heading
// starts: blockUnder for Go.
func goBlockUnder(md []byte, heading string) (src []byte, line int, err error) {
	return blockUnder(md, heading, "go")
}

// blockUnder returns the first block fenced as lang (```go, ```c) of the
// section that heading starts, before the next heading of its level or
// above, and the README line its first line is on. Lines in other fenced
// blocks are not headings.
func blockUnder(md []byte, heading, lang string) (src []byte, line int, err error) {
	level := headingLevel(heading)
	var (
		inSection bool
		fence     string // the open block's info string ("go", "sh", ...); "" outside blocks
		inFence   bool
		block     bytes.Buffer
	)
	sc := bufio.NewScanner(bytes.NewReader(md))
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		t := strings.TrimSpace(l)
		switch {
		case inFence && t == "```":
			if inSection && fence == lang {
				return block.Bytes(), line, nil
			}
			inFence = false
		case inFence:
			if inSection && fence == lang {
				block.WriteString(l + "\n")
			}
		case strings.HasPrefix(t, "```"):
			inFence, fence = true, strings.TrimSpace(strings.TrimPrefix(t, "```"))
			if inSection && fence == lang {
				line = n + 1
			}
		case t == heading:
			inSection = true
		case inSection && headingLevel(t) > 0 && headingLevel(t) <= level:
			return nil, 0, fmt.Errorf("no ```%s block under %q", lang, heading)
		}
	}
	switch {
	case inFence && inSection && fence == lang:
		return nil, 0, fmt.Errorf("the ```%s block under %q (line %d) is not closed", lang, heading, line)
	case !inSection:
		return nil, 0, fmt.Errorf("no heading %q", heading)
	}
	return nil, 0, fmt.Errorf("no ```%s block under %q", lang, heading)
}

// headingLevel is the number of leading '#' of a Markdown heading line (0
// for a line that is not one).
func headingLevel(l string) int {
	n := len(l) - len(strings.TrimLeft(l, "#"))
	if n == 0 || n > 6 || (len(l) > n && l[n] != ' ') {
		return 0
	}
	return n
}
