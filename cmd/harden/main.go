// Command harden turns an insecure, bloated Dockerfile into a hardened one,
// explains every change, and can prove the result with BuildKit.
package main

import (
	"os"

	"github.com/harden-dev/harden/cmd"
)

func main() {
	os.Exit(cmd.Main(cmd.System()))
}
