package build

import (
	"encoding/json"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"strings"
)

// A stamp lets an unchanged Go plugin skip the go toolchain. Asking `go
// list` for a plugin's inputs costs about 80 ms (two processes, the go
// command's own module loading), most of a cached start. So the first
// build of a directory records, beside the module, what the key was made
// of (the lines and files it hashed, in order) and what could change the
// go command's answer without changing those files: the go binary, the
// environment it reads, the package directories (a file added or removed
// changes a directory's mtime), the files the build constraints left out
// (an edit can bring one in), go.mod and go.sum, go.work in the
// directory's parents, and the go env file. The next build of the
// directory checks those by stat and replays the key over the same files'
// current content; only if everything matches, the key is the stamp's and
// no tool runs. Anything different, and the key is computed from `go
// list` again, as without a stamp.

// stampVersion changes when the stamp's meaning does.
const stampVersion = 1

type stamp struct {
	Version int
	Dir     string    // the plugin directory, absolute
	Env     []string  // goFingerprint() when the stamp was made
	Key     string    // the key the steps hash to
	Steps   []step    // what goKey hashed, in order
	Watch   []watched // what else must be as it was
}

// step is one thing goKey hashed: a line, or a file under a name.
type step struct {
	Line string `json:",omitempty"`
	Name string `json:",omitempty"`
	Path string `json:",omitempty"`
}

// watched is a file or directory as stat saw it, or its absence.
type watched struct {
	Path    string
	Missing bool  `json:",omitempty"`
	Size    int64 `json:",omitempty"`
	ModTime int64 `json:",omitempty"` // nanoseconds
}

// transcript hashes a key's inputs and records them as steps.
type transcript struct {
	h     hash.Hash
	steps []step
}

func newTranscript() *transcript { return &transcript{h: newHash()} }

func (t *transcript) line(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	t.h.Write([]byte(s))
	t.steps = append(t.steps, step{Line: s})
}

func (t *transcript) file(name, path string) error {
	t.steps = append(t.steps, step{Name: name, Path: path})
	return hashFile(t.h, name, path)
}

func (t *transcript) key() string { return sum(t.h) }

// replay hashes steps again over the files' current content.
func replay(steps []step) (string, error) {
	h := newHash()
	for _, s := range steps {
		if s.Path == "" {
			h.Write([]byte(s.Line))
			continue
		}
		if err := hashFile(h, s.Name, s.Path); err != nil {
			return "", err
		}
	}
	return sum(h), nil
}

// goEnvVars are the environment variables that change what `go list` and
// `go build` do for a plugin (buildEnv's are set by the builder).
var goEnvVars = []string{"GOFLAGS", "GOEXPERIMENT", "GOWASM", "GOAMD64", "GOTOOLCHAIN", "GOWORK", "GOROOT", "GOPATH", "GOMODCACHE", "GO111MODULE", "GOENV", "GOPROXY", "GONOSUMDB", "GOPRIVATE", "GOINSECURE", "GOVCS"}

// goFingerprint is the go tool the builder would run (path, size, mtime)
// and the environment it would see.
func goFingerprint() []string {
	tool, err := goTool()
	if err != nil {
		tool = "(none on PATH)"
	}
	fp := []string{"tool " + tool}
	if st, err := os.Stat(tool); err == nil {
		fp = append(fp, fmt.Sprintf("tool %d %d", st.Size(), st.ModTime().UnixNano()))
	}
	for _, v := range goEnvVars {
		fp = append(fp, v+"="+os.Getenv(v))
	}
	return fp
}

// look stats path for the watch list.
func look(path string) watched {
	st, err := os.Stat(path)
	if err != nil {
		return watched{Path: path, Missing: true}
	}
	return watched{Path: path, Size: st.Size(), ModTime: st.ModTime().UnixNano()}
}

// unchanged reports whether path is still as w saw it.
func (w watched) unchanged() bool {
	now := look(w.Path)
	return now == w
}

// goEnvFile is where `go env -w` writes settings the go command reads.
func goEnvFile() string {
	if f := os.Getenv("GOENV"); f != "" {
		return f
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "go", "env")
}

// workFiles are the go.work files the go command would look for, from abs
// up to the root.
func workFiles(abs string) []string {
	var out []string
	for d := abs; ; {
		out = append(out, filepath.Join(d, "go.work"))
		parent := filepath.Dir(d)
		if parent == d {
			return out
		}
		d = parent
	}
}

func (b *Builder) stampPath(abs string) string {
	h := newHash()
	fmt.Fprintf(h, "%s\n%s\n", abs, strings.Join(buildEnv, " "))
	return filepath.Join(b.cacheDir(), "stamps", sum(h)+".json")
}

// stampedKey returns the key of the Go plugin in abs from its stamp, if
// the stamp still holds.
func (b *Builder) stampedKey(abs string) (string, bool) {
	data, err := os.ReadFile(b.stampPath(abs))
	if err != nil {
		return "", false
	}
	var s stamp
	if json.Unmarshal(data, &s) != nil || s.Version != stampVersion || s.Dir != abs || s.Key == "" {
		return "", false
	}
	if strings.Join(s.Env, "\n") != strings.Join(goFingerprint(), "\n") {
		return "", false
	}
	for _, w := range s.Watch {
		if !w.unchanged() {
			return "", false
		}
	}
	if key, err := replay(s.Steps); err != nil || key != s.Key {
		return "", false
	}
	return s.Key, true
}

// saveStamp records how the key of the plugin in abs was made. It is an
// optimisation: failing to write it costs the next build the go list.
func (b *Builder) saveStamp(abs string, env []string, t *transcript, watch []watched) {
	s := stamp{Version: stampVersion, Dir: abs, Env: env, Key: t.key(), Steps: t.steps, Watch: watch}
	data, err := json.Marshal(s)
	if err != nil {
		return
	}
	path := b.stampPath(abs)
	if os.MkdirAll(filepath.Dir(path), 0o755) != nil {
		return
	}
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return
	}
	_, werr := f.Write(data)
	if cerr := f.Close(); werr != nil || cerr != nil || os.Rename(f.Name(), path) != nil {
		os.Remove(f.Name())
	}
}
