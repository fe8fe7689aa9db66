// SPDX-License-Identifier: GPL-2.0
/*
 * A seeded differential guest fuzzer: generates small straight-line guest
 * programs from templates (ordinary instructions mixed with sensitive and
 * faulting ones) in four CPU modes, runs each on a fresh vCPU with freshly
 * written memory and prints one canonical line of what the guest did and
 * left behind. guest_diff.sh runs
 * the same programs on /dev/rvisor and on /dev/kvm (kvm_intel) in the same
 * boot and compares the lines.
 *
 *   guest_diff DEVICE [NPROGS [SEED]]    run NPROGS programs (default 400,
 *                                        seed 1) on DEVICE
 *   guest_diff --list SEED N...          print programs N... (no device)
 *   guest_diff DEVICE --prefixes SEED N... run program N cut after its first
 *                                        1, 2, ... 16 templates (bisection)
 *
 * Program N depends only on SEED and N, not on NPROGS. Output, one line
 * per program:
 *
 *   # prog N mode M: tags=T exits=E regs=R sregs=S mem=H sys=H
 *
 * M is real, prot (32-bit flat, paging off), paged (32-bit with 4 KiB
 * pages, either 2-level with PSE or PAE) or long (4-level). T lists the
 * generator's category tags (guest_diff.sh accepts divergences in the
 * categories uapi.rst documents as differences from KVM), "-" if none. E
 * is the sequence of exits (port I/O and MMIO with their data; the last
 * one ends the program: hlt, shutdown, fail_entry, internal, limit). R
 * and S are the final registers and selected system registers; mem is a
 * hash of the data, stack and SYSCALL-stub pages, sys of the GDT, code and
 * page tables.
 *
 * Determinism: every vCPU is new and all of guest memory rewritten (a VM
 * serves 16 programs), every register and system register is set
 * explicitly, both devices get the same CPUID table (KVM_SET_CPUID2, not
 * the device's supported list), there is no IDT (any exception ends in a
 * triple fault: KVM_EXIT_SHUTDOWN), no RDTSC/RDRAND and no read of the
 * TSC MSR, port/MMIO reads get data derived from the port/address, and
 * guest code never reaches bytes it did not generate (no jumps but SYSCALL
 * to a fixed stub; code-page PTE edits keep the frame). A KVM_RUN that
 * does not return within GUEST_DIFF_WATCHDOG seconds (default 20) ends
 * the program as "timeout".
 *
 * GUEST_DIFF_AVOID (see avoid_names) leaves instruction forms out, to look
 * past known divergences; guest_diff.sh never sets it.
 */
#include <signal.h>
#include <sys/time.h>
#include "vmtest.h"

#define MEM_SIZE 0x100000	/* one slot, GPA 0 - 1 MiB; above: MMIO */
#define GDT 0x800
#define CODE 0x1000
#define STUB 0x2000		/* SYSCALL target: OUT 0xf0, JMP *%RCX */
#define STUB_HLT 0x2010		/* another LSTAR: HLT */
#define DATA 0x3000		/* data page */
#define STACK_TOP 0x8000	/* stack 0x4000 - 0x8000 */
#define ALT 0x9000		/* another RAM page */
#define PML4 0x10000		/* long mode; PAE: the PDPT */
#define PDPT 0x11000
#define PD 0x12000		/* 2-level: the page directory */
#define PT 0x13000		/* 4 KiB pages of 0 - 2 MiB (0 - 4 MiB 2-level) */
#define MMIO1 0x100000
#define MMIO2 0x101000
#define MAX_EXITS 32
#define MAX_CODE 0xf00

enum { M_REAL, M_PROT, M_PAGED, M_LONG, NMODES };
static const char *const mode_name[NMODES] = { "real", "prot", "paged", "long" };

/* Category tags: instruction classes that rvisor documents to differ. */
#define TAG_STRIO (1u << 0)	/* string I/O */
#define TAG_DRBP (1u << 1)	/* DR7 breakpoint enables */
#define TAG_TSCW (1u << 2)	/* WRMSR to the TSC */
#define TAG_SPLIT (1u << 3)	/* an MMIO access across a page boundary */
#define TAG_VMMCALL (1u << 4)	/* VMMCALL (AMD's VMCALL) */
#define TAG_TFDR (1u << 5)	/* MOV DR single-stepped */
static const char *const tag_name[] = { "strio", "drbp", "tscw", "split", "vmmcall", "tfdr" };

struct prog {
	int mode, pae, nxe;
	unsigned int tags;
	uint8_t code[MAX_CODE + 64];
	int len;
	/* RFLAGS.TF was just set: the instruction at code offset traced runs single-stepped. */
	int tf_set, traced;
	uint64_t regs[16];
	uint8_t data[0x1000], alt[0x1000];
	char list[8192];
	size_t ll;
};

/*
 * GUEST_DIFF_AVOID=NAME,...: instruction forms not to generate, to look
 * past divergences already known (the programs change: a different
 * experiment, not a filter).
 */
static const char *const avoid_names[] = { "dr45", "msrx", "msrval", "vmcall", "vmmcall",
					   "split", "pg64", "tf", "cr3bad", "strio", "cr8big", "drgd",
					   "mtrrtype" };
enum { A_DR45, A_MSRX, A_MSRVAL, A_VMCALL, A_VMMCALL, A_SPLIT, A_PG64, A_TF, A_CR3BAD,
       A_STRIO, A_CR8BIG, A_DRGD, A_MTRRTYPE };
static unsigned int avoid;
#define AVOID(x) (avoid & (1u << (x)))

/* splitmix64 */
static uint64_t rng_state;

static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rnd(void)
{
	return mix(rng_state += 0x9e3779b97f4a7c15ull);
}

static uint32_t rn(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

#define PICK(a) ((a)[rn(sizeof(a) / sizeof((a)[0]))])

static void say(struct prog *p, const char *fmt, ...)
{
	va_list ap;

	if (p->ll + 200 > sizeof(p->list))
		return;
	va_start(ap, fmt);
	p->ll += vsnprintf(p->list + p->ll, sizeof(p->list) - p->ll, fmt, ap);
	va_end(ap);
	p->list[p->ll++] = ';';
	p->list[p->ll++] = ' ';
	p->list[p->ll] = 0;
}

/* ---- a small x86 encoder ------------------------------------------------ */

static int bits(const struct prog *p)
{
	return p->mode == M_REAL ? 16 : p->mode == M_LONG ? 64 : 32;
}

static void b(struct prog *p, unsigned int byte)
{
	p->code[p->len++] = (uint8_t)byte;
}

static void imm(struct prog *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		b(p, (unsigned int)(v >> (8 * i)) & 0xff);
}

/* Operand-size prefix and REX for an operation of SIZE bytes. */
static void pfx(struct prog *p, int size, int reg, int rm)
{
	int rex = 0;

	if ((size == 2 && bits(p) != 16) || (size == 4 && bits(p) == 16))
		b(p, 0x66);
	if (bits(p) == 64) {
		rex = (size == 8 ? 8 : 0) | ((reg >> 3) & 1) << 2 | ((rm >> 3) & 1);
		if (rex)
			b(p, 0x40 | rex);
	}
}

/* ModRM (and SIB, displacement) for the absolute address ADDR. */
static void mem_abs(struct prog *p, int reg, uint32_t addr)
{
	if (bits(p) == 16) {
		b(p, (reg & 7) << 3 | 6);
		imm(p, addr, 2);
	} else {
		b(p, (reg & 7) << 3 | 4);
		b(p, 0x25);
		imm(p, addr, 4);
	}
}

static void modrm_reg(struct prog *p, int reg, int rm)
{
	b(p, 0xc0 | (reg & 7) << 3 | (rm & 7));
}

/* mov $v, %reg (32-bit; 64-bit movabs when size 8) */
static void mov_ri(struct prog *p, int reg, uint64_t v, int size)
{
	pfx(p, size, 0, reg);
	b(p, 0xb8 + (reg & 7));
	imm(p, v, size == 8 ? 8 : 4);
}

static int nregs(const struct prog *p)
{
	return p->mode == M_LONG ? 16 : 8;
}

/* A register other than the stack pointer. */
static int any_reg(struct prog *p)
{
	int r;

	do
		r = rn(nregs(p));
	while (r == 4);
	return r;
}

static const char *const reg32[16] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
	"r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d" };

