# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Shared settings for rvisor's scripts. Source it; do not run it.

RVISOR_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export RVISOR_ROOT

# Kernel builds are cached outside the work tree so that a fresh clone (CI)
# reuses them. Override with RVISOR_CACHE.
RVISOR_CACHE=${RVISOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rvisor}
export RVISOR_CACHE

# shellcheck disable=SC2034 # used by the scripts that source this file
KERNEL_TARBALL=/usr/src/linux-source-6.12.tar.xz
KERNEL_SRC_PKG=linux-source-6.12

# The kernel's Rust must be built by Debian's rustc-web (it ships the library
# source the kernel needs); rustup's rustc, first in PATH, does not.
export PATH="$HOME/.cargo/bin:$PATH"
export LIBCLANG_PATH=/usr/lib/llvm-19/lib
# shellcheck disable=SC2034 # used by the scripts that source this file
KMAKE_ARGS=(
	LLVM=-19
	RUSTC=/usr/bin/rustc
	RUSTDOC=/usr/bin/rustdoc
	RUSTFMT=/usr/bin/rustfmt
	CLIPPY_DRIVER=/usr/bin/clippy-driver
	BINDGEN="$(command -v bindgen || echo bindgen)"
)

die() {
	printf '%s: error: %s\n' "$(basename "$0")" "$*" >&2
	exit 1
}

log() {
	printf '%s: %s\n' "$(basename "$0")" "$*" >&2
}

# Which test kernel: RVISOR_KERNEL=debug selects the debug kernel
# (kconfig/rvisor.config plus kconfig/debug.config: KASAN, lockdep,
# kmemleak, UBSAN), anything else or unset the test kernel.
RVISOR_KERNEL=${RVISOR_KERNEL:-test}
[ "$RVISOR_KERNEL" = debug ] || RVISOR_KERNEL="test"
export RVISOR_KERNEL

# The config fragments of the selected kernel, in the order they apply.
kernel_fragments() {
	echo "$RVISOR_ROOT/kconfig/rvisor.config"
	[ "$RVISOR_KERNEL" = debug ] && echo "$RVISOR_ROOT/kconfig/debug.config"
	return 0
}

# The build key: everything that changes the kernel image or the Rust
# metadata that modules are compiled against.
kernel_key() {
	{
		dpkg-query -W -f='${Version}\n' "$KERNEL_SRC_PKG"
		# shellcheck disable=SC2046 # one path a line, none with a space
		cat $(kernel_fragments)
		/usr/bin/rustc --version
		clang-19 --version | head -n1
		bindgen --version
	} | sha256sum | cut -c1-16
}

# The cache entries of the selected kernel are named PREFIX-KEY.
kernel_prefix() {
	if [ "$RVISOR_KERNEL" = debug ]; then echo debug-kernel; else echo kernel; fi
}

# Where the kernel for the current key is built; it must never move after
# the build (modules reference it by absolute path).
kernel_dir() {
	echo "$RVISOR_CACHE/$(kernel_prefix)-$(kernel_key)/linux"
}
