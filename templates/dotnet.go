package templates

import (
	"fmt"
	"path"
	"strings"

	"github.com/harden-dev/harden/detect"
)

// DotNet is what the .NET template needs.
type DotNet struct {
	// Project is the project file dotnet publish builds, relative to the app.
	Project string
	// Assembly is the published DLL the runtime starts ("Api.dll").
	Assembly string
	// Web is set for ASP.NET Core apps (Microsoft.NET.Sdk.Web), which run
	// on the aspnet image and listen on a port; other apps (workers) run on
	// the plain runtime image.
	Web bool
}

func fillDotNet(a *App, p *project) error {
	a.Variant = "dotnet"
	a.PackageManager = "nuget"
	facts := p.facts.DotNet
	if facts == nil {
		facts = &detect.DotNetFacts{}
	}
	d := &DotNet{Web: facts.SDK == "" || facts.SDK == "Microsoft.NET.Sdk.Web" || a.Framework == "aspnetcore"}
	a.DotNet = d
	project := facts.Project
	if p.entry != "" {
		project = p.entry
	}
	if project == "" {
		project = a.Name + ".csproj"
		a.note("harden found no project file: the Dockerfile publishes %s; pass --entrypoint with the .csproj", project)
	}
	clean, ok := cleanRel(project)
	if !ok {
		return fmt.Errorf("the project %s is outside the app's folder", project)
	}
	d.Project = clean
	assembly := facts.AssemblyName
	if assembly == "" || p.entry != "" {
		assembly = strings.TrimSuffix(path.Base(clean), path.Ext(clean))
	}
	d.Assembly = assembly + ".dll"
	// Tags name the runtime's major.minor ("8.0"); a target framework says "net8.0".
	a.Version = strings.TrimPrefix(a.Version, "net")
	if d.Web {
		if a.Port == 0 {
			a.Port = 8080
		}
	} else {
		a.Port = 0
	}
	a.Command = []string{"dotnet", d.Assembly}
	return nil
}
