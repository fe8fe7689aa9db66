/* SPDX-License-Identifier: GPL-2.0 */
/*
 * 32-bit protected mode: 1000 each of CPUID, VMCALL (handled in the
 * kernel) and OUT to port 0x80 (handled by user space), then a line.
 */
	.code32
	.text
	.globl _start
_start:
	mov	$1000, %edi
1:	xor	%eax, %eax
	cpuid
	dec	%edi
	jnz	1b
	mov	$1000, %edi
2:	mov	$0x1234, %eax
	vmcall
	dec	%edi
	jnz	2b
	mov	$1000, %edi
3:	out	%al, $0x80
	dec	%edi
	jnz	3b
	mov	$msg, %esi
4:	lodsb
	test	%al, %al
	jz	5f
	out	%al, $0xe9
	jmp	4b
5:	hlt

msg:	.asciz "exit loop: 1000 CPUID, 1000 VMCALL, 1000 OUT done\n"
