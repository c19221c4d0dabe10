package svcdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"

	"bazwrt/userland/init/svcsrc"
)

// Binary format, version 1 (all integers are unsigned LEB128 varints unless
// noted):
//
//	magic    8 bytes "BZSVCDB\n"
//	version  varint (1)
//	count    varint, number of service records
//	records  count × (varint length, record bytes), sorted by name
//	crc      4 bytes, big-endian CRC-32 (IEEE) of everything before it
//
// A record is a sequence of fields (varint tag, varint length, bytes) in
// increasing tag order; repeated fields (deps, ...) appear once per value in
// sorted order. Readers skip unknown tags. Nothing in the file depends on
// time, host paths or map order, so compiling the same sources always gives
// the same bytes.
const (
	Magic   = "BZSVCDB\n"
	Version = 1
)

const (
	tName = iota + 1
	tType
	tDep
	tRevDep
	tContent
	tUp
	tDown
	tRun
	tFinish
	tNotificationFD
	tTimeoutUp
	tTimeoutDown
	tTimeoutKill
	tTimeoutFinish
	tEssential
	tDownSignal
	tMaxDeathTally
	tProducerFor
	tConsumerFor
	tPipelineName
	tRecommended // empty
	tEnv         // repeated: "NAME=value" or "NAME" (remove)
	tData        // repeated: PATH NUL MODE(octal) NUL CONTENT; PATH ends in "/" for a directory
)

type enc struct{ b []byte }

func (e *enc) uv(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *enc) field(tag int, v []byte) {
	e.uv(uint64(tag))
	e.uv(uint64(len(v)))
	e.b = append(e.b, v...)
}
func (e *enc) str(tag int, s string) { e.field(tag, []byte(s)) }
func (e *enc) num(tag int, v uint64) { e.field(tag, binary.AppendUvarint(nil, v)) }
func (e *enc) strs(tag int, l []string) {
	for _, s := range l {
		e.str(tag, s)
	}
}
func (e *enc) script(tag int, b []byte) {
	if b != nil {
		e.field(tag, b)
	}
}

// Encode returns the binary form of db.
func Encode(db *DB) []byte {
	svcs := append([]*Service(nil), db.Services...)
	sort.Slice(svcs, func(i, j int) bool { return svcs[i].Name < svcs[j].Name })
	out := &enc{b: []byte(Magic)}
	out.uv(Version)
	out.uv(uint64(len(svcs)))
	for _, s := range svcs {
		r := &enc{}
		r.str(tName, s.Name)
		r.str(tType, string(s.Type))
		r.strs(tDep, s.Deps)
		r.strs(tRevDep, s.RevDeps)
		r.strs(tContent, s.Contents)
		if s.Atomic() {
			r.script(tUp, s.Up)
			r.script(tDown, s.Down)
			r.script(tRun, s.Run)
			r.script(tFinish, s.Finish)
			if s.NotificationFD >= 0 {
				r.num(tNotificationFD, uint64(s.NotificationFD))
			}
			r.num(tTimeoutUp, uint64(s.TimeoutUp))
			r.num(tTimeoutDown, uint64(s.TimeoutDown))
			r.num(tTimeoutKill, uint64(s.TimeoutKill))
			r.num(tTimeoutFinish, uint64(s.TimeoutFinish))
			if s.Essential {
				r.field(tEssential, nil)
			}
			r.str(tDownSignal, s.DownSignal)
			r.num(tMaxDeathTally, uint64(s.MaxDeathTally))
			if s.ProducerFor != "" {
				r.str(tProducerFor, s.ProducerFor)
			}
			r.strs(tConsumerFor, s.ConsumerFor)
			if s.PipelineName != "" {
				r.str(tPipelineName, s.PipelineName)
			}
			if s.Recommended {
				r.field(tRecommended, nil)
			}
			r.strs(tEnv, s.Env)
			for _, f := range s.Data {
				r.field(tData, append([]byte(fmt.Sprintf("%s\x00%o\x00", f.Path, f.Mode)), f.Content...))
			}
		}
		out.uv(uint64(len(r.b)))
		out.b = append(out.b, r.b...)
	}
	return binary.BigEndian.AppendUint32(out.b, crc32.ChecksumIEEE(out.b))
}

type dec struct {
	b   []byte
	err error
}