/*
 * Where a memory template accesses: a linear address and the segment
 * prefix that reaches it. In real mode the MMIO pages are reached through
 * FS (base 0xffff0); elsewhere through the flat DS.
 */
struct place {
	uint32_t addr;
	int fs;
	const char *what;
};

/* Tags an MMIO access of size bytes at pl that crosses a page boundary. */
static void mark_split(struct prog *p, const struct place *pl, int size)
{
	uint32_t linear = pl->addr + (pl->fs ? 0xffff0 : 0);

	if (!strncmp(pl->what, "mmio", 4) && (linear & 0xfff) + size > 0x1000)
		p->tags |= TAG_SPLIT;
}

static struct place place(struct prog *p, int size, int allow_mmio)
{
	uint32_t off = (rn(0x1000 / size)) * size;
	int k = rn(16);
	struct place pl;

	if (rn(8) == 0 && !AVOID(A_SPLIT))
		off = 0xffc + rn(4); /* misaligned, maybe across the page end */
	if (!allow_mmio)
		k = k < 10 ? 0 : 1;
	if (k < 6) {
		pl = (struct place){ DATA + (off & 0xfff), 0, "data" };
	} else if (k < 9) {
		pl = (struct place){ ALT + (off & 0xfff), 0, "alt" };
	} else if (k < 13) {
		pl = (struct place){ MMIO1 + off, 0, "mmio1" };
	} else if (k < 15) {
		pl = (struct place){ MMIO2 + (off & 0xfff), 0, "mmio2" };
	} else {
		/* Linear 2 MiB (4 MiB 2-level): an alias once a PD edit maps it. */
		uint32_t hi = (p->mode == M_PAGED && !p->pae) ? 0x400000 : 0x200000;

		pl = (struct place){ hi + DATA + (off & 0xfff), 0, "high" };
	}
	if (p->mode == M_REAL) {
		if (pl.addr >= MMIO1 && pl.addr < MMIO1 + 0xffe0) {
			pl.addr -= 0xffff0;
			pl.fs = 1;
		} else if (pl.addr >= 0x10000) {
			pl = (struct place){ DATA + (off & 0xfff), 0, "data" };
		}
		if (pl.addr + size > 0x10000)
			pl.addr = DATA;
	}
	mark_split(p, &pl, size);
	return pl;
}

static void seg_fs(struct prog *p, const struct place *pl)
{
	if (pl->fs)
		b(p, 0x64);
}

/* ---- templates ------------------------------------------------------------ */

static uint64_t rand_value(struct prog *p)
{
	switch (rn(6)) {
	case 0: return rn(16);
	case 1: return rn(0x10000);
	case 2: return (uint32_t)rnd();
	case 3: return p->mode == M_LONG ? rnd() : (uint32_t)rnd();
	case 4: return 0xffffffffu;
	default: return 1u << rn(32);
	}
}

static void t_mov_imm(struct prog *p)
{
	int r = any_reg(p);
	uint64_t v = rand_value(p);

	if (p->mode == M_LONG && v >> 32) {
		mov_ri(p, r, v, 8);
		say(p, "movabs $%#llx, r%d", (unsigned long long)v, r);
	} else {
		mov_ri(p, r, v, 4);
		say(p, "mov $%#llx, %s", (unsigned long long)v, reg32[r]);
	}
}

static void t_alu(struct prog *p)
{
	static const uint8_t ops[] = { 0x01, 0x29, 0x31, 0x21, 0x09, 0x11, 0x39, 0x89, 0x87 };
	static const char *const names[] = { "add", "sub", "xor", "and", "or", "adc", "cmp", "mov",
					      "xchg" };
	int i = rn(sizeof(ops)), s = any_reg(p), d = any_reg(p);
	int size = p->mode == M_LONG && rn(2) ? 8 : 4;

	pfx(p, size, s, d);
	b(p, ops[i]);
	modrm_reg(p, s, d);
	say(p, "%s%s %s, %s", names[i], size == 8 ? "q" : "", reg32[s], reg32[d]);
}

static void t_shift(struct prog *p)
{
	static const int ext[] = { 4, 5, 7, 0, 1 };
	static const char *const names[] = { "shl", "shr", "sar", "rol", "ror" };
	int i = rn(5), r = any_reg(p), n = rn(64);
	int size = p->mode == M_LONG && rn(2) ? 8 : 4;

	pfx(p, size, 0, r);
	b(p, 0xc1);
	modrm_reg(p, ext[i], r);
	b(p, n);
	say(p, "%s $%d, %s", names[i], n, reg32[r]);
}

static void t_unary(struct prog *p)
{
	static const int op[] = { 0xf7, 0xf7, 0xff, 0xff, 0x0f };
	static const int ext[] = { 2, 3, 0, 1, 0 };
	static const char *const names[] = { "not", "neg", "inc", "dec", "imul" };
	int i = rn(5), r = any_reg(p), s = any_reg(p);

	pfx(p, 4, i == 4 ? r : 0, i == 4 ? s : r);
	b(p, op[i]);
	if (i == 4) {
		b(p, 0xaf);
		modrm_reg(p, r, s);
		say(p, "imul %s, %s", reg32[s], reg32[r]);
	} else {
		modrm_reg(p, ext[i], r);
		say(p, "%s %s", names[i], reg32[r]);
	}
}

static void t_push_pop(struct prog *p)
{
	int r = any_reg(p), pop = rn(2);

	if (bits(p) == 16)
		b(p, 0x66);
	if (r >= 8)
		b(p, 0x41);
	b(p, (pop ? 0x58 : 0x50) + (r & 7));
	say(p, "%s %s", pop ? "pop" : "push", reg32[r]);
}

static void t_lea(struct prog *p)
{
	int d = any_reg(p), base = rn(nregs(p)), idx = any_reg(p), sc = rn(4);
	uint32_t disp = (uint32_t)rand_value(p);
	int rex;

	if (bits(p) == 16)
		b(p, 0x66), b(p, 0x67);
	if (bits(p) == 64) {
		rex = 0x48 | ((d >> 3) & 1) << 2 | ((idx >> 3) & 1) << 1 | ((base >> 3) & 1);
		b(p, rex);
	}
	b(p, 0x8d);
	b(p, 0x80 | (d & 7) << 3 | 4);
	b(p, sc << 6 | (idx & 7) << 3 | (base & 7));
	imm(p, disp, 4);
	say(p, "lea %#x(%s,%s,%d), %s", disp, reg32[base], reg32[idx], 1 << sc, reg32[d]);
}

/*
 * How a memory operand is encoded, so that the MMIO decoder sees every
 * ModRM form: an absolute address (SIB without base, or disp16), a base
 * register with a displacement, base + index * scale, RIP-relative (64-bit)
 * or the moffs form of MOV AL/AX/EAX/RAX. The registers are loaded first.
 */
struct maddr {
	int form, base, index, scale;
	uint32_t disp;
	uint32_t addr;
};

static const char *const form_name[] = { "abs", "base", "sib", "rip", "moffs" };

