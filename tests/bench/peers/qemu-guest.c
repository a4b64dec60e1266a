/* The guest QEMU runs for the benchmark's qemu peer: a 32-bit multiboot
 * kernel (QEMU's -kernel loads it, SeaBIOS's multiboot option ROM enters it
 * in flat protected mode) that points QEMU's ramfb device at a framebuffer
 * in guest RAM and then halts for good.  The pixels are written by
 * replay-qemu.c straight into the RAM backing file; the guest never touches
 * them, so QEMU does exactly what it does for any ramfb guest: refresh the
 * whole surface on its display timer and let the VNC server find what
 * changed.
 *
 * ramfb is configured through fw_cfg (QEMU docs/specs/fw_cfg.rst): find the
 * file "etc/ramfb" in the file directory (selector 0x19), then write a
 * RAMFBCfg (all fields big-endian) to it.  Writes to fw_cfg only work with
 * the DMA interface (I/O ports 0x514/0x518 on x86).
 *
 * The geometry comes from the multiboot command line (-append WxH, the last
 * word), default 1920x1080.  The outcome goes to a mailbox in RAM the feeder
 * polls (QVNC_GUEST_MAILBOX below, same numbers in replay-qemu.c).
 *
 * Freestanding: no headers, no libc, no libgcc (gcc -m32 -ffreestanding
 * -nostdlib -static, linked by qemu-guest.ld at 1 MiB). */

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

#define FB_ADDR 0x01000000u         /* 16 MiB: above the kernel and SeaBIOS's low use */
#define MAILBOX_ADDR 0x00800000u    /* 8 MiB */
#define MAILBOX_MAGIC 0x434e5651u   /* "QVNC" in memory, written last */

enum guest_status {
	GUEST_OK = 1,
	GUEST_NO_FW_CFG_DMA = 2,
	GUEST_NO_RAMFB = 3,
	GUEST_DMA_ERROR = 4,
	GUEST_BAD_GEOMETRY = 5,
};

#define FW_CFG_PORT_SEL 0x510
#define FW_CFG_PORT_DATA 0x511
#define FW_CFG_PORT_DMA_HIGH 0x514
#define FW_CFG_PORT_DMA_LOW 0x518
#define FW_CFG_ID 0x01
#define FW_CFG_FILE_DIR 0x19
#define FW_CFG_VERSION_DMA 0x02

#define DMA_CTL_ERROR 0x01
#define DMA_CTL_READ 0x02
#define DMA_CTL_SELECT 0x08
#define DMA_CTL_WRITE 0x10

/* 'XR24': DRM_FORMAT_XRGB8888, the VFR pixel layout (B,G,R,X in memory). */
#define DRM_FORMAT_XRGB8888 (0x58u | 0x52u << 8 | 0x32u << 16 | 0x34u << 24)

/* Multiboot v1 header: magic, flags (none: an ELF kernel needs no address
 * fields), checksum.  QEMU scans the first 8 KiB of the file for it; the
 * linker script puts this section first. */
__attribute__((section(".multiboot"), used, aligned(4)))
static const u32 multiboot_header[3] = {0x1BADB002u, 0u, -(0x1BADB002u + 0u)};

/* Entry: a stack of our own, then guest_main(eax = multiboot magic,
 * ebx = multiboot info), then halt with interrupts off, forever. */
__asm__(".section .text.entry,\"ax\"\n"
	".globl _start\n"
	"_start:\n"
	"	movl $guest_stack_top, %esp\n"
	"	pushl %ebx\n"
	"	pushl %eax\n"
	"	call guest_main\n"
	"1:	cli\n"
	"	hlt\n"
	"	jmp 1b\n"
	".section .bss\n"
	".balign 16\n"
	"guest_stack: .skip 8192\n"
	"guest_stack_top:\n"
	".previous\n");

