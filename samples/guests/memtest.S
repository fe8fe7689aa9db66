/* SPDX-License-Identifier: GPL-2.0 */
/*
 * 32-bit protected mode memory test: ESI holds the memory size (set by
 * the rvisor CLI). Writes each dword's own address from 1 MiB to the end,
 * reads everything back, prints the size tested (MiB, hex) and ok/FAIL.
 */
	.code32
	.text
	.globl _start
_start:
	mov	%esi, %ebp		/* end of memory */
	mov	$0x100000, %edi
1:	mov	%edi, (%edi)
	add	$4, %edi
	cmp	%ebp, %edi
	jb	1b
	mov	$0x100000, %edi
2:	cmp	%edi, (%edi)
	jne	fail
	add	$4, %edi
	cmp	%ebp, %edi
	jb	2b
	mov	$msg_ok, %ebx
	jmp	report
fail:	mov	$msg_fail, %ebx
report:
	mov	$msg_head, %esi
	call	puts
	mov	%ebp, %eax
	shr	$20, %eax
	call	puthex
	mov	%ebx, %esi
	call	puts
	hlt

puts:	lodsb
	test	%al, %al
	jz	1f
	out	%al, $0xe9
	jmp	puts
1:	ret

/* Prints EAX in hex (8 digits). */
puthex:	mov	$8, %ecx
1:	rol	$4, %eax
	mov	%eax, %edx
	and	$0xf, %edx
	movb	digits(%edx), %dl
	xchg	%eax, %edx
	out	%al, $0xe9
	xchg	%eax, %edx
	dec	%ecx
	jnz	1b
	ret

digits:	.ascii "0123456789abcdef"
msg_head: .asciz "memtest: 0x"
msg_ok:	.asciz " MiB: ok\n"
msg_fail: .asciz " MiB: FAIL\n"
