package svcdb

import (
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"bazwrt/userland/init/svcsrc"
)

// smallDB compiles a database with one of everything the checks look at:
// a oneshot, a longrun with a notification descriptor depending on it, and
// a pipeline (producer p feeding consumer c, named pipe).
func smallDB(t *testing.T) *DB {
	t.Helper()
	db, errs := compileMap(t, map[string]string{
		"default/type": "bundle", "default/contents.d/b": "", "default/contents.d/pipe": "",
		"a/type": "oneshot", "a/up": "true",
		"b/type": "longrun", "b/run": "exec sleep 1000", "b/notification-fd": "3", "b/dependencies.d/a": "",
		"p/type": "longrun", "p/run": "exec yes", "p/producer-for": "c",
		"c/type": "longrun", "c/run": "exec cat", "c/consumer-for": "p", "c/pipeline-name": "pipe",
	})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return db
}

func svcOf(db *DB, name string) *Service {
	for _, s := range db.Services {
		if s.Name == name {
			return s
		}
	}
	panic("no service " + name)
}

// withCRC appends the checksum to a hand-made body.
func withCRC(body []byte) []byte {
	return binary.BigEndian.AppendUint32(body, crc32.ChecksumIEEE(body))
}

// body strips the checksum.
func body(b []byte) []byte { return append([]byte(nil), b[:len(b)-4]...) }

// big does not fit a notification descriptor, nor 32 bits.
var big = int64(1) << 40

type field struct {
	tag int
	v   string
}

func uvarint(v uint64) string { return string(binary.AppendUvarint(nil, v)) }

// rawDB builds a database from hand-written records (with a valid CRC), to
// reach what Encode never writes.
func rawDB(recs ...[]field) []byte {
	out := &enc{b: []byte(Magic)}
	out.uv(Version)
	out.uv(uint64(len(recs)))
	for _, r := range recs {
		e := &enc{}
		for _, f := range r {
			e.field(f.tag, []byte(f.v))
		}
		out.uv(uint64(len(e.b)))
		out.b = append(out.b, e.b...)
	}
	return withCRC(out.b)
}

// defaultRec is a valid empty default bundle.
var defaultRec = []field{{tName, "default"}, {tType, "bundle"}}

// oneshotRec is a valid oneshot named name, with extra fields inserted in
// tag order.
func oneshotRec(name string, extra ...field) []field {
	r := []field{{tName, name}, {tType, "oneshot"}, {tUp, "true"}, {tTimeoutUp, uvarint(0)}, {tDownSignal, "SIGTERM"}}
	for _, f := range extra {
		i := 0
		for i < len(r) && r[i].tag <= f.tag {
			i++
		}
		r = append(r[:i], append([]field{f}, r[i:]...)...)
	}
	return r
}

