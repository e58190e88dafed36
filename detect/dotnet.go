package detect

import (
	"fmt"
	"path"
	"strings"

	"github.com/harden-dev/harden/internal/lazyre"
)

// msbuildProject is the part of a .csproj/.fsproj/.vbproj detection reads.
type msbuildProject struct {
	SDK            string `xml:"Sdk,attr"`
	PropertyGroups []struct {
		TargetFramework  string `xml:"TargetFramework"`
		TargetFrameworks string `xml:"TargetFrameworks"`
		AssemblyName     string `xml:"AssemblyName"`
		OutputType       string `xml:"OutputType"`
		IsTestProject    string `xml:"IsTestProject"`
	} `xml:"PropertyGroup"`
	ItemGroups []struct {
		Packages []struct {
			Include string `xml:"Include,attr"`
		} `xml:"PackageReference"`
	} `xml:"ItemGroup"`
}

// project is one parsed project file.
type project struct {
	path, sdk, tfm, assembly, outputType string
	// tfmFile is where tfm is set when the project inherits it.
	tfmFile string
	test    bool
}

// testPackages mark a test project.
var testPackages = []string{"Microsoft.NET.Test.Sdk", "xunit", "NUnit", "MSTest.TestFramework"}

// dotnetTFM reads modern target frameworks ("net8.0", "netcoreapp3.1");
// .NET Framework ones ("net48") run on Windows only.
var (
	dotnetTFM    = lazyre.New(`^net(?:coreapp)?(\d+\.\d+)`)
	netFramework = lazyre.New(`^net[1-4]\d*$`)
)

func detectDotNet(a *app, dir string) *hit {
	s := a.scan
	var files []string
	for _, f := range s.under(dir, 4) {
		switch path.Ext(f) {
		case ".csproj", ".fsproj", ".vbproj":
			if len(files) < 50 {
				files = append(files, f)
			}
		}
	}
	if len(files) == 0 {
		return nil
	}
	h := &hit{manifest: true, pm: "nuget"}
	dn := &DotNetFacts{}
	var projects []project
	for _, f := range files {
		var pr msbuildProject
		if !s.xmlDecode(f, &pr) {
			continue
		}
		p := readProject(f, pr)
		if p.tfm == "" {
			p.tfm, p.tfmFile = a.inheritedTFM(dir, path.Dir(f))
		}
		projects = append(projects, p)
	}
	if sln := s.glob(dir, "*.sln"); len(sln) > 0 {
		dn.Solution = sln[0]
	} else if slnx := s.glob(dir, "*.slnx"); len(slnx) > 0 {
		dn.Solution = slnx[0]
	}
	app := pickProject(projects)
	if app == nil {
		h.add(4, files[0], 0, "a .NET project")
		h.facts = func(r *Result) { r.DotNet = dn }
		return h
	}
	for _, pr := range projects {
		if pr.path != app.path {
			dn.OtherProjects = append(dn.OtherProjects, pr.path)
		}
	}
	a.setProject(h, dn, app)
	if lock := join(path.Dir(app.path), "packages.lock.json"); s.exists(lock) {
		h.pinned = true
		h.add(2, lock, 0, "packages.lock.json pins the NuGet packages")
	}
	if p := join(dir, "global.json"); s.exists(p) {
		doc := s.jsonObject(p)
		if v := str(doc, "sdk", "version"); v != "" {
			h.claim(claim("dotnet-sdk", v, p, lineOfKey(s.read(p), "version"), rankPinFile, "global.json"))
			h.pinned = true
		}
	}
	h.claim(s.toolVersions(dir, "dotnet-sdk"))
	h.facts = func(r *Result) { r.DotNet = dn }
	return h
}

func readProject(f string, pr msbuildProject) project {
	p := project{path: f, sdk: pr.SDK, assembly: strings.TrimSuffix(path.Base(f), path.Ext(f))}
	for _, g := range pr.PropertyGroups {
		if g.TargetFramework != "" && p.tfm == "" {
			p.tfm = strings.TrimSpace(g.TargetFramework)
		}
		if g.TargetFrameworks != "" && p.tfm == "" {
			first, _, _ := strings.Cut(g.TargetFrameworks, ";")
			p.tfm = strings.TrimSpace(first)
		}
		if g.AssemblyName != "" {
			p.assembly = strings.TrimSpace(g.AssemblyName)
		}
		if g.OutputType != "" {
			p.outputType = strings.TrimSpace(g.OutputType)
		}
		if strings.EqualFold(strings.TrimSpace(g.IsTestProject), "true") {
			p.test = true
		}
	}
	for _, g := range pr.ItemGroups {
		for _, pkg := range g.Packages {
			for _, t := range testPackages {
				if strings.EqualFold(pkg.Include, t) {
					p.test = true
				}
			}
		}
	}
	return p
}

