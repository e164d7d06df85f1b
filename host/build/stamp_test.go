package build_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nichost/nichost/host/build"
)

// An unchanged Go plugin's second build takes its key from the stamp,
// without the go toolchain; every kind of change that could alter the
// build's inputs is still seen: an edit (even one that keeps the size and
// the mtime), a new file, a file the build constraints used to leave out,
// an environment setting the go command reads.
func TestBuilder_StampSkipsTheToolchainOnlyWhenNothingChanged(t *testing.T) {
	b := &build.Builder{CacheDir: t.TempDir()}
	ctx := context.Background()
	dir := writePlugin(t, "one")
	helper := filepath.Join(dir, "helper")
	ignored := filepath.Join(helper, "later.go")
	if err := os.WriteFile(ignored, []byte("//go:build ignore\n\npackage helper\n\nconst Later = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	build1 := func(what string) build.Result {
		t.Helper()
		r, err := b.Build(ctx, dir)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return r
	}
	first := build1("first build")
	if first.Stamped || first.Cached {
		t.Fatalf("first build: %+v, want neither stamped nor cached", first)
	}
	again := build1("unchanged")
	if !again.Stamped || !again.Cached || again.Key != first.Key {
		t.Fatalf("unchanged plugin: %+v, want the stamp's key %s and the cached module", again, first.Key)
	}

	// The same size, and the mtime put back: only the content differs.
	hf := filepath.Join(helper, "helper.go")
	st, err := os.Stat(hf)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(hf, []byte("package helper\n\nconst Name = \"owt\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(hf, st.ModTime(), st.ModTime()); err != nil {
		t.Fatal(err)
	}
	edited := build1("edited, same size and mtime")
	if edited.Stamped || edited.Cached || edited.Key == first.Key {
		t.Fatalf("an edit keeping size and mtime: %+v, want a new key and a build", edited)
	}
	if r := build1("after the edit"); !r.Stamped || r.Key != edited.Key {
		t.Fatalf("the build after the edit did not use the new stamp: %+v", r)
	}

	// A new file in a package directory.
	if err := os.WriteFile(filepath.Join(helper, "more.go"), []byte("package helper\n\nconst More = 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	added := build1("a file added")
	if added.Stamped || added.Key == edited.Key {
		t.Fatalf("a new file: %+v, want a new key from go list", added)
	}

	// A file the constraints left out, edited in place to count.
	if err := os.WriteFile(ignored, []byte("package helper\n\nconst Later = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Minute) // the edit must show even within the file system's mtime granularity
	os.Chtimes(ignored, future, future)
	in := build1("an ignored file brought in")
	if in.Stamped || in.Key == added.Key {
		t.Fatalf("a file the build constraints now include: %+v, want a new key", in)
	}

	// An environment setting of the go command.
	build1("settle")
	t.Setenv("GOFLAGS", os.Getenv("GOFLAGS")+" -tags=nichost_stamp_test")
	if r := build1("GOFLAGS changed"); r.Stamped {
		t.Fatalf("a GOFLAGS change kept the stamp: %+v", r)
	}
}

// A corrupt stamp is ignored: the key is computed again, the build works.
func TestBuilder_CorruptStampIsIgnored(t *testing.T) {
	b := &build.Builder{CacheDir: t.TempDir()}
	ctx := context.Background()
	dir := writePlugin(t, "corrupt")
	first, err := b.Build(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	stamps, _ := filepath.Glob(filepath.Join(b.CacheDir, "stamps", "*.json"))
	if len(stamps) != 1 {
		t.Fatalf("stamps after one build: %v, want one", stamps)
	}
	if err := os.WriteFile(stamps[0], []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := b.Build(ctx, dir)
	if err != nil || r.Stamped || !r.Cached || r.Key != first.Key {
		t.Fatalf("after corrupting the stamp: %+v, %v; want the same key from go list and the cached module", r, err)
	}
	if r, err := b.Build(ctx, dir); err != nil || !r.Stamped {
		t.Fatalf("the stamp was not rewritten: %+v, %v", r, err)
	}
}
