# Shared by tests/images/build (x86_64) and build-aarch64: Debian packages
# fetched into a cache and verified, the busybox initramfs. Sourced, not
# run; the caller sets `here` (this directory), `outdir`, and `set -euo
# pipefail`.

log() { echo "build: $*" >&2; }

# ensure_tools PKG...: apt-get installs the build tools that are missing.
ensure_tools() {
	local p missing=()
	for p in "$@"; do
		[[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) == installed ]] || missing+=("$p")
	done
	((${#missing[@]})) || return 0
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 ||
		{ apt-get update -q >&2 && apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; }
}

# ensure_foreign_arch ARCH: lets apt fetch ARCH's packages (arm64 on an
# amd64 host) - only its package lists, nothing of it is installed.
ensure_foreign_arch() {
	[[ $(dpkg --print-architecture) == "$1" ]] && return 0
	dpkg --print-foreign-architectures | grep -qxF "$1" && return 0
	log "adding dpkg architecture $1"
	dpkg --add-architecture "$1"
	apt-get update -q >&2
}

# Kept in OUTDIR/.debs so a rebuild after editing a script does not fetch the
# 70 MB kernel again; verified against the archive's SHA256 every time.
debs=$outdir/.debs
mkdir -p "$debs"
fetch_deb() { # PKG[:ARCH] -> prints the path of the verified .deb
	local pkg=$1 file sum
	# --print-uris: 'URI' FILENAME SIZE SHA256:HASH
	read -r _ file _ sum < <(apt-get download --print-uris "$pkg" 2>/dev/null) || true
	if [[ -z ${file:-} ]]; then # stale or missing package lists
		apt-get update -q >&2
		read -r _ file _ sum < <(apt-get download --print-uris "$pkg")
	fi
	sum=${sum#SHA256:}
	if ! [[ -f $debs/$file ]] || ! echo "$sum  $debs/$file" | sha256sum -c --status; then
		log "downloading $file"
		rm -f "$debs/${pkg%%:*}_"*"_${file##*_}"
		# apt-get download writes to the cwd; the "_apt cannot access" sandbox
		# warning for a root-owned dir is harmless noise.
		(cd "$debs" && apt-get download -q "$pkg" 2> >(grep -v unsandboxed >&2)) >&2
		echo "$sum  $debs/$file" | sha256sum -c --status || { log "checksum mismatch: $file"; exit 1; }
	fi
	echo "$debs/$file"
}

# kernel_package META: the real kernel a metapackage (linux-image-amd64,
# linux-image-arm64:arm64) depends on.
kernel_package() {
	local k
	k=$(apt-cache depends "$1" 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ {print $2; exit}')
	if [[ -z $k ]]; then
		apt-get update -q >&2
		k=$(apt-cache depends "$1" | awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ {print $2; exit}')
	fi
	echo "$k"
}

# make_initramfs WORK KERNEL_DEB BUSYBOX_DEB MODULE...: unpacks both into
# WORK and writes WORK/initrd.gz (busybox, our init scripts, the modules
# with their dependencies); sets kver and vmlinuz.
make_initramfs() {
	local work=$1 kdeb=$2 bbdeb=$3
	shift 3
	dpkg-deb -x "$kdeb" "$work/kernel"
	dpkg-deb -x "$bbdeb" "$work/busybox"
	kver=$(basename "$(ls -d "$work"/kernel/lib/modules/*)")
	vmlinuz=$work/kernel/boot/vmlinuz-$kver
	log "kernel $kver"

	local rootfs=$work/rootfs
	mkdir -p "$rootfs"/{bin,dev,proc,sys,tmp,run,mnt,etc,root,lib/modules}
	ln -s bin "$rootfs/sbin"
	mkdir -p "$rootfs/usr"
	ln -s ../bin "$rootfs/usr/bin"
	ln -s ../bin "$rootfs/usr/sbin"
	cp "$work/busybox/bin/busybox" "$rootfs/bin/busybox"
	# Only sh is linked here: /init makes the other applet links at boot
	# (busybox --install), as a foreign busybox does not run on this host.
	ln -s busybox "$rootfs/bin/sh"
	install -m 0755 "$here/guest/init" "$rootfs/init"
	install -m 0755 "$here/guest/installer-init" "$rootfs/installer-init"
	install -m 0755 "$here/guest/udhcpc.script" "$rootfs/etc/udhcpc.script"

	# Dependency order comes from kmod itself: depmod on the unpacked tree,
	# then `modprobe --show-depends` lists the insmod sequence (deps first).
	# The guest just insmods that list, so it needs no modules.dep or
	# modprobe logic. A module built into this kernel shows as "builtin".
	depmod -b "$work/kernel" "$kver"
	local -A seen=()
	local m verb path name
	: >"$rootfs/etc/modules.list"
	for m in "$@"; do
		while read -r verb path _; do
			[[ $verb == insmod ]] || continue
			name=$(basename "$path")
			[[ -n ${seen[$name]:-} ]] && continue
			# CPU-accelerated crypto glue pulled in as a soft dependency: fails
			# on TCG's default CPU (no PCLMUL) and the generic code suffices.
			[[ $name == *pclmul* ]] && continue
			seen[$name]=1
			cp "$path" "$rootfs/lib/modules/$name"
			echo "$name" >>"$rootfs/etc/modules.list"
		done < <(modprobe -d "$work/kernel" -S "$kver" --show-depends "$m")
	done
	log "modules: $(tr '\n' ' ' <"$rootfs/etc/modules.list")"

	# newc cpio with every entry owned by root (-R 0:0), so no root needed here.
	(cd "$rootfs" && find . -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc -R 0:0 --quiet) | gzip -9n >"$work/initrd.gz"
}
