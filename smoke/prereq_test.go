package smoke_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"

	"github.com/harden-dev/harden/smoke"
)

func TestMissingPrerequisitesAreATypedError(t *testing.T) {
	opts := smoke.Options{Runc: "/nonexistent/runc"}
	want := "runc"
	if os.Geteuid() != 0 {
		opts.Runc, want = "", "root"
	}
	_, err := smoke.Run(context.Background(), empty.Image, opts)
	if !errors.Is(err, smoke.ErrPrereq) || !strings.Contains(err.Error(), want) {
		t.Fatalf("want ErrPrereq naming %s, got %v", want, err)
	}
}