static inline void outw(u16 port, u16 v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline void outl(u16 port, u32 v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline u8 inb(u16 port)
{
	u8 v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

static u32 be32(u32 v)
{
	return v >> 24 | (v >> 8 & 0xff00u) | (v << 8 & 0xff0000u) | v << 24;
}

static u64 be64(u64 v)
{
	return (u64)be32((u32)v) << 32 | be32((u32)(v >> 32));
}

struct fw_cfg_dma_access {
	u32 control; /* all big-endian */
	u32 length;
	u64 address;
};

/* One DMA transfer; control carries the selector in its top 16 bits when
 * DMA_CTL_SELECT is set.  QEMU runs it synchronously inside the port write;
 * the loop waits anyway, as the spec asks (control reads back 0 when done,
 * or with DMA_CTL_ERROR set). */
static int fw_cfg_dma(u32 control, void *buf, u32 len)
{
	volatile struct fw_cfg_dma_access a;
	a.control = be32(control);
	a.length = be32(len);
	a.address = be64((u32)buf);
	/* The address register is big-endian; writing its low half starts it. */
	outl(FW_CFG_PORT_DMA_HIGH, 0);
	outl(FW_CFG_PORT_DMA_LOW, be32((u32)&a));
	u32 c;
	while ((c = be32(a.control)) & ~(u32)DMA_CTL_ERROR)
		;
	return c & DMA_CTL_ERROR ? -1 : 0;
}

struct fw_cfg_file {
	u32 size; /* big-endian */
	u16 select; /* big-endian */
	u16 reserved;
	char name[56];
};

struct ramfb_cfg {
	u64 addr; /* all big-endian */
	u32 fourcc;
	u32 flags;
	u32 width;
	u32 height;
	u32 stride;
} __attribute__((packed));

static int same_name(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* "WxH" in the last word of the command line (QEMU passes "KERNEL ARGS").
 * Leaves *w, *h alone when there is none. */
static void parse_geometry(const char *cmdline, u32 *w, u32 *h)
{
	const char *last = cmdline;
	for (const char *p = cmdline; *p; p++)
		if (*p == ' ' && p[1] && p[1] != ' ')
			last = p + 1;
	u32 a = 0, b = 0;
	const char *p = last;
	while (*p >= '0' && *p <= '9')
		a = a * 10 + (u32)(*p++ - '0');
	if (*p++ != 'x')
		return;
	while (*p >= '0' && *p <= '9')
		b = b * 10 + (u32)(*p++ - '0');
	if (*p != 0 && *p != ' ')
		return;
	*w = a;
	*h = b;
}

static void report(u32 status, u32 w, u32 h)
{
	volatile u32 *m = (volatile u32 *)MAILBOX_ADDR;
	m[1] = status;
	m[2] = w;
	m[3] = h;
	m[4] = FB_ADDR;
	__asm__ volatile("" : : : "memory");
	m[0] = MAILBOX_MAGIC;
}

static u32 configure(u32 w, u32 h)
{
	/* fw_cfg ID bit 1: the DMA interface is there (ramfb needs it too). */
	outw(FW_CFG_PORT_SEL, FW_CFG_ID);
	if (!(inb(FW_CFG_PORT_DATA) & FW_CFG_VERSION_DMA))
		return GUEST_NO_FW_CFG_DMA;
	if (w == 0 || h == 0 || w > 8192 || h > 8192)
		return GUEST_BAD_GEOMETRY;

	u32 count;
	if (fw_cfg_dma((u32)FW_CFG_FILE_DIR << 16 | DMA_CTL_SELECT | DMA_CTL_READ, &count, 4))
		return GUEST_DMA_ERROR;
	count = be32(count);
	for (u32 i = 0; i < count; i++) {
		struct fw_cfg_file f;
		if (fw_cfg_dma(DMA_CTL_READ, &f, sizeof(f)))
			return GUEST_DMA_ERROR;
		if (!same_name(f.name, "etc/ramfb"))
			continue;
		u16 select = (u16)(f.select >> 8 | f.select << 8);
		struct ramfb_cfg cfg = {
			.addr = be64(FB_ADDR),
			.fourcc = be32(DRM_FORMAT_XRGB8888),
			.flags = 0,
			.width = be32(w),
			.height = be32(h),
			.stride = be32(w * 4),
		};
		if (fw_cfg_dma((u32)select << 16 | DMA_CTL_SELECT | DMA_CTL_WRITE, &cfg, sizeof(cfg)))
			return GUEST_DMA_ERROR;
		return GUEST_OK;
	}
	return GUEST_NO_RAMFB;
}

void guest_main(u32 magic, const u32 *info);

void guest_main(u32 magic, const u32 *info)
{
	u32 w = 1920, h = 1080;
	/* Multiboot info flag bit 2: info[4] is the command line's address. */
	if (magic == 0x2BADB002u && (info[0] & 4u))
		parse_geometry((const char *)info[4], &w, &h);
	report(configure(w, h), w, h);
}
