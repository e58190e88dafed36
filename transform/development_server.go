package transform

import "github.com/harden-dev/harden/servermode"

// DevelopmentServer reports an image that starts its app as a development
// server.
var DevelopmentServer = &Rule{
	ID:       "HD421",
	Name:     "development-server",
	Title:    "the image runs a development server",
	Severity: Warning,
	Safety:   ReportOnly,
	Doc: Doc{
		Why: "Development servers (nodemon, next dev, ng serve, vite, rails server in development, " +
			"flask --debug, manage.py runserver, --reload) watch files, serve debug pages and stack " +
			"traces, and need the development dependencies that production images leave out. harden " +
			"reads the start command (with the package.json scripts and Procfile line it runs), the " +
			"image's ENV (RAILS_ENV, RACK_ENV, NODE_ENV, APP_ENV, FLASK_DEBUG, DJANGO_DEBUG), Rails' " +
			"default of development, and every compose service in the repository that runs this " +
			"image. When one of them runs a development server, the splits keep the development " +
			"dependencies (no npm prune, no BUNDLE_WITHOUT, no NODE_ENV=production) and this rule " +
			"says how to start the app for production instead.",
		Bad:  "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD [\"npx\", \"nodemon\", \"server.js\"]\n",
		Good: "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nENV NODE_ENV=production\nCMD [\"node\", \"server.js\"]\n",
	},
	Check: checkDevelopmentServer,
}

func checkDevelopmentServer(p *Pass) {
	v := imageRunMode(p, appRoot(p))
	if v.Mode != servermode.Development {
		return
	}
	at := p.File.FinalStage().From
	if ins := startInstruction(p); ins != nil {
		at = ins
	}
	s := v.Signals[0]
	p.Report(at, "the image runs a development server: "+v.Reason()+"; for production, "+s.Advice, nil)
}
