package build

import (
	"slices"
	"testing"
)

func fakeEnv(vars map[string]string, existing ...string) environment {
	return environment{
		getenv: func(k string) string { return vars[k] },
		exists: func(p string) bool { return slices.Contains(existing, p) },
	}
}

func TestResolveAddressOrder(t *testing.T) {
	const rootless = "/run/user/1000/buildkit/buildkitd.sock"
	tests := []struct {
		name     string
		explicit string
		vars     map[string]string
		existing []string
		want     Address
	}{
		{
			name: "flag beats environment", explicit: "tcp://10.0.0.1:1234",
			vars: map[string]string{"BUILDKIT_HOST": "unix:///env.sock"},
			want: Address{URL: "tcp://10.0.0.1:1234", Source: SourceFlag},
		},
		{
			name: "environment beats default sockets",
			vars: map[string]string{"BUILDKIT_HOST": "docker-container://buildx_buildkit_default"}, existing: []string{"/run/buildkit/buildkitd.sock"},
			want: Address{URL: "docker-container://buildx_buildkit_default", Source: SourceEnv},
		},
		{
			name: "root socket first", existing: []string{"/run/buildkit/buildkitd.sock", rootless, "/var/run/docker.sock"},
			vars: map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000"},
			want: Address{URL: DefaultAddress, Source: SourceDefault},
		},
		{
			name: "rootless socket next", existing: []string{rootless, "/var/run/docker.sock"},
			vars: map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000"},
			want: Address{URL: "unix://" + rootless, Source: SourceDefault},
		},
		{
			name: "docker engine last", existing: []string{"/var/run/docker.sock"},
			want: Address{URL: "unix:///var/run/docker.sock", Source: SourceDefault, DockerEngine: true},
		},
		{
			name: "DOCKER_HOST names the engine socket", existing: []string{"/home/u/.docker/run/docker.sock"},
			vars: map[string]string{"DOCKER_HOST": "unix:///home/u/.docker/run/docker.sock"},
			want: Address{URL: "unix:///home/u/.docker/run/docker.sock", Source: SourceDefault, DockerEngine: true},
		},
		{
			name: "nothing exists: buildkitd's socket, so the error names it",
			want: Address{URL: DefaultAddress, Source: SourceDefault},
		},
		{
			name: "docker scheme is an engine", explicit: "docker:///srv/docker.sock",
			want: Address{URL: "unix:///srv/docker.sock", Source: SourceFlag, DockerEngine: true},
		},
		{
			name: "bare docker scheme uses the default engine socket", explicit: "docker://",
			want: Address{URL: "unix:///var/run/docker.sock", Source: SourceFlag, DockerEngine: true},
		},
		{
			name: "an explicit docker.sock is an engine", explicit: "unix:///var/run/docker.sock",
			want: Address{URL: "unix:///var/run/docker.sock", Source: SourceFlag, DockerEngine: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fakeEnv(tt.vars, tt.existing...).resolve(tt.explicit)
			got.Tried = nil
			if got.URL != tt.want.URL || got.Source != tt.want.Source || got.DockerEngine != tt.want.DockerEngine {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestResolveAddressListsWhatItTried(t *testing.T) {
	got := fakeEnv(map[string]string{"XDG_RUNTIME_DIR": "/run/user/5"}).resolve("")
	want := []string{DefaultAddress, "unix:///run/user/5/buildkit/buildkitd.sock", "unix:///var/run/docker.sock"}
	if !slices.Equal(got.Tried, want) {
		t.Errorf("tried %v, want %v", got.Tried, want)
	}
}
