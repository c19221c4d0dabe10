package svcdb

import (
	"bytes"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"bazwrt/userland/init/svcsrc"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

func writeTree(t testing.TB, root string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// compileMap parses a tree given as a map and compiles it, returning the
// error messages (parse errors first, then compile errors).
func compileMap(t *testing.T, files map[string]string) (*DB, []string) {
	t.Helper()
	root := t.TempDir()
	writeTree(t, root, files)
	svcs, errs := svcsrc.ParseDir(root)
	db, err := Compile(Source{Dir: "src", Services: svcs})
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, e.Error())
	}
	if l, ok := err.(svcsrc.Errors); ok {
		for _, e := range l {
			msgs = append(msgs, e.Error())
		}
	} else if err != nil {
		msgs = append(msgs, err.Error())
	}
	return db, msgs
}

// base is a minimal valid tree the error cases extend.
func with(extra map[string]string) map[string]string {
	m := map[string]string{
		"default/type":        "bundle",
		"default/contents.d/": "",
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"unknown dependency", with(map[string]string{"a/type": "oneshot", "a/up": "x", "a/dependencies.d/nope": ""}),
			[]string{`svc "a": file a/dependencies.d: unknown dependency "nope"`}},
		{"unknown dependency legacy file", with(map[string]string{"a/type": "oneshot", "a/up": "x", "a/dependencies": "nope\n"}),
			[]string{`svc "a": file a/dependencies: unknown dependency "nope"`}},
		{"unknown bundle member", with(map[string]string{"default/contents.d/ghost": ""}),
			[]string{`svc "default": file default/contents.d: unknown service "ghost" in bundle`}},
		{"cycle", with(map[string]string{
			"a/type": "oneshot", "a/up": "x", "a/dependencies.d/b": "",
			"b/type": "longrun", "b/run": "x", "b/dependencies.d/c": "",
			"c/type": "oneshot", "c/up": "x", "c/dependencies.d/a": "",
		}), []string{`svc "c": file c/dependencies.d: dependency cycle: a -> b -> c -> a`}},
		{"two cycles", with(map[string]string{
			"a/type": "oneshot", "a/up": "x", "a/dependencies.d/b": "",
			"b/type": "oneshot", "b/up": "x", "b/dependencies.d/a": "",
			"x/type": "oneshot", "x/up": "x", "x/dependencies.d/y": "",
			"y/type": "oneshot", "y/up": "x", "y/dependencies.d/x": "",
		}), []string{
			`svc "b": file b/dependencies.d: dependency cycle: a -> b -> a`,
			`svc "y": file y/dependencies.d: dependency cycle: x -> y -> x`,
		}},
		{"cycle through bundle", with(map[string]string{
			"a/type": "oneshot", "a/up": "x", "a/dependencies.d/grp": "",
			"grp/type": "bundle", "grp/contents.d/b": "",
			"b/type": "oneshot", "b/up": "x", "b/dependencies.d/a": "",
		}), []string{`svc "b": file b/dependencies.d: dependency cycle: a -> b -> a`}},
		{"depends on own bundle", with(map[string]string{
			"a/type": "oneshot", "a/up": "x", "a/dependencies.d/grp": "",
			"grp/type": "bundle", "grp/contents.d/a": "",
		}), []string{`svc "a": file a/dependencies.d: depends on bundle "grp" which contains the service itself`}},
		{"bundle cycle", with(map[string]string{
			"b1/type": "bundle", "b1/contents.d/b2": "",
			"b2/type": "bundle", "b2/contents.d/b1": "",
		}), []string{`svc "b2": file b2/contents.d: bundle cycle: b1 -> b2 -> b1`}},
		{"producer consumer mismatch", with(map[string]string{
			"p/type": "longrun", "p/run": "x", "p/producer-for": "c",
			"c/type": "longrun", "c/run": "x",
		}), []string{`svc "p": file p/producer-for: producer/consumer mismatch: "c" does not list "p" in its consumer-for`}},
		{"consumer mismatch", with(map[string]string{
			"p/type": "longrun", "p/run": "x",
			"c/type": "longrun", "c/run": "x", "c/consumer-for": "p",
		}), []string{`svc "c": file c/consumer-for: producer/consumer mismatch: "p" is not producer-for "c"`}},
		{"unknown consumer", with(map[string]string{"p/type": "longrun", "p/run": "x", "p/producer-for": "c"}),
			[]string{`svc "p": file p/producer-for: unknown consumer "c"`}},
		{"consumer is a oneshot", with(map[string]string{
			"p/type": "longrun", "p/run": "x", "p/producer-for": "c",
			"c/type": "oneshot", "c/up": "x",
		}), []string{`svc "p": file p/producer-for: consumer "c" is a oneshot, want a longrun`}},
		{"pipeline name clash", with(map[string]string{
			"p/type": "longrun", "p/run": "x", "p/producer-for": "c",
			"c/type": "longrun", "c/run": "x", "c/consumer-for": "p", "c/pipeline-name": "p",
		}), []string{`svc "c": file c/pipeline-name: pipeline name "p" is already a service`}},
		{"pipeline cycle", with(map[string]string{
			"p/type": "longrun", "p/run": "x", "p/producer-for": "c", "p/consumer-for": "c",
			"c/type": "longrun", "c/run": "x", "c/consumer-for": "p", "c/producer-for": "p",
		}), []string{`svc "p": dependency cycle: c -> p -> c`}},
		{"parse and compile errors together", with(map[string]string{
			"a/type": "oneshot", "a/timeout-up": "abc", "a/up": "x",
			"b/type": "longrun", "b/dependencies.d/zz": "", "b/run": "x",
		}), []string{
			`svc "a": file a/timeout-up: want milliseconds as a decimal integer, got "abc"`,
			`svc "b": file b/dependencies.d: unknown dependency "zz"`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, got := compileMap(t, tc.files)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("errors mismatch (-want +got):\n%s", diff)
			}
			if len(got) > 0 && db != nil {
				t.Errorf("Compile returned a DB along with errors")
			}
		})
	}
}