static void mem_prepare(struct prog *p, struct maddr *m, uint32_t addr, int moffs_ok)
{
	m->addr = addr;
	m->form = rn(5);
	if (m->form == 4 && !moffs_ok)
		m->form = 0;
	if (m->form == 3 && bits(p) != 64)
		m->form = 1;
	if (bits(p) == 16) {
		static const int rm16[] = { 4, 5, 7 }; /* si, di, bx */
		static const int reg16[] = { 6, 7, 3 };
		int k = rn(3);

		if (m->form == 1 || m->form == 3) { /* [si|di|bx + disp8] */
			m->base = rm16[k];
			m->disp = rn(0x100);
			mov_ri(p, reg16[k], (addr - (int8_t)m->disp) & 0xffff, 4);
		} else if (m->form == 2) { /* [bx + si + disp16] */
			uint32_t x = rn(0x10000);

			m->disp = rn(0x10000);
			mov_ri(p, 6, x, 4);
			mov_ri(p, 3, (addr - m->disp - x) & 0xffff, 4);
		}
		return;
	}
	if (m->form == 1 || m->form == 2) {
		do
			m->base = rn(nregs(p));
		while ((m->base & 7) == 4);
		m->disp = m->form == 1 ? (uint32_t)rnd() : rn(0x100);
		if (m->form == 2) {
			uint32_t x = rn(0x100);

			do
				m->index = rn(nregs(p));
			while (m->index == 4 || m->index == m->base);
			m->scale = rn(4);
			mov_ri(p, m->index, x, 4);
			mov_ri(p, m->base, addr - (int8_t)m->disp - (x << m->scale), 4);
		} else {
			/* In 64-bit mode the displacement is sign-extended. */
			uint64_t v = bits(p) == 64 ? addr - (uint64_t)(int64_t)(int32_t)m->disp
						   : (uint32_t)(addr - m->disp);

			mov_ri(p, m->base, v, v >> 32 ? 8 : 4);
		}
	}
}

/* Operand-size prefix and REX with the index and base of M. */
static void mem_pfx(struct prog *p, int size, int reg, const struct maddr *m)
{
	if ((size == 2 && bits(p) != 16) || (size == 4 && bits(p) == 16))
		b(p, 0x66);
	if (bits(p) == 64) {
		int rex = (size == 8 ? 8 : 0) | ((reg >> 3) & 1) << 2;

		if (m->form == 1 || m->form == 2)
			rex |= (m->base >> 3) & 1;
		if (m->form == 2)
			rex |= ((m->index >> 3) & 1) << 1;
		if (rex)
			b(p, 0x40 | rex);
	}
}

/* ModRM and what follows for REG and M; TAIL immediate bytes come after. */
static void mem_operand(struct prog *p, int reg, const struct maddr *m, int tail)
{
	reg &= 7;
	if (bits(p) == 16) {
		switch (m->form) {
		case 1:
		case 3:
			b(p, 0x40 | reg << 3 | m->base);
			b(p, m->disp);
			return;
		case 2:
			b(p, 0x80 | reg << 3 | 0);
			imm(p, m->disp, 2);
			return;
		default:
			mem_abs(p, reg, m->addr);
			return;
		}
	}
	switch (m->form) {
	case 1:
		b(p, 0x80 | reg << 3 | (m->base & 7));
		imm(p, m->disp, 4);
		break;
	case 2:
		b(p, 0x40 | reg << 3 | 4);
		b(p, m->scale << 6 | (m->index & 7) << 3 | (m->base & 7));
		b(p, m->disp);
		break;
	case 3:
		b(p, reg << 3 | 5);
		imm(p, m->addr - (CODE + p->len + 4 + tail), 4);
		break;
	default:
		mem_abs(p, reg, m->addr);
		break;
	}
}

/* A load or store between a register/immediate and memory (or MMIO). */
static void t_mem(struct prog *p, int allow_mmio)
{
	static const int sizes[] = { 1, 2, 4, 4, 8 };
	int size = PICK(sizes), r, kind = rn(5);
	struct place pl;
	struct maddr m;

	if (size == 8 && p->mode != M_LONG)
		size = 4;
	pl = place(p, size, allow_mmio);
	r = any_reg(p);
	if (size == 1 && p->mode == M_LONG && r >= 8)
		r &= 7;
	if (kind <= 1 || kind == 3)
		r = rn(3) ? r : 0;
	mem_prepare(p, &m, pl.addr, (kind <= 1 || kind == 3) && r == 0);
	seg_fs(p, &pl);
	if (m.form == 4) { /* mov moffs, al/eax or back: A0-A3 */
		mem_pfx(p, size, 0, &m);
		b(p, 0xa0 + (kind == 3 ? 0 : 2) + (size != 1));
		imm(p, pl.addr, bits(p) == 16 ? 2 : bits(p) == 64 ? 8 : 4);
		say(p, "mov%d moffs %s %s %#x", size, kind == 3 ? "load" : "store", pl.what, pl.addr);
		return;
	}
	switch (kind) {
	case 0: /* store register */
	case 1:
		mem_pfx(p, size, r, &m);
		b(p, size == 1 ? 0x88 : 0x89);
		mem_operand(p, r, &m, 0);
		say(p, "mov%d %s -> %s %#x (%s)", size, reg32[r], pl.what, pl.addr, form_name[m.form]);
		break;
	case 2: { /* store immediate */
		uint64_t v = rnd();
		int n = size == 1 ? 1 : size == 2 ? 2 : 4;

		mem_pfx(p, size, 0, &m);
		b(p, size == 1 ? 0xc6 : 0xc7);
		mem_operand(p, 0, &m, n);
		imm(p, v, n);
		say(p, "mov%d $imm -> %s %#x (%s)", size, pl.what, pl.addr, form_name[m.form]);
		break;
	}
	case 3: /* load */
		mem_pfx(p, size, r, &m);
		b(p, size == 1 ? 0x8a : 0x8b);
		mem_operand(p, r, &m, 0);
		say(p, "mov%d %s %#x -> %s (%s)", size, pl.what, pl.addr, reg32[r], form_name[m.form]);
		break;
	default: { /* movzx byte/word */
		int w = rn(2);

		mark_split(p, &pl, w ? 2 : 1);
		mem_pfx(p, rn(4) ? 4 : 2, r, &m);
		b(p, 0x0f);
		b(p, w ? 0xb7 : 0xb6);
		mem_operand(p, r, &m, 0);
		say(p, "movz%c %s %#x -> %s (%s)", w ? 'w' : 'b', pl.what, pl.addr, reg32[r],
		    form_name[m.form]);
		break;
	}
	}
}

static void t_flags(struct prog *p)
{
	static const uint32_t flags[] = { 0x1, 0x4, 0x40, 0x80, 0x100, 0x100, 0x200, 0x400,
					  0x800, 0x3000, 0x4000, 0x10000, 0x40000, 0x200000 };
	uint32_t f = PICK(flags);

	/* pushf; pop %eax; or $f, %eax; push %eax; popf */
	if (bits(p) == 16)
		b(p, 0x66);
	b(p, 0x9c);
	if (bits(p) == 16)
		b(p, 0x66);
	b(p, 0x58);
	pfx(p, 4, 0, 0);
	b(p, 0x0d);
	imm(p, f, 4);
	if (bits(p) == 16)
		b(p, 0x66);
	b(p, 0x50);
	if (bits(p) == 16)
		b(p, 0x66);
	b(p, 0x9d);
	p->tf_set = (f & X86_EFLAGS_TF) != 0;
	say(p, "rflags |= %#x", f);
}

static void t_cpuid(struct prog *p)
{
	static const uint32_t leaves[] = { 0, 1, 1, 2, 4, 7, 7, 0xb, 0xd, 0xd, 0x14, 0x40000000,
					   0x40000001, 0x80000000, 0x80000001, 0x80000002,
					   0x80000008, 0xc0000000, 0x12345678 };
	static const uint32_t subs[] = { 0, 0, 1, 2, 0xff };
	uint32_t leaf = PICK(leaves), sub = PICK(subs);

	mov_ri(p, 0, leaf, 4);
	mov_ri(p, 1, sub, 4);
	b(p, 0x0f), b(p, 0xa2);
	say(p, "cpuid %#x.%u", leaf, sub);
}

struct msr_def {
	uint32_t index;
	int documented;
};

/* The MSRs uapi.rst lists (but the TSC, read nondeterministically), and a few it does not. */
static const struct msr_def msrs[] = {
	{ 0x1b, 1 }, { 0xfe, 1 }, { 0x174, 1 }, { 0x175, 1 }, { 0x176, 1 }, { 0x1a0, 1 },
	{ 0x277, 1 }, { 0x2ff, 1 }, { 0xc0000080, 1 }, { 0xc0000081, 1 }, { 0xc0000082, 1 },
	{ 0xc0000083, 1 }, { 0xc0000084, 1 }, { 0xc0000100, 1 }, { 0xc0000101, 1 },
	{ 0xc0000102, 1 },
	{ 0x17, 0 }, { 0x3a, 0 }, { 0x8b, 0 }, { 0xce, 0 }, { 0x1d9, 0 }, { 0x200, 0 },
	{ 0x250, 0 }, { 0xc0000103, 0 }, { 0x12345678, 0 },
};

