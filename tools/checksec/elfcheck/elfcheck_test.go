package elfcheck

import (
	"debug/elf"
	"encoding/binary"
	"os"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGNUAttribute(t *testing.T) {
	// 'A', then a "gnu" subsection: length, name, Tag_File (1) with its
	// length, and the attributes Tag_GNU_MIPS_ABI_FP (4) = value.
	section := func(order binary.ByteOrder, value byte) []byte {
		attrs := []byte{4, value}
		file := append([]byte{1, 0, 0, 0, 0}, attrs...)
		order.PutUint32(file[1:], uint32(len(file)))
		sub := append([]byte{0, 0, 0, 0}, "gnu\x00"...)
		sub = append(sub, file...)
		order.PutUint32(sub, uint32(len(sub)))
		return append([]byte{'A'}, sub...)
	}
	for _, tc := range []struct {
		name   string
		b      []byte
		order  binary.ByteOrder
		want   byte
		wantOK bool
	}{
		{"soft big-endian", section(binary.BigEndian, 3), binary.BigEndian, 3, true},
		{"xx little-endian", section(binary.LittleEndian, 5), binary.LittleEndian, 5, true},
		{"wrong byte order", section(binary.BigEndian, 3), binary.LittleEndian, 0, false},
		{"not format A", []byte{'B', 0, 0, 0, 0}, binary.BigEndian, 0, false},
		{"empty", nil, binary.BigEndian, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := gnuAttribute(tc.b, tc.order, 4)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("gnuAttribute = %d, %v; want %d, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	good := &Report{
		Machine: elf.EM_MIPS, ByteOrder: binary.BigEndian, FloatABI: FloatSoft,
		Static: true, PIE: true, RELRO: true, BindNow: true, NXStack: true, Canary: true,
	}
	policy := Policy{
		Machine: elf.EM_MIPS, ByteOrder: binary.BigEndian, FloatABI: FloatSoft,
		Static: true, PIE: true, RELRO: true, BindNow: true, NXStack: true, Canary: true,
	}
	with := func(f func(r *Report)) *Report {
		r := *good
		f(&r)
		return &r
	}
	for _, tc := range []struct {
		name string
		r    *Report
		want []string
	}{
		{"good", good, nil},
		{"no floating point", with(func(r *Report) { r.FloatABI = FloatNone }), nil},
		{"arm", with(func(r *Report) { r.Machine = elf.EM_ARM }), []string{"machine EM_ARM, want EM_MIPS"}},
		{"little", with(func(r *Report) { r.ByteOrder = binary.LittleEndian }), []string{"little-endian, want big-endian"}},
		{"hard", with(func(r *Report) { r.FloatABI = FloatHard }), []string{"float ABI hard, want soft"}},
		{"fpu", with(func(r *Report) { r.FPUInstructions = 3 }), []string{"3 FPU instructions in a soft-float file"}},
		{"nothing", with(func(r *Report) {
			r.Static, r.PIE, r.RELRO, r.BindNow, r.NXStack, r.Canary = false, false, false, false, false, false
		}), []string{"not static", "not PIE", "no RELRO", "no BIND_NOW", "executable stack", "no stack canary"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, policy.Check(tc.r)); diff != "" {
				t.Errorf("Check (-want +got):\n%s", diff)
			}
		})
	}
	fortify := Policy{Fortify: true}
	if diff := cmp.Diff([]string{"no fortified calls"}, fortify.Check(good)); diff != "" {
		t.Errorf("Check with Fortify (-want +got):\n%s", diff)
	}
}

// TestInspectSelf reads the test binary: a Go binary for the host.
func TestInspectSelf(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := Inspect(f)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[runtime.GOARCH]
	if want != elf.EM_NONE && r.Machine != want {
		t.Errorf("machine %v, want %v", r.Machine, want)
	}
	if r.FPUInstructions != 0 {
		t.Errorf("%d MIPS FPU instructions counted in a non-MIPS file", r.FPUInstructions)
	}
}
