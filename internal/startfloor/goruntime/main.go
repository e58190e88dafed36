// Command goruntime prints one line; see package startfloor.
package main

import "os"

func main() {
	os.Stdout.WriteString("ok\n")
}
