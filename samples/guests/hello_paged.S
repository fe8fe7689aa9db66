/* SPDX-License-Identifier: GPL-2.0 */
/* 32-bit paging: check CR0.PG is on, print a line, halt. */
	.code32
	.text
	.globl _start
_start:
	cld
	mov	$msg_off, %esi
	mov	%cr0, %eax
	test	$0x80000000, %eax
	jz	1f
	mov	$msg_on, %esi
1:	lodsb
	test	%al, %al
	jz	2f
	out	%al, $0xe9
	jmp	1b
2:	hlt

msg_on:	.asciz "Hello from 32-bit paged mode (CR0.PG=1)\n"
msg_off: .asciz "paging is off!\n"
