// Command bigprofile writes a large real Go heap profile (every allocation
// recorded, from hundreds of thousands of distinct call stacks), to measure
// `perfgate profile top` against `go tool pprof -top` on the same file.
//
//	go run . -o big.pb.gz -paths 400000
package main

import (
	"flag"
	"log"
	"os"
	"runtime"
	"runtime/pprof"
)

var sink [][]byte

// Eight functions, each calling one of the eight again by the next three
// bits of the path: every path is a distinct stack of depth levels.
func f0(p uint64, d int) { step(p, d) }
func f1(p uint64, d int) { step(p, d) }
func f2(p uint64, d int) { step(p, d) }
func f3(p uint64, d int) { step(p, d) }
func f4(p uint64, d int) { step(p, d) }
func f5(p uint64, d int) { step(p, d) }
func f6(p uint64, d int) { step(p, d) }
func f7(p uint64, d int) { step(p, d) }

var fns [8]func(uint64, int)

func init() { fns = [8]func(uint64, int){f0, f1, f2, f3, f4, f5, f6, f7} }

//go:noinline
func step(p uint64, d int) {
	if d == 0 {
		sink = append(sink, make([]byte, 64+int(p%512)))
		if len(sink) > 4096 {
			sink = sink[:0]
		}
		return
	}
	fns[p&7](p>>3, d-1)
}

func main() {
	out := flag.String("o", "big.pb.gz", "output file")
	paths := flag.Int("paths", 400000, "distinct call paths")
	depth := flag.Int("depth", 7, "calls per path (8^depth distinct stacks)")
	flag.Parse()
	runtime.MemProfileRate = 1
	for i := 0; i < *paths; i++ {
		p := uint64(i) * 0x9E3779B97F4A7C15 >> 11
		fns[p&7](p>>3, *depth)
	}
	runtime.GC()
	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		log.Fatal(err)
	}
}
