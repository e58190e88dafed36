package detect

import (
	"encoding/xml"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/harden-dev/harden/internal/lazyre"
)

// pom is the part of a Maven POM detection reads.
type pom struct {
	GroupID    string        `xml:"groupId"`
	ArtifactID string        `xml:"artifactId"`
	Version    string        `xml:"version"`
	Packaging  string        `xml:"packaging"`
	Parent     pomArtifact   `xml:"parent"`
	Properties properties    `xml:"properties"`
	Modules    []string      `xml:"modules>module"`
	Deps       []pomArtifact `xml:"dependencies>dependency"`
	Build      struct {
		FinalName string      `xml:"finalName"`
		Plugins   []pomPlugin `xml:"plugins>plugin"`
	} `xml:"build"`
}

type pomArtifact struct {
	GroupID    string `xml:"groupId"`
	ArtifactID string `xml:"artifactId"`
	Version    string `xml:"version"`
}

type pomPlugin struct {
	pomArtifact
	Configuration struct {
		Release string `xml:"release"`
		Source  string `xml:"source"`
	} `xml:"configuration"`
}

// properties reads <properties>, whose element names are free-form.
type properties map[string]string

func (p *properties) UnmarshalXML(d *xml.Decoder, _ xml.StartElement) error {
	*p = properties{}
	for {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			var v string
			if err := d.DecodeElement(&v, &t); err != nil {
				return err
			}
			(*p)[t.Name.Local] = strings.TrimSpace(v)
		case xml.EndElement:
			return nil
		}
	}
}

var pomProperty = lazyre.New(`\$\{([^}]+)\}`)

// resolve expands ${property} references from the POM's own properties
// and coordinates; ok is false when one is left unexpanded.
func (p *pom) resolve(s string) (string, bool) {
	ok := true
	out := pomProperty().ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-1]
		switch name {
		case "project.version", "version":
			if p.Version != "" && !strings.Contains(p.Version, "${") {
				return p.Version
			}
		case "project.artifactId", "artifactId":
			return p.ArtifactID
		}
		if v, found := p.Properties[name]; found && !strings.Contains(v, "${") {
			return v
		}
		ok = false
		return m
	})
	return strings.TrimSpace(out), ok
}

// javaFrameworks are recognised by group or plugin id.
var javaFrameworks = []struct{ name, marker string }{
	{"spring-boot", "org.springframework.boot"},
	{"quarkus", "io.quarkus"},
	{"micronaut", "io.micronaut"},
	{"dropwizard", "io.dropwizard"},
	{"helidon", "io.helidon"},
}

// javaCase is the facts plus where the Java release came from.
type javaCase struct {
	JavaFacts
	buildFile   string
	releaseFile string
	releaseLine int
}

func detectJava(a *app, dir string) *hit {
	s := a.scan
	h := &hit{}
	jc := &javaCase{}
	switch {
	case s.exists(join(dir, "pom.xml")):
		a.maven(h, jc, dir, join(dir, "pom.xml"))
	case a.firstExisting(dir, "build.gradle", "build.gradle.kts", "settings.gradle", "settings.gradle.kts") != "":
		a.gradle(h, jc, dir)
	default:
		return nil
	}
	if c, ok := s.pinFileClaim(join(dir, ".java-version"), "java", nil); ok {
		h.claim(c, true)
		h.pinned = true
	}
	if c, ok := s.sdkmanrc(dir); ok {
		h.claim(c, true)
		h.pinned = true
	}
	h.claim(s.toolVersions(dir, "java"))
	if jc.Release != "" {
		h.claim(claim("java", jc.Release, jc.releaseFile, jc.releaseLine, rankManifest, "the build's Java release"))
	}
	if jc.Artifact != "" {
		h.entry = &Entrypoint{Kind: EntryJar, Value: jc.Artifact}
		if jc.Packaging == "war" {
			h.entry.Kind = EntryWar
		}
		h.evidence = append(h.evidence, Evidence{File: jc.buildFile, Why: "the build produces " + jc.Artifact})
	}
	if h.framework != "" {
		a.javaPort(h, dir)
	}
	facts := jc.JavaFacts
	h.facts = func(r *Result) { r.Java = &facts }
	return h
}

