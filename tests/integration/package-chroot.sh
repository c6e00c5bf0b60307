#!/usr/bin/env bash
# package-chroot.sh DEB BASE_TAR APT_CACHE WORK
#
# Installs the VMManager package DEB into a Debian 12 chroot made from
# BASE_TAR (debootstrap --variant=minbase, cached by the caller), the way
# an admin would: apt-get install ./vmmanager_*.deb. There is no systemd in
# a chroot, so the services are then started by hand, each with the
# command line its unit has; the portal must answer over HTTPS. Then purge
# must keep the state and the database (not asked to remove them).
#
# Why a chroot, not this machine: the machine is shared by dev and test
# stacks; a package install would take over the system's nginx, MariaDB
# and ports 80/443. The chroot runs in mount, pid and network namespaces
# of its own: nothing it starts outlives it or is reachable from outside,
# and its nginx listens on 80/443 of its own loopback.
#
# Prints "PORTAL-OK ..." lines the test checks; exits non-zero on failure.
set -euo pipefail

say() { printf '==> %s\n' "$*"; }

if [[ ${1:-} != --inside ]]; then
    DEB=$1 BASE=$2 CACHE=$3 WORK=$4
    R=$WORK/root
    rm -rf "$R"
    mkdir -p "$R" "$CACHE"
    tar -C "$R" -xf "$BASE"
    cp "$DEB" "$R/tmp/vmmanager.deb"
    cp /etc/resolv.conf "$R/etc/resolv.conf"
    # The machine's mirror may be a snapshot (its Release files expired).
    printf 'Acquire::Check-Valid-Until "false";\nAcquire::Check-Date "false";\n' >"$R/etc/apt/apt.conf.d/99vmm-test"
    # No service starts on its own in the chroot (invoke-rc.d asks this).
    printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d"
    chmod +x "$R/usr/sbin/policy-rc.d"
    cp "${BASH_SOURCE[0]}" "$R/tmp/package-chroot.sh"
    # Phase 1, with the network (apt downloads the dependencies): install.
    unshare --mount --fork bash -c '
        set -e
        mount --make-rprivate /
        mount -t proc proc "$0/proc"
        mount --rbind /dev "$0/dev"
        mount --bind "$1" "$0/var/cache/apt/archives"
        chroot "$0" /bin/bash /tmp/package-chroot.sh --inside install
    ' "$R" "$CACHE"
    # Phase 2, its own network and processes: run it, answer, purge.
    unshare --mount --net --pid --fork bash -c '
        set -e
        mount --make-rprivate /
        mount -t proc proc "$0/proc"
        mount --rbind /dev "$0/dev"
        ip link set lo up
        chroot "$0" /bin/bash /tmp/package-chroot.sh --inside run
    ' "$R"
    exit 0
fi

# ---- inside the chroot ----
# Nothing of the caller's stack (VMM_CONFIG, VMM_* overrides) reaches the install.
while read -r v; do unset "$v"; done < <(compgen -e | grep '^VMM_' || true)
export DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8
case $2 in
install)
    say "apt-get install ./vmmanager.deb"
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends /tmp/vmmanager.deb curl
    dpkg -s vmmanager | grep -q '^Status: install ok installed'
    # MariaDB was not running: the postinst says how to finish.
    echo "PORTAL-OK installed"
    ;;
run)
    say "starting MariaDB by hand"
    install -d -o mysql -g mysql /run/mysqld
    (setsid mariadbd --user=mysql </dev/null >/var/log/mysqld-test.log 2>&1 &)
    for _ in $(seq 100); do mariadb-admin ping >/dev/null 2>&1 && break; sleep 0.2; done
    mariadb-admin ping >/dev/null
    say "dpkg-reconfigure vmmanager (database, accounts, migrations, admin)"
    dpkg-reconfigure vmmanager | tee /tmp/reconfigure.log
    grep -q 'user:     admin' /tmp/reconfigure.log
    pw=$(cat /etc/vmmanager/admin-password)
    # Least privilege: no account of ours may change the schema.
    for u in vmm vmm-sched vmm-helper; do
        grants=$(mariadb -N -e "SHOW GRANTS FOR '$u'@'localhost'")
        grep -q 'GRANT SELECT, INSERT, UPDATE, DELETE ON `vmm`.\*' <<<"$grants"
        ! grep -qiE 'ALL PRIVILEGES|CREATE|DROP|ALTER|GRANT OPTION' <<<"$grants"
    done
    echo "PORTAL-OK accounts"
    say "starting the services by hand, each as its unit says"
    # shellcheck disable=SC2046
    (env $(cat /etc/vmmanager/helper-db.env) VMM_DATABASE_USER=vmm-helper \
        setsid /usr/libexec/vmmanager/vmm-helper </dev/null >>/var/log/vmmanager/vmm-helper.log 2>&1 &)
    unit=/lib/systemd/system/vmm-fcgi@.service
    # The unit's ExecStartPre and ExecStart (continued lines joined), with
    # %i, ${VMM_WORKERS} and $$ (a literal $) as systemd fills them.
    cmd=$(sed -n '/^ExecStart=/,/[^\\]$/p' "$unit" | sed 's/^ExecStart=//; s/\\$//' | tr '\n' ' ')
    pre=$(sed -n 's/^ExecStartPre=//p' "$unit")
    cmd=${cmd//\$\$/\$} pre=${pre//\$\$/\$}
    for p in auth dashboard; do
        eval "${pre//\%i/$p}"
        line=${cmd//\%i/$p}
        line=${line//\$\{VMM_WORKERS\}/1}
        eval "$line"
    done
    for _ in $(seq 50); do [[ -S /run/vmmanager/vmm-auth.sock ]] && break; sleep 0.2; done
    nginx -t -q
    nginx
    for _ in $(seq 50); do curl -sk -o /dev/null https://127.0.0.1/login && break; sleep 0.2; done
    code=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' http://127.0.0.1/login)
    [[ $code == "301 https://127.0.0.1/login" ]] || { echo "HTTP answered $code"; exit 1; }
    echo "PORTAL-OK redirect"
    headers=$(curl -sk -D - -o /tmp/login.html https://127.0.0.1/login)
    grep -qi '^HTTP/[0-9.]* 200' <<<"$headers"
    grep -qi '^strict-transport-security: max-age=' <<<"$headers"
    grep -q '<form' /tmp/login.html
    echo "PORTAL-OK login page"
    body=$(printf '{"username":"admin","password":"%s"}' "$pw")
    headers=$(curl -sk -D - -o /tmp/login.json -H 'Content-Type: application/json' --data "$body" \
        https://127.0.0.1/api/v1/auth/login)
    grep -qi '^HTTP/[0-9.]* 200' <<<"$headers" || { cat /tmp/login.json; exit 1; }
    grep -i '^set-cookie:' <<<"$headers" | grep -q '; Secure'
    echo "PORTAL-OK admin logged in"
    say "purge (not asked to remove the data)"
    nginx -s stop || true
    apt-get purge -y -q vmmanager >/tmp/purge.log 2>&1 || { cat /tmp/purge.log; exit 1; }
    grep -q 'kept /var/lib/vmmanager' /tmp/purge.log
    [[ -d /var/lib/vmmanager && ! -e /etc/vmmanager ]]
    mariadb -N -e 'SHOW DATABASES' | grep -qx vmm
    echo "PORTAL-OK purge kept the data"
    ;;
esac
