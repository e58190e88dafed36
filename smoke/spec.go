package smoke

import (
	"errors"
	"maps"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// defaultPath is what docker run sets when the image has no PATH.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// defaultCaps is Docker's default capability set, so an image that works
// here works under docker run and vice versa.
var defaultCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// processArgs is ENTRYPOINT followed by CMD, as docker run executes them.
func processArgs(c v1.Config) ([]string, error) {
	args := append(slices.Clone(c.Entrypoint), c.Cmd...)
	if len(args) == 0 {
		return nil, errors.New("image has neither ENTRYPOINT nor CMD")
	}
	return args, nil
}

// processEnv is the image's environment plus what docker run adds when
// missing: PATH, HOSTNAME and the user's HOME.
func processEnv(c v1.Config, u User, hostname string) []string {
	env := slices.Clone(c.Env)
	has := func(key string) bool {
		return slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, key+"=") })
	}
	if !has("PATH") {
		env = append(env, "PATH="+defaultPath)
	}
	if !has("HOSTNAME") {
		env = append(env, "HOSTNAME="+hostname)
	}
	if !has("HOME") {
		env = append(env, "HOME="+u.Home)
	}
	return env
}

// specInput is everything the runtime spec depends on.
type specInput struct {
	Args     []string
	Env      []string
	Cwd      string
	User     User
	Hostname string
	// EtcFiles maps /etc/hosts, /etc/resolv.conf and /etc/hostname to files
	// in the bundle that are bind-mounted over them, as docker does.
	EtcFiles map[string]string
}

// runtimeSpec builds an OCI runtime config that mirrors docker run's
// defaults, except that the container shares the host network: this machine
// has no CNI, and sharing it lets the smoke check probe ports on 127.0.0.1.
func runtimeSpec(in specInput) *specs.Spec {
	cwd := in.Cwd
	if cwd == "" {
		cwd = "/"
	}
	caps := &specs.LinuxCapabilities{
		Bounding:  defaultCaps,
		Effective: defaultCaps,
		Permitted: defaultCaps,
	}
	if in.User.UID != 0 {
		// Docker gives a non-root process no capabilities, but lets it bind
		// ports below 1024 through the ip_unprivileged_port_start sysctl of its
		// own network namespace. With the host's network that sysctl is not
		// ours to change, so grant the one capability it stands for instead.
		bind := []string{"CAP_NET_BIND_SERVICE"}
		caps.Effective, caps.Permitted, caps.Inheritable, caps.Ambient = bind, bind, bind, bind
	}

	mounts := []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
	}
	for _, dst := range slices.Sorted(maps.Keys(in.EtcFiles)) {
		mounts = append(mounts, specs.Mount{Destination: dst, Type: "bind", Source: in.EtcFiles[dst], Options: []string{"rbind", "rprivate"}})
	}

	return &specs.Spec{
		Version:  specs.Version,
		Root:     &specs.Root{Path: "rootfs"},
		Hostname: in.Hostname,
		Process: &specs.Process{
			Args: in.Args,
			Env:  in.Env,
			Cwd:  cwd,
			User: specs.User{
				UID:            in.User.UID,
				GID:            in.User.GID,
				AdditionalGids: in.User.AdditionalGids,
			},
			Capabilities: caps,
		},
		Mounts: mounts,
		Linux: &specs.Linux{
			// No network namespace: the host's, see above.
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace},
				{Type: specs.IPCNamespace},
				{Type: specs.UTSNamespace},
				{Type: specs.MountNamespace},
			},
			Resources: &specs.LinuxResources{
				// Deny all devices; runc adds the standard ones (null, zero, ...).
				Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
			},
			MaskedPaths: []string{
				"/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
				"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
				"/sys/firmware", "/sys/devices/virtual/powercap",
			},
			ReadonlyPaths: []string{
				"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
			},
		},
	}
}