func TestCompileDuplicateAcrossDirs(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"one/default/type": "bundle", "one/default/contents": "x",
		"one/x/type": "oneshot", "one/x/up": "true",
		"two/x/type": "longrun", "two/x/run": "x",
	})
	one, two := filepath.Join(root, "one"), filepath.Join(root, "two")
	for _, order := range [][]string{{one, two}, {two, one}} {
		_, err := CompileDirs(order...)
		want := `svc "x": defined in both ` + one + ` and ` + two
		if err == nil || err.Error() != want {
			t.Errorf("CompileDirs(%v) error = %v, want %q", order, err, want)
		}
	}
}

func TestCompileFlattening(t *testing.T) {
	db, errs := compileMap(t, map[string]string{
		"default/type": "bundle", "default/contents.d/net": "", "default/contents.d/app": "",
		"net/type": "bundle", "net/contents": "lo\nlan\n",
		"all/type": "bundle", "all/contents.d/default": "", "all/contents.d/extra": "",
		"lo/type": "oneshot", "lo/up": "x",
		"lan/type": "oneshot", "lan/up": "x", "lan/dependencies.d/lo": "",
		"app/type": "longrun", "app/run": "x", "app/dependencies.d/net": "",
		"extra/type": "longrun", "extra/run": "x",
		"prod/type": "longrun", "prod/run": "x", "prod/producer-for": "cons",
		"cons/type": "longrun", "cons/run": "x", "cons/consumer-for": "prod", "cons/pipeline-name": "pipe",
		"user/type": "oneshot", "user/up": "x", "user/dependencies.d/pipe": "",
	})
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	type flat struct{ Deps, RevDeps, Contents []string }
	got := map[string]flat{}
	for _, s := range db.Services {
		got[s.Name] = flat{s.Deps, s.RevDeps, s.Contents}
	}
	want := map[string]flat{
		"default": {Contents: []string{"app", "lan", "lo"}},
		"net":     {Contents: []string{"lan", "lo"}},
		"all":     {Contents: []string{"app", "extra", "lan", "lo"}},
		"pipe":    {Contents: []string{"cons", "prod"}},
		"lo":      {RevDeps: []string{"app", "lan"}},
		"lan":     {Deps: []string{"lo"}, RevDeps: []string{"app"}},
		"app":     {Deps: []string{"lan", "lo"}},
		"extra":   {},
		"prod":    {Deps: []string{"cons"}, RevDeps: []string{"user"}},
		"cons":    {RevDeps: []string{"prod", "user"}},
		"user":    {Deps: []string{"cons", "prod"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("flattened graph (-want +got):\n%s", diff)
	}
	atoms, err := db.Resolve([]string{"net", "extra", "lo"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"extra", "lan", "lo"}, atoms); diff != "" {
		t.Errorf("Resolve (-want +got):\n%s", diff)
	}
	if _, err := db.Resolve([]string{"nope"}); err == nil || err.Error() != `unknown service "nope"` {
		t.Errorf("Resolve(nope) error = %v", err)
	}
}

var goldenCases = []struct {
	name string
	dirs []string
}{
	{"router", []string{"router"}},
	{"merged", []string{"router", "extra"}},
}

func TestGolden(t *testing.T) {
	for _, gc := range goldenCases {
		t.Run(gc.name, func(t *testing.T) {
			var dirs []string
			for _, d := range gc.dirs {
				dirs = append(dirs, filepath.Join("testdata", "src", d))
			}
			db, err := CompileDirs(dirs...)
			if err != nil {
				t.Fatal(err)
			}
			got := Encode(db)
			text := Dump(db)
			dbPath := filepath.Join("testdata", "golden", gc.name+".db")
			txtPath := filepath.Join("testdata", "golden", gc.name+".txt")
			if *update {
				if err := os.MkdirAll(filepath.Dir(dbPath), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(dbPath, got, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(txtPath, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(dbPath)
			if err != nil {
				t.Fatalf("%v (run go test -update to create)", err)
			}
			wantText, err := os.ReadFile(txtPath)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(wantText), text); diff != "" {
				t.Errorf("dump differs from %s (-want +got):\n%s", txtPath, diff)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("compiled bytes differ from %s (%d vs %d bytes); run go test -update if intended", dbPath, len(got), len(want))
			}
			back, err := Decode(want)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(db.Services, back.Services); diff != "" {
				t.Errorf("decode(encode) mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// copyTree copies a source tree so determinism can be checked across
// different absolute locations.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(out, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(out, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestDeterminism(t *testing.T) {
	router := filepath.Join("testdata", "src", "router")
	extra := filepath.Join("testdata", "src", "extra")
	compile := func(dirs ...string) []byte {
		t.Helper()
		db, err := CompileDirs(dirs...)
		if err != nil {
			t.Fatal(err)
		}
		return Encode(db)
	}
	a := compile(router, extra)
	if b := compile(router, extra); !bytes.Equal(a, b) {
		t.Error("compiling twice gave different bytes")
	}
	if b := compile(extra, router); !bytes.Equal(a, b) {
		t.Error("different source dir order gave different bytes")
	}
	tmp := t.TempDir()
	copyTree(t, router, filepath.Join(tmp, "elsewhere", "r"))
	copyTree(t, extra, filepath.Join(tmp, "x"))
	if b := compile(filepath.Join(tmp, "x"), filepath.Join(tmp, "elsewhere", "r")); !bytes.Equal(a, b) {
		t.Error("sources at another path gave different bytes")
	}
	if bytes.Contains(a, []byte(tmp)) {
		t.Error("database contains a host path")
	}
}

func TestDecodeErrors(t *testing.T) {
	db, err := CompileDirs(filepath.Join("testdata", "src", "router"))
	if err != nil {
		t.Fatal(err)
	}
	good := Encode(db)
	flip := append([]byte(nil), good...)
	flip[len(flip)/2] ^= 0x40
	future := append([]byte(Magic), 9)
	future = append(future, make([]byte, 8)...)
	tests := []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "svcdb: not a service database (bad magic)"},
		{"magic", []byte("#!/bin/sh\necho hi\n"), "svcdb: not a service database (bad magic)"},
		{"corrupt", flip, "svcdb: checksum mismatch (corrupt database)"},
		{"truncated", good[:len(good)-10], "svcdb: checksum mismatch (corrupt database)"},
		{"version", future, "svcdb: unsupported version 9 (this build reads version 1)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(tc.b)
			if err == nil || err.Error() != tc.want {
				t.Errorf("Decode error = %v, want %q", err, tc.want)
			}
		})
	}
}

// FuzzDecode fuzzes the body of a database: the checksum is recomputed over
// whatever the fuzzer produces, so inputs get past it into the decoder
// proper (TestDecodeErrors covers bad checksums). Whatever decodes must
// encode to a database that decodes to the same services and encodes to the
// same bytes again; nothing may panic.
func FuzzDecode(f *testing.F) {
	for _, dirs := range [][]string{{"router"}, {"router", "extra"}} {
		var paths []string
		for _, d := range dirs {
			paths = append(paths, filepath.Join("testdata", "src", d))
		}
		db, err := CompileDirs(paths...)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body(Encode(db)))
	}
	f.Add([]byte(Magic))
	f.Add(body(rawDB(defaultRec, oneshotRec("x", field{tEssential, ""}, field{99, "future"}))))
	f.Add(body(rawDB(defaultRec, []field{{tName, "x"}, {tType, "longrun"}, {tRun, "r"}, {tNotificationFD, uvarint(3)}, {tDownSignal, "SIGHUP"}})))
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > 1<<16 {
			return
		}
		db, err := Decode(withCRC(body))
		if err != nil {
			return
		}
		_ = Dump(db)
		b := Encode(db)
		back, err := Decode(b)
		if err != nil {
			t.Fatalf("Encode(Decode(x)) does not decode: %v\n%s", err, Dump(db))
		}
		if diff := cmp.Diff(db.Services, back.Services); diff != "" {
			t.Fatalf("Decode(Encode(Decode(x))) differs from Decode(x) (-first +second):\n%s", diff)
		}
		if again := Encode(back); !bytes.Equal(again, b) {
			t.Fatalf("encoding is not stable:\n%q\n%q", b, again)
		}
		if err := back.Check(); err != nil {
			t.Fatalf("decoded database fails Check: %v", err)
		}
	})
}