static uint64_t msr_value(struct prog *p, uint32_t index)
{
	static const uint64_t apic[] = { 0xfee00900, 0xfee00800, 0xfee00100, 0xfec00900,
					 0xfee00d00, 0x1fee00900ull };
	static const uint64_t pat[] = { 0x0007040600070406ull, 0x0606060606060606ull,
					0x0000000000000002ull, 0x0007040600070403ull };
	static const uint64_t mtrr[] = { 0xc06, 0x806, 0x6, 0x1000, 0x0 };
	static const uint64_t lstar[] = { STUB, STUB, STUB_HLT, 0x8000000000000000ull,
					  0xffff800000002000ull };
	static const uint64_t misc[] = { 0x1, 0x1801, 0x0, 0x40000, 0x400000 };

	/* Never a random LSTAR/CSTAR: SYSCALL would run whatever is there. */
	if (rn(4) == 0 && index != 0xc0000082 && index != 0xc0000083 &&
	    !(index == 0x2ff && AVOID(A_MTRRTYPE)))
		return rand_value(p);
	switch (index) {
	case 0x1b: return PICK(apic);
	case 0x277: return PICK(pat);
	case 0x2ff: return PICK(mtrr);
	case 0x1a0: return PICK(misc);
	case 0xc0000082: case 0xc0000083: return PICK(lstar);
	case 0xc0000081: return 0x0010000800000000ull | rn(0x10000);
	case 0xc0000084: return rn(2) ? 0x100 : 0x200;
	case 0xc0000080: {
		static const uint64_t bitsv[] = { 1, 0x800, 0x100, 0x400, 0x2000 };
		uint64_t cur = p->mode == M_LONG ? EFER_LME | EFER_LMA | EFER_SCE : 0;

		if (p->nxe)
			cur |= EFER_NX;
		return cur ^ PICK(bitsv);
	}
	default: return rand_value(p);
	}
}

static uint32_t pick_msr(void)
{
	const struct msr_def *d;

	do
		d = &PICK(msrs);
	while ((AVOID(A_MSRX) && !d->documented) ||
	       (AVOID(A_MSRVAL) && (d->index == 0x1b || d->index == 0xfe || d->index == 0x1a0)));
	return d->index;
}

static void t_rdmsr(struct prog *p)
{
	uint32_t m = pick_msr();

	mov_ri(p, 1, m, 4);
	b(p, 0x0f), b(p, 0x32);
	say(p, "rdmsr %#x", m);
}

static void t_wrmsr(struct prog *p)
{
	uint32_t m = pick_msr();
	uint64_t v;

	if (rn(40) == 0) {
		m = 0x10;
		p->tags |= TAG_TSCW;
	}
	v = msr_value(p, m);
	mov_ri(p, 1, m, 4);
	mov_ri(p, 0, (uint32_t)v, 4);
	mov_ri(p, 2, (uint32_t)(v >> 32), 4);
	b(p, 0x0f), b(p, 0x30);
	say(p, "wrmsr %#x = %#llx", m, (unsigned long long)v);
}

static uint16_t rand_port(void)
{
	static const uint16_t ports[] = { 0x80, 0x60, 0x64, 0x70, 0x71, 0x3f8, 0xcf8, 0xcfc,
					  0x20, 0x21, 0x40, 0x43, 0x61, 0x92, 0xf0 };

	return rn(3) ? PICK(ports) : (uint16_t)rn(0x10000);
}

static void t_io(struct prog *p, int in)
{
	static const int sizes[] = { 1, 2, 4 };
	int size = PICK(sizes), dx = rn(2);
	uint16_t port = rand_port();

	if (!dx)
		port &= 0xff;
	if (!in && rn(2))
		mov_ri(p, 0, rnd(), 4);
	if (dx)
		mov_ri(p, 2, port, 4);
	if (size == 2 ? bits(p) != 16 : size == 4 && bits(p) == 16)
		b(p, 0x66);
	b(p, (dx ? 0xec : 0xe4) + (in ? 0 : 2) + (size != 1));
	if (!dx)
		b(p, port);
	say(p, "%s%d port %#x%s", in ? "in" : "out", size, port, dx ? " (dx)" : "");
}

static void t_strio(struct prog *p)
{
	int in = rn(2);

	if (AVOID(A_STRIO)) {
		t_io(p, in);
		return;
	}
	mov_ri(p, 2, rand_port(), 4);
	mov_ri(p, in ? 7 : 6, DATA + rn(0x100), 4);
	if (bits(p) == 16)
		b(p, 0x67); /* 32-bit ESI/EDI */
	b(p, in ? 0x6c : 0x6e);
	p->tags |= TAG_STRIO;
	say(p, "%s", in ? "insb" : "outsb");
}

/* mov %crN, %reg / mov %reg, %crN: 0f 20/22, REX.R for CR8. */
static void mov_cr(struct prog *p, int to, int cr, int reg)
{
	if (bits(p) == 64 && (cr >= 8 || reg >= 8))
		b(p, 0x40 | (cr >= 8 ? 4 : 0) | (reg >= 8 ? 1 : 0));
	b(p, 0x0f);
	b(p, to ? 0x22 : 0x20);
	modrm_reg(p, cr, reg);
}

static void t_cr_read(struct prog *p)
{
	static const int crs[] = { 0, 2, 3, 4, 8 };
	int cr = PICK(crs), r = any_reg(p);

	if (cr == 8 && p->mode != M_LONG)
		cr = 0;
	mov_cr(p, 0, cr, r);
	say(p, "mov %%cr%d, %s", cr, reg32[r]);
}

/* mov %crN, %eax; op $v, %eax (or bts); mov %eax, %crN */
static void cr_modify(struct prog *p, int cr, uint64_t v, int op)
{
	mov_cr(p, 0, cr, 0);
	if (v >> 32) {
		/* bts $n, %rax */
		b(p, 0x48), b(p, 0x0f), b(p, 0xba), b(p, 0xe8);
		b(p, __builtin_ctzll(v));
	} else {
		pfx(p, 4, 0, 0);
		b(p, op == 0 ? 0x35 : op == 1 ? 0x0d : 0x25); /* xor/or/and eax, imm32 */
		imm(p, op == 2 ? ~v : v, 4);
	}
	mov_cr(p, 1, cr, 0);
}

static void t_cr0(struct prog *p)
{
	static const uint64_t bitsv[] = { 0x8, 0x2, 0x4, 0x20, 0x10000, 0x40000, 0x40000000,
					  0x20000000, 0x60000000, 0x80000000, 0x80000000, 0x1, 0x10,
					  0x100000000ull };
	uint64_t v = PICK(bitsv);

	if (v >> 32 && p->mode != M_LONG)
		v = 0x8;
	if (v == 0x80000000 && p->mode == M_LONG && AVOID(A_PG64))
		v = 0x8;
	cr_modify(p, 0, v, 0);
	say(p, "cr0 ^= %#llx", (unsigned long long)v);
}

static void t_cr3(struct prog *p)
{
	static const uint64_t vals[] = { 0, 0x8, 0x10, 0x18, 0x1000, 0x20, 0x80000000,
					 0x8000000000000000ull, 0x10000000000ull, 0x8000000000000ull };
	uint64_t v = PICK(vals);

	if (v >> 32 && p->mode != M_LONG)
		v = 0;
	if (AVOID(A_CR3BAD) && v >= 0x80000000)
		v = 0x18;
	cr_modify(p, 3, v, 0);
	say(p, "cr3 ^= %#llx", (unsigned long long)v);
}

static void t_cr4(struct prog *p)
{
	static const uint32_t bitsv[] = { 0x1, 0x2, 0x4, 0x8, 0x8, 0x10, 0x20, 0x40, 0x80, 0x100,
					  0x200, 0x400, 0x800, 0x1000, 0x2000, 0x4000, 0x10000,
					  0x20000, 0x40000, 0x40000, 0x100000, 0x200000, 0x400000 };
	uint32_t v = PICK(bitsv);

	cr_modify(p, 4, v, 0);
	say(p, "cr4 ^= %#x", v);
}

