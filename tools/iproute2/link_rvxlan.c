// SPDX-License-Identifier: GPL-2.0
/*
 * link_rvxlan.so: an iproute2 link plugin that lets `ip link ... type
 * rvxlan` take the vxlan syntax and show a kind-rvxlan device as vxlan's.
 *
 * rvxlan speaks Linux vxlan's IFLA_VXLAN_* attributes inside
 * IFLA_INFO_DATA (Documentation/rvxlan.rst, "Netlink ABI"), so what
 * iproute2's vxlan code writes and reads is what rvxlan needs: this
 * plugin only publishes vxlan's callbacks under the kind "rvxlan".
 *
 * How ip finds it (iproute2 6.1, ip/iplink.c get_link_kind()): for a kind
 * it has not met, ip dlopen()s "$IP_LIB_DIR/link_<kind>.so" (IP_LIB_DIR
 * from the environment, else the build-time default, on Debian
 * /usr/lib/x86_64-linux-gnu/ip) and takes the symbol "<kind>_link_util",
 * a struct link_util. ip itself is linked with -rdynamic and exports
 * vxlan_link_util (`nm -D /usr/bin/ip`), which the constructor below
 * finds with dlsym(RTLD_DEFAULT): the constructor runs inside dlopen(),
 * before ip's dlsym() reads rvxlan_link_util.
 *
 * Build: gcc -shared -fPIC (see the Makefile: build/lib/ip/link_rvxlan.so).
 * Use:   IP_LIB_DIR=build/lib/ip ip link add vx0 type rvxlan id 100 ...
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

struct nlmsghdr;
struct rtattr;

/*
 * iproute2's struct link_util, ip/ip_common.h, the same from iproute2
 * 4.x to 6.12 (a plugin is compiled against the ip it is loaded into: if
 * this layout changes, so must this copy).
 */
struct link_util {
	struct link_util *next;
	const char *id;
	int maxattr;
	int (*parse_opt)(struct link_util *, int, char **, struct nlmsghdr *);
	void (*print_opt)(struct link_util *, FILE *, struct rtattr *[]);
	void (*print_xstats)(struct link_util *, FILE *, struct rtattr *);
	void (*print_help)(struct link_util *, int, char **, FILE *);
	int (*parse_ifla_xstats)(struct link_util *, int, char **);
	int (*print_ifla_xstats)(struct nlmsghdr *, void *);
};

/*
 * Without vxlan_link_util (an ip built without -rdynamic, or a future
 * one that renames it), refuse to configure rather than let ip send an
 * IFLA_INFO_DATA-less request that rvxlan would take as an unconfigured
 * device.
 */
static int missing_parse_opt(struct link_util *lu, int argc, char **argv,
			     struct nlmsghdr *n)
{
	(void)lu;
	(void)argc;
	(void)argv;
	(void)n;
	fprintf(stderr,
		"rvxlan: this ip does not export vxlan_link_util; link_rvxlan.so needs it\n");
	return -1;
}

struct link_util rvxlan_link_util = {
	/* next: ip's list of known kinds; ip links this entry in itself. */
	.next = NULL,
	/*
	 * id: the kind ip matches on the command line and in IFLA_INFO_KIND
	 * of a dump; ip sends the kind the user typed ("rvxlan"), not this.
	 */
	.id = "rvxlan",
	.parse_opt = missing_parse_opt,
};

__attribute__((constructor)) static void rvxlan_link_init(void)
{
	const struct link_util *vx = dlsym(RTLD_DEFAULT, "vxlan_link_util");

	if (!vx)
		return;
	/*
	 * maxattr: IFLA_VXLAN_MAX of the ip binary, the size of the table
	 * ip parses IFLA_INFO_DATA into before print_opt: rvxlan uses
	 * vxlan's numbers, so vxlan's bound is the right one.
	 */
	rvxlan_link_util.maxattr = vx->maxattr;
	/* parse_opt: vxlan's, which writes IFLA_VXLAN_* into the request. */
	rvxlan_link_util.parse_opt = vx->parse_opt;
	/* print_opt: vxlan's, so `ip -d [-j] link show` prints the same. */
	rvxlan_link_util.print_opt = vx->print_opt;
	/* print_help: vxlan's usage text (`ip link help rvxlan`). */
	rvxlan_link_util.print_help = vx->print_help;
	/*
	 * The statistics callbacks: NULL in iproute2 6.1's vxlan (it has no
	 * IFLA_INFO_XSTATS printer); copied so that a newer ip that gives
	 * vxlan some shows rvxlan's the same way.
	 */
	rvxlan_link_util.print_xstats = vx->print_xstats;
	rvxlan_link_util.parse_ifla_xstats = vx->parse_ifla_xstats;
	rvxlan_link_util.print_ifla_xstats = vx->print_ifla_xstats;
}
