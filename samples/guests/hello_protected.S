/* SPDX-License-Identifier: GPL-2.0 */
/* 32-bit protected mode, no paging: print a line, halt. */
	.code32
	.text
	.globl _start
_start:
	cld
	mov	$msg, %esi
1:	lodsb
	test	%al, %al
	jz	2f
	out	%al, $0xe9
	jmp	1b
2:	hlt

msg:	.asciz "Hello from 32-bit protected mode\n"