func (a *app) maven(h *hit, jc *javaCase, dir, p string) {
	s := a.scan
	jc.BuildTool, h.pm, h.manifest, jc.buildFile = "maven", "maven", true, p
	h.add(4, p, 0, "pom.xml builds the project with Maven")
	if s.exists(join(dir, "mvnw")) {
		jc.Wrapper, h.pinned = true, true
		h.add(1, join(dir, "mvnw"), 0, "the Maven wrapper pins Maven's version")
		h.claim(s.wrapperVersion(join(dir, ".mvn/wrapper/maven-wrapper.properties"), "maven", mavenDist()))
	}
	var pm pom
	if !s.xmlDecode(p, &pm) {
		return
	}
	data := s.read(p)
	a.mavenFramework(h, jc, &pm, p, data)
	a.mavenRelease(jc, &pm, p, data)
	// A multi-module build: the application is the module that packages
	// a runnable application (Spring Boot's plugin), else the last one.
	if pm.Packaging == "pom" && len(pm.Modules) > 0 {
		jc.Modules = pm.Modules
		app := ""
		for i, m := range pm.Modules {
			if i >= 20 {
				break
			}
			mp := join(join(dir, m), "pom.xml")
			var sub pom
			if !s.exists(mp) || !s.xmlDecode(mp, &sub) {
				continue
			}
			if app == "" || sub.hasPlugin("spring-boot-maven-plugin") || sub.hasPlugin("quarkus-maven-plugin") {
				app = m
				if sub.Version == "" {
					sub.Version = pm.Version
				}
				if sub.Properties == nil {
					sub.Properties = properties{}
				}
				for k, v := range pm.Properties {
					if _, ok := sub.Properties[k]; !ok {
						sub.Properties[k] = v
					}
				}
				jc.Artifact, jc.Packaging = path.Join(m, sub.artifact(h.framework)), sub.packaging()
				if sub.hasPlugin("spring-boot-maven-plugin") || sub.hasPlugin("quarkus-maven-plugin") {
					if h.framework == "" {
						a.mavenFramework(h, jc, &sub, mp, s.read(mp))
						jc.Artifact = path.Join(m, sub.artifact(h.framework))
					}
					break
				}
			}
		}
		return
	}
	jc.Packaging = pm.packaging()
	jc.Artifact = pm.artifact(h.framework)
}

func (p *pom) packaging() string {
	if p.Packaging == "" {
		return "jar"
	}
	return p.Packaging
}

// artifact is the file `mvn package` writes, relative to the module.
func (p *pom) artifact(framework string) string {
	if framework == "quarkus" {
		return "target/quarkus-app/quarkus-run.jar"
	}
	ext := p.packaging()
	if ext == "pom" {
		return ""
	}
	name := p.Build.FinalName
	if name == "" {
		name = p.ArtifactID + "-" + p.Version
		if p.Version == "" {
			name = p.ArtifactID + "-" + p.Parent.Version
		}
	}
	if resolved, ok := p.resolve(name); ok && name != "" && !strings.HasSuffix(resolved, "-") {
		return "target/" + resolved + "." + ext
	}
	return "target/*." + ext
}

func (p *pom) hasPlugin(artifactID string) bool {
	for _, pl := range p.Build.Plugins {
		if pl.ArtifactID == artifactID {
			return true
		}
	}
	return false
}

func (a *app) mavenFramework(h *hit, jc *javaCase, pm *pom, p string, data []byte) {
	for _, fw := range javaFrameworks {
		found, line, version := false, 0, ""
		switch {
		case pm.Parent.GroupID == fw.marker:
			found, line, version = true, lineOf(data, "<parent>"), pm.Parent.Version
		default:
			for _, d := range pm.Deps {
				if strings.HasPrefix(d.GroupID, fw.marker) {
					found, line = true, lineOf(data, d.ArtifactID)
					break
				}
			}
			for _, pl := range pm.Build.Plugins {
				if strings.HasPrefix(pl.GroupID, fw.marker) {
					found, line = true, lineOf(data, pl.ArtifactID)
					if v, ok := pm.resolve(pl.Version); ok && version == "" {
						version = v
					}
				}
			}
		}
		if !found {
			continue
		}
		h.framework = fw.name
		h.add(2, p, line, "uses "+fw.marker)
		if fw.name == "spring-boot" {
			jc.SpringBoot, jc.SpringBootVersion = true, version
		}
		return
	}
}

func (a *app) mavenRelease(jc *javaCase, pm *pom, p string, data []byte) {
	candidates := []struct{ value, marker string }{
		{pm.Properties["maven.compiler.release"], "<maven.compiler.release>"},
	}
	for _, pl := range pm.Build.Plugins {
		if pl.ArtifactID == "maven-compiler-plugin" {
			candidates = append(candidates, struct{ value, marker string }{pl.Configuration.Release, "<release>"})
		}
	}
	candidates = append(candidates,
		struct{ value, marker string }{pm.Properties["java.version"], "<java.version>"},
		struct{ value, marker string }{pm.Properties["maven.compiler.source"], "<maven.compiler.source>"},
		struct{ value, marker string }{pm.Properties["maven.compiler.target"], "<maven.compiler.target>"},
	)
	for _, c := range candidates {
		if c.value == "" {
			continue
		}
		v, ok := pm.resolve(c.value)
		if !ok {
			continue
		}
		jc.Release = javaRelease(v)
		jc.releaseFile, jc.releaseLine = p, lineOf(data, c.marker)
		return
	}
}