static void t_cr2(struct prog *p)
{
	uint64_t v = rand_value(p);

	mov_ri(p, 0, v, v >> 32 ? 8 : 4);
	mov_cr(p, 1, 2, 0);
	say(p, "cr2 = %#llx", (unsigned long long)v);
}

static void t_cr8(struct prog *p)
{
	uint64_t v = rn(3) || AVOID(A_CR8BIG) ? rn(16) : rand_value(p);

	if (p->mode != M_LONG) {
		t_cr_read(p);
		return;
	}
	mov_ri(p, 0, v, v >> 32 ? 8 : 4);
	mov_cr(p, 1, 8, 0);
	say(p, "cr8 = %#llx", (unsigned long long)v);
}

static void mov_dr(struct prog *p, int to, int dr, int reg)
{
	if (p->len == p->traced)
		p->tags |= TAG_TFDR;
	if (bits(p) == 64 && reg >= 8)
		b(p, 0x41);
	b(p, 0x0f);
	b(p, to ? 0x23 : 0x21);
	modrm_reg(p, dr, reg);
}

static int pick_dr(void)
{
	int dr;

	do
		dr = rn(8);
	while (AVOID(A_DR45) && (dr == 4 || dr == 5));
	return dr;
}

static void t_dr_read(struct prog *p)
{
	int dr = pick_dr(), r = any_reg(p);

	mov_dr(p, 0, dr, r);
	say(p, "mov %%dr%d, %s", dr, reg32[r]);
}

static void t_dr_write(struct prog *p)
{
	static const uint64_t dr7[] = { 0x400, 0, 0x2000, 0x100, 0x200, 0x1, 0x3, 0xffffdfff,
					0xf0000, 0x100000000ull };
	static const uint64_t dr6[] = { 0xffff0ff0, 0, 0x4000, 0x1, 0xffffffff, 0x100000000ull };
	int dr = pick_dr();
	uint64_t v;

	if (dr == 7 || dr == 5)
		v = PICK(dr7);
	else if (dr == 6 || dr == 4)
		v = PICK(dr6);
	else
		v = rn(2) ? DATA + 4 * rn(8) : rand_value(p);
	if (v >> 32 && p->mode != M_LONG)
		v = 0x400;
	/* The drbp tag covers breakpoints, not general detect (GD, bit 13). */
	if ((dr == 7 || dr == 5) && ((v & 0xff) || AVOID(A_DRGD)))
		v &= ~0x2000ull;
	if (dr < 4 && rn(3) == 0) {
		/* From a register as it is: outside long mode only its low half counts. */
		int r = any_reg(p);

		mov_dr(p, 1, dr, r);
		say(p, "dr%d = %s", dr, reg32[r]);
		return;
	}
	/* L0-L3, G0-G3 enable hardware breakpoints (DR5 aliases DR7 without CR4.DE). */
	if ((dr == 7 || dr == 5) && (v & 0xff))
		p->tags |= TAG_DRBP;
	mov_ri(p, 0, v, v >> 32 ? 8 : 4);
	mov_dr(p, 1, dr, 0);
	say(p, "dr%d = %#llx", dr, (unsigned long long)v);
}

static void t_misc(struct prog *p)
{
	switch (rn(8)) {
	case 0: b(p, 0x0f), b(p, 0x08); say(p, "invd"); break;
	case 1: b(p, 0x0f), b(p, 0x09); say(p, "wbinvd"); break;
	case 2: /* xgetbv */
		mov_ri(p, 1, rn(3), 4);
		b(p, 0x0f), b(p, 0x01), b(p, 0xd0);
		say(p, "xgetbv");
		break;
	case 3:
	case 4: { /* xsetbv */
		static const uint32_t x[] = { 1, 3, 3, 7, 0, 2, 0x80000001 };
		uint32_t v = PICK(x), c = rn(4) ? 0 : 1;

		mov_ri(p, 1, c, 4);
		mov_ri(p, 0, v, 4);
		mov_ri(p, 2, 0, 4);
		b(p, 0x0f), b(p, 0x01), b(p, 0xd1);
		say(p, "xsetbv %u = %#x", c, v);
		break;
	}
	case 5: { /* vmcall: not KVM's hypercalls with side effects (kick, clock, IPI) */
		if (AVOID(A_VMCALL)) {
			b(p, 0x0f), b(p, 0x08);
			say(p, "invd");
			break;
		}
		static const uint32_t nr[] = { 0, 1, 2, 3, 4, 6, 8, 11, 12, 0x7777 };

		mov_ri(p, 0, PICK(nr), 4);
		b(p, 0x0f), b(p, 0x01), b(p, 0xc1);
		say(p, "vmcall");
		break;
	}
	case 6:
		b(p, 0x0f), b(p, 0x05);
		say(p, "syscall");
		break;
	default:
		b(p, 0xf4);
		say(p, "hlt");
		break;
	}
}

static void t_seg(struct prog *p)
{
	static const uint16_t sels[] = { 0x00, 0x08, 0x10, 0x10, 0x18, 0x20, 0x28, 0x30, 0x38,
					 0x40, 0x48, 0x50, 0x13, 0x0c, 0x03 };
	static const int sregs[] = { 0, 2, 3, 3, 4, 5 };
	static const char *const sname[] = { "es", "cs", "ss", "ds", "fs", "gs" };
	uint16_t sel = p->mode == M_REAL && rn(2) ? (uint16_t)rn(0x10000) : PICK(sels);
	int s = PICK(sregs);

	/* mov $sel, %ax; mov %ax, %sreg */
	if (bits(p) != 16)
		b(p, 0x66);
	b(p, 0xb8);
	imm(p, sel, 2);
	b(p, 0x8e);
	modrm_reg(p, s, 0);
	say(p, "%s = %#x", sname[s], sel);
}

/* Page-table edits, then INVLPG or a CR3 reload. */
static void t_pt(struct prog *p)
{
	static const uint32_t idx[] = { 3, 3, 9, 9, 0x100, 0x100, 0x101, 1, 0x13 };
	static const uint32_t phys[] = { DATA, ALT, 0x5000, MMIO1, MMIO2 };
	static const uint32_t fl[] = { 3, 3, 1, 0, 7, 0x63 };
	int wide = p->mode == M_LONG || p->pae;
	uint32_t addr, val, lin;

	if (p->mode == M_REAL || p->mode == M_PROT) {
		t_mem(p, 1);
		return;
	}
	if (rn(4) == 0) {
		/* The second large page: 2 MiB (4 MiB) at linear 2 (4) MiB. */
		static const uint32_t big[] = { 0x83, 0x83, 0x200083, 0x82, 0x400083 };

		addr = PD + (wide ? 8 : 4);
		val = PICK(big);
		if (!wide && val == 0x200083)
			val = 0x83;
		lin = wide ? 0x200000 : 0x400000;
	} else {
		uint32_t i = PICK(idx);

		addr = PT + i * (wide ? 8 : 4);
		/* The code page keeps its frame (only its flags change): guest code
		 * never runs random bytes, which could spin without exits. */
		val = (i == 1 ? CODE : PICK(phys)) | PICK(fl);
		lin = i << 12;
		if (wide && rn(5) == 0) {
			addr += 4;
			val = rn(2) ? 0x80000000 : 0x1000; /* NX, or a physical bit 44 */
		}
	}
	b(p, 0xc7);
	mem_abs(p, 0, addr);
	imm(p, val, 4);
	if (rn(3)) {
		b(p, 0x0f), b(p, 0x01);
		mem_abs(p, 7, lin);
		say(p, "pte %#x = %#x, invlpg %#x", addr, val, lin);
	} else {
		mov_cr(p, 0, 3, 0);
		mov_cr(p, 1, 3, 0);
		say(p, "pte %#x = %#x, reload cr3", addr, val);
	}
}

