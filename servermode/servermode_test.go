package servermode

import "testing"

func TestDecide(t *testing.T) {
	scripts := map[string]string{
		"start":      "nest start --watch",
		"start:dev":  "nodemon src/index.js",
		"start:prod": "node dist/main",
		"dev":        "next dev",
		"serve":      "NODE_ENV=production node server.js",
	}
	cases := []struct {
		name string
		app  App
		runs []Run
		want Mode
	}{
		{"nodemon", App{}, []Run{{Command: []string{"nodemon", "index.js"}}}, Development},
		{"npm start runs nest --watch", App{Scripts: scripts}, []Run{{Command: []string{"npm", "start"}}}, Development},
		{"dev server wins over NODE_ENV", App{Scripts: scripts}, []Run{{Command: []string{"npm", "run", "start:dev"}, Env: map[string]string{"NODE_ENV": "production"}}}, Development},
		{"yarn dev", App{Scripts: scripts}, []Run{{Command: []string{"yarn", "dev"}}}, Development},
		{"production script", App{Scripts: scripts}, []Run{{Command: []string{"npm", "run", "start:prod"}, Env: map[string]string{"NODE_ENV": "production"}}}, Production},
		{"script sets NODE_ENV", App{Scripts: scripts}, []Run{{Command: []string{"npm", "run", "serve"}}}, Production},
		{"unknown script name dev", App{}, []Run{{Command: []string{"pnpm", "dev"}}}, Development},
		{"ng serve in sh -c", App{}, []Run{{Command: []string{"/bin/sh", "-c", "cd /app && ng serve --host 0.0.0.0"}}}, Development},
		{"vite", App{}, []Run{{Command: []string{"npx", "vite", "--host"}}}, Development},
		{"vite preview", App{}, []Run{{Command: []string{"npx", "vite", "preview"}}}, Unknown},
		{"react-scripts", App{}, []Run{{Command: []string{"react-scripts", "start"}}}, Development},
		{"node --watch", App{}, []Run{{Command: []string{"node", "--watch", "server.js"}}}, Development},
		{"plain node", App{}, []Run{{Command: []string{"node", "server.js"}}}, Unknown},
		{"NODE_ENV development", App{}, []Run{{Command: []string{"node", "server.js"}, Env: map[string]string{"NODE_ENV": "development"}}}, Development},
		{"rails -e development", App{Rails: true}, []Run{{Command: []string{"bin/rails", "server", "-e", "development"}, Env: map[string]string{"RAILS_ENV": "production"}}}, Development},
		{"rails -e production beats RAILS_ENV", App{Rails: true}, []Run{{Command: []string{"bin/rails", "s", "-e", "production"}, Env: map[string]string{"RAILS_ENV": "development"}}}, Production},
		{"rails without env", App{Rails: true}, []Run{{Command: []string{"bin/rails", "server", "-b", "0.0.0.0"}}}, Development},
		{"rails with RAILS_ENV", App{Rails: true}, []Run{{Command: []string{"bin/rails", "server"}, Env: map[string]string{"RAILS_ENV": "production"}}}, Production},
		{"puma in a Rails app without env", App{Rails: true}, []Run{{Command: []string{"bundle", "exec", "puma", "-C", "config/puma.rb"}}}, Development},
		{"puma in a Sinatra app", App{}, []Run{{Command: []string{"bundle", "exec", "puma"}}}, Unknown},
		{"puma --environment=development", App{}, []Run{{Command: []string{"puma", "--environment=development"}}}, Development},
		{"unicorn_rails -E development", App{Rails: true}, []Run{{Command: []string{"bundle", "exec", "unicorn_rails", "-E", "development"}}}, Development},
		{"RACK_ENV production", App{Rails: true}, []Run{{Command: []string{"bundle", "exec", "puma"}, Env: map[string]string{"RACK_ENV": "production"}}}, Production},
		{"bin/dev", App{Rails: true}, []Run{{Command: []string{"./bin/dev"}}}, Development},
		{"foreman with Procfile.dev", App{}, []Run{{Command: []string{"foreman", "start", "-f", "Procfile.dev"}}}, Development},
		{"foreman with Procfile", App{Procfile: "bundle exec rails server -e production"}, []Run{{Command: []string{"foreman", "start"}}}, Production},
		{"flask --debug", App{}, []Run{{Command: []string{"flask", "run", "--debug"}}}, Development},
		{"FLASK_DEBUG", App{}, []Run{{Command: []string{"flask", "run"}, Env: map[string]string{"FLASK_DEBUG": "1"}}}, Development},
		{"runserver", App{}, []Run{{Command: []string{"python", "manage.py", "runserver", "0.0.0.0:8000"}}}, Development},
		{"uvicorn --reload", App{}, []Run{{Command: []string{"python", "-m", "uvicorn", "app:app", "--reload"}}}, Development},
		{"gunicorn", App{}, []Run{{Command: []string{"gunicorn", "app:app"}}}, Production},
		{"DJANGO_DEBUG", App{}, []Run{{Command: []string{"gunicorn", "proj.wsgi"}, Env: map[string]string{"DJANGO_DEBUG": "True"}}}, Development},
		{"APP_ENV", App{}, []Run{{Command: []string{"./server"}, Env: map[string]string{"APP_ENV": "local"}}}, Development},
		// Over several runs: any development run decides; production needs all.
		{"compose dev run", App{}, []Run{{Command: []string{"node", "dist/main.js"}, Env: map[string]string{"NODE_ENV": "production"}}, {Command: []string{"nodemon"}}}, Development},
		{"one unknown run", App{}, []Run{{Command: []string{"gunicorn", "app:app"}}, {Command: []string{"python", "app.py"}}}, Unknown},
		{"no runs", App{}, nil, Unknown},
	}
	for _, c := range cases {
		v := Decide(c.app, c.runs...)
		if v.Mode != c.want {
			t.Errorf("%s: %q (%s), want %q", c.name, v.Mode, v.Reason(), c.want)
		}
		if v.Mode == Development && v.Signals[0].Advice == "" {
			t.Errorf("%s: no advice for a development server", c.name)
		}
		if v.Mode != Unknown && v.Reason() == "" {
			t.Errorf("%s: no reason", c.name)
		}
	}
}

func TestReasonNamesTheSource(t *testing.T) {
	v := Decide(App{Scripts: map[string]string{"start": "nodemon index.js"}}, Run{Command: []string{"npm", "start"}, CommandWhere: "Dockerfile:7"})
	want := "package.json's start script runs nodemon index.js: the command runs nodemon (Dockerfile:7)"
	if v.Reason() != want {
		t.Errorf("reason %q, want %q", v.Reason(), want)
	}
}
