//go:build !unix

package smoke

import (
	"context"
	"errors"
	"time"
)

// lockPorts: the smoke check starts containers with runc, which needs a
// Linux host; elsewhere harden-build still builds and measures images, and
// the check reports that it cannot run.
func lockPorts(context.Context, []int, time.Duration) (func(), error) {
	return nil, errors.New("the smoke check runs containers with runc, which needs Linux")
}