func (d *dec) uv() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errors.New("truncated or bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) bytes(n uint64) []byte {
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = errors.New("truncated data")
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

// Decode parses the binary form produced by Encode and refuses anything
// the device must not act on (see Check), including a database without
// the default bundle.
func Decode(b []byte) (*DB, error) { return decode(b, true) }

func decode(b []byte, requireDefault bool) (*DB, error) {
	if len(b) < len(Magic)+4 || string(b[:len(Magic)]) != Magic {
		return nil, errors.New("svcdb: not a service database (bad magic)")
	}
	body, sum := b[:len(b)-4], binary.BigEndian.Uint32(b[len(b)-4:])
	d := &dec{b: body[len(Magic):]}
	if v := d.uv(); d.err == nil && v != Version {
		return nil, fmt.Errorf("svcdb: unsupported version %d (this build reads version %d)", v, Version)
	}
	if crc32.ChecksumIEEE(body) != sum {
		return nil, errors.New("svcdb: checksum mismatch (corrupt database)")
	}
	n := d.uv()
	if d.err == nil && n > uint64(len(d.b)) {
		return nil, errors.New("svcdb: bad service count")
	}
	db := &DB{}
	for i := uint64(0); i < n && d.err == nil; i++ {
		rec := &dec{b: d.bytes(d.uv())}
		if d.err != nil {
			break
		}
		s, err := decodeRecord(rec)
		if err != nil {
			if s.Name != "" && svcsrc.CheckName(s.Name) == "" {
				return nil, fmt.Errorf("svcdb: record %d (%q): %v", i, s.Name, err)
			}
			return nil, fmt.Errorf("svcdb: record %d: %v", i, err)
		}
		if msg := svcsrc.CheckName(s.Name); msg != "" {
			return nil, fmt.Errorf("svcdb: record %d: %s", i, msg)
		}
		db.Services = append(db.Services, s)
	}
	if d.err != nil {
		return nil, fmt.Errorf("svcdb: %v", d.err)
	}
	if len(d.b) != 0 {
		return nil, errors.New("svcdb: trailing data")
	}
	if err := db.check(requireDefault); err != nil {
		return nil, fmt.Errorf("svcdb: %v", err)
	}
	db.index()
	return db, nil
}

// repeated are the tags that may appear more than once in a record.
var repeated = map[uint64]bool{tDep: true, tRevDep: true, tContent: true, tConsumerFor: true, tEnv: true, tData: true}

// decodeRecord parses one record. Fields must come in increasing tag order,
// only list fields may repeat, numbers must be canonical varints no larger
// than svcsrc.MaxTimeout (the largest value any field may hold), and the
// optional name fields must not be empty when present. What the values mean
// is checked by DB.Check. The returned service is never nil.
func decodeRecord(rec *dec) (*Service, error) {
	s := &Service{NotificationFD: -1}
	var last uint64
	for len(rec.b) > 0 && rec.err == nil {
		tag := rec.uv()
		v := rec.bytes(rec.uv())
		if rec.err != nil {
			break
		}
		switch {
		case tag < last:
			return s, fmt.Errorf("field %d after field %d (fields must be in increasing tag order)", tag, last)
		case tag == last && !repeated[tag]:
			return s, fmt.Errorf("field %d repeated", tag)
		}
		last = tag
		num := func() int64 {
			x, k := binary.Uvarint(v)
			if k <= 0 || k != len(v) || len(binary.AppendUvarint(nil, x)) != k || x > svcsrc.MaxTimeout {
				rec.err = fmt.Errorf("bad number in field %d", tag)
				return 0
			}
			return int64(x)
		}
		str := func() string {
			if len(v) == 0 {
				rec.err = fmt.Errorf("empty field %d", tag)
			}
			return string(v)
		}
		switch tag {
		case tName:
			s.Name = string(v)
		case tType:
			s.Type = svcsrc.Type(v)
		case tDep:
			s.Deps = append(s.Deps, string(v))
		case tRevDep:
			s.RevDeps = append(s.RevDeps, string(v))
		case tContent:
			s.Contents = append(s.Contents, string(v))
		case tUp:
			s.Up = append([]byte{}, v...)
		case tDown:
			s.Down = append([]byte{}, v...)
		case tRun:
			s.Run = append([]byte{}, v...)
		case tFinish:
			s.Finish = append([]byte{}, v...)
		case tNotificationFD:
			s.NotificationFD = int(num())
		case tTimeoutUp:
			s.TimeoutUp = num()
		case tTimeoutDown:
			s.TimeoutDown = num()
		case tTimeoutKill:
			s.TimeoutKill = num()
		case tTimeoutFinish:
			s.TimeoutFinish = num()
		case tEssential:
			if len(v) != 0 {
				rec.err = fmt.Errorf("field %d (essential) is not empty", tag)
			}
			s.Essential = true
		case tDownSignal:
			s.DownSignal = str()
		case tMaxDeathTally:
			s.MaxDeathTally = int(num())
		case tProducerFor:
			s.ProducerFor = str()
		case tConsumerFor:
			s.ConsumerFor = append(s.ConsumerFor, string(v))
		case tPipelineName:
			s.PipelineName = str()
		case tRecommended:
			if len(v) != 0 {
				rec.err = fmt.Errorf("field %d (recommended) is not empty", tag)
			}
			s.Recommended = true
		case tEnv:
			s.Env = append(s.Env, string(v))
		case tData:
			parts := strings.SplitN(string(v), "\x00", 3)
			mode, err := strconv.ParseUint(parts[min(1, len(parts)-1)], 8, 32)
			if len(parts) != 3 || err != nil {
				rec.err = fmt.Errorf("bad data field")
				break
			}
			f := svcsrc.DataFile{Path: parts[0], Mode: fs.FileMode(mode)}
			if !strings.HasSuffix(f.Path, "/") {
				f.Content = []byte(parts[2])
			} else if parts[2] != "" {
				rec.err = fmt.Errorf("data field %q: a directory has no content", f.Path)
			}
			s.Data = append(s.Data, f)
		}
	}
	return s, rec.err
}

// Load reads and decodes a database file, as the device does.
func Load(path string) (*DB, error) { return load(path, true) }

// Inspect is Load for tools: a database without a default bundle (compiled
// without Options.RequireDefault) is accepted.
func Inspect(path string) (*DB, error) { return load(path, false) }

func load(path string, requireDefault bool) (*DB, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	db, err := decode(b, requireDefault)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return db, nil
}

// Dump renders db as stable, human-readable text (used by
// `svc-compile -dump` and by golden tests).
func Dump(db *DB) string {
	var b strings.Builder
	fmt.Fprintf(&b, "svcdb version %d, %d services\n", Version, len(db.Services))
	list := func(k string, l []string) {
		if len(l) > 0 {
			fmt.Fprintf(&b, "  %s: %s\n", k, strings.Join(l, " "))
		}
	}
	script := func(k string, s []byte) {
		if s != nil {
			fmt.Fprintf(&b, "  %s: %s\n", k, strconv.Quote(string(s)))
		}
	}
	for _, s := range db.Services {
		fmt.Fprintf(&b, "\n%s (%s)\n", s.Name, s.Type)
		list("deps", s.Deps)
		list("revdeps", s.RevDeps)
		list("contents", s.Contents)
		if !s.Atomic() {
			continue
		}
		script("up", s.Up)
		script("down", s.Down)
		script("run", s.Run)
		script("finish", s.Finish)
		if s.NotificationFD >= 0 {
			fmt.Fprintf(&b, "  notification-fd: %d\n", s.NotificationFD)
		}
		fmt.Fprintf(&b, "  timeouts ms: up=%d down=%d kill=%d finish=%d\n", s.TimeoutUp, s.TimeoutDown, s.TimeoutKill, s.TimeoutFinish)
		if s.Essential {
			b.WriteString("  essential\n")
		}
		if s.Recommended {
			b.WriteString("  recommended\n")
		}
		fmt.Fprintf(&b, "  down-signal: %s  max-death-tally: %d\n", s.DownSignal, s.MaxDeathTally)
		if s.ProducerFor != "" {
			fmt.Fprintf(&b, "  producer-for: %s\n", s.ProducerFor)
		}
		list("consumer-for", s.ConsumerFor)
		if s.PipelineName != "" {
			fmt.Fprintf(&b, "  pipeline-name: %s\n", s.PipelineName)
		}
		for _, e := range s.Env {
			fmt.Fprintf(&b, "  env: %s\n", strconv.Quote(e))
		}
		for _, f := range s.Data {
			fmt.Fprintf(&b, "  data: %s mode %04o %s\n", f.Path, f.Mode, strconv.Quote(string(f.Content)))
		}
	}
	return b.String()
}
