package vm

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPlaceRootfs(t *testing.T) {
	for _, tt := range []struct {
		name              string
		ramBase, ramSize  uint64
		low               uint64
		fileSize          int64
		want              Phram
		wantMem, wantArgs string
		wantErr           string
	}{
		{
			name:    "one erase block exactly",
			ramSize: 256 << 20, low: 128 << 20, fileSize: 64 << 10,
			want:     Phram{Addr: 0x0fff0000, Size: 0x10000},
			wantMem:  "mem=0xfff0000",
			wantArgs: "phram.phram=phram0,0xfff0000,0x10000,0x10000 mtdparts=phram0:0x10000(rootfs) root=/dev/mtdblock0 ro rootfstype=squashfs",
		},
		{
			name:    "rounded up to the erase size",
			ramSize: 256 << 20, low: 128 << 20, fileSize: 300000,
			want:     Phram{Addr: 0x0ffb0000, Size: 0x50000},
			wantMem:  "mem=0xffb0000",
			wantArgs: "phram.phram=phram0,0xffb0000,0x50000,0x10000 mtdparts=phram0:0x50000(rootfs) root=/dev/mtdblock0 ro rootfstype=squashfs",
		},
		{
			name:    "one byte more than a block",
			ramSize: 128 << 20, low: 64 << 20, fileSize: 64<<10 + 1,
			want:     Phram{Addr: 0x07fe0000, Size: 0x20000},
			wantMem:  "mem=0x7fe0000",
			wantArgs: "phram.phram=phram0,0x7fe0000,0x20000,0x10000 mtdparts=phram0:0x20000(rootfs) root=/dev/mtdblock0 ro rootfstype=squashfs",
		},
		{
			name:    "arm virt RAM at 1 GiB",
			ramBase: 0x40000000, ramSize: 256 << 20, low: 0x48100000, fileSize: 8 << 20,
			want:     Phram{Addr: 0x4f800000, Size: 0x800000},
			wantMem:  "mem=0xf800000",
			wantArgs: "phram.phram=phram0,0x4f800000,0x800000,0x10000 mtdparts=phram0:0x800000(rootfs) root=/dev/mtdblock0 ro rootfstype=squashfs",
		},
		{
			name:    "exactly the upper half",
			ramSize: 64 << 20, low: 32 << 20, fileSize: 32 << 20,
			want:     Phram{Addr: 0x02000000, Size: 0x02000000},
			wantMem:  "mem=0x2000000",
			wantArgs: "phram.phram=phram0,0x2000000,0x2000000,0x10000 mtdparts=phram0:0x2000000(rootfs) root=/dev/mtdblock0 ro rootfstype=squashfs",
		},
		{
			name:    "too large",
			ramSize: 64 << 20, low: 32 << 20, fileSize: 32<<20 + 1,
			wantErr: "root filesystem of 33554433 bytes does not fit between 0x2000000 and the end of 64 MiB of RAM at 0x4000000; raise --memory",
		},
		{
			name:    "arm virt, up to its device tree",
			ramBase: 0x40000000, ramSize: 256 << 20, low: 0x48100000, fileSize: 127 << 20,
			want:     Phram{Addr: 0x48100000, Size: 0x7f00000},
			wantMem:  "mem=0x8100000",
			wantArgs: "phram.phram=phram0,0x48100000,0x7f00000,0x10000 mtdparts=phram0:0x7f00000(rootfs) root=/dev/mtdblock0 ro rootfstype=squashfs",
		},
		{
			name:    "arm virt, over its device tree",
			ramBase: 0x40000000, ramSize: 256 << 20, low: 0x48100000, fileSize: 127<<20 + 1,
			wantErr: "does not fit between 0x48100000",
		},
		{name: "low below RAM", ramBase: 0x40000000, ramSize: 64 << 20, low: 0, fileSize: 1, wantErr: "does not fit"},
		{name: "empty", ramSize: 64 << 20, low: 32 << 20, wantErr: "empty"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := PlaceRootfs(tt.ramBase, tt.ramSize, tt.low, tt.fileSize)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("PlaceRootfs = %+v, %v; want error containing %q", p, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, p); diff != "" {
				t.Errorf("PlaceRootfs (-want +got):\n%s", diff)
			}
			if p.Addr%EraseSize != 0 || p.Size%EraseSize != 0 || p.Addr+p.Size > tt.ramBase+tt.ramSize || p.Size < uint64(tt.fileSize) {
				t.Errorf("%+v: misaligned or outside RAM", p)
			}
			if got := MemArg(tt.ramBase, p); got != tt.wantMem {
				t.Errorf("MemArg = %q, want %q", got, tt.wantMem)
			}
			if diff := cmp.Diff(tt.wantArgs, strings.Join(p.KernelArgs(), " ")); diff != "" {
				t.Errorf("KernelArgs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewPhram(t *testing.T) {
	if _, err := NewPhram(0x1234, 1); err == nil {
		t.Error("NewPhram accepted an unaligned address")
	}
	p, err := NewPhram(0x9f060000, 0xfa0000)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Phram{Addr: 0x9f060000, Size: 0xfa0000}, p); diff != "" {
		t.Errorf("NewPhram (-want +got):\n%s", diff)
	}
}
