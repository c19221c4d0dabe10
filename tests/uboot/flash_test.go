// Package uboot runs flash.scr, as fwimage writes it, in a real U-Boot:
// Debian's u-boot-qemu build for qemu_arm on QEMU's virt machine, whose
// second CFI flash (pflash1) stands in for the router's NOR flash. The
// script's commands do not depend on the architecture; only the addresses
// differ, and fwimage takes them as flags.
//
// Each case boots a fresh U-Boot, serves a download with QEMU's built-in
// TFTP server (user-mode networking, loopback only), runs the script as a
// user would (tftpboot ADDR flash.scr; source ADDR) and then reads the
// flash's backing file: a good download must be written and the board
// reset; a truncated, a corrupted or a missing one must be refused with the
// script's message and leave every byte of the flash as it was.
package uboot

import (
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"math/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"bazwrt/tests/runfiles"
	"bazwrt/tests/ubootscript"
	"bazwrt/tools/uimage/legacy"
	"bazwrt/tools/vm/vmtest"
)

var fwimage = flag.String("fwimage", "", "rootpath of //tools/fwimage")

const (
	// uBoot is the qemu_arm build of Debian's u-boot-qemu package.
	uBoot = "/usr/lib/u-boot/qemu_arm/u-boot.bin"
	qemu  = "qemu-system-arm"

	// QEMU's virt machine: RAM at 1 GiB; pflash1 (64 MiB) at 0x04000000,
	// where U-Boot keeps its environment in the first two 128 KiB
	// sectors. The firmware partition is two sectors further on.
	ramStart  = 0x40000000
	ramSize   = 0x20000000
	flashBase = 0x04000000
	flashSize = 64 << 20
	partAddr  = 0x04100000
	partSize  = 0x40000
	// scriptAddr is where docs/images.md says to download flash.scr:
	// RAM start + 16 MiB.
	scriptAddr = ramStart + 16<<20

	// imageSize is below 4 KiB: QEMU 7.2's CFI flash model takes a
	// buffered write's start from the address the word count is written
	// to, which U-Boot writes at the erase block's start, so it refuses
	// (status 0x10) buffered writes past the first 4 KiB of a block. The
	// script's checks do not depend on the size.
	imageSize = 3000
)

// oldFirmware fills the partition before each case: a flash that the
// script must either replace or leave alone.
var oldFirmware = []byte("the firmware that was there before ")

func TestFlashScript(t *testing.T) {
	if _, err := exec.LookPath(qemu); err != nil {
		t.Fatalf("%s: %v (package qemu-system-arm; ./bazelw installs it)", qemu, err)
	}
	if _, err := os.Stat(uBoot); err != nil {
		t.Fatalf("U-Boot for QEMU: %v (package u-boot-qemu; ./bazelw installs it)", err)
	}

	image := make([]byte, imageSize)
	rand.New(rand.NewSource(14)).Read(image)
	script := flashScript(t, image)

	// The property checker must accept what U-Boot runs below.
	dir := t.TempDir()
	write(t, filepath.Join(dir, "flash.scr"), script)
	write(t, filepath.Join(dir, "firmware.bin"), image)
	_, data, err := legacy.Decode(script)
	if err != nil {
		t.Fatal(err)
	}
	board := ubootscript.Board{RAMStart: ramStart, RAMSize: ramSize, BootloaderReserve: 1 << 20}
	if err := ubootscript.CheckFlash(board, dir, string(data[8:]), scriptAddr, partAddr, partSize); err != nil {
		t.Errorf("the property checker refuses the script U-Boot runs: %v", err)
	}

	corrupted := bytes.Clone(image)
	corrupted[imageSize/2] ^= 0x01
	for _, tc := range []struct {
		name     string
		download []byte // nil: no firmware.bin on the server
		message  string // the script's message when it refuses
	}{
		{"good", image, ""},
		{"truncated", image[:imageSize-1], "bazwrt: firmware.bin was not downloaded whole, want 3000 bytes: nothing was erased"},
		{"corrupted", corrupted, "bazwrt: firmware.bin has the wrong CRC32, want "},
		{"missing", nil, "bazwrt: firmware.bin was not downloaded whole, want 3000 bytes: nothing was erased"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			tftp := t.TempDir()
			write(t, filepath.Join(tftp, "flash.scr"), script)
			if tc.download != nil {
				write(t, filepath.Join(tftp, "firmware.bin"), tc.download)
			}
			flash := filepath.Join(t.TempDir(), "pflash1.img")
			before := initialFlash()
			write(t, flash, before)

			u := boot(t, tftp, flash)
			u.run(t, "setenv ipaddr 10.0.2.15")
			u.run(t, "setenv serverip 10.0.2.2")
			u.run(t, fmt.Sprintf("tftpboot %#x flash.scr", scriptAddr))
			from := len(u.con.Text())
			u.send(t, fmt.Sprintf("source %#x", scriptAddr))

			if tc.message == "" {
				// reset makes QEMU exit (-no-reboot).
				if err := u.wait(30 * time.Second); err != nil {
					t.Fatalf("QEMU did not exit after the script's reset: %v\n%s", err, vmtest.Tail(u.con.Text()[from:], 3000))
				}
				out := u.con.Text()[from:]
				if want := fmt.Sprintf("Total of %d byte(s) were the same", imageSize); !strings.Contains(out, want) {
					t.Errorf("the script did not read the flash back (%q):\n%s", want, out)
				}
				after := read(t, flash)
				want := bytes.Clone(before)
				p := after[partAddr-flashBase : partAddr-flashBase+partSize]
				copy(want[partAddr-flashBase:], bytes.Repeat([]byte{0xff}, partSize))
				copy(want[partAddr-flashBase:], image)
				if !bytes.Equal(p[:imageSize], image) {
					t.Errorf("the partition does not start with the image")
				}
				if !bytes.Equal(after, want) {
					t.Errorf("the flash is not the old flash with the partition erased and the image in it (%d bytes differ)", differ(after, want))
				}
			} else {
				_, end, err := u.con.WaitFor(from, regexp.MustCompile(regexp.QuoteMeta(tc.message)+`.*\n(?s:.*)=> $`), 15*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				out := u.con.Text()[from:end]
				for _, never := range []string{"Erase", "Copy to Flash", "resetting"} {
					if strings.Contains(out, never) {
						t.Errorf("the console shows %q after a bad download:\n%s", never, out)
					}
				}
				u.stop()
				if after := read(t, flash); sha256.Sum256(after) != sha256.Sum256(before) {
					t.Errorf("the flash changed after a bad download (%d bytes differ)", differ(after, before))
				}
			}
			t.Logf("%s: %v", tc.name, time.Since(start).Round(10*time.Millisecond))
		})
	}
}