// inheritedTFM finds the target framework a project inherits from the
// nearest Directory.Build.props between its folder and the root, as
// MSBuild imports it.
func (a *app) inheritedTFM(root, dir string) (tfm, file string) {
	for d := dir; ; d = path.Dir(d) {
		p := join(d, "Directory.Build.props")
		if a.scan.exists(p) {
			var props msbuildProject
			if a.scan.xmlDecode(p, &props) {
				return readProject(p, props).tfm, p
			}
			return "", ""
		}
		if d == root || d == "." || d == "/" {
			return "", ""
		}
	}
}

// pickProject chooses the application among a solution's projects: a web
// project, else an executable, else the first that is not a test.
func pickProject(projects []project) *project {
	var exe, other *project
	for i := range projects {
		p := &projects[i]
		switch {
		case p.test:
		case strings.HasPrefix(p.sdk, "Microsoft.NET.Sdk.Web") || p.sdk == "Microsoft.NET.Sdk.Worker" || strings.HasPrefix(p.sdk, "Microsoft.NET.Sdk.BlazorWebAssembly"):
			return p
		case strings.EqualFold(p.outputType, "Exe") && exe == nil:
			exe = p
		case other == nil:
			other = p
		}
	}
	if exe != nil {
		return exe
	}
	return other
}

func (a *app) setProject(h *hit, dn *DotNetFacts, p *project) {
	dn.Project, dn.SDK, dn.TargetFramework, dn.AssemblyName = p.path, p.sdk, p.tfm, p.assembly
	why := fmt.Sprintf("the %s project", p.sdk)
	if p.sdk == "" {
		why = "the project"
	}
	h.add(4, p.path, 0, why+" builds "+p.assembly+".dll")
	switch {
	case strings.HasPrefix(p.sdk, "Microsoft.NET.Sdk.BlazorWebAssembly"):
		h.framework = "blazor-wasm"
		h.entry = &Entrypoint{Kind: EntryDirectory, Value: "wwwroot"}
	case strings.HasPrefix(p.sdk, "Microsoft.NET.Sdk.Web"):
		h.framework = "aspnetcore"
	case p.sdk == "Microsoft.NET.Sdk.Worker":
		h.framework = "worker"
	}
	if h.entry == nil {
		h.entry = &Entrypoint{Kind: EntryAssembly, Value: p.assembly + ".dll"}
	}
	if m := dotnetTFM().FindStringSubmatch(p.tfm); m != nil {
		file := p.path
		if p.tfmFile != "" {
			file = p.tfmFile
		}
		h.claim(claim("dotnet", m[1], file, lineOf(a.scan.read(file), "<TargetFramework"), rankManifest, "TargetFramework "+p.tfm))
		if h.framework == "aspnetcore" {
			// The ASP.NET Core images listen on 8080 from .NET 8, 80 before.
			h.port = 80
			if compareVersions(m[1], "8") >= 0 {
				h.port = 8080
			}
		}
	} else if netFramework().MatchString(p.tfm) {
		h.conflicts = append(h.conflicts, fmt.Sprintf("%s targets .NET Framework (%s), which runs in Windows containers only", p.path, p.tfm))
	}
}

// refineDotNet adds the project the Dockerfile publishes.
func refineDotNet(a *app, r *Result) {
	if r.DotNet == nil {
		r.DotNet = &DotNetFacts{}
	}
	if p := a.df.dotnetProject; p.value != "" {
		r.Evidence = append(r.Evidence, Evidence{File: p.why.File, Line: p.why.Line, Why: p.why.Why + ": publishes " + p.value})
		if r.DotNet.Project != "" && path.Base(p.value) != path.Base(r.DotNet.Project) {
			r.Conflicts = append(r.Conflicts, fmt.Sprintf("%s:%d publishes %s but the application project looks like %s", p.why.File, p.why.Line, p.value, r.DotNet.Project))
		}
	}
}
