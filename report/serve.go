package report

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"mvdan.cc/sh/v3/expand"

	"github.com/harden-dev/harden/build"
	"github.com/harden-dev/harden/buildjob"
	"github.com/harden-dev/harden/smoke"
)

// Serve runs one job from harden (see package buildjob) and returns
// harden-build's exit code: buildjob.ExitOK, ExitFailed when a build or a
// smoke check failed, ExitError when the job could not run. The result goes
// to out; BuildKit's progress and every failure go to errOut, worded for the
// person who ran harden and never typed harden-build.
func Serve(in io.Reader, out, errOut io.Writer) int {
	fail := func(err error) int {
		fmt.Fprintf(errOut, "harden: %v\n", err)
		return buildjob.ExitError
	}
	job, err := buildjob.Decode(in)
	if err != nil {
		return fail(err)
	}
	// harden passes on the signals it gets; cancelling the context stops
	// the builds and removes the smoke-check container.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	client, err := build.Connect(ctx, job.BuildKitHost, build.ConnectOptions{TLS: tlsOptions(job.TLS)})
	if err != nil {
		return fail(err)
	}
	defer client.Close()
	switch job.Kind {
	case buildjob.KindProbe:
		if err := serveProbe(client, out); err != nil {
			return fail(err)
		}
		return buildjob.ExitOK
	case buildjob.KindResolve:
		if err := serveResolve(ctx, client, job, out); err != nil {
			return fail(err)
		}
		return buildjob.ExitOK
	case buildjob.KindVerify:
		if err := serveVerify(ctx, client, job, out, errOut); err != nil {
			return fail(err)
		}
		return buildjob.ExitOK
	case buildjob.KindPullRequest:
		code, err := servePullRequest(ctx, client, job, out, errOut)
		if err != nil {
			return fail(err)
		}
		return code
	}
	smokeOpts, err := smokeOptions(job.Smoke)
	if err != nil {
		return fail(err)
	}
	r, err := Run(ctx, client, job.Inputs[0], Options{
		BuildArgs: job.BuildArgs, Target: job.Target, Platform: job.Platform, NoCache: job.NoCache,
		Progress: job.Progress, ProgressOut: errOut, LayoutDir: job.LayoutDir, Smoke: smokeOpts,
	})
	if err != nil {
		return fail(err)
	}
	format := job.Format
	if format == "" {
		format = FormatText
	}
	if err := r.Write(out, format); err != nil {
		return fail(err)
	}
	return exitFor(r, format, job.Smoke, errOut)
}

// tlsOptions are the job's TLS settings, else BUILDKIT_TLS_* from the
// environment harden passed on.
func tlsOptions(t buildjob.TLS) build.TLS {
	return build.ResolveTLS(build.TLS{CACert: t.CACert, Cert: t.Cert, Key: t.Key, ServerName: t.ServerName, Dir: t.Dir})
}

func smokeOptions(s *buildjob.Smoke) (*smoke.Options, error) {
	if s == nil {
		return nil, nil
	}
	argv, err := smokeArgv(s.Command)
	if err != nil {
		return nil, fmt.Errorf("--smoke: %w", err)
	}
	opts := &smoke.Options{Exec: argv, HTTPPath: s.HTTPPath, Timeout: s.Timeout}
	if s.Port > 0 {
		opts.Ports = []string{fmt.Sprint(s.Port)}
	}
	return opts, nil
}

// smokeArgv is the argv of --smoke, its shell quoting removed; empty for
// the default check.
func smokeArgv(command string) ([]string, error) {
	if command == "" {
		return nil, nil
	}
	call, err := buildjob.ParseSmokeCommand(command)
	if err != nil {
		return nil, err
	}
	return expand.Fields(nil, call.Args...)
}

// exitFor turns a report into the exit code, explaining on errOut what the
// chosen format may not show to a person.
func exitFor(r *Report, format Format, asked *buildjob.Smoke, errOut io.Writer) int {
	if format != FormatText {
		for _, side := range []struct {
			name string
			img  Image
		}{{Original, r.Original}, {Hardened, r.Hardened}} {
			if f := side.img.Error; f != nil {
				fmt.Fprintln(errOut, "harden:", (&build.BuildError{Name: side.name, Step: f.Step, Log: f.Log, Err: errors.New(f.Message)}).Error())
			}
		}
	}
	if r.Smoke.Status == SmokeUnavailable && r.Hardened.Built {
		fmt.Fprintf(errOut, "harden: the smoke check did not run: %s\n", r.Smoke.Reason)
		if asked != nil && asked.Required {
			return buildjob.ExitError
		}
	}
	if r.Failed() {
		return buildjob.ExitFailed
	}
	return buildjob.ExitOK
}

// servePullRequest is harden fix --build: a Markdown report per changed
// Dockerfile for the pull-request body. A failed build or smoke check is
// not an error, since the Markdown says what failed, but it makes the exit
// code ExitFailed so that a bot does not open the request blindly.
func servePullRequest(ctx context.Context, client *build.Client, job buildjob.Job, out, errOut io.Writer) (int, error) {
	smokeOpts, err := smokeOptions(job.Smoke)
	if err != nil {
		return buildjob.ExitError, err
	}
	code := buildjob.ExitOK
	for i, in := range job.Inputs {
		r, err := Run(ctx, client, in, Options{Smoke: smokeOpts})
		if err != nil {
			return buildjob.ExitError, err
		}
		if r.Failed() {
			code = buildjob.ExitFailed
			fmt.Fprintf(errOut, "harden: %s: the original or the hardened image failed to build or to start; the pull-request body says which\n", in.Dockerfile)
		}
		if i > 0 {
			if _, err := io.WriteString(out, "\n"); err != nil {
				return buildjob.ExitError, err
			}
		}
		if err := r.WriteMarkdown(out); err != nil {
			return buildjob.ExitError, err
		}
	}
	return code, nil
}
