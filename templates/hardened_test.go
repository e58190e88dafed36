package templates

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"go.yaml.in/yaml/v3"

	"github.com/harden-dev/harden/baseimage"
	"github.com/harden-dev/harden/buildctx"
	"github.com/harden-dev/harden/detect"
	"github.com/harden-dev/harden/dockerfile"
	"github.com/harden-dev/harden/ignore"
	"github.com/harden-dev/harden/transform"
)

// knownFalsePositives lists, per case and rule, the findings a rule reports
// on a template that the template is right about. Each entry must say why;
// the rule's owner fixes the rule and removes the entry. Keep it short.
var knownFalsePositives = map[string]map[string]string{}

// TestRendersAreHardened is the promise of harden new: for every case,
// the rendered Dockerfile parses with BuildKit's parser, harden check
// (every rule, structural level, the rendered folder as build context with
// its rendered .dockerignore) finds nothing, and harden fix changes
// nothing.
func TestRendersAreHardened(t *testing.T) {
	for _, fx := range loadFixtures(t) {
		t.Run(fx.name, func(t *testing.T) {
			dir, _, files := fx.render(t)
			src := fileData(t, files, Dockerfile)
			ctx, err := buildctx.Open(dir, Dockerfile)
			if err != nil {
				t.Fatal(err)
			}
			if ctx.IgnoreFile != DockerIgnore {
				t.Fatalf("the build context reads %q, not the rendered .dockerignore", ctx.IgnoreFile)
			}
			df, err := dockerfile.Parse(Dockerfile, src)
			if err != nil {
				t.Fatalf("the render does not parse: %v", err)
			}
			// With detection's facts, as the engine gets them from callers
			// that detect, and without, as harden check runs today.
			facts := detect.Detect(ctx, df)
			for _, opts := range []struct {
				name  string
				facts *detect.Result
			}{{"with facts", facts}, {"without facts", nil}} {
				t.Run(opts.name, func(t *testing.T) {
					o := transform.Options{Level: transform.LevelStructural, Context: ctx, Facts: opts.facts}
					t.Run("check", func(t *testing.T) {
						findings, err := transform.Check(Dockerfile, src, o)
						if err != nil {
							t.Fatal(err)
						}
						reportFindings(t, fx, findings)
					})
					t.Run("ignore", func(t *testing.T) {
						// harden fix also plans the .dockerignore: it must have
						// nothing to add to the rendered one.
						res, err := ignore.ForDockerfile(filepath.Join(dir, Dockerfile), "", df, ignore.Options{Ecosystems: opts.facts.Ecosystems()})
						if err != nil {
							t.Fatal(err)
						}
						for _, c := range res.Added {
							t.Errorf("harden fix adds %s to the .dockerignore: %s", c.Pattern, c.Reason)
						}
						if res.Changed() && len(res.Added) == 0 {
							t.Errorf("harden fix rewrites the .dockerignore:\n%s", res.New)
						}
					})
					t.Run("fix", func(t *testing.T) {
						res, err := transform.Fix(Dockerfile, src, o)
						if err != nil {
							t.Fatal(err)
						}
						for _, c := range res.Changes {
							t.Errorf("harden fix changed line %d: %s (%s): %s", c.Line, c.Rule.Name, c.Rule.ID, c.Description)
						}
						if res.Changed() {
							t.Errorf("harden fix rewrote the render:\n%s", res.Output)
						}
						reportFindings(t, fx, res.Findings)
					})
				})
			}
		})
	}
}