// javaRelease turns "1.8" into 8: Java releases dropped the "1." at 9.
func javaRelease(v string) string {
	return strings.TrimPrefix(strings.TrimSpace(v), "1.")
}

var (
	gradlePlugin    = lazyre.New(`id\s*\(?\s*["'](org\.springframework\.boot|io\.quarkus|io\.micronaut\.application)["']\s*\)?(?:\s+version\s+["']([^"']+)["'])?|apply\s+plugin:\s*["'](org\.springframework\.boot)["']`)
	gradleToolchain = lazyre.New(`JavaLanguageVersion\.of\(\s*(\d+)\s*\)`)
	gradleCompat    = lazyre.New(`(?:sourceCompatibility|targetCompatibility)\s*=\s*(?:JavaVersion\.VERSION_([0-9_]+)|["']?([0-9.]+)["']?)`)
	gradleVersion   = lazyre.New(`(?m)^\s*version\s*=\s*["']([^"']+)["']`)
	gradleWar       = lazyre.New(`id\s*\(?\s*["']war["']|apply\s+plugin:\s*["']war["']|\bwar\b\s*$`)
	gradleKotlin    = lazyre.New(`kotlin\(\s*"jvm"\s*\)|org\.jetbrains\.kotlin`)
	gradleRootName  = lazyre.New(`rootProject\.name\s*=\s*["']([^"']+)["']`)
	gradleInclude   = lazyre.New(`include\s*\(?\s*((?:["'][^"']+["']\s*,?\s*)+)`)
	quotedWord      = lazyre.New(`["']([^"']+)["']`)
	// The application plugin, applied or configured.
	gradleApplication = lazyre.New(`(?m)^\s*(?:id\s*\(?\s*["']application["']|apply\s+plugin:\s*["']application["']|application\s*\{|application\s*$)`)
)

// gradle reads Gradle builds. Build scripts are Groovy or Kotlin
// programs that no Go library parses; the plugin ids, toolchain and
// compatibility lines harden needs have a fixed shape, so they are
// matched line by line.
func (a *app) gradle(h *hit, jc *javaCase, dir string) {
	s := a.scan
	jc.BuildTool, h.pm, h.manifest = "gradle", "gradle", true
	settings := a.firstExisting(dir, "settings.gradle.kts", "settings.gradle")
	build := a.firstExisting(dir, "build.gradle.kts", "build.gradle")
	name, module := "", ""
	if settings != "" {
		data := s.read(settings)
		if m := gradleRootName().FindSubmatch(data); m != nil {
			name = string(m[1])
		}
		for _, m := range gradleInclude().FindAllSubmatch(data, -1) {
			for _, q := range quotedWord().FindAllSubmatch(m[1], -1) {
				jc.Modules = append(jc.Modules, strings.TrimPrefix(strings.ReplaceAll(string(q[1]), ":", "/"), "/"))
			}
		}
	}
	// With no build script at the root, or a root script that is only
	// shared configuration, the application is a subproject ("app" in
	// gradle init's layout).
	if build == "" || !a.gradleBuildsApp(build) {
		for _, m := range jc.Modules {
			if sub := a.firstExisting(join(dir, m), "build.gradle.kts", "build.gradle"); sub != "" && (a.gradleBuildsApp(sub) || build == "") {
				build, module, name = sub, m, path.Base(m)
				if a.gradleBuildsApp(sub) {
					break
				}
			}
		}
	}
	manifest := build
	if manifest == "" {
		manifest = settings
	}
	jc.buildFile = manifest
	h.add(4, manifest, 0, "builds the project with Gradle")
	if s.exists(join(dir, "gradlew")) {
		jc.Wrapper, h.pinned = true, true
		h.add(1, join(dir, "gradlew"), 0, "the Gradle wrapper pins Gradle's version")
		h.claim(s.wrapperVersion(join(dir, "gradle/wrapper/gradle-wrapper.properties"), "gradle", gradleDist()))
	}
	if build == "" {
		return
	}
	data := s.read(build)
	jc.Kotlin = gradleKotlin().Match(data)
	if m := gradlePlugin().FindSubmatchIndex(data); m != nil {
		id := firstGroup(data, m, 1, 3)
		for _, fw := range javaFrameworks {
			if strings.HasPrefix(id, fw.marker) {
				h.framework = fw.name
			}
		}
		h.add(2, build, lineAt(data, m[0]), "applies the "+id+" plugin")
		if h.framework == "spring-boot" {
			jc.SpringBoot = true
			jc.SpringBootVersion = firstGroup(data, m, 2)
		}
	}
	if m := gradleToolchain().FindSubmatchIndex(data); m != nil {
		jc.Release, jc.releaseFile, jc.releaseLine = string(data[m[2]:m[3]]), build, lineAt(data, m[0])
	} else if m := gradleCompat().FindSubmatchIndex(data); m != nil {
		v := strings.ReplaceAll(firstGroup(data, m, 1, 2), "_", ".")
		jc.Release, jc.releaseFile, jc.releaseLine = javaRelease(v), build, lineAt(data, m[0])
	}
	jc.Packaging = "jar"
	if gradleWar().Match(data) {
		jc.Packaging = "war"
	}
	libs := "build/libs/"
	if module != "" {
		libs = module + "/build/libs/"
	}
	switch {
	case h.framework == "quarkus":
		jc.Artifact = strings.TrimSuffix(libs, "libs/") + "quarkus-app/quarkus-run.jar"
	case name == "":
		jc.Artifact = libs + "*." + jc.Packaging
	default:
		version := ""
		if m := gradleVersion().FindSubmatch(data); m != nil {
			version = "-" + string(m[1])
		}
		jc.Artifact = libs + name + version + "." + jc.Packaging
	}
}

