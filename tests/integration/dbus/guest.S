/* A boot-sector guest for the qvnc-dbus tests (GNU as, 16-bit real mode).
 *
 * It paints a known text screen (80x25, QEMU renders it at 720x400), says
 * "TEXT" on the debug console (port 0xe9), and waits for a key; a key
 * switches to VGA mode 13h (320x200), paints a byte pattern and says "GFX";
 * the next key goes back to text mode, and so on.  So keys visibly reach
 * the guest, each one resizes the display, and a screendump of either
 * screen is deterministic: the text cursor is hidden and no attribute
 * blinks.  It also starts a 1 kHz tone on the PC speaker, for QEMUs run
 * with -machine pcspk-audiodev=ID (audio over D-Bus).
 *
 *   as --32 -o guest.o guest.S && ld -m elf_i386 -Ttext 0x7c00 --oformat binary -o guest.img guest.o
 */
        .code16
        .text
        .globl _start
_start:
        cli
        xorw    %ax, %ax
        movw    %ax, %ds
        movw    %ax, %ss
        movw    $0x7c00, %sp
        sti
        movb    $0xb6, %al              /* PIT channel 2: square wave, */
        outb    %al, $0x43
        movw    $1193, %ax              /* 1193182 Hz / 1193 = 1 kHz */
        outb    %al, $0x42
        movb    %ah, %al
        outb    %al, $0x42
        inb     $0x61, %al              /* gate the timer to the speaker */
        orb     $0x03, %al
        outb    %al, $0x61

text_mode:
        movw    $0x0003, %ax            /* 80x25 colour text */
        int     $0x10
        movw    $0x1003, %ax            /* attribute bit 7: background, not blink */
        xorw    %bx, %bx
        int     $0x10
        movb    $0x01, %ah              /* hide the cursor: it would blink */
        movw    $0x2000, %cx
        int     $0x10
        movw    $0xb800, %ax
        movw    %ax, %es
        xorw    %di, %di
        xorw    %bx, %bx                /* cell index */
1:      movb    %bl, %al                /* character: '0' + index % 64 */
        andb    $0x3f, %al
        addb    $0x30, %al
        movb    %bl, %ah                /* attribute: index * 7, all 256 pairs */
        movb    %bl, %dl
        shlb    $3, %ah
        subb    %dl, %ah
        stosw
        incw    %bx
        cmpw    $2000, %bx
        jne     1b
        movw    $msg_text, %si
        call    say
        call    wait_key

gfx_mode:
        movw    $0x0013, %ax            /* 320x200, 256 colours */
        int     $0x10
        movw    $0xa000, %ax
        movw    %ax, %es
        xorw    %di, %di
        xorw    %cx, %cx                /* pixel index, 0..63999 */
2:      movw    %cx, %ax                /* colour: low byte xor high byte */
        xorb    %ah, %al
        stosb
        incw    %cx
        cmpw    $64000, %cx
        jne     2b
        movw    $msg_gfx, %si
        call    say
        call    wait_key
        jmp     text_mode

/* Waits for a key (BIOS keyboard buffer). */
wait_key:
        xorb    %ah, %ah
        int     $0x16
        ret

/* Writes the NUL-terminated string at %si to the debug console. */
say:
        lodsb
        testb   %al, %al
        jz      3f
        outb    %al, $0xe9
        jmp     say
3:      ret

msg_text: .asciz "GUEST TEXT\n"
msg_gfx:  .asciz "GUEST GFX\n"

        .org    510
        .word   0xaa55