// reportFindings fails for each finding that is neither expected by the
// case (@finding) nor a known false positive, and for each expected one
// that did not appear.
func reportFindings(t *testing.T, fx fixture, findings []transform.Finding) {
	t.Helper()
	name := fx.name
	seen := map[string]bool{}
	defer func() {
		for rule := range fx.findings {
			if !seen[rule] {
				t.Errorf("the case expects a %s finding (@finding), and harden reported none", rule)
			}
		}
	}()
	for _, f := range findings {
		if fx.findings[f.Rule.Name] {
			seen[f.Rule.Name] = true
			continue
		}
		if why, ok := knownFalsePositives[name][f.Rule.ID]; ok {
			t.Run(f.Rule.ID, func(t *testing.T) {
				t.Skipf("%s (%s) on line %d is a false positive of the rule: %s", f.Rule.Name, f.Rule.ID, f.Line, why)
			})
			continue
		}
		t.Errorf("Dockerfile:%d: %s: %s (%s): %s", f.Line, f.Severity, f.Rule.Name, f.Rule.ID, f.Message)
	}
}

// TestDockerIgnoreKeepsWhatTheBuildReads checks every COPY and ADD source
// from the build context, and every bind mount, against the rendered
// .dockerignore: each must exist in the case's folder and reach the builder.
func TestDockerIgnoreKeepsWhatTheBuildReads(t *testing.T) {
	for _, fx := range loadFixtures(t) {
		t.Run(fx.name, func(t *testing.T) {
			dir, _, files := fx.render(t)
			ctx, err := buildctx.Open(dir, Dockerfile)
			if err != nil {
				t.Fatal(err)
			}
			df, err := dockerfile.Parse(Dockerfile, fileData(t, files, Dockerfile))
			if err != nil {
				t.Fatal(err)
			}
			for _, ins := range df.Instructions {
				for _, src := range contextSources(ins) {
					matches := []string{src}
					if strings.ContainsAny(src, "*?[") {
						if matches, err = ctx.Glob(src); err != nil || len(matches) == 0 {
							t.Errorf("line %d: %s matches nothing in the case's folder", ins.Line, src)
						}
					}
					for _, m := range matches {
						switch {
						case !ctx.Exists(m):
							t.Errorf("line %d: %s copies %s, which the case's folder does not have", ins.Line, ins.Keyword, m)
						case !ctx.Sent(m):
							t.Errorf("line %d: %s copies %s, which the rendered .dockerignore excludes", ins.Line, ins.Keyword, m)
						}
					}
				}
			}
			if secret := filepath.Join(dir, ".env"); fileExists(secret) && !ctx.Ignored(".env") {
				t.Errorf("the rendered .dockerignore sends .env to the builder")
			}
		})
	}
}

// contextSources lists the build-context paths an instruction reads.
func contextSources(ins *dockerfile.Instruction) []string {
	switch c := ins.Command.(type) {
	case *instructions.CopyCommand:
		if c.From == "" {
			return c.SourcePaths
		}
	case *instructions.AddCommand:
		return c.SourcePaths
	case *instructions.RunCommand:
		var out []string
		for _, m := range instructions.GetMounts(c) {
			if m.Type == instructions.MountTypeBind && m.From == "" {
				out = append(out, firstOf(m.Source, "."))
			}
		}
		return out
	}
	return nil
}