static void t_fault(struct prog *p)
{
	switch (rn(5)) {
	case 0: b(p, 0x0f), b(p, 0x0b); say(p, "ud2"); break;
	case 1: b(p, 0xcc); say(p, "int3"); break;
	case 2: b(p, 0xcd), b(p, 0x80); say(p, "int $0x80"); break;
	case 3:
		if (AVOID(A_VMMCALL)) {
			b(p, 0x0f), b(p, 0x0b);
			say(p, "ud2");
			break;
		}
		b(p, 0x0f), b(p, 0x01), b(p, 0xd9);
		p->tags |= TAG_VMMCALL;
		say(p, "vmmcall");
		break;
	default: /* xor %ecx, %ecx; div %ecx */
		pfx(p, 4, 0, 0);
		b(p, 0x31), b(p, 0xc9);
		pfx(p, 4, 0, 0);
		b(p, 0xf7), b(p, 0xf1);
		say(p, "div by 0");
		break;
	}
}

static void t_syscall(struct prog *p)
{
	if (p->mode != M_LONG && rn(4)) {
		t_cpuid(p);
		return;
	}
	b(p, 0x0f), b(p, 0x05);
	say(p, "syscall");
}

/*
 * RFLAGS.TF, then at once an instruction the hypervisor emulates: the
 * single-step trap must follow it (no IDT: a triple fault).
 */
static void t_tf(struct prog *p)
{
	static const char *const names[] = { "cpuid", "rdmsr PAT", "out 0x80", "in 0x80",
					     "mov %dr0, %eax", "mov %eax, %dr1", "invd", "vmcall",
					     "mov %cr3, %eax", "mov %eax, %cr3", "mmio store",
					     "mmio load", "wrmsr STAR", "wbinvd" };
	int k = rn(14);

	if (AVOID(A_TF)) {
		t_cpuid(p);
		return;
	}
	mov_ri(p, 0, k == 9 ? (p->mode == M_LONG || p->pae ? PML4 : PD) : 0, 4);
	mov_ri(p, 1, k == 12 ? 0xc0000081 : 0x277, 4);
	mov_ri(p, 2, 0, 4);
	/* pushf; pop %ebx; or $0x100, %ebx; push %ebx; popf */
	if (bits(p) == 16)
		b(p, 0x66);
	b(p, 0x9c);
	if (bits(p) == 16)
		b(p, 0x66);
	b(p, 0x5b);
	pfx(p, 4, 0, 3);
	b(p, 0x81), b(p, 0xcb);
	imm(p, 0x100, 4);
	if (bits(p) == 16)
		b(p, 0x66);
	b(p, 0x53);
	if (bits(p) == 16)
		b(p, 0x66);
	b(p, 0x9d);
	switch (k) {
	case 0: b(p, 0x0f), b(p, 0xa2); break;
	case 1: b(p, 0x0f), b(p, 0x32); break;
	case 2: b(p, 0xe6), b(p, 0x80); break;
	case 3: b(p, 0xe4), b(p, 0x80); break;
	case 4: mov_dr(p, 0, 0, 0); p->tags |= TAG_TFDR; break;
	case 5: mov_dr(p, 1, 1, 0); p->tags |= TAG_TFDR; break;
	case 6: b(p, 0x0f), b(p, 0x08); break;
	case 7: b(p, 0x0f), b(p, 0x01), b(p, 0xc1); break;
	case 8: mov_cr(p, 0, 3, 0); break;
	case 9: mov_cr(p, 1, 3, 0); break;
	case 10:
	case 11:
		if (p->mode == M_REAL) {
			b(p, 0x64);
			b(p, k == 10 ? 0x88 : 0x8a);
			mem_abs(p, 0, MMIO1 - 0xffff0 + 0x40);
		} else {
			b(p, k == 10 ? 0x88 : 0x8a);
			mem_abs(p, 0, MMIO1 + 0x40);
		}
		break;
	case 12: b(p, 0x0f), b(p, 0x30); break;
	default: b(p, 0x0f), b(p, 0x09); break;
	}
	say(p, "rflags.tf, %s", names[k]);
}

struct tmpl {
	int weight;
	void (*fn)(struct prog *p);
};

static void t_mem_ram(struct prog *p) { t_mem(p, 0); }
static void t_mem_mmio(struct prog *p) { t_mem(p, 1); }
static void t_in(struct prog *p) { t_io(p, 1); }
static void t_out(struct prog *p) { t_io(p, 0); }

static const struct tmpl tmpls[] = {
	{ 8, t_mov_imm }, { 8, t_alu }, { 4, t_shift }, { 3, t_unary }, { 5, t_push_pop },
	{ 3, t_lea }, { 8, t_mem_ram }, { 3, t_flags }, { 6, t_cpuid }, { 5, t_rdmsr },
	{ 6, t_wrmsr }, { 5, t_out }, { 4, t_in }, { 3, t_cr_read }, { 3, t_cr0 }, { 2, t_cr3 },
	{ 4, t_cr4 }, { 1, t_cr2 }, { 2, t_cr8 }, { 3, t_dr_read }, { 4, t_dr_write },
	{ 4, t_misc }, { 2, t_syscall }, { 4, t_seg }, { 5, t_pt }, { 8, t_mem_mmio },
	{ 1, t_strio }, { 2, t_fault }, { 2, t_tf },
};

/* Program N of SEED; only its first LIMIT templates if LIMIT > 0. */
static void generate(struct prog *p, uint64_t seed, unsigned int n, int limit)
{
	int total = 0, count;

	memset(p, 0, sizeof(*p));
	p->traced = -1;
	/* Program N depends on SEED and N only. */
	rng_state = mix(mix(seed) ^ mix(n + 0x632be59bd9b4e019ull));
	p->mode = n % NMODES;
	p->pae = p->mode == M_PAGED && rn(2);
	p->nxe = (p->mode == M_LONG || p->pae) && rn(2);
	for (int i = 0; i < 16; i++) {
		uint64_t v = rand_value(p);

		/* Outside long mode, some upper halves are set too: the guest
		 * cannot see them, so they must not change what it sees. */
		p->regs[i] = p->mode == M_LONG || !rn(4) ? v | (rnd() & 0xffffffff00000000ull)
							: (uint32_t)v;
		if (p->mode == M_LONG && rn(2))
			p->regs[i] = v;
	}
	for (int i = 0; i < 0x1000; i++) {
		p->data[i] = (uint8_t)rnd();
		p->alt[i] = (uint8_t)rnd();
	}
	for (unsigned int i = 0; i < sizeof(tmpls) / sizeof(tmpls[0]); i++)
		total += tmpls[i].weight;
	count = 8 + rn(9);
	if (limit > 0 && limit < count)
		count = limit;
	for (int i = 0; i < count && p->len < MAX_CODE - 64; i++) {
		int w = rn(total);
		unsigned int t = 0;

		while (w >= tmpls[t].weight)
			w -= tmpls[t++].weight;
		p->traced = p->tf_set ? p->len : -1;
		p->tf_set = 0;
		tmpls[t].fn(p);
	}
	b(p, 0xf4); /* hlt */
}

/* ---- the VM --------------------------------------------------------------- */

static void set_msrs(struct vt_vcpu *v, const uint32_t *idx, const uint64_t *val, int n)
{
	struct {
		struct kvm_msrs m;
		struct kvm_msr_entry e[8];
	} m = { .m.nmsrs = n };

	for (int i = 0; i < n; i++) {
		m.e[i].index = idx[i];
		m.e[i].data = val[i];
	}
	if (ioctl(v->fd, KVM_SET_MSRS, &m) != n)
		vt_die("KVM_SET_MSRS");
}

static struct kvm_segment seg(uint16_t sel, uint64_t base, uint32_t limit, int type, int s,
			      int db, int l, int g)
{
	return (struct kvm_segment){ .base = base, .limit = limit, .selector = sel, .type = type,
				     .present = 1, .s = s, .db = db, .l = l, .g = g };
}