func TestDecodeRejectsBadDatabases(t *testing.T) {
	// mutate cases change a compiled database and encode it: what a
	// buggy compiler or a hand-edited file could hold.
	mutate := []struct {
		name string
		f    func(db *DB)
		want string
	}{
		{"dependency cycle", func(db *DB) {
			a, b := svcOf(db, "a"), svcOf(db, "b")
			a.Deps, b.RevDeps = []string{"b"}, []string{"a"}
		}, `svcdb: dependency cycle: a -> b -> a`},
		{"longer cycle through the pipeline", func(db *DB) {
			a, c := svcOf(db, "a"), svcOf(db, "c")
			a.Deps, svcOf(db, "p").RevDeps = []string{"p"}, []string{"a"}
			c.Deps, a.RevDeps = []string{"a"}, []string{"b", "c"}
		}, `svcdb: dependency cycle: a -> p -> c -> a`},
		{"self dependency", func(db *DB) {
			a := svcOf(db, "a")
			a.Deps, a.RevDeps = []string{"a"}, []string{"a", "b"}
		}, `svcdb: service "a": dependencies: refers to the service itself`},
		{"notification fd 2", func(db *DB) { svcOf(db, "b").NotificationFD = 2 },
			`svcdb: service "b": notification-fd 2 out of range 3..255`},
		{"notification fd 256", func(db *DB) { svcOf(db, "b").NotificationFD = 256 },
			`svcdb: service "b": notification-fd 256 out of range 3..255`},
		{"notification fd 2^31-1", func(db *DB) { svcOf(db, "b").NotificationFD = 1<<31 - 1 },
			`svcdb: service "b": notification-fd 2147483647 out of range 3..255`},
		{"notification fd beyond 2^31", func(db *DB) { svcOf(db, "b").NotificationFD = int(big) },
			`svcdb: record 1 ("b"): bad number in field 10`},
		{"notification fd on a oneshot", func(db *DB) { svcOf(db, "a").NotificationFD = 3 },
			`svcdb: service "a": a oneshot has no notification-fd`},
		{"name with a space", func(db *DB) { svcOf(db, "a").Name = "a b" },
			`svcdb: record 0: invalid service name "a b": contains whitespace or a control character`},
		{"name with a slash", func(db *DB) { svcOf(db, "c").Name = "../c" },
			`svcdb: record 0: invalid service name "../c": contains a slash`},
		{"empty name", func(db *DB) { svcOf(db, "c").Name = "" }, `svcdb: record 0: empty service name`},
		{"name too long", func(db *DB) { svcOf(db, "c").Name = strings.Repeat("c", 256) },
			`svcdb: record 2: service name longer than 255 bytes`},
		{"unknown dependency", func(db *DB) { svcOf(db, "b").Deps = []string{"a", "zz"} },
			`svcdb: service "b": dependencies: unknown service "zz"`},
		{"dependency on a bundle", func(db *DB) { svcOf(db, "b").Deps = []string{"a", "default"} },
			`svcdb: service "b": dependencies: "default" is a bundle, want an atomic service`},
		{"unsorted dependencies", func(db *DB) { svcOf(db, "p").Deps = []string{"c", "a"} },
			`svcdb: service "p": dependencies not sorted or repeated ("a" after "c")`},
		{"repeated dependency", func(db *DB) { svcOf(db, "b").Deps = []string{"a", "a"} },
			`svcdb: service "b": dependencies not sorted or repeated ("a" after "a")`},
		{"missing reverse dependency", func(db *DB) { svcOf(db, "a").RevDeps = nil },
			`svcdb: service "b": depends on "a", which does not list it as a reverse dependency`},
		{"extra reverse dependency", func(db *DB) { svcOf(db, "a").RevDeps = []string{"b", "c"} },
			`svcdb: service "a": reverse dependency "c" does not depend on it`},
		{"no default", func(db *DB) {
			db.Services = slices.DeleteFunc(db.Services, func(s *Service) bool { return s.Name == "default" })
		},
			`svcdb: no "default" service`},
		{"duplicate service", func(db *DB) { svcOf(db, "b").Name = "a" },
			`svcdb: duplicate service "a"`},
		{"bad type", func(db *DB) { svcOf(db, "a").Type = "daemon" },
			`svcdb: service "a": bad type "daemon"`},
		{"oneshot without up", func(db *DB) { svcOf(db, "a").Up = nil },
			`svcdb: service "a": a oneshot needs an up script`},
		{"oneshot with run", func(db *DB) { svcOf(db, "a").Run = []byte("x") },
			`svcdb: service "a": a oneshot has no run or finish script`},
		{"longrun with empty run", func(db *DB) { svcOf(db, "b").Run = []byte{} },
			`svcdb: service "b": a longrun needs a non-empty run script`},
		{"longrun with up", func(db *DB) { svcOf(db, "b").Up = []byte("x") },
			`svcdb: service "b": a longrun has no up or down script`},
		{"atomic with contents", func(db *DB) { svcOf(db, "a").Contents = []string{"b"} },
			`svcdb: service "a": a oneshot has no contents`},
		{"bundle with dependencies", func(db *DB) { svcOf(db, "default").Deps = []string{"a"} },
			`svcdb: service "default": a bundle has no dependencies`},
		{"bundle containing a bundle", func(db *DB) { svcOf(db, "default").Contents = []string{"b", "pipe"} },
			`svcdb: service "default": contents: "pipe" is a bundle, want an atomic service`},
		{"timeout beyond the maximum", func(db *DB) { svcOf(db, "a").TimeoutUp = svcsrc.MaxTimeout + 1 },
			`svcdb: record 0 ("a"): bad number in field 11`},
		{"max-death-tally", func(db *DB) { svcOf(db, "b").MaxDeathTally = 5000 },
			`svcdb: service "b": max-death-tally 5000 out of range 0..4096`},
		{"down-signal", func(db *DB) { svcOf(db, "b").DownSignal = "SIGSEGV" },
			`svcdb: service "b": unknown down-signal "SIGSEGV"`},
		{"producer for another longrun", func(db *DB) { svcOf(db, "p").ProducerFor = "b" },
			`svcdb: service "c": consumer-for: "p" is not producer-for it`},
		{"producer for a non-consumer", func(db *DB) {
			svcOf(db, "c").ConsumerFor, svcOf(db, "c").PipelineName = nil, ""
			svcOf(db, "pipe").Contents = []string{"c"}
		}, `svcdb: service "p": producer-for: "c" does not list it in its consumer-for`},
		{"producer not depending on its consumer", func(db *DB) {
			svcOf(db, "p").Deps, svcOf(db, "c").RevDeps = nil, nil
		}, `svcdb: service "p": producer-for: does not depend on its consumer "c"`},
		{"consumer of a non-producer", func(db *DB) {
			svcOf(db, "c").ConsumerFor = []string{"b", "p"}
		}, `svcdb: service "c": consumer-for: "b" is not producer-for it`},
		{"consumer of a oneshot", func(db *DB) { svcOf(db, "c").ConsumerFor = []string{"a"} },
			`svcdb: service "c": consumer-for: producer "a" is a oneshot, want a longrun`},
		{"pipeline without its bundle", func(db *DB) { svcOf(db, "c").PipelineName = "nopipe" },
			`svcdb: service "c": pipeline-name: no bundle "nopipe" containing the service`},
		{"pipeline named by a producer", func(db *DB) { svcOf(db, "p").PipelineName = "pipe" },
			`svcdb: service "p": pipeline-name: only the last consumer of a pipeline names it`},
		{"oneshot in a pipeline", func(db *DB) { svcOf(db, "a").ProducerFor = "c" },
			`svcdb: service "a": only longruns are in pipelines`},
	}
	for _, tc := range mutate {
		t.Run(tc.name, func(t *testing.T) {
			db := smallDB(t)
			if err := db.Check(); err != nil {
				t.Fatalf("the base database fails: %v", err)
			}
			tc.f(db)
			_, err := Decode(Encode(db))
			if err == nil || err.Error() != tc.want {
				t.Errorf("Decode error = %v\nwant %s", err, tc.want)
			}
		})
	}

	// raw cases are byte-level: what Encode never writes.
	raw := []struct {
		name string
		b    []byte
		want string
	}{
		{"valid", rawDB(defaultRec, oneshotRec("x")), ""},
		{"fields out of order", rawDB(defaultRec, []field{{tType, "oneshot"}, {tName, "x"}, {tUp, "true"}}),
			`svcdb: record 1: field 1 after field 2 (fields must be in increasing tag order)`},
		{"name twice", rawDB(defaultRec, []field{{tName, "x"}, {tName, "y"}, {tType, "oneshot"}}),
			`svcdb: record 1 ("x"): field 1 repeated`},
		{"non-canonical number", rawDB(defaultRec, oneshotRec("x", field{tTimeoutDown, "\x80\x00"})),
			`svcdb: record 1 ("x"): bad number in field 12`},
		{"number with trailing bytes", rawDB(defaultRec, oneshotRec("x", field{tTimeoutDown, "\x01\x01"})),
			`svcdb: record 1 ("x"): bad number in field 12`},
		{"essential with a value", rawDB(defaultRec, oneshotRec("x", field{tEssential, "yes"})),
			`svcdb: record 1 ("x"): field 15 (essential) is not empty`},
		{"empty producer-for", rawDB(defaultRec, oneshotRec("x", field{tProducerFor, ""})),
			`svcdb: record 1 ("x"): empty field 18`},
		{"empty down-signal", rawDB(defaultRec, []field{{tName, "x"}, {tType, "oneshot"}, {tUp, ""}, {tDownSignal, ""}}),
			`svcdb: record 1 ("x"): empty field 16`},
		{"missing down-signal", rawDB(defaultRec, []field{{tName, "x"}, {tType, "oneshot"}, {tUp, ""}}),
			`svcdb: service "x": unknown down-signal ""`},
		{"bundle with essential", rawDB([]field{{tName, "default"}, {tType, "bundle"}, {tEssential, ""}}),
			`svcdb: service "default": a bundle only has contents`},
		{"bundle with a script", rawDB([]field{{tName, "default"}, {tType, "bundle"}, {tUp, ""}}),
			`svcdb: service "default": a bundle has no scripts`},
		{"bundle with a notification fd", rawDB([]field{{tName, "default"}, {tType, "bundle"}, {tNotificationFD, uvarint(3)}}),
			`svcdb: service "default": a bundle only has contents`},
		{"unknown tags are skipped", rawDB(defaultRec, oneshotRec("x", field{99, "future"})), ""},
		{"records out of order", rawDB(oneshotRec("x"), defaultRec),
			`svcdb: services not sorted by name ("default" after "x")`},
		{"bad varint", withCRC([]byte(Magic + "\x01\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01")),
			`svcdb: truncated or bad varint`},
		{"huge count", withCRC([]byte(Magic + "\x01\xff\xff\xff\xff\x0f")), `svcdb: bad service count`},
		{"record longer than the file", withCRC([]byte(Magic + "\x01\x01\x7f\x01\x01x")), `svcdb: truncated data`},
		{"field longer than its record", withCRC([]byte(Magic + "\x01\x01\x03\x01\x7fx")),
			`svcdb: record 0: truncated data`},
		{"trailing data", withCRC(append(body(rawDB(defaultRec)), 0)), `svcdb: trailing data`},
	}
	for _, tc := range raw {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(tc.b)
			if tc.want == "" {
				if err != nil {
					t.Errorf("Decode error = %v, want none", err)
				}
				return
			}
			if err == nil || err.Error() != tc.want {
				t.Errorf("Decode error = %v\nwant %s", err, tc.want)
			}
		})
	}
}

// testdata/bad holds databases with a valid checksum that the device must
// refuse, for boot tests (SVC_DB=/path/to/one on the kernel command line);
// regenerate with go test -update.
func TestBadDatabaseFiles(t *testing.T) {
	cycle := smallDB(t)
	a, b := svcOf(cycle, "a"), svcOf(cycle, "b")
	a.Deps, b.RevDeps = []string{"b"}, []string{"a"}
	fd := smallDB(t)
	svcOf(fd, "b").NotificationFD = 100000
	for _, tc := range []struct {
		file string
		b    []byte
		want string
	}{
		{"cycle.db", Encode(cycle), "svcdb: dependency cycle: a -> b -> a"},
		{"notification-fd.db", Encode(fd), `svcdb: service "b": notification-fd 100000 out of range 3..255`},
	} {
		path := filepath.Join("testdata", "bad", tc.file)
		if *update {
			os.MkdirAll(filepath.Dir(path), 0o755)
			if err := os.WriteFile(path, tc.b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		_, err := Load(path)
		if want := path + ": " + tc.want; err == nil || err.Error() != want {
			t.Errorf("Load(%s) error = %v, want %s", path, err, want)
		}
	}
}
