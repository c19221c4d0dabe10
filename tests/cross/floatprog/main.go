// Command floatprog does float32 and float64 arithmetic on numbers from its
// arguments, so that nothing is folded at compile time, and prints the
// results. The cross test compares its output under qemu-user with the same
// computation done natively: a soft-float mistake shows as a crash or a
// wrong digit.
package main

import (
	"fmt"
	"os"
	"strconv"

	"bazwrt/tests/cross/floatprog/calc"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: floatprog X N")
		os.Exit(2)
	}
	x, err := strconv.ParseFloat(os.Args[1], 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Print(calc.Report(x, n))
}
