/* SPDX-License-Identifier: GPL-2.0 */
/*
 * x86 bits the rvisor C selftests set up guests with. CR0, CR4 and RFLAGS
 * come from the uAPI <asm/processor-flags.h> (X86_CR0_PE, X86_CR4_PAE,
 * X86_EFLAGS_IF, ...), as in the kernel's KVM selftests; what that header
 * lacks is defined here once, with the SDM reference, in the kernel's
 * names where it has one (arch/x86/include/asm/msr-index.h,
 * pgtable_types.h, desc_defs.h).
 */
#ifndef RVISOR_X86_H
#define RVISOR_X86_H

#include <asm/processor-flags.h>

/* IA32_EFER (SDM Vol. 3A, 2.2.1, Table 2-1). */
#define EFER_SCE		(1ULL << 0)	/* SYSCALL/SYSRET */
#define EFER_LME		(1ULL << 8)	/* long mode enable */
#define EFER_LMA		(1ULL << 10)	/* long mode active */
#define EFER_NX			(1ULL << 11)	/* no-execute enable */

/* Paging-structure entry flags (SDM Vol. 3A, 5.3 and 5.5, Table 5-15). */
#define PTE_PRESENT		(1ULL << 0)
#define PTE_RW			(1ULL << 1)
#define PTE_USER		(1ULL << 2)
#define PTE_ACCESSED		(1ULL << 5)
#define PTE_DIRTY		(1ULL << 6)
#define PTE_PSE			(1ULL << 7)	/* 2 MiB/4 MiB page in a PDE */
#define PTE_NX			(1ULL << 63)
/* A present, writable entry: what each test table level uses. */
#define PTE_PW			(PTE_PRESENT | PTE_RW)

/*
 * Segment descriptor types, the "type" of struct kvm_segment (SDM Vol. 3A,
 * 3.4.5.1, Tables 3-1 and 3-2).
 */
#define SEG_TYPE_DATA_RWA	3	/* data, read/write, accessed */
#define SEG_TYPE_CODE_XRA	11	/* code, execute/read, accessed */
#define SEG_TYPE_TSS16_BUSY	3	/* system: 16-bit TSS, busy */
#define SEG_TYPE_TSS_BUSY	11	/* system: 32/64-bit TSS, busy */

/* CPUID.01H:ECX.OSXSAVE and EDX.APIC (SDM Vol. 2A, CPUID, 3-10, 3-11). */
#define CPUID_1_ECX_OSXSAVE	(1U << 27)
#define CPUID_1_EDX_APIC	(1U << 9)

/* XCR0 state components (SDM Vol. 1, 13.3; Linux's XFEATURE_MASK_*). */
#define XFEATURE_MASK_SSE	(1U << 1)
#define XFEATURE_MASK_YMM	(1U << 2)

#endif /* RVISOR_X86_H */
