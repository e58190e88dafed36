package templates

import (
	"fmt"
	"path"
	"strings"

	"github.com/harden-dev/harden/detect"
)

// Java is what the Java templates need.
type Java struct {
	// Wrapper is set when the project ships mvnw or gradlew, which then
	// runs the build on a plain JDK image.
	Wrapper bool
	// Artifact is the runnable archive the build produces, relative to the
	// app ("target/api-1.0.jar"); it may be a glob that matches one file.
	Artifact string
	// Task is the Gradle task that builds the archive.
	Task string
}

func fillJava(a *App, p *project) error {
	facts := p.facts.Java
	if facts == nil {
		facts = &detect.JavaFacts{}
	}
	switch p.variant {
	case "java/maven", "java/gradle":
		a.PackageManager = strings.TrimPrefix(p.variant, "java/")
	}
	if a.PackageManager == "" {
		a.PackageManager = facts.BuildTool
	}
	if a.PackageManager == "" {
		a.PackageManager = "maven"
		if p.exists("build.gradle") || p.exists("build.gradle.kts") {
			a.PackageManager = "gradle"
		}
	}
	// Java 8 calls itself 1.8; image tags say 8.
	a.Version = strings.TrimPrefix(a.Version, "1.")
	j := &Java{}
	a.Java = j
	switch a.PackageManager {
	case "maven":
		a.Variant = "java/maven"
		j.Wrapper = p.exists("mvnw") && p.exists(".mvn/wrapper")
	case "gradle":
		a.Variant = "java/gradle"
		j.Wrapper = p.exists("gradlew") && p.exists("gradle/wrapper")
		j.Task = "assemble"
		if facts.SpringBoot || a.Framework == "spring-boot" {
			j.Task = "bootJar"
		}
	default:
		return fmt.Errorf("harden has no Java template for %s; pass --package-manager maven or gradle", a.PackageManager)
	}
	if facts.Packaging == "war" {
		return fmt.Errorf("the build makes a WAR, which needs a servlet container; harden's Java templates run a JAR with java -jar")
	}
	artifact := p.entryValue(detect.EntryJar)
	if artifact == "" {
		artifact = facts.Artifact
	}
	if artifact == "" {
		artifact = "target/*.jar"
		if a.PackageManager == "gradle" {
			artifact = "build/libs/*.jar"
		}
		a.note("harden could not tell the archive's name: the runtime copies %s, which must match one file", artifact)
	}
	clean, ok := cleanRel(artifact)
	if !ok {
		return fmt.Errorf("the archive %s is outside the app's folder", artifact)
	}
	j.Artifact = clean
	if path.Base(clean) == "quarkus-run.jar" {
		return fmt.Errorf("a Quarkus app runs from its whole quarkus-app folder; harden's Java templates run a single JAR")
	}
	if a.PackageManager == "gradle" && !facts.SpringBoot && !strings.Contains(facts.Artifact, "-all") {
		a.note("java -jar needs an archive that holds the dependencies: Spring Boot's bootJar or a shadow JAR; a plain `jar` task's output will not start")
	}
	if facts.SpringBoot || a.Framework == "spring-boot" {
		a.HealthPath = "/actuator/health"
	}
	if a.Port == 0 {
		a.Port = 8080
	}
	// The JVM sizes its heap from the container's memory limit.
	a.Command = []string{"java", "-XX:MaxRAMPercentage=75", "-jar", "/app/app.jar"}
	return nil
}
