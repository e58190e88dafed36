package transform

import (
	"testing"
	"testing/fstest"

	"github.com/harden-dev/harden/buildctx"
)

// docExampleContexts are the build contexts rules that read the context
// check their documentation examples with (see TestRuleDocExamples): the
// Bad example's, then the Good example's, matching the comments in them.
var docExampleContexts = map[string][2]fstest.MapFS{
	"context-secrets": {
		{
			"app.py": {Data: []byte("print(1)\n")},
			".env":   {Data: []byte("TOKEN=not-a-real-token\n")},
			"id_rsa": {Data: []byte("-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----\n")},
		},
		{
			"app.py":        {Data: []byte("print(1)\n")},
			".env":          {Data: []byte("TOKEN=not-a-real-token\n")},
			"id_rsa":        {Data: []byte("-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----\n")},
			".dockerignore": {Data: []byte(".env\nid_rsa*\n")},
		},
	},
}

func contextOf(t *testing.T, files fstest.MapFS) *buildctx.Context {
	t.Helper()
	ctx, err := buildctx.FromFS(files, ".", "Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	return ctx
}
