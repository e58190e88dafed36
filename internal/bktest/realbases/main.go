// Command realbases builds the realistic base images of the BuildKit
// end-to-end tests (bktest.StartReal) into the cache, or finds them there,
// and prints for each base its names, its compressed and uncompressed size
// and how long the build that made it took. scripts/e2e-setup.sh runs it so
// that no test waits for a cold build.
//
//	go run ./internal/bktest/realbases
//
// Run it as root from the repository.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/harden-dev/harden/internal/bktest"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "realbases:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	bases, err := bktest.EnsureRealBases(ctx, os.Stderr)
	if err != nil {
		return err
	}
	total, per := bases.BuildSeconds()
	fmt.Printf("realistic bases in %s (ready in %.1fs; the cold build took %.0fs)\n\n", bases.Dir, time.Since(start).Seconds(), total)
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "base\tcompressed MB\tuncompressed MB\tbuild s\tnames\t")
	for _, b := range bases.Bases() {
		c, u, err := bases.Size(b)
		if err != nil {
			return err
		}
		var names []string
		for _, n := range bktest.DefaultRealNames {
			if n.Base == b {
				names = append(names, n.Ref)
			}
		}
		fmt.Fprintf(w, "%s\t%.1f\t%.1f\t%.0f\t%s\t\n", b, mb(c), mb(u), per[b], strings.Join(names, " "))
	}
	return w.Flush()
}

func mb(n int64) float64 { return float64(n) / 1e6 }
