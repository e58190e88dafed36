// Package buildjob is what harden hands to harden-build, its BuildKit
// companion program: the Dockerfiles to build and compare, and how.
//
// harden itself never links the BuildKit client. That client, with gRPC,
// OpenTelemetry and the registry libraries beneath it, more than doubled the
// start-up time of every harden process, and bots start one per Dockerfile.
// So the commands that build images (report, fix --build, fix --verify)
// harden the files in process as usual, then run harden-build with a Job on
// its standard input; harden-build prints the result to its standard output
// and exits with the code harden passes on. fix --verify runs it several
// times per Dockerfile: which variants of the file to build next depends on
// how the last ones fared (see package verify). This package holds only that
// contract and the launcher, so it stays light enough for harden to import.
package buildjob

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Protocol is the version of the Job encoding. harden-build refuses a job
// of another version instead of guessing, so a harden and a harden-build
// from different releases fail with advice, not a half-read job.
//
// Version 2 added the probe and verify kinds, TLS settings and the smoke
// check's port, HTTP path and timeout. Version 3 added the resolve kind.
const Protocol = 3

// Kind is what harden-build is asked to produce.
type Kind string

const (
	// KindReport is harden report: one Input, the report in Job.Format.
	KindReport Kind = "report"
	// KindPullRequest is harden fix --build: a Markdown report per Input,
	// for the pull-request body.
	KindPullRequest Kind = "pull-request"
	// KindProbe is asked before anything else by fix --verify: can
	// BuildKit be reached, and can the smoke check run here? The answer is
	// a ProbeResult in JSON.
	KindProbe Kind = "probe"
	// KindVerify builds each of Job.Candidates and starts it with the
	// smoke check; the answer is a VerifyResult in JSON.
	KindVerify Kind = "verify"
	// KindResolve looks up the current digest of each of Job.Images
	// through BuildKit, for Job.Platform, without building anything; the
	// answer is a ResolveResult in JSON. harden asks it for the runtime
	// images a rewrite left without the pin their base image had.
	KindResolve Kind = "resolve"
)

// Exit codes of harden-build, the same as harden's.
const (
	ExitOK = 0
	// ExitFailed: a build or the smoke check failed; the output says which.
	ExitFailed = 1
	// ExitError: the job could not be run (BuildKit unreachable, bad job);
	// the reason is on standard error.
	ExitError = 2
)

// Job is one request from harden to harden-build.
type Job struct {
	Protocol int  `json:"protocol"`
	Kind     Kind `json:"kind"`
	// BuildKitHost is the --buildkit-host address; empty finds BuildKit as
	// harden documents ($BUILDKIT_HOST, then the usual sockets).
	BuildKitHost string  `json:"buildkit_host,omitempty"`
	Inputs       []Input `json:"inputs"`

	BuildArgs map[string]string `json:"build_args,omitempty"`
	Target    string            `json:"target,omitempty"`
	Platform  string            `json:"platform,omitempty"`
	NoCache   bool              `json:"no_cache,omitempty"`
	Progress  Progress          `json:"progress,omitempty"`
	Format    Format            `json:"format,omitempty"`
	// LayoutDir keeps both images of a report as OCI layouts.
	LayoutDir string `json:"layout_dir,omitempty"`
	// Smoke is the check run on each hardened image (each candidate, for
	// KindVerify); nil skips it.
	Smoke *Smoke `json:"smoke,omitempty"`
	// TLS authenticates to a BuildKit on tcp://; zero means none.
	TLS TLS `json:"tls,omitzero"`
	// Candidates are the files a KindVerify job builds and starts.
	Candidates []Candidate `json:"candidates,omitempty"`
	// BuildTimeout bounds each build of a KindVerify job; zero means
	// DefaultBuildTimeout.
	BuildTimeout time.Duration `json:"build_timeout_ns,omitempty"`
	// StopAt makes a KindVerify job stop at the first candidate that
	// works, or fails; the others are cut off and their verdicts marked
	// Skipped. Empty tries them all.
	StopAt StopAt `json:"stop_at,omitempty"`
	// Images are the references a KindResolve job looks up, as a
	// Dockerfile writes them ("python:3.12-slim").
	Images []string `json:"images,omitempty"`
}

// StopAt says when a KindVerify job has learnt enough. The candidates are
// started in the job's order either way.
type StopAt string

const (
	// StopAtWorking: the candidates go best first, and the first that
	// works is the answer.
	StopAtWorking StopAt = "working"
	// StopAtFailing: every candidate must work for the answer to matter
	// (the original first), so the first that fails ends the job.
	StopAtFailing StopAt = "failing"
)

// DefaultBuildTimeout bounds one build of fix --verify: a cold build of a
// real app with its dependencies fits with room to spare, and a build that
// hangs (a RUN waiting on the network) is cut off.
const DefaultBuildTimeout = 15 * time.Minute

// TLS holds buildctl's TLS settings for a daemon on tcp:// (see package
// build, which applies them).
type TLS struct {
	CACert     string `json:"cacert,omitempty"`
	Cert       string `json:"cert,omitempty"`
	Key        string `json:"key,omitempty"`
	ServerName string `json:"servername,omitempty"`
	Dir        string `json:"dir,omitempty"`
}

// IsZero reports whether no setting is given.
func (t TLS) IsZero() bool { return t == TLS{} }

