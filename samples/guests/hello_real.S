/* SPDX-License-Identifier: GPL-2.0 */
/* Real mode: print a line on the debug port (0xe9), halt. */
	.code16
	.text
	.globl _start
_start:
	cld
	mov	$msg, %si
1:	lodsb
	test	%al, %al
	jz	2f
	out	%al, $0xe9
	jmp	1b
2:	hlt

msg:	.asciz "Hello from real mode\n"