// flashScript runs fwimage for the virt machine's flash and RAM.
func flashScript(t *testing.T, image []byte) []byte {
	t.Helper()
	dir := t.TempDir()
	img := filepath.Join(dir, "firmware.bin")
	write(t, img, image)
	out := filepath.Join(dir, "flash.scr")
	cmd := exec.Command(runfiles.Path(t, *fwimage), "flash-script", "-arch", "arm",
		"-ram-start", fmt.Sprint(ramStart), "-ram-size", fmt.Sprint(ramSize),
		"-flash-address", fmt.Sprint(partAddr), "-partition-size", fmt.Sprint(partSize),
		"-image", img, "-o", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", cmd, err, b)
	}
	return read(t, out)
}

// initialFlash is pflash1 before a case: erased (0xff), but the partition
// holds an old firmware.
func initialFlash() []byte {
	b := bytes.Repeat([]byte{0xff}, flashSize)
	p := b[partAddr-flashBase : partAddr-flashBase+partSize]
	for i := range p {
		p[i] = oldFirmware[i%len(oldFirmware)]
	}
	return b
}

type uboot struct {
	cmd  *exec.Cmd
	con  *vmtest.Console
	done chan error
}

var promptRE = regexp.MustCompile(`=> $`)

// boot starts QEMU with U-Boot and a CFI flash backed by the file flash,
// with QEMU's own TFTP server serving tftp, stops U-Boot's autoboot and
// waits for the prompt.
func boot(t *testing.T, tftp, flash string) *uboot {
	t.Helper()
	return startUBoot(t, uBoot, qemu, "-M", "virt", "-m", "512",
		"-drive", "if=pflash,unit=1,format=raw,file="+flash,
		"-netdev", "user,id=n,restrict=on,tftp="+tftp, "-device", "virtio-net-device,netdev=n")
}

// startUBoot starts QEMU (binary) with the U-Boot image bios and the
// machine's flags, its serial console on a socket; stops U-Boot's autoboot
// and waits for the prompt.
func startUBoot(t *testing.T, bios, binary string, machine ...string) *uboot {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "console")
	args := append([]string{"-nographic", "-no-reboot", "-bios", bios}, machine...)
	args = append(args, "-chardev", "socket,id=con,server=on,wait=on,path="+sock,
		"-serial", "chardev:con", "-monitor", "none")
	cmd := exec.Command(binary, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	u := &uboot{cmd: cmd, done: make(chan error, 1)}
	go func() { u.done <- cmd.Wait() }()
	t.Cleanup(u.stop)
	var conn net.Conn
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var err error
		if conn, err = net.Dial("unix", sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("QEMU's console socket: %v\n%s", err, stderr.String())
		}
	}
	u.con = vmtest.NewConsole(t, conn)
	if _, _, err := u.con.WaitFor(0, regexp.MustCompile(`Hit any key to stop autoboot`), 20*time.Second); err != nil {
		t.Fatalf("%v\nQEMU: %s", err, stderr.String())
	}
	u.con.Write([]byte("\n"))
	if _, _, err := u.con.WaitFor(0, promptRE, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	return u
}

// send types a command at the prompt.
func (u *uboot) send(t *testing.T, line string) {
	t.Helper()
	if _, err := u.con.Write([]byte(line + "\n")); err != nil {
		t.Fatal(err)
	}
}

// run types a command and waits for the next prompt.
func (u *uboot) run(t *testing.T, line string) string {
	t.Helper()
	from := len(u.con.Text())
	u.send(t, line)
	_, end, err := u.con.WaitFor(from, regexp.MustCompile(regexp.QuoteMeta(line)+`\r?\n(?s:.*)=> $`), 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return u.con.Text()[from:end]
}

// wait waits for QEMU to exit by itself.
func (u *uboot) wait(timeout time.Duration) error {
	select {
	case err := <-u.done:
		u.done <- err
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("still running after %v", timeout)
	}
}

// stop kills QEMU, if it runs, and waits for it.
func (u *uboot) stop() {
	select {
	case err := <-u.done:
		u.done <- err
		return
	default:
	}
	u.cmd.Process.Kill()
	u.done <- <-u.done
}

func differ(a, b []byte) int {
	n := 0
	for i := range a {
		if i >= len(b) || a[i] != b[i] {
			n++
		}
	}
	return n
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
