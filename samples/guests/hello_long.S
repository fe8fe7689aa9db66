/* SPDX-License-Identifier: GPL-2.0 */
/* 64-bit mode: check EFER.LMA, print a line, halt. */
	.code64
	.text
	.globl _start
_start:
	cld
	lea	msg_off(%rip), %rsi
	mov	$0xc0000080, %ecx
	rdmsr
	test	$0x400, %eax
	jz	1f
	lea	msg_on(%rip), %rsi
1:	lodsb
	test	%al, %al
	jz	2f
	out	%al, $0xe9
	jmp	1b
2:	hlt

msg_on:	.asciz "Hello from 64-bit long mode (EFER.LMA=1)\n"
msg_off: .asciz "not in long mode!\n"