// gradleBuildsApp reports whether a build script makes a runnable
// application rather than only configuring subprojects.
func (a *app) gradleBuildsApp(p string) bool {
	data := a.scan.read(p)
	return gradlePlugin().Match(data) || gradleApplication().Match(data) || gradleWar().Match(data)
}

// firstGroup returns the first non-empty submatch among groups.
func firstGroup(data []byte, m []int, groups ...int) string {
	for _, g := range groups {
		if 2*g+1 < len(m) && m[2*g] >= 0 {
			return string(data[m[2*g]:m[2*g+1]])
		}
	}
	return ""
}

var (
	mavenDist  = lazyre.New(`apache-maven-([0-9.]+)-bin`)
	gradleDist = lazyre.New(`gradle-([0-9.]+)-(?:bin|all)\.zip`)
)

// wrapperVersion reads the tool version from a wrapper's distributionUrl.
func (s *scan) wrapperVersion(p, key string, dist *regexp.Regexp) (versionClaim, bool) {
	data := s.read(p)
	if m := dist.FindSubmatchIndex(data); m != nil {
		return claim(key, string(data[m[2]:m[3]]), p, lineAt(data, m[0]), rankPinFile, "the wrapper")
	}
	return versionClaim{}, false
}

// sdkmanrc reads SDKMAN!'s .sdkmanrc ("java=21.0.2-tem").
func (s *scan) sdkmanrc(dir string) (versionClaim, bool) {
	p := join(dir, ".sdkmanrc")
	if !s.exists(p) {
		return versionClaim{}, false
	}
	for i, line := range strings.Split(string(s.read(p)), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "java="); ok {
			return claim("java", leadingVersion().FindString(v), p, i+1, rankPinFile, ".sdkmanrc")
		}
	}
	return versionClaim{}, false
}

// javaPortKeys are the configuration keys of each framework's HTTP port.
var javaPortKeys = map[string]string{"spring-boot": "server.port", "quarkus": "quarkus.http.port", "micronaut": "micronaut.server.port"}

// javaPort reads the port from the application's configuration, else
// uses the framework's default of 8080.
func (a *app) javaPort(h *hit, dir string) {
	key := javaPortKeys[h.framework]
	res := join(dir, "src/main/resources")
	if key != "" {
		if p := join(res, "application.properties"); a.scan.exists(p) {
			data := a.scan.read(p)
			for i, line := range strings.Split(string(data), "\n") {
				k, v, ok := strings.Cut(line, "=")
				if ok && strings.TrimSpace(k) == key {
					if port, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
						h.port = port
						h.evidence = append(h.evidence, Evidence{File: p, Line: i + 1, Why: fmt.Sprintf("%s is %d", key, port)})
						return
					}
				}
			}
		}
		for _, name := range []string{"application.yml", "application.yaml"} {
			p := join(res, name)
			if !a.scan.exists(p) {
				continue
			}
			doc := a.scan.yamlDoc(p)
			var v any = doc
			for _, part := range strings.Split(key, ".") {
				m, _ := v.(map[string]any)
				v = m[part]
			}
			if port, ok := v.(int); ok {
				h.port = port
				h.evidence = append(h.evidence, Evidence{File: p, Line: lineOf(a.scan.read(p), "port:"), Why: fmt.Sprintf("%s is %d", key, port)})
				return
			}
		}
	}
	h.port = 8080
}

// refineJava adds what the Dockerfile runs: the jar it starts.
func refineJava(a *app, r *Result) {
	if r.Java == nil {
		r.Java = &JavaFacts{}
	}
	if r.Java.BuildTool == "" {
		if pm, ok := a.df.pm[Java]; ok {
			r.Java.BuildTool = pm.value
		}
	}
	if r.Port == 0 && r.Framework != "" {
		r.Port = 8080
	}
}
