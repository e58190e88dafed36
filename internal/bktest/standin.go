package bktest

import (
	"crypto/sha256"
	"embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Kind is a family of stand-in base images: small, fake but functional
// images built from a static busybox plus shell-script shims, published under
// the names real Dockerfiles use (python:3.11, node:20-alpine, ...), so that
// builds and smoke checks run without any registry. See shims/ for what each
// tool simulates: package managers write incompressible files where the real
// ones do, so size reports react to hardening the way they would.
type Kind string

const (
	Busybox Kind = "busybox" // busybox: BusyBox adduser/addgroup
	Alpine  Kind = "alpine"  // alpine: BusyBox accounts plus apk
	Debian  Kind = "debian"  // debian, ubuntu: useradd/groupadd plus apt-get

	Python       Kind = "python"        // Debian + python3/pip + a build toolchain's worth of bytes
	PythonSlim   Kind = "python-slim"   // Debian + python3/pip
	PythonAlpine Kind = "python-alpine" // Alpine + python3/pip
	Node         Kind = "node"          // Debian + node/npm + toolchain bytes, with the node user (1000)
	NodeSlim     Kind = "node-slim"
	NodeAlpine   Kind = "node-alpine"
	Golang       Kind = "golang" // Debian + go, whose "go build" output is a real static server
	GolangAlpine Kind = "golang-alpine"

	// DistrolessStatic has no shell and no tools: /etc/passwd with nonroot
	// (65532), CA certificates and /tmp.
	DistrolessStatic        Kind = "distroless-static"
	DistrolessStaticNonroot Kind = "distroless-static-nonroot" // the :nonroot tag: USER 65532

	// Nginx is nginx:alpine: Alpine with an nginx stand-in serving
	// /usr/share/nginx/html on port 80 as root.
	Nginx Kind = "nginx"
	// NginxUnprivileged is nginxinc/nginx-unprivileged: the same on port
	// 8080 as the nginx user (101).
	NginxUnprivileged Kind = "nginx-unprivileged"
)

// StandIn is a published name for a stand-in image.
type StandIn struct {
	Ref  string
	Kind Kind
	// Version fills the image's PYTHON_VERSION, NODE_VERSION or GOLANG_VERSION.
	Version string
}

// DefaultStandIns are pushed by Start: the names harden's templates, rules
// and tests use. Push others with Env.PushStandIn.
var DefaultStandIns = []StandIn{
	{"busybox:latest", Busybox, ""}, {"busybox:1.36", Busybox, ""},
	{"alpine:latest", Alpine, ""}, {"alpine:3.20", Alpine, ""}, {"alpine:3.19", Alpine, ""},
	{"debian:bookworm-slim", Debian, ""}, {"debian:bookworm", Debian, ""}, {"debian:12-slim", Debian, ""}, {"debian:12", Debian, ""},
	{"ubuntu:22.04", Debian, ""}, {"ubuntu:24.04", Debian, ""},
	{"python:3.11", Python, "3.11.9"}, {"python:3.12", Python, "3.12.4"}, {"python:3", Python, "3.12.4"}, {"python:latest", Python, "3.12.4"},
	{"python:3.11-slim", PythonSlim, "3.11.9"}, {"python:3.12-slim", PythonSlim, "3.12.4"},
	{"python:3.11-slim-bookworm", PythonSlim, "3.11.9"}, {"python:3.12-slim-bookworm", PythonSlim, "3.12.4"},
	{"python:3.11-alpine", PythonAlpine, "3.11.9"}, {"python:3.12-alpine", PythonAlpine, "3.12.4"},
	{"node:20", Node, "20.15.0"}, {"node:22", Node, "22.4.0"}, {"node:18", Node, "18.20.3"}, {"node:lts", Node, "20.15.0"}, {"node:latest", Node, "22.4.0"},
	{"node:20-slim", NodeSlim, "20.15.0"}, {"node:22-slim", NodeSlim, "22.4.0"}, {"node:18-slim", NodeSlim, "18.20.3"}, {"node:20-bookworm-slim", NodeSlim, "20.15.0"},
	{"node:20-alpine", NodeAlpine, "20.15.0"}, {"node:22-alpine", NodeAlpine, "22.4.0"}, {"node:18-alpine", NodeAlpine, "18.20.3"},
	{"node:20-bookworm", Node, "20.15.0"}, {"node:22-bookworm", Node, "22.4.0"}, {"node:22-bookworm-slim", NodeSlim, "22.4.0"},
	{"golang:1.22", Golang, "1.22.5"}, {"golang:1.23", Golang, "1.23.0"}, {"golang:1.21", Golang, "1.21.12"}, {"golang:latest", Golang, "1.23.0"},
	{"golang:1.22-bookworm", Golang, "1.22.5"}, {"golang:1.23-bookworm", Golang, "1.23.0"},
	{"golang:1.22-alpine", GolangAlpine, "1.22.5"}, {"golang:1.23-alpine", GolangAlpine, "1.23.0"},
	{"gcr.io/distroless/static-debian12:latest", DistrolessStatic, ""}, {"gcr.io/distroless/static-debian12:nonroot", DistrolessStaticNonroot, ""},
	{"gcr.io/distroless/static:latest", DistrolessStatic, ""}, {"gcr.io/distroless/static:nonroot", DistrolessStaticNonroot, ""},
	{"gcr.io/distroless/base-debian12:latest", DistrolessStatic, ""}, {"gcr.io/distroless/base-debian12:nonroot", DistrolessStaticNonroot, ""},
	// The static stand-in also stands in for cc: the go stand-in's binaries
	// need no libc.
	{"gcr.io/distroless/cc-debian12:latest", DistrolessStatic, ""}, {"gcr.io/distroless/cc-debian12:nonroot", DistrolessStaticNonroot, ""},
	{"nginx:alpine", Nginx, ""}, {"nginx:1.27-alpine", Nginx, ""}, {"nginx:1.27", Nginx, ""}, {"nginx:latest", Nginx, ""},
	{"nginxinc/nginx-unprivileged:alpine", NginxUnprivileged, ""}, {"nginxinc/nginx-unprivileged:1.27-alpine", NginxUnprivileged, ""},
	{"nginxinc/nginx-unprivileged:1.27", NginxUnprivileged, ""}, {"nginxinc/nginx-unprivileged:latest", NginxUnprivileged, ""},
}

//go:embed shims
var shims embed.FS

func shim(name string) []byte {
	data, err := shims.ReadFile("shims/" + name)
	if err != nil {
		panic("bktest: missing embedded shim " + name) // a build-time invariant
	}
	return data
}

const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// layers are built once per process: the busybox layer alone is 2 MB.
var layerCache struct {
	sync.Mutex
	m map[string]v1.Layer
}

func cachedLayer(key string, files func() ([]File, error)) (v1.Layer, error) {
	layerCache.Lock()
	defer layerCache.Unlock()
	if l, ok := layerCache.m[key]; ok {
		return l, nil
	}
	fs, err := files()
	if err != nil {
		return nil, err
	}
	l, err := Layer(fs...)
	if err != nil {
		return nil, fmt.Errorf("layer %s: %w", key, err)
	}
	if layerCache.m == nil {
		layerCache.m = map[string]v1.Layer{}
	}
	layerCache.m[key] = l
	return l, nil
}

// BusyboxImage is the busybox:latest stand-in: one layer with a static
// busybox, its applet symlinks, BusyBox-style account tools and a minimal
// /etc, running sh by default.
func BusyboxImage() (v1.Image, error) { return NewStandIn(Busybox, "") }

// NewStandIn builds the stand-in image of a kind; version fills the
// language's *_VERSION variable and defaults to a plausible one.
func NewStandIn(kind Kind, version string) (v1.Image, error) {
	cfg := v1.Config{Env: []string{"PATH=" + defaultPath}, Cmd: []string{"sh"}}
	var keys []string
	switch kind {
	case Busybox:
		keys = []string{"busybox", "etc-busybox", "accounts-busybox"}
	case Alpine:
		keys = []string{"busybox", "etc-alpine", "accounts-busybox", "apk"}
		cfg.Cmd = []string{"/bin/sh"}
	case Debian:
		keys = []string{"busybox", "etc-debian", "accounts-debian", "apt"}
		cfg.Cmd = []string{"bash"}
	case Python, PythonSlim, PythonAlpine:
		keys = append(osKeys(kind), "python")
		if kind == Python {
			keys = append(keys, "toolchain")
		}
		cfg.Env = append(cfg.Env, "LANG=C.UTF-8", "PYTHON_VERSION="+orDefault(version, "3.11.9"))
		cfg.Cmd = []string{"python3"}
	case Node, NodeSlim, NodeAlpine:
		keys = append(osKeys(kind), "node")
		if kind == Node {
			keys = append(keys, "toolchain")
		}
		cfg.Env = append(cfg.Env, "NODE_VERSION="+orDefault(version, "20.15.0"))
		cfg.Cmd = []string{"node"}
	case Golang, GolangAlpine:
		keys = append(osKeys(kind), "golang")
		if kind == Golang {
			keys = append(keys, "toolchain")
		}
		cfg.Env = []string{"PATH=/go/bin:/usr/local/go/bin:" + defaultPath, "GOLANG_VERSION=" + orDefault(version, "1.22.5"), "GOPATH=/go"}
		cfg.WorkingDir = "/go"
		cfg.Cmd = []string{"bash"}
	case Nginx, NginxUnprivileged:
		keys = []string{"busybox", "etc-alpine-nginx", "accounts-busybox", "apk", "nginx"}
		port := "80"
		if kind == NginxUnprivileged {
			keys, port, cfg.User = append(keys, "nginx-conf-8080"), "8080", "101"
		} else {
			keys = append(keys, "nginx-conf-80")
		}
		cfg.Env = append(cfg.Env, "NGINX_VERSION=1.27.0")
		cfg.Cmd = []string{"nginx", "-g", "daemon off;"}
		cfg.ExposedPorts = map[string]struct{}{port + "/tcp": {}}
		cfg.StopSignal = "SIGQUIT"
	case DistrolessStatic, DistrolessStaticNonroot:
		keys = []string{"distroless"}
		cfg = v1.Config{Env: []string{"PATH=" + defaultPath, "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"}}
		if kind == DistrolessStaticNonroot {
			cfg.User, cfg.WorkingDir = "65532", "/home/nonroot"
		}
	default:
		return nil, fmt.Errorf("unknown stand-in kind %q", kind)
	}
	var layers []v1.Layer
	for _, k := range keys {
		l, err := cachedLayer(k, layerFiles[k])
		if err != nil {
			return nil, fmt.Errorf("stand-in %s: %w", kind, err)
		}
		layers = append(layers, l)
	}
	return Image(cfg, layers...)
}

func osKeys(kind Kind) []string {
	// The node images ship a node user (1000:1000), which needs its own /etc.
	etc := ""
	if strings.HasPrefix(string(kind), "node") {
		etc = "-node"
	}
	if strings.HasSuffix(string(kind), "-alpine") {
		return []string{"busybox", "etc-alpine" + etc, "accounts-busybox", "apk"}
	}
	return []string{"busybox", "etc-debian" + etc, "accounts-debian", "apt"}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func exe(path string, data []byte) File { return File{Path: path, Data: data, Mode: 0o755} }

// layerFiles lists what each layer holds; images share layers, and so blobs.
var layerFiles = map[string]func() ([]File, error){
	"busybox": func() ([]File, error) {
		files, err := busyboxFiles()
		if err != nil {
			return nil, err
		}
		files = append(files,
			File{Path: "/tmp", Dir: true, Mode: 0o777 | os.ModeSticky},
			File{Path: "/var/tmp", Dir: true, Mode: 0o777 | os.ModeSticky},
			File{Path: "/root", Dir: true, Mode: 0o700},
			File{Path: "/home", Dir: true},
			File{Path: "/usr/local/bin", Dir: true},
			File{Path: "/etc/hosts", Data: []byte("127.0.0.1\tlocalhost\n")},
		)
		return append(files, hostCACerts()...), nil
	},
	"etc-busybox": func() ([]File, error) {
		return etcFiles(busyboxPasswd, busyboxGroup, ""), nil
	},
	"etc-alpine":       func() ([]File, error) { return alpineEtc("", ""), nil },
	"etc-alpine-node":  func() ([]File, error) { return alpineEtc(nodePasswd, nodeGroup), nil },
	"etc-alpine-nginx": func() ([]File, error) { return alpineEtc(nginxPasswd, nginxGroup), nil },
	"etc-debian":       func() ([]File, error) { return debianEtc("", ""), nil },
	"etc-debian-node":  func() ([]File, error) { return debianEtc(nodePasswd, nodeGroup), nil },
	"accounts-busybox": func() ([]File, error) {
		return []File{
			File{Path: "/usr/lib/harden-standin/accounts.sh", Data: shim("accounts.sh")},
			exe("/usr/sbin/adduser", shim("adduser")),
			exe("/usr/sbin/addgroup", shim("addgroup")),
		}, nil
	},
	"accounts-debian": func() ([]File, error) {
		return []File{
			File{Path: "/usr/lib/harden-standin/accounts.sh", Data: shim("accounts.sh")},
			exe("/usr/sbin/useradd", shim("useradd")),
			exe("/usr/sbin/groupadd", shim("groupadd")),
		}, nil
	},
	"apt": func() ([]File, error) {
		return []File{exe("/usr/bin/apt-get", shim("apt-get")), File{Path: "/usr/bin/apt", Link: "apt-get"}}, nil
	},
	"apk": func() ([]File, error) {
		return []File{exe("/sbin/apk", shim("apk"))}, nil
	},
	// toolchain stands in for build-essential and friends in the fat images.
	"toolchain": func() ([]File, error) {
		return []File{exe("/usr/lib/gcc/x86_64-linux-gnu/12/cc1", RandomBytes(6<<20))}, nil
	},
	"python": func() ([]File, error) {
		return []File{
			exe("/usr/local/bin/python3", shim("python3")),
			{Path: "/usr/local/lib/harden-standin/python-modules", Data: shim("python-modules")},
			{Path: "/usr/local/bin/python", Link: "python3"},
			exe("/usr/local/bin/pip", shim("pip")),
			{Path: "/usr/local/bin/pip3", Link: "pip"},
			{Path: "/usr/local/lib/python3/stdlib.zip", Data: RandomBytes(1 << 20)},
		}, nil
	},
	"node": func() ([]File, error) {
		return []File{
			exe("/usr/local/bin/node", shim("node")),
			exe("/usr/local/bin/npm", shim("npm")),
			exe("/usr/local/bin/yarn", shim("yarn")),
			exe("/usr/local/bin/corepack", shim("corepack")),
			{Path: "/usr/local/lib/node_modules/npm/npm.js", Data: RandomBytes(1 << 20)},
			{Path: "/home/node", Dir: true, UID: 1000, GID: 1000},
		}, nil
	},
	"golang": func() ([]File, error) {
		app, err := standinApp()
		if err != nil {
			return nil, err
		}
		return []File{
			exe("/usr/local/go/bin/go", shim("go")),
			exe("/usr/local/go/pkg/tool/harden-standin-app", app),
			{Path: "/usr/local/go/pkg/stdlib.a", Data: RandomBytes(1 << 20)},
			{Path: "/go", Dir: true, Mode: 0o777},
			{Path: "/go/bin", Dir: true, Mode: 0o777},
			{Path: "/go/src", Dir: true, Mode: 0o777},
		}, nil
	},
	"nginx": func() ([]File, error) {
		return []File{
			exe("/usr/sbin/nginx", shim("nginx")),
			{Path: "/usr/share/nginx/html/index.html", Data: []byte("<!doctype html><title>Welcome to nginx!</title>\n")},
			{Path: "/var/cache/nginx", Dir: true, UID: 101, GID: 101},
		}, nil
	},
	"nginx-conf-80":   func() ([]File, error) { return []File{nginxConf(80)}, nil },
	"nginx-conf-8080": func() ([]File, error) { return []File{nginxConf(8080)}, nil },
	"distroless": func() ([]File, error) {
		files := []File{
			{Path: "/etc/passwd", Data: []byte("root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")},
			{Path: "/etc/group", Data: []byte("root:x:0:\nnobody:x:65534:\ntty:x:5:\nstaff:x:50:\nnonroot:x:65532:\n")},
			{Path: "/etc/os-release", Data: []byte("ID=debian\nNAME=\"Distroless (harden stand-in)\"\nVERSION_ID=\"12\"\n")},
			{Path: "/tmp", Dir: true, Mode: 0o777 | os.ModeSticky},
			{Path: "/root", Dir: true, Mode: 0o700},
			{Path: "/home/nonroot", Dir: true, Mode: 0o700, UID: 65532, GID: 65532},
		}
		return append(files, hostCACerts()...), nil
	},
}

const (
	busyboxPasswd = "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nbin:x:2:2:bin:/bin:/bin/false\nsys:x:3:3:sys:/dev:/bin/false\nwww-data:x:33:33:www-data:/var/www:/bin/false\nnobody:x:65534:65534:nobody:/home:/bin/false\n"
	busyboxGroup  = "root:x:0:\ndaemon:x:1:\nbin:x:2:\nsys:x:3:\ntty:x:5:\nwww-data:x:33:\nusers:x:100:\nnobody:x:65534:\n"
	debianPasswd  = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nbin:x:2:2:bin:/bin:/usr/sbin/nologin\nsys:x:3:3:sys:/dev:/usr/sbin/nologin\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
	debianGroup   = "root:x:0:\ndaemon:x:1:\nbin:x:2:\nsys:x:3:\ntty:x:5:\nstaff:x:50:\nwww-data:x:33:\nusers:x:100:\nnogroup:x:65534:\n"
)

const (
	nodePasswd  = "node:x:1000:1000::/home/node:/bin/sh\n"
	nodeGroup   = "node:x:1000:\n"
	nginxPasswd = "nginx:x:101:101:nginx:/var/cache/nginx:/sbin/nologin\n"
	nginxGroup  = "nginx:x:101:nginx\n"
)

// nginxConf is the default site the nginx stand-in reads its port from.
func nginxConf(port int) File {
	return File{Path: "/etc/nginx/conf.d/default.conf", Data: []byte(fmt.Sprintf(
		"server {\n    listen       %d;\n    server_name  localhost;\n    location / {\n        root   /usr/share/nginx/html;\n        index  index.html;\n    }\n}\n", port))}
}

func alpineEtc(passwd, group string) []File {
	return append(etcFiles(busyboxPasswd+passwd, busyboxGroup+"nogroup:x:65533:\n"+group, "ID=alpine\nNAME=\"Alpine Linux (harden stand-in)\"\nVERSION_ID=3.20.0\n"),
		File{Path: "/etc/alpine-release", Data: []byte("3.20.0\n")})
}

func debianEtc(passwd, group string) []File {
	passwd = debianPasswd + passwd
	return append(etcFiles(passwd, debianGroup+group, "ID=debian\nNAME=\"Debian GNU/Linux (harden stand-in)\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n"),
		File{Path: "/etc/debian_version", Data: []byte("12.6\n")},
		File{Path: "/etc/shadow", Data: []byte(shadowFor(passwd)), Mode: 0o640},
		// As in the official images: downloaded .debs are deleted after each run.
		File{Path: "/etc/apt/apt.conf.d/docker-clean", Data: []byte("DPkg::Post-Invoke { \"rm -f /var/cache/apt/archives/*.deb || true\"; };\n")},
		// BusyBox has no bash applet; its ash takes bash's common options.
		exe("/bin/bash", []byte("#!/bin/sh\nexec /bin/sh \"$@\"\n")),
	)
}

func etcFiles(passwd, group, osRelease string) []File {
	files := []File{
		{Path: "/etc/passwd", Data: []byte(passwd)},
		{Path: "/etc/group", Data: []byte(group)},
	}
	if osRelease != "" {
		files = append(files, File{Path: "/etc/os-release", Data: []byte(osRelease)})
	}
	return files
}

func shadowFor(passwd string) string {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(passwd), "\n") {
		name, _, _ := strings.Cut(line, ":")
		fmt.Fprintf(&b, "%s:*:19000:0:99999:7:::\n", name)
	}
	return b.String()
}

//go:embed standinapp/main.go
var standinAppSource []byte

// standinApp returns standinapp, the server the go stand-in "builds",
// compiled as a static binary. It is cached next to buildkitd, keyed by its
// source and the Go version, because compiling net/http from a cold build
// cache takes a while and parallel test packages would all do it.
func standinApp() ([]byte, error) {
	sum := sha256.Sum256(standinAppSource)
	base, err := cacheBase()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(base, "standinapp")
	bin := filepath.Join(dir, fmt.Sprintf("standinapp-%x-%s", sum[:8], runtime.Version()))
	if data, err := os.ReadFile(bin); err == nil {
		return data, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	unlock, err := lockFile(filepath.Join(dir, "build.lock"))
	if err != nil {
		return nil, err
	}
	defer unlock()
	if data, err := os.ReadFile(bin); err == nil {
		return data, nil
	}
	tmp, err := os.MkdirTemp(dir, "tmp-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	src := filepath.Join(tmp, "main.go")
	if err := os.WriteFile(src, standinAppSource, 0o644); err != nil {
		return nil, err
	}
	// Built as a lone file outside any module: it imports only the standard library.
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(tmp, "app"), "main.go")
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=", "GOWORK=off", "GO111MODULE=off")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build the go stand-in's app: %w: %s", err, msg)
	}
	if err := os.Rename(filepath.Join(tmp, "app"), bin); err != nil {
		return nil, err
	}
	return os.ReadFile(bin)
}
