package cmd

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/harden-dev/harden/baseimage"
	"github.com/harden-dev/harden/buildctx"
	"github.com/harden-dev/harden/config"
	"github.com/harden-dev/harden/detect"
	"github.com/harden-dev/harden/dockerfile"
	"github.com/harden-dev/harden/transform"
)

// prepared is one Dockerfile made ready for the engine: its text, build
// context, settings and what detection says about the app. fix and check
// share it so that both see a file the same way.
type prepared struct {
	name    string
	src     []byte
	file    *dockerfile.File
	ctx     *buildctx.Context
	facts   *detect.Result
	options transform.Options
}

// prepareTarget reads one target and gathers everything the rules need.
// The data flows one way: context and settings, then detection, then the
// engine's options.
func prepareTarget(t target, stdin io.Reader, contextDir string, cfg *config.Config, rules []*transform.Rule, only []string, level transform.Level) (*prepared, error) {
	src, name, err := readTarget(t, stdin)
	if err != nil {
		return nil, err
	}
	ctx, err := openContext(t, contextDir)
	if err != nil {
		return nil, fmt.Errorf("%s: build context: %w", name, err)
	}
	parsed, err := dockerfile.Parse(name, src)
	if err != nil {
		return nil, err
	}
	facts := detect.Detect(ctx, parsed)
	opts := transform.Options{Rules: rules, Level: level, Context: ctx, Facts: facts}
	cfg.Apply(&opts, only)
	if cfg != nil {
		opts.Images = baseimage.Mapping{Overrides: cfg.BaseImages}
		if cfg.User != nil {
			opts.User = transform.RuntimeUser{Name: cfg.User.Name, UID: cfg.User.UID, GID: cfg.User.GID}
		}
		opts.MigrateVolumes = cfg.MigrateVolumes
	}
	return &prepared{name: name, src: src, file: parsed, ctx: ctx, facts: facts, options: opts}, nil
}

// contextDirOf is the build context folder of a target on disk.
func contextDirOf(t target, contextDir string) string {
	if contextDir != "" || t.stdin {
		return contextDir
	}
	return filepath.Dir(t.path)
}

// configFor returns the settings for one Dockerfile: --config, or the
// .harden.yaml nearest above it (above the context folder for stdin).
func configFor(t target, contextDir string, explicit *config.Config, cache *config.Cache) (*config.Config, error) {
	if explicit != nil {
		return explicit, nil
	}
	dir := filepath.Dir(t.path)
	if t.stdin {
		dir = contextDir
		if dir == "" {
			dir = "."
		}
	}
	return cache.ForDir(dir)
}
