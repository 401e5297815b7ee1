package pprofspec

import "testing"

var result int

func TestWork(t *testing.T) {
	v := Variant()
	fibN, sq, sq2, allocN := 34, 150_000_000, 100_000_000, 20000
	if v == "b" {
		fibN, sq, sq2, allocN = 35, 60_000_000, 100_000_000, 60000
	}
	for r := 0; r < 3; r++ {
		result += fib(fibN)
		result += sumMix(sq)
		result += viaPtr(sq2)
		allocate(allocN, 4096)
		smallAlloc(allocN * 4)
	}
}
