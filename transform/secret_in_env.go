package transform

import (
	"strings"
	"sync"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/harden-dev/harden/internal/lazyre"
)

// SecretInEnv flags ENV and ARG variables whose names say they hold a
// secret.
var SecretInEnv = &Rule{
	ID:               "HD401",
	Name:             "secret-in-env",
	Title:            "secret passed through ENV or ARG",
	Severity:         Error,
	SecuritySeverity: 8.5,
	Safety:           ReportOnly,
	Doc: Doc{
		Why: "ENV values are stored in the image configuration: anyone who can pull the image " +
			"reads them with docker inspect, and every container and child image inherits them. " +
			"ARG values are not in the configuration, but they are recorded in the image history " +
			"of every RUN that uses them and in build provenance, and a default value sits in the " +
			"Dockerfile itself. Pass secrets to the one RUN that needs them with " +
			"`RUN --mount=type=secret,id=NAME` (built with `docker build --secret id=NAME,...`), " +
			"and give the running container its secrets at run time (environment, files or a " +
			"secrets manager). Variables that only point at a secret, such as `DB_PASSWORD_FILE`, " +
			"are fine.",
		Bad: "FROM node:22-slim\nARG NPM_TOKEN\nENV NPM_TOKEN=$NPM_TOKEN\n" +
			"RUN echo \"//registry.npmjs.org/:_authToken=${NPM_TOKEN}\" > .npmrc && npm ci\n",
		Good: "# syntax=docker/dockerfile:1\nFROM node:22-slim\n" +
			"RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci\n",
	},
	Check: checkSecretInEnv,
}

func checkSecretInEnv(p *Pass) {
	for _, ins := range p.File.Instructions {
		switch cmd := ins.Command.(type) {
		case *instructions.EnvCommand:
			for _, kv := range cmd.Env {
				if kv.Value != "" && !switchValue(kv.Value) && secretName(kv.Key) {
					p.Report(ins, "ENV "+kv.Key+" stores a secret in the image configuration, where docker inspect shows it; "+
						"use RUN --mount=type=secret for build steps and pass it to the container at run time", nil)
				}
			}
		case *instructions.ArgCommand:
			for _, kv := range cmd.Args {
				if !secretName(kv.Key) {
					continue
				}
				msg := "ARG " + kv.Key + " passes a secret as a build argument, which the image history records; use RUN --mount=type=secret instead"
				if kv.Value != nil && *kv.Value != "" {
					msg = "ARG " + kv.Key + " has a secret default written in the Dockerfile, and build arguments are recorded in the image history; use RUN --mount=type=secret instead"
				}
				p.Report(ins, msg, nil)
			}
		}
	}
}

// switchValue reports whether an ENV value is an on/off switch, as in
// MYSQL_ALLOW_EMPTY_PASSWORD=yes, rather than a secret.
func switchValue(v string) bool {
	switch strings.ToLower(v) {
	case "yes", "no", "true", "false", "on", "off", "0", "1":
		return true
	}
	return false
}

// secretWords mark a variable as holding a secret when they make up a whole
// word of its name (DB_PASS) or end one (GITHUBTOKEN).
var secretWords = []string{"PASSWORD", "PASSWD", "PASS", "PASSPHRASE", "SECRET", "SECRETS", "TOKEN", "APIKEY", "CREDENTIAL", "CREDENTIALS", "PRIVATEKEY"}

// secretPairs are two consecutive words that name a secret (API_KEY) where
// either word alone does not (KEY, API).
var secretPairs = [][2]string{
	{"API", "KEY"}, {"ACCESS", "KEY"}, {"PRIVATE", "KEY"}, {"SECRET", "KEY"}, {"AUTH", "KEY"},
	{"ENCRYPTION", "KEY"}, {"SIGNING", "KEY"}, {"MASTER", "KEY"}, {"CLIENT", "SECRET"},
	{"SESSION", "KEY"}, {"LICENSE", "KEY"}, {"ACCOUNT", "KEY"},
}

// notSecretSuffixes end names of variables that point at or describe a
// secret rather than hold it: DB_PASSWORD_FILE, TOKEN_URL, API_KEY_ID.
var notSecretSuffixes = sync.OnceValue(func() map[string]bool {
	return map[string]bool{
		"FILE": true, "PATH": true, "DIR": true, "URL": true, "URI": true, "ID": true, "NAME": true,
		"LENGTH": true, "TTL": true, "TIMEOUT": true, "HEADER": true, "TYPE": true, "ENDPOINT": true,
		"HOST": true, "PORT": true, "ENABLED": true, "REF": true, "ARN": true, "VERSION": true,
		"REGION": true, "USER": true, "USERNAME": true, "FORMAT": true, "MODE": true, "POLICY": true,
		"PROVIDER": true, "EXPIRY": true, "EXPIRES": true, "LOCATION": true, "KIND": true, "SIZE": true,
		"ALGORITHM": true, "SOURCE": true, "COMMAND": true, "CMD": true, "HELPER": true,
	}
})

var nameWord = lazyre.New(`[A-Za-z0-9]+`)

// secretName reports whether an environment variable name says it holds a
// secret.
func secretName(name string) bool {
	words := nameWord().FindAllString(strings.ToUpper(name), -1)
	if len(words) == 0 || notSecretSuffixes()[words[len(words)-1]] {
		return false
	}
	for i, w := range words {
		for _, s := range secretWords {
			if w == s || len(s) >= 5 && strings.HasSuffix(w, s) {
				return true
			}
		}
		if i > 0 {
			for _, pair := range secretPairs {
				if words[i-1] == pair[0] && w == pair[1] {
					return true
				}
			}
		}
	}
	return false
}