// Candidate is one version of a Dockerfile for fix --verify to build and
// start: the original, the full rewrite, or the rewrite without some rules.
type Candidate struct {
	// Name labels the candidate in progress and messages.
	Name string `json:"name"`
	// ContextDir is the build context.
	ContextDir string `json:"context_dir"`
	// Dockerfile is the file's content.
	Dockerfile []byte `json:"dockerfile"`
	// Ignore is the ignore file for this build; nil leaves the context's
	// own .dockerignore in force.
	Ignore []byte `json:"ignore,omitempty"`
}

// Smoke is how the hardened image is started and checked.
type Smoke struct {
	// Command is --smoke as the user typed it (see ParseSmokeCommand): run
	// inside the container, it must exit 0. Empty means the default check
	// (its port answers, or it keeps running).
	Command string `json:"command,omitempty"`
	// Required makes a check that cannot run (no root, no runc) an error
	// rather than a note: the user asked for it by name.
	Required bool `json:"required,omitempty"`
	// Port is the TCP port to wait for instead of the image's EXPOSE; 0
	// means the image's.
	Port int `json:"port,omitempty"`
	// HTTPPath makes the port check an HTTP GET of this path that must
	// answer below 500.
	HTTPPath string `json:"http_path,omitempty"`
	// Timeout is how long a started image gets to answer, or the command
	// to finish; zero means the smoke check's default.
	Timeout time.Duration `json:"timeout_ns,omitempty"`
}

// Input is one Dockerfile to build before and after hardening.
type Input struct {
	// Dockerfile is the path the user named, for headings.
	Dockerfile string `json:"dockerfile"`
	// ContextDir is the build context both builds use.
	ContextDir string `json:"context_dir"`
	// Original and Hardened are the two files' contents; the hardened one
	// only ever lives in memory.
	Original []byte `json:"original"`
	Hardened []byte `json:"hardened"`
	// OriginalIgnore and HardenedIgnore are the ignore files each build
	// uses (nil: the context's .dockerignore): the user's own for the
	// original, the one harden fix would write for the hardened file.
	OriginalIgnore []byte `json:"original_ignore,omitempty"`
	HardenedIgnore []byte `json:"hardened_ignore,omitempty"`
	// Changes is how many changes harden made.
	Changes int `json:"changes"`
}

// Encode writes job for harden-build, stamped with this Protocol.
func Encode(w io.Writer, job Job) error {
	job.Protocol = Protocol
	return json.NewEncoder(w).Encode(job)
}

// Decode reads a job written by Encode and checks that it is one this
// program understands.
func Decode(r io.Reader) (Job, error) {
	var job Job
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&job); err != nil {
		if errors.Is(err, io.EOF) {
			return Job{}, errors.New("no job on standard input: harden-build is run by harden report and harden fix --build")
		}
		return Job{}, fmt.Errorf("reading the job from harden: %w (are harden and harden-build from the same release?)", err)
	}
	if job.Protocol != Protocol {
		return Job{}, fmt.Errorf("the job is protocol version %d, this harden-build reads version %d: install harden and harden-build from the same release", job.Protocol, Protocol)
	}
	switch job.Kind {
	case KindReport:
		if len(job.Inputs) != 1 {
			return Job{}, fmt.Errorf("a report job has one Dockerfile, this one has %d", len(job.Inputs))
		}
	case KindPullRequest, KindProbe:
	case KindResolve:
		if len(job.Images) == 0 {
			return Job{}, errors.New("a resolve job has no images")
		}
	case KindVerify:
		if len(job.Candidates) == 0 {
			return Job{}, errors.New("a verify job has no candidates")
		}
		if job.StopAt != "" && job.StopAt != StopAtWorking && job.StopAt != StopAtFailing {
			return Job{}, fmt.Errorf("unknown stop_at %q", job.StopAt)
		}
	default:
		return Job{}, fmt.Errorf("unknown job kind %q", job.Kind)
	}
	if _, err := ParseProgress(string(job.Progress)); err != nil {
		return Job{}, err
	}
	if _, err := ParseFormat(string(job.Format)); err != nil && job.Format != "" {
		return Job{}, err
	}
	return job, nil
}

// Format is an output format of a report.
type Format string

const (
	FormatText     Format = "text"
	FormatMarkdown Format = "markdown"
	FormatJSON     Format = "json"
)

// ParseFormat validates a --format value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case FormatText, FormatMarkdown, FormatJSON:
		return f, nil
	case "md":
		return FormatMarkdown, nil
	}
	return "", fmt.Errorf("unknown format %q (want text, markdown or json)", s)
}

// Progress selects how BuildKit's progress is shown.
type Progress string

const (
	ProgressAuto  Progress = "auto"  // tty when writing to a terminal, else plain
	ProgressPlain Progress = "plain" // one line per event, good for logs
	ProgressTTY   Progress = "tty"   // interactive; errors if not a terminal
	ProgressQuiet Progress = "quiet" // nothing
)

// ParseProgress validates a --progress value.
func ParseProgress(s string) (Progress, error) {
	switch m := Progress(s); m {
	case ProgressAuto, ProgressPlain, ProgressTTY, ProgressQuiet:
		return m, nil
	case "":
		return ProgressAuto, nil
	}
	return "", fmt.Errorf("invalid progress mode %q (want auto, plain, tty or quiet)", s)
}