// TestComposeRunsHardened checks compose.yaml's promises: read-only root,
// no privilege escalation, no capabilities, memory and CPU limits, a tmpfs
// for /tmp and for every path the app writes, and the app's port.
func TestComposeRunsHardened(t *testing.T) {
	for _, fx := range loadFixtures(t) {
		t.Run(fx.name, func(t *testing.T) {
			_, app, files := fx.render(t)
			var doc struct {
				Services map[string]struct {
					Build       string   `yaml:"build"`
					ReadOnly    bool     `yaml:"read_only"`
					SecurityOpt []string `yaml:"security_opt"`
					CapDrop     []string `yaml:"cap_drop"`
					Tmpfs       []string `yaml:"tmpfs"`
					Ports       []string `yaml:"ports"`
					Deploy      struct {
						Resources struct {
							Limits struct {
								Memory string `yaml:"memory"`
								CPUs   string `yaml:"cpus"`
							} `yaml:"limits"`
						} `yaml:"resources"`
					} `yaml:"deploy"`
				} `yaml:"services"`
			}
			if err := yaml.Unmarshal(fileData(t, files, Compose), &doc); err != nil {
				t.Fatal(err)
			}
			svc, ok := doc.Services[app.Name]
			if !ok || len(doc.Services) != 1 {
				t.Fatalf("services %v, want exactly %s", doc.Services, app.Name)
			}
			if svc.ReadOnly != app.ReadOnlyRoot() {
				t.Errorf("read_only is %v; the app writes %v in the image outside the tmpfs mounts %v", svc.ReadOnly, app.Grants, app.Writable)
			}
			if !slices.Contains(svc.SecurityOpt, "no-new-privileges:true") {
				t.Errorf("security_opt %v lacks no-new-privileges:true", svc.SecurityOpt)
			}
			if !slices.Equal(svc.CapDrop, []string{"ALL"}) {
				t.Errorf("cap_drop %v, want [ALL]", svc.CapDrop)
			}
			if lim := svc.Deploy.Resources.Limits; lim.Memory == "" || lim.CPUs == "" {
				t.Errorf("limits %+v, want memory and cpus", lim)
			}
			for _, p := range append([]string{"/tmp"}, app.Writable...) {
				if !slices.Contains(svc.Tmpfs, p) {
					t.Errorf("tmpfs %v lacks %s", svc.Tmpfs, p)
				}
			}
			wantPorts := []string(nil)
			if app.Port != 0 {
				wantPorts = []string{fmt.Sprintf("%d:%d", app.Port, app.Port)}
			}
			if !slices.Equal(svc.Ports, wantPorts) {
				t.Errorf("ports %v, want %v", svc.Ports, wantPorts)
			}
			if svc.Build != "." {
				t.Errorf("build %q, want .", svc.Build)
			}
		})
	}
}

// TestDockerfilePromises checks what every template promises, independently
// of the rules that also look for it: pinned base images, an explicit
// non-root user in the final stage (or an image that runs as one), and
// exec-form commands.
func TestDockerfilePromises(t *testing.T) {
	for _, fx := range loadFixtures(t) {
		t.Run(fx.name, func(t *testing.T) {
			_, _, files := fx.render(t)
			df, err := dockerfile.Parse(Dockerfile, fileData(t, files, Dockerfile))
			if err != nil {
				t.Fatal(err)
			}
			for _, st := range df.Stages {
				ref, _, isImage := st.Image()
				if !isImage {
					continue
				}
				if r := baseimage.Parse(ref); r.Tag == "" && r.Digest == "" || r.Tag == "latest" {
					t.Errorf("line %d: %s is not pinned", st.From.Line, ref)
				}
			}
			final := df.FinalStage()
			user := ""
			for _, ins := range final.Instructions {
				switch ins.Keyword {
				case "user":
					user = ins.Args()[0]
				case "cmd", "entrypoint":
					if !ins.IsJSON() {
						t.Errorf("line %d: %s is in shell form", ins.Line, strings.ToUpper(ins.Keyword))
					}
				}
			}
			ref, _, _ := final.Image()
			img := detect.Image(ref)
			switch {
			case user == "" && !img.NonRootDefault:
				t.Errorf("the final stage (%s) has no USER and its image runs as root", ref)
			case user != "" && (user == "root" || strings.HasPrefix(user, "0")):
				t.Errorf("the final stage runs as %s", user)
			}
			if df.Src[0] != '#' || !strings.HasPrefix(string(df.Src), "# syntax=docker/dockerfile:1\n") {
				t.Error("the render does not start with the syntax directive")
			}
		})
	}
}

func fileData(t testing.TB, files []File, name string) []byte {
	t.Helper()
	for _, f := range files {
		if f.Name == name {
			return f.Data
		}
	}
	t.Fatalf("no %s rendered", name)
	return nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