static void setup(struct prog *p, uint8_t *mem, struct vt_vcpu *v)
{
	uint64_t *gdt = (uint64_t *)(mem + GDT);
	struct kvm_sregs s;
	struct kvm_regs r;
	int wide = p->mode == M_LONG || p->pae;

	gdt[1] = p->mode == M_LONG ? 0x00af9b000000ffffull : 0x00cf9b000000ffffull;
	gdt[2] = 0x00cf93000000ffffull;	/* data, flat */
	gdt[3] = 0x00cf91000000ffffull;	/* read-only data */
	gdt[4] = 0x0040930030000fffull;	/* data at 0x3000, 4 KiB */
	gdt[5] = 0x00cf13000000ffffull;	/* not present */
	gdt[6] = 0x00cf9b000000ffffull;	/* readable code */
	gdt[7] = 0x00cf99000000ffffull;	/* execute-only code */
	gdt[8] = 0x00cff3000000ffffull;	/* data, DPL 3 */
	gdt[9] = 0x000093000000ffffull;	/* 16-bit data */
	/* HLT after the program, in case a decoding runs past its end. */
	memset(mem + CODE, 0xf4, 0x1000);
	memcpy(mem + CODE, p->code, p->len);
	/* SYSCALL stub: out %al, $0xf0; jmp *%rcx; at +0x10: hlt */
	memcpy(mem + STUB, "\xe6\xf0\xff\xe1", 4);
	mem[STUB_HLT] = 0xf4;
	memcpy(mem + DATA, p->data, 0x1000);
	memcpy(mem + ALT, p->alt, 0x1000);
	if (wide) {
		uint64_t *pml4 = (uint64_t *)(mem + PML4), *pdpt = (uint64_t *)(mem + PDPT);
		uint64_t *pd = (uint64_t *)(mem + PD), *pt = (uint64_t *)(mem + PT);

		if (p->mode == M_LONG) {
			pml4[0] = PDPT | PTE_PW;
			pdpt[0] = PD | PTE_PW;
		} else {
			pml4[0] = PD | PTE_PRESENT; /* the PAE PDPT: P only */
		}
		pd[0] = PT | PTE_PW;
		for (int i = 0; i < 512; i++)
			pt[i] = ((uint64_t)i << 12) | PTE_PW;
	} else {
		uint32_t *pd = (uint32_t *)(mem + PD), *pt = (uint32_t *)(mem + PT);

		pd[0] = PT | PTE_PW;
		for (int i = 0; i < 1024; i++)
			pt[i] = ((uint32_t)i << 12) | PTE_PW;
	}

	vt_set_fixed_cpuid(v);
	memset(&s, 0, sizeof(s));
	if (ioctl(v->fd, KVM_GET_SREGS, &s))
		vt_die("KVM_GET_SREGS");
	s.tr = seg(0, 0, 0xffff, 11, 0, 0, 0, 0);
	s.ldt = seg(0, 0, 0xffff, 2, 0, 0, 0, 0);
	s.gdt.base = GDT;
	s.gdt.limit = 0x4f;
	s.idt.base = 0;
	s.idt.limit = 0;
	s.cr2 = 0;
	s.cr8 = 0;
	s.apic_base = 0xfee00900;
	memset(s.interrupt_bitmap, 0, sizeof(s.interrupt_bitmap));
	if (p->mode == M_REAL) {
		s.cs = seg(0, 0, 0xffff, 11, 1, 0, 0, 0);
		s.ds = s.es = s.gs = s.ss = seg(0, 0, 0xffff, 3, 1, 0, 0, 0);
		s.fs = seg(0xffff, 0xffff0, 0xffff, 3, 1, 0, 0, 0);
		s.cr0 = X86_CR0_ET;
		s.cr3 = PD;
		s.cr4 = 0;
		s.efer = 0;
	} else {
		s.cs = seg(8, 0, 0xffffffff, 11, 1, p->mode != M_LONG, p->mode == M_LONG, 1);
		s.ds = s.es = s.fs = s.gs = s.ss = seg(0x10, 0, 0xffffffff, 3, 1, 1, 0, 1);
		s.cr0 = p->mode == M_PROT ? 0x11 : 0x80000011;
		s.cr3 = p->mode == M_LONG || p->pae ? PML4 : PD;
		s.cr4 = p->mode == M_LONG || p->pae ? 0x20 : 0x10;
		s.efer = (p->mode == M_LONG ? 0x501 : 0) | (p->nxe ? 0x800 : 0);
	}
	if (ioctl(v->fd, KVM_SET_SREGS, &s))
		vt_die("KVM_SET_SREGS");
	if (p->mode == M_LONG) {
		static const uint32_t idx[] = { 0xc0000081, 0xc0000082, 0xc0000084 };
		const uint64_t val[] = { 0x0010000800000000ull, STUB, 0 };

		set_msrs(v, idx, val, 3);
	}
	memset(&r, 0, sizeof(r));
	r.rax = p->regs[0], r.rcx = p->regs[1], r.rdx = p->regs[2], r.rbx = p->regs[3];
	r.rbp = p->regs[5], r.rsi = p->regs[6], r.rdi = p->regs[7];
	r.r8 = p->regs[8], r.r9 = p->regs[9], r.r10 = p->regs[10], r.r11 = p->regs[11];
	r.r12 = p->regs[12], r.r13 = p->regs[13], r.r14 = p->regs[14], r.r15 = p->regs[15];
	r.rsp = STACK_TOP;
	r.rip = CODE;
	r.rflags = X86_EFLAGS_FIXED;
	if (ioctl(v->fd, KVM_SET_REGS, &r))
		vt_die("KVM_SET_REGS");
}

/* Data a port read returns, byte I. */
static uint8_t port_byte(uint16_t port, int i)
{
	return (uint8_t)(port * 7 + i * 0x35 + 0x5a);
}

/* Data an MMIO read returns, byte I. */
static uint8_t mmio_byte(uint64_t addr, int i)
{
	uint64_t a = addr + i;

	return (uint8_t)((a * 0x9d) ^ (a >> 8) ^ 0xa5);
}

static uint64_t hash(const uint8_t *m, size_t from, size_t to, uint64_t h)
{
	for (size_t i = from; i < to; i += 8) {
		uint64_t w;

		memcpy(&w, m + i, 8);
		h = (h ^ w) * 0x100000001b3ull;
		h ^= h >> 29;
	}
	return h;
}

/* Seconds a KVM_RUN may take (GUEST_DIFF_WATCHDOG). */
static long watchdog = 20;

struct out {
	char s[4096];
	size_t n;
};

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;

	if (o->n + 256 > sizeof(o->s))
		return;
	va_start(ap, fmt);
	o->n += vsnprintf(o->s + o->n, sizeof(o->s) - o->n, fmt, ap);
	va_end(ap);
}

static void put_seg(struct out *o, const char *name, const struct kvm_segment *g)
{
	put(o, " %s=%x/%llx/%x/%x%x%x%x%x%x%x", name, g->selector, (unsigned long long)g->base,
	    g->limit, g->type, g->present, g->dpl, g->db, g->s, g->l, g->g);
}

/*
 * A VM serves up to 16 programs (rvisor's vCPU limit), each on a vCPU of
 * its own, with all of memory rewritten before it: creating a VM per
 * program made the KVM run several times slower in Bochs.
 */
static struct vt_vm vm;
static uint8_t *mem;
static int vm_users;

static void vm_get(const char *dev)
{
	if (vm_users == 16) {
		munmap(mem, MEM_SIZE);
		vt_vm_destroy(&vm);
		vm_users = 0;
	}
	if (!vm_users) {
		vm = vt_vm_create(dev);
		mem = vt_mem(&vm, 0, 0, MEM_SIZE, 0);
	}
	memset(mem, 0, MEM_SIZE);
}

