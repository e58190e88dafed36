# Shared by the useradd, groupadd, adduser and addgroup stand-ins in harden's
# test images. Debian's busybox-static has no account applets, so these edit
# /etc/passwd and /etc/group directly, the way the real tools end up doing.

die() { echo "$PROG: $*" >&2; exit "${EXIT:-1}"; }

user_exists()  { grep -q "^$1:" /etc/passwd 2>/dev/null; }
group_exists() { grep -q "^$1:" /etc/group 2>/dev/null; }
uid_taken()    { cut -d: -f3 /etc/passwd 2>/dev/null | grep -qx "$1"; }
gid_taken()    { cut -d: -f3 /etc/group 2>/dev/null | grep -qx "$1"; }

# group_gid NAME_OR_GID prints the gid of an existing group.
group_gid() {
	case "$1" in
	*[!0-9]*) awk -F: -v n="$1" '$1 == n { print $3; found=1 } END { exit !found }' /etc/group ;;
	*) echo "$1" ;;
	esac
}

# free_id FILE FROM TO picks the first id in [FROM, TO] (counting down when
# FROM > TO) that FILE does not use yet.
free_id() {
	file=$1 id=$2 to=$3 step=1
	[ "$id" -gt "$to" ] && step=-1
	while :; do
		cut -d: -f3 "$file" 2>/dev/null | grep -qx "$id" || { echo "$id"; return; }
		[ "$id" -eq "$to" ] && return 1
		id=$((id + step))
	done
}

add_group() { # NAME GID
	touch /etc/group
	echo "$1:x:$2:" >> /etc/group
	[ -f /etc/gshadow ] && echo "$1:!::" >> /etc/gshadow
	return 0
}

add_user() { # NAME UID GID GECOS HOME SHELL
	touch /etc/passwd
	echo "$1:x:$2:$3:$4:$5:$6" >> /etc/passwd
	[ -f /etc/shadow ] && echo "$1:!:19000:0:99999:7:::" >> /etc/shadow
	return 0
}

# add_member USER GROUP appends USER to GROUP's member list.
add_member() {
	group_exists "$2" || die "group '$2' does not exist"
	awk -F: -v OFS=: -v g="$2" -v u="$1" \
		'$1 == g { $4 = ($4 == "" ? u : $4 "," u) } { print }' /etc/group > /etc/group.new
	cat /etc/group.new > /etc/group
	rm -f /etc/group.new
}

make_home() { # HOME UID GID
	mkdir -p "$1"
	chown "$2:$3" "$1"
	chmod 755 "$1"
}
