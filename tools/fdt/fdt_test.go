package fdt

import (
	"bytes"
	"encoding/binary"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// dtc runs Debian's device-tree-compiler. The round-trip tests need it:
// they fail, rather than skip, when it is missing, so that a machine
// without it does not pass them silently.
func dtc(t *testing.T, stdin []byte, args ...string) []byte {
	t.Helper()
	if _, err := exec.LookPath("dtc"); err != nil {
		t.Fatal("dtc not found on PATH: install Debian's device-tree-compiler")
	}
	cmd := exec.Command("dtc", args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("dtc %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// compileTestdata compiles testdata/board.dts with dtc.
func compileTestdata(t *testing.T) []byte {
	t.Helper()
	return dtc(t, nil, "-q", "-I", "dts", "-O", "dtb", "-o", "-", filepath.Join("testdata", "board.dts"))
}

func TestRoundTripDTC(t *testing.T) {
	dtb := compileTestdata(t)
	tree, err := Decode(dtb)
	if err != nil {
		t.Fatal(err)
	}
	if got := tree.Encode(); !bytes.Equal(got, dtb) {
		t.Errorf("Encode(Decode(dtc output)) differs from dtc's %d bytes (got %d bytes)", len(dtb), len(got))
	}
	if diff := cmp.Diff([]Reservation{{0x1000, 0x2000}}, tree.Reservations); diff != "" {
		t.Errorf("reservations (-want +got):\n%s", diff)
	}

	spi, err := tree.Find("/spi@1f000000")
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name string
		got  any
		want any
	}{
		{"model", must(tree.Root.StringValue("model")), "fdt test board"},
		{"compatible", must(tree.Root.StringList("compatible")), []string{"test,board", "test,soc"}},
		{"interrupts", must(spi.U32("interrupts")), uint32(5)},
		{"cells", must(spi.U32s("cells")), []uint32{1, 2, 3}},
		{"wide", must(spi.U32s("wide")), []uint32{1, 0}},
		{"mac", must(spi.Prop("mac")), []byte{0, 3, 0x7f, 0x11, 0x22, 0x33}},
		{"bootargs", must(must(tree.Find("/chosen")).StringValue("bootargs")), "console=ttyS0,115200"},
		{"phandle", must(must(tree.Find("/interrupt-controller")).U32("phandle")), must(spi.U32("interrupt-parent"))},
	}
	for _, c := range checks {
		if diff := cmp.Diff(c.want, c.got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, diff)
		}
	}
	ro, err := tree.Find("/spi/flash@0/partitions/partition@0")
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := ro.Prop("read-only"); !ok || len(v) != 0 {
		t.Errorf("read-only = %v, %v; want an empty property", v, ok)
	}
}

// must drops the error (or ok) of a getter whose failure the comparison
// would show anyway; it panics so that a test bug is not hidden.
func must[T any, E any](v T, e E) T {
	switch e := any(e).(type) {
	case error:
		if e != nil {
			panic(e)
		}
	case bool:
		if !e {
			panic("not found")
		}
	}
	return v
}

// TestEditDTC patches a tree the way fwimage tftpboot does and checks the
// result with dtc's own reader.
func TestEditDTC(t *testing.T) {
	tree, err := Decode(compileTestdata(t))
	if err != nil {
		t.Fatal(err)
	}
	rm, err := tree.Root.AddChild("reserved-memory")
	if err != nil {
		t.Fatal(err)
	}
	rm.SetU32s("#address-cells", 1)
	rm.SetU32s("#size-cells", 1)
	rm.SetEmpty("ranges")
	ph, _ := rm.AddChild("phram-rootfs@7f00000")
	if err := ph.SetReg(rm, Region{0x7f00000, 0x100000}); err != nil {
		t.Fatal(err)
	}
	ph.SetEmpty("no-map")
	chosen, _ := tree.Find("/chosen")
	chosen.SetString("bootargs", "console=ttyS0,115200 root=/dev/mtdblock0")

	dts := string(dtc(t, tree.Encode(), "-q", "-I", "dtb", "-O", "dts", "-o", "-", "-"))
	for _, want := range []string{
		"bootargs = \"console=ttyS0,115200 root=/dev/mtdblock0\";",
		"reserved-memory {",
		"ranges;",
		"phram-rootfs@7f00000 {",
		"reg = <0x7f00000 0x100000>;",
		"no-map;",
		"/memreserve/\t0x0000000000001000 0x0000000000002000;",
	} {
		if !strings.Contains(dts, want) {
			t.Errorf("dtc -O dts output lacks %q:\n%s", want, dts)
		}
	}
}

func TestEncodeStrings(t *testing.T) {
	tree := &Tree{Root: &Node{
		Props: []Property{
			{"#address-cells", []byte{0, 0, 0, 1}},
			{"#size-cells", []byte{0, 0, 0, 1}},
		},
		Children: []*Node{{
			Name:  "a@1",
			Props: []Property{{"size-cells", nil}, {"cells", nil}, {"#address-cells", nil}, {"x", []byte{1}}},
		}},
	}}
	b := tree.Encode()
	be := binary.BigEndian
	off, size := be.Uint32(b[12:]), be.Uint32(b[32:])
	// "size-cells" and "cells" are tails of "#size-cells".
	if got, want := string(b[off:off+size]), "#address-cells\x00#size-cells\x00x\x00"; got != want {
		t.Errorf("strings block = %q, want %q", got, want)
	}
	if !bytes.Equal(b, tree.Encode()) {
		t.Error("Encode is not deterministic")
	}
	back, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(tree, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestProperties(t *testing.T) {
	n := &Node{Name: "n", Props: []Property{
		{"s", []byte("abc\x00")},
		{"list", []byte("a\x00bc\x00")},
		{"one", []byte{0, 0, 1, 0}},
		{"two", []byte{0, 0, 0, 1, 0, 0, 0, 2}},
		{"odd", []byte{1, 2, 3}},
		{"empty", nil},
		{"nonul", []byte("abc")},
	}}
	tests := []struct {
		name    string
		get     func() (any, error)
		want    any
		wantErr string
	}{
		{"string", func() (any, error) { return n.StringValue("s") }, "abc", ""},
		{"string of list", func() (any, error) { return n.StringValue("list") }, "", "not one NUL-terminated string"},
		{"string no NUL", func() (any, error) { return n.StringValue("nonul") }, "", "not one NUL-terminated string"},
		{"string missing", func() (any, error) { return n.StringValue("nope") }, "", `node "n" has no property "nope"`},
		{"strings", func() (any, error) { return n.StringList("list") }, []string{"a", "bc"}, ""},
		{"u32", func() (any, error) { return n.U32("one") }, uint32(0x100), ""},
		{"u32 of two", func() (any, error) { return n.U32("two") }, uint32(0), "has 2 cells, want 1"},
		{"u32s", func() (any, error) { return n.U32s("two") }, []uint32{1, 2}, ""},
		{"u32s odd", func() (any, error) { return n.U32s("odd") }, []uint32(nil), "3 bytes, not a whole number"},
		{"u32s empty", func() (any, error) { return n.U32s("empty") }, []uint32{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.get()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	n.SetString("s", "xyz")
	n.SetU32s("new", 7)
	n.DeleteProp("odd")
	var names []string
	for _, p := range n.Props {
		names = append(names, p.Name)
	}
	if diff := cmp.Diff([]string{"s", "list", "one", "two", "empty", "nonul", "new"}, names); diff != "" {
		t.Errorf("property order after set/delete (-want +got):\n%s", diff)
	}
	if s, _ := n.StringValue("s"); s != "xyz" {
		t.Errorf("s = %q after SetString", s)
	}
}

func TestFind(t *testing.T) {
	leaf := &Node{Name: "partition@60000"}
	tree := &Tree{Root: &Node{Children: []*Node{
		{Name: "memory@0"},
		{Name: "uart@1"},
		{Name: "uart@2"},
		{Name: "partitions", Children: []*Node{{Name: "partition@0"}, leaf}},
	}}}
	tests := []struct {
		path    string
		want    string
		wantErr string
	}{
		{"/", "", ""},
		{"/memory", "memory@0", ""},
		{"/memory@0", "memory@0", ""},
		{"/partitions/partition@60000", "partition@60000", ""},
		{"/partitions/partition@60000/", "partition@60000", ""},
		{"/uart", "", `"uart" is ambiguous: uart@1 and uart@2`},
		{"/memory@1", "", `no child "memory@1"`},
		{"/chosen", "", `node /chosen: no child "chosen"`},
		{"chosen", "", "not absolute"},
	}
	for _, tt := range tests {
		n, err := tree.Find(tt.path)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Find(%q) error = %v, want one containing %q", tt.path, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("Find(%q): %v", tt.path, err)
			continue
		}
		if n.Name != tt.want {
			t.Errorf("Find(%q) = %q, want %q", tt.path, n.Name, tt.want)
		}
	}
	if _, err := tree.Root.AddChild("memory@0"); err == nil {
		t.Error("AddChild of an existing name succeeded")
	}
	var paths []string
	tree.Walk(func(p string, _ *Node) error { paths = append(paths, p); return nil })
	want := []string{"/", "/memory@0", "/uart@1", "/uart@2", "/partitions", "/partitions/partition@0", "/partitions/partition@60000"}
	if diff := cmp.Diff(want, paths); diff != "" {
		t.Errorf("Walk (-want +got):\n%s", diff)
	}
}

func TestReg(t *testing.T) {
	tests := []struct {
		name       string
		addr, size uint32
		regions    []Region
		cells      []uint32
		wantErr    string
	}{
		{"1+1", 1, 1, []Region{{0x60000, 0xfa0000}}, []uint32{0x60000, 0xfa0000}, ""},
		{"2+2", 2, 2, []Region{{0x1_0000_0000, 0x2000}}, []uint32{1, 0, 0, 0x2000}, ""},
		{"1+0", 1, 0, []Region{{5, 0}}, []uint32{5}, ""},
		{"two regions", 1, 1, []Region{{1, 2}, {3, 4}}, []uint32{1, 2, 3, 4}, ""},
		{"too big", 1, 1, []Region{{0x1_0000_0000, 1}}, nil, "does not fit in 1 cells"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := &Node{Name: "p"}
			parent.SetU32s("#address-cells", tt.addr)
			parent.SetU32s("#size-cells", tt.size)
			n := &Node{Name: "n"}
			err := n.SetReg(parent, tt.regions...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("SetReg error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.cells, must(n.U32s("reg"))); diff != "" {
				t.Errorf("reg cells (-want +got):\n%s", diff)
			}
			back, err := n.Reg(parent)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.regions, back); diff != "" {
				t.Errorf("Reg (-want +got):\n%s", diff)
			}
		})
	}
	// Defaults: 2 address cells, 1 size cell.
	n := &Node{Name: "n"}
	n.SetU32s("reg", 0, 5, 6, 7)
	if _, err := n.Reg(&Node{}); err == nil || !strings.Contains(err.Error(), "not a multiple of 3") {
		t.Errorf("Reg with default cells: %v", err)
	}
}

func TestDecodeErrors(t *testing.T) {
	good := (&Tree{Root: &Node{Props: []Property{{"a", []byte{1, 2, 3, 4}}}}}).Encode()
	patch := func(off int, v uint32) []byte {
		b := append([]byte(nil), good...)
		binary.BigEndian.PutUint32(b[off:], v)
		return b
	}
	structOff := int(binary.BigEndian.Uint32(good[8:]))
	tests := []struct {
		name string
		dtb  []byte
		want string
	}{
		{"short", good[:20], "shorter than the 40-byte header"},
		{"magic", patch(0, 0xfeedd00d), "bad magic 0xfeedd00d"},
		{"version", patch(20, 15), "version 15"},
		{"totalsize", patch(4, uint32(len(good)+1)), "header says"},
		{"struct size", patch(36, uint32(len(good))), "structure block at"},
		{"root token", patch(structOff, tokenProp), "want FDT_BEGIN_NODE of the root"},
		{"name offset", patch(structOff+16, 99), "property name offset 99"},
		{"no end", patch(len(good)-len("a\x00")-4, tokenEndNode), "token 2 after the root node"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.dtb)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Decode error = %v, want one containing %q", err, tt.want)
			}
		})
	}
	// Padding after totalsize is not part of the tree.
	if _, err := Decode(append(append([]byte(nil), good...), 0xff, 0xff)); err != nil {
		t.Errorf("Decode with trailing padding: %v", err)
	}
}