static void run_one(const char *dev, unsigned int n, uint64_t seed, int limit)
{
	static struct prog p;
	struct out o = { .n = 0 };
	struct kvm_run *run;
	struct kvm_regs r;
	struct kvm_sregs s;
	struct vt_vcpu v;
	int i, done = 0, nexits = 0;

	vm_get(dev);
	v = vt_vcpu_create(&vm, vm_users++);
	run = v.run;
	generate(&p, seed, n, limit);
	setup(&p, mem, &v);
	if (limit)
		put(&o, "# prog %u/%d mode %s: tags=", n, limit, mode_name[p.mode]);
	else
		put(&o, "# prog %u mode %s: tags=", n, mode_name[p.mode]);
	if (!p.tags)
		put(&o, "-");
	for (unsigned int t = 0, first = 1; t < sizeof(tag_name) / sizeof(tag_name[0]); t++)
		if (p.tags & (1u << t)) {
			put(&o, "%s%s", first ? "" : ",", tag_name[t]);
			first = 0;
		}
	put(&o, " exits=");
	for (i = 0; i < MAX_EXITS && !done; i++) {
		/* A watchdog: a guest that never exits ends the program. */
		struct itimerval it = { .it_value = { .tv_sec = watchdog } }, off = { 0 };
		int e;

		setitimer(ITIMER_REAL, &it, NULL);
		e = vt_run(&v);
		setitimer(ITIMER_REAL, &off, NULL);
		/*
		 * KVM without an in-kernel irqchip exits when the guest lowers
		 * CR8, so that user space can inject an interrupt it now
		 * accepts: rvisor has no interrupt injection (uapi.rst,
		 * "Differences from KVM"). Not an end, not recorded.
		 */
		if (e == KVM_EXIT_SET_TPR)
			continue;
		if (nexits++)
			put(&o, ",");
		if (e == -EINTR) {
			put(&o, "timeout");
			done = 1;
			break;
		}
		if (e < 0) {
			put(&o, "err%d", -e);
			done = 1;
			break;
		}
		switch (e) {
		case KVM_EXIT_IO: {
			uint8_t *d = (uint8_t *)run + run->io.data_offset;
			uint32_t bytes = run->io.size * run->io.count;

			put(&o, "%s%x:%u", run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in",
			    run->io.port, run->io.size);
			if (run->io.count != 1)
				put(&o, "x%u", run->io.count);
			if (bytes > 4096)
				bytes = 4096;
			if (run->io.direction == KVM_EXIT_IO_OUT) {
				put(&o, "=");
				for (int k = bytes - 1; k >= 0 && k < 16; k--)
					put(&o, "%02x", d[k]);
			} else {
				for (uint32_t k = 0; k < bytes; k++)
					d[k] = port_byte(run->io.port, k);
			}
			break;
		}
		case KVM_EXIT_MMIO:
			put(&o, "mm%s%llx:%u", run->mmio.is_write ? "w" : "r",
			    (unsigned long long)run->mmio.phys_addr, run->mmio.len);
			if (run->mmio.is_write) {
				put(&o, "=");
				for (int k = (int)run->mmio.len - 1; k >= 0 && k < 8; k--)
					put(&o, "%02x", run->mmio.data[k]);
			} else {
				for (uint32_t k = 0; k < run->mmio.len && k < 8; k++)
					run->mmio.data[k] = mmio_byte(run->mmio.phys_addr, k);
			}
			break;
		case KVM_EXIT_HLT:
			put(&o, "hlt");
			done = 1;
			break;
		case KVM_EXIT_SHUTDOWN:
			put(&o, "shutdown");
			done = 1;
			break;
		case KVM_EXIT_FAIL_ENTRY:
			put(&o, "fail_entry:%llx",
			    (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
			done = 1;
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			put(&o, "internal:%u", run->internal.suberror);
			done = 1;
			break;
		default:
			put(&o, "exit%d", e);
			done = 1;
			break;
		}
	}
	if (!done && i == MAX_EXITS) {
		/* Complete the last exit's I/O without entering the guest (KVM's way). */
		put(&o, ",limit");
		run->immediate_exit = 1;
		vt_run(&v);
		run->immediate_exit = 0;
	}
	r = vt_regs(&v);
	if (ioctl(v.fd, KVM_GET_SREGS, &s))
		vt_die("KVM_GET_SREGS");
	put(&o, " regs=%llx,%llx,%llx,%llx,%llx,%llx,%llx,%llx", (unsigned long long)r.rax,
	    (unsigned long long)r.rcx, (unsigned long long)r.rdx, (unsigned long long)r.rbx,
	    (unsigned long long)r.rsp, (unsigned long long)r.rbp, (unsigned long long)r.rsi,
	    (unsigned long long)r.rdi);
	if (p.mode == M_LONG)
		put(&o, ",%llx,%llx,%llx,%llx,%llx,%llx,%llx,%llx", (unsigned long long)r.r8,
		    (unsigned long long)r.r9, (unsigned long long)r.r10, (unsigned long long)r.r11,
		    (unsigned long long)r.r12, (unsigned long long)r.r13, (unsigned long long)r.r14,
		    (unsigned long long)r.r15);
	put(&o, " rip=%llx rflags=%llx", (unsigned long long)r.rip, (unsigned long long)r.rflags);
	put(&o, " sregs=cr0=%llx,cr2=%llx,cr3=%llx,cr4=%llx,cr8=%llx,efer=%llx,apic=%llx",
	    (unsigned long long)s.cr0, (unsigned long long)s.cr2, (unsigned long long)s.cr3,
	    (unsigned long long)s.cr4, (unsigned long long)s.cr8, (unsigned long long)s.efer,
	    (unsigned long long)s.apic_base);
	put_seg(&o, "cs", &s.cs);
	put_seg(&o, "ss", &s.ss);
	put_seg(&o, "ds", &s.ds);
	put_seg(&o, "es", &s.es);
	put_seg(&o, "fs", &s.fs);
	put_seg(&o, "gs", &s.gs);
	put(&o, " mem=%016llx sys=%016llx",
	    (unsigned long long)hash(mem, STUB, ALT + 0x1000, 0xcbf29ce484222325ull),
	    (unsigned long long)hash(mem, PML4, PT + 0x1000,
				     hash(mem, 0, STUB, 0xcbf29ce484222325ull)));
	printf("%s\n", o.s);
	fflush(stdout);
	vt_vcpu_destroy(&vm, &v);
}

static void list_one(uint64_t seed, unsigned int n)
{
	static struct prog p;

	generate(&p, seed, n, 0);
	printf("# prog %u mode %s%s%s: %s\n", n, mode_name[p.mode], p.pae ? " pae" : "",
	       p.nxe ? " nxe" : "", p.list);
	printf("#   code:");
	for (int i = 0; i < p.len; i++)
		printf(" %02x", p.code[i]);
	printf("\n");
}

static void on_alarm(int sig)
{
	(void)sig;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	unsigned long nprogs = 400;
	uint64_t seed = 1;

	sigaction(SIGALRM, &sa, NULL);
	for (const char *a = getenv("GUEST_DIFF_AVOID"); a && *a; a += strcspn(a, ","), a += !!*a)
		for (unsigned int i = 0; i < sizeof(avoid_names) / sizeof(avoid_names[0]); i++)
			if (!strncmp(a, avoid_names[i], strcspn(a, ",")) &&
			    strlen(avoid_names[i]) == strcspn(a, ","))
				avoid |= 1u << i;
	if (getenv("GUEST_DIFF_WATCHDOG"))
		watchdog = strtol(getenv("GUEST_DIFF_WATCHDOG"), NULL, 0);

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 2 && !strcmp(argv[1], "--list")) {
		seed = strtoull(argv[2], NULL, 0);
		for (int i = 3; i < argc; i++)
			list_one(seed, (unsigned int)strtoul(argv[i], NULL, 0));
		return 0;
	}
	if (argc > 3 && !strcmp(argv[2], "--prefixes")) {
		/* Program N cut after 1, 2, ... templates: where two devices part. */
		seed = strtoull(argv[3], NULL, 0);
		for (int i = 4; i < argc; i++)
			for (int k = 1; k <= 16; k++)
				run_one(argv[1], (unsigned int)strtoul(argv[i], NULL, 0), seed, k);
		return 0;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: guest_diff DEVICE [NPROGS [SEED]] | --list SEED N...\n");
		return 64;
	}
	if (argc > 2)
		nprogs = strtoul(argv[2], NULL, 0);
	if (argc > 3)
		seed = strtoull(argv[3], NULL, 0);
	printf("# guest_diff on %s: %lu programs, seed %llu\n", argv[1], nprogs,
	       (unsigned long long)seed);
	for (unsigned long n = 0; n < nprogs; n++)
		run_one(argv[1], (unsigned int)n, seed, 0);
	return 0;
}
