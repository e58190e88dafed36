package detect

import (
	"github.com/harden-dev/harden/buildctx"
	"github.com/harden-dev/harden/dockerfile"
	"github.com/harden-dev/harden/runmodel"
)

// RunImage is what runmodel needs to know about a base image.
func (f ImageFacts) RunImage() runmodel.Image {
	img := runmodel.Image{Ref: f.Ref, Distro: f.Distro, Runtime: f.Runtime, Flavor: f.Flavor, Port: f.Port}
	if u := f.User; u != nil {
		img.User = &runmodel.User{Name: u.Name, UID: u.UID, GID: u.UID, Group: u.Name, Home: u.Home, HomeExists: u.HomeOwned,
			Why: runmodel.Evidence{Why: f.Ref + " ships the user"}}
	}
	return img
}

// Runtime models what the final stage of a Dockerfile does when its image
// runs (see package runmodel), with the framework detection found.
func Runtime(ctx *buildctx.Context, df *dockerfile.File, r *Result) *runmodel.Model {
	if df == nil || len(df.Stages) == 0 {
		return nil
	}
	var img ImageFacts
	for _, b := range r.Base {
		img = b // the last stage's facts (its base's, when it builds on a stage)
	}
	return runmodel.Analyze(runmodel.Input{File: df, Context: ctx, Framework: r.Framework, Ecosystem: string(r.Ecosystem), Image: img.RunImage()})
}
